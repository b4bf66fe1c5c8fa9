// Package config defines assistbot's configuration: the typed schema, its
// defaults, loading from YAML with ${VAR} expansion, the ASSISTBOT_*
// environment overlay and validation.
//
// A typical caller does:
//
//	cfg, err := config.LoadFile(path, os.LookupEnv)
//	if err != nil { ... }
//	if err := cfg.Validate(); err != nil { ... }
//
// The YAML keys (snake_case, taken from the yaml struct tags below) are the
// public contract; deploy/assistbot.sample.yaml documents every one of them.
//
// After the file, environment variables named ASSISTBOT_<KEY PATH> override
// single keys: server.listen is ASSISTBOT_SERVER_LISTEN and
// webrtc.turn.enabled is ASSISTBOT_WEBRTC_TURN_ENABLED (see EnvName and
// Keys). Lists of mappings (console.agents, webrtc.ice_servers) cannot be
// set that way.
//
// Fields tagged secret:"true" hold secrets (see SecretKeys): validation
// messages never show them, and Config.Secrets lists their values so that
// logs can be scrubbed.
package config

import "time"

// Config is the whole assistbot configuration, one typed section per component.
type Config struct {
	// Server configures the HTTP listener.
	Server Server `yaml:"server"`
	// Store configures the database.
	Store Store `yaml:"store"`
	// PIN configures the numeric session PINs.
	PIN PIN `yaml:"pin"`
	// Provider selects the remote-support back end.
	Provider Provider `yaml:"provider"`
	// API configures the HTTP API.
	API API `yaml:"api"`
	// Locale is the language of customer-facing text (en, ko, ja, es, de, fr, or a tag such as ko-KR).
	Locale string `yaml:"locale"`
	// Slack configures the Slack bot.
	Slack Slack `yaml:"slack"`
	// Discord configures the Discord bot.
	Discord Discord `yaml:"discord"`
	// Twilio configures SMS delivery of session links.
	Twilio Twilio `yaml:"twilio"`
	// LogMeIn configures the LogMeIn Rescue provider.
	LogMeIn LogMeIn `yaml:"logmein"`
	// MeshCentral configures the MeshCentral provider.
	MeshCentral MeshCentral `yaml:"meshcentral"`
	// Console configures the web console.
	Console Console `yaml:"console"`
	// Metrics configures the Prometheus endpoint.
	Metrics Metrics `yaml:"metrics"`
	// Log configures logging.
	Log Log `yaml:"log"`
	// WebRTC configures the built-in provider's WebRTC connectivity.
	WebRTC WebRTC `yaml:"webrtc"`
	// Escalation tells the desk about customers left waiting.
	Escalation Escalation `yaml:"escalation"`
	// Webhooks are endpoints that receive every session and conversation event as signed JSON.
	Webhooks []Webhook `yaml:"webhooks"`
	// WebhooksAllowPrivate lets webhooks go to loopback, link-local and private addresses.
	WebhooksAllowPrivate bool `yaml:"webhooks_allow_private"`

	// refs remembers, per key path, the value loaded and the ${VAR}
	// references in it whose expansion was empty, so that validation can say
	// where a missing value came from (while the value is unchanged).
	refs map[string]origin
	// vars remembers the values set from ASSISTBOT_ variables, so that a
	// problem with one names its variable.
	vars map[string]envOrigin
}

// Server configures the HTTP listener.
type Server struct {
	// Listen is the host:port to listen on.
	Listen string `yaml:"listen"`
	// PublicURL is the externally reachable base URL, used in links sent to customers.
	PublicURL string `yaml:"public_url"`
	// TrustedProxies lists the IPs or CIDR ranges whose X-Forwarded-For headers are believed.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// ShutdownTimeout bounds the graceful shutdown.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// Store configures the database.
type Store struct {
	// Driver is sqlite or postgres.
	Driver string `yaml:"driver"`
	// DSN is the SQLite file path or the PostgreSQL connection string.
	DSN string `yaml:"dsn"`
	// Retention is how long finished sessions and closed conversations
	// are kept before they are deleted with their events, deliveries and
	// transcripts; 0 keeps everything.
	Retention time.Duration `yaml:"retention"`
}

// PIN configures the numeric session PINs and guessing limits.
type PIN struct {
	// Digits is the PIN length, 6 to 10.
	Digits int `yaml:"digits"`
	// TTL is how long an unused PIN stays valid.
	TTL time.Duration `yaml:"ttl"`
	// ClientGuessesPerMinute limits PIN attempts from one client.
	ClientGuessesPerMinute int `yaml:"client_guesses_per_minute"`
	// GlobalGuessesPerMinute limits PIN attempts from all clients together.
	GlobalGuessesPerMinute int `yaml:"global_guesses_per_minute"`
}

// Provider selects the remote-support back end.
type Provider struct {
	// Kind is builtin, logmein or meshcentral.
	Kind string `yaml:"kind"`
}

// API configures the HTTP API.
type API struct {
	// Tokens are the bearer tokens accepted by the API; empty entries are dropped.
	Tokens []string `yaml:"tokens" secret:"true"`
}

// Slack configures the Slack bot.
type Slack struct {
	// Enabled turns the Slack bot on.
	Enabled bool `yaml:"enabled"`
	// BotToken is the xoxb- bot token.
	BotToken string `yaml:"bot_token" secret:"true"`
	// SigningSecret verifies requests from Slack (not needed in Socket Mode).
	SigningSecret string `yaml:"signing_secret" secret:"true"`
	// AppToken is the xapp- token that enables Socket Mode.
	AppToken string `yaml:"app_token" secret:"true"`
	// Command is the slash command, such as /remote.
	Command string `yaml:"command"`
	// DeskChannel is the channel that receives customer replies.
	DeskChannel string `yaml:"desk_channel"`
	// AllowedTeams restricts the bot to these workspace IDs; empty allows all.
	AllowedTeams []string `yaml:"allowed_teams"`
	// AgentGroup is a user group ID (S...) whose members count as agents, besides the desk channel's members.
	AgentGroup string `yaml:"agent_group"`
	// APIURL is the Slack Web API base URL; it always ends with "/".
	APIURL string `yaml:"api_url"`
}

// Discord configures the Discord bot.
type Discord struct {
	// Enabled turns the Discord bot on.
	Enabled bool `yaml:"enabled"`
	// Token is the bot token.
	Token string `yaml:"token" secret:"true"`
	// ApplicationID is the numeric application ID.
	ApplicationID string `yaml:"application_id"`
	// PublicKey is the hex Ed25519 key that verifies interaction webhooks.
	PublicKey string `yaml:"public_key"`
	// GuildID limits command registration to one guild; empty means global.
	GuildID string `yaml:"guild_id"`
	// DeskChannel is the channel ID where each conversation gets a thread: customer DMs, agent replies, session alerts.
	DeskChannel string `yaml:"desk_channel"`
	// AgentRoles lists the role IDs allowed to run /remote and press agent buttons; empty allows every member of the guild.
	AgentRoles []string `yaml:"agent_roles"`
	// Gateway connects to the gateway websocket: interactions (unless an interactions URL is set) and the messages the relay needs.
	Gateway bool `yaml:"gateway"`
	// SyncCommands registers the slash commands at start-up.
	SyncCommands bool `yaml:"sync_commands"`
	// APIURL is the Discord REST base URL; it always ends with "/".
	APIURL string `yaml:"api_url"`
}

// Twilio configures SMS delivery of session links.
type Twilio struct {
	// Enabled turns SMS on.
	Enabled bool `yaml:"enabled"`
	// AccountSID is the AC... account identifier.
	AccountSID string `yaml:"account_sid"`
	// AuthToken is the account's auth token.
	AuthToken string `yaml:"auth_token" secret:"true"`
	// From is the E.164 sender number.
	From string `yaml:"from"`
	// MessagingServiceSID is the MG... messaging service used instead of From.
	MessagingServiceSID string `yaml:"messaging_service_sid"`
	// Desk is where customer replies go: slack, discord or console.
	Desk string `yaml:"desk"`
	// KeywordReplies makes assistbot answer STOP, START and HELP itself; leave it off where Twilio answers them.
	KeywordReplies bool `yaml:"keyword_replies"`
	// DefaultRegion is the ISO 3166 country used for numbers without a country code.
	DefaultRegion string `yaml:"default_region"`
	// MPS is the maximum number of messages sent per second.
	MPS float64 `yaml:"mps"`
	// APIURL is the Twilio REST base URL.
	APIURL string `yaml:"api_url"`
}

// LogMeIn configures the LogMeIn Rescue provider.
type LogMeIn struct {
	// APIURL is the Rescue API base URL; it always ends with "/".
	APIURL string `yaml:"api_url"`
	// AuthCode is the Rescue API authorisation code of a technician.
	AuthCode string `yaml:"authcode" secret:"true"`
	// Email is the technician's Rescue login, used with Password to request an authcode when AuthCode is empty.
	Email string `yaml:"email"`
	// Password is the technician's Rescue password, used only when AuthCode is empty.
	Password string `yaml:"password" secret:"true"`
	// NodeID is the technician node that receives the PINs and whose sessions are polled.
	NodeID string `yaml:"node_id"`
	// NoTechConsole lets PINs be issued while the technician's console is not running.
	NoTechConsole bool `yaml:"notechconsole"`
	// IDField is the custom field (cfield1 to cfield5) that carries the session id for status polling.
	IDField string `yaml:"id_field"`
	// PollInterval is how often session state is polled while sessions are live.
	PollInterval time.Duration `yaml:"poll_interval"`
	// DesktopLink is the customer link for desktops; {pin} is replaced by the PIN.
	DesktopLink string `yaml:"desktop_link"`
	// MobileLink is the customer link for phones; {pin} is replaced by the PIN.
	MobileLink string `yaml:"mobile_link"`
	// ManualURL is where customers can type the PIN by hand.
	ManualURL string `yaml:"manual_url"`
}

// MeshCentral configures the MeshCentral provider: a self-hosted
// MeshCentral server whose agent gives the technician remote control.
type MeshCentral struct {
	// URL is the MeshCentral server's base URL, such as https://mesh.example.com.
	URL string `yaml:"url"`
	// User is the service account's login name.
	User string `yaml:"user"`
	// Password is the service account's password.
	Password string `yaml:"password" secret:"true"`
	// LoginToken is a MeshCentral login token, used instead of user and password.
	LoginToken string `yaml:"login_token" secret:"true"`
	// Domain is the MeshCentral domain of the service account; empty is the default domain.
	Domain string `yaml:"domain"`
	// CAFile is a PEM file of the certificate authority that signed the server's certificate.
	CAFile string `yaml:"ca_file"`
	// CertSHA256 pins the server's certificate by its SHA-256 fingerprint.
	CertSHA256 string `yaml:"cert_sha256"`
	// Consent is what the customer's device asks before the technician connects: none, notify or prompt.
	Consent string `yaml:"consent"`
	// ShareMinutes is how long the technician's share link works.
	ShareMinutes int `yaml:"share_minutes"`
	// InviteMinutes is how long the customer's agent download works.
	InviteMinutes int `yaml:"invite_minutes"`
}

// Escalation says when the desk hears about a customer left waiting.
type Escalation struct {
	// After are the waiting times, each longer than the one before, at
	// which a customer waiting for a technician escalates; empty turns
	// escalation off.
	After []time.Duration `yaml:"after"`
	// UnopenedAfter reminds the agent that the customer has not opened a
	// link sent this long ago; 0 turns the reminder off.
	UnopenedAfter time.Duration `yaml:"unopened_after"`
	// SlackGroup is the Slack user group (an id starting with S) that the
	// last escalation mentions; without it, the channel (@here).
	SlackGroup string `yaml:"slack_group"`
	// DiscordRole is the Discord role id that the last escalation
	// mentions; without it, the channel (@here).
	DiscordRole string `yaml:"discord_role"`
}

// Metrics configures the Prometheus endpoint at /metrics.
type Metrics struct {
	// Token, when set, is the bearer token /metrics requires.
	Token string `yaml:"token" secret:"true"`
}

// Console configures the technician console and the customer web chat.
type Console struct {
	// Enabled serves the technician console at /console.
	Enabled bool `yaml:"enabled"`
	// WebChat serves the customer chat page at /chat and its embeddable snippet.
	WebChat bool `yaml:"web_chat"`
	// SessionTTL is how long a console sign-in lasts before the agent signs in again.
	SessionTTL time.Duration `yaml:"session_ttl"`
	// Agents are the people who may sign in to the console.
	Agents []Agent `yaml:"agents"`
}

// Agent is one web console login.
type Agent struct {
	// Name is the login name.
	Name string `yaml:"name"`
	// PasswordHash is an argon2id or bcrypt hash of the password.
	PasswordHash string `yaml:"password_hash" secret:"true"`
	// Role is technician, agent or supervisor; empty is supervisor.
	Role string `yaml:"role"`
}

// Log configures logging.
type Log struct {
	// Format is text or json.
	Format string `yaml:"format"`
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
}

// WebRTC configures the built-in provider's WebRTC connectivity.
type WebRTC struct {
	// ICEServers are the STUN/TURN servers offered to browsers.
	ICEServers []ICEServer `yaml:"ice_servers"`
	// TURN configures the embedded TURN server.
	TURN TURN `yaml:"turn"`
	// RelayOnly makes both browsers connect through a TURN relay only,
	// so that neither learns the other's network address.
	RelayOnly bool `yaml:"relay_only"`
}

// ICEServer is one STUN or TURN server offered to browsers.
type ICEServer struct {
	// URLs are stun:, turn: or turns: URLs.
	URLs []string `yaml:"urls"`
	// Username is the TURN user name, if any.
	Username string `yaml:"username"`
	// Credential is the TURN password, if any.
	Credential string `yaml:"credential" secret:"true"`
}

// TURN configures the embedded TURN server.
type TURN struct {
	// Enabled turns the embedded TURN server on.
	Enabled bool `yaml:"enabled"`
	// Listen is the host:port (UDP) to listen on.
	Listen string `yaml:"listen"`
	// Realm is the TURN authentication realm.
	Realm string `yaml:"realm"`
	// PublicIP is the IPv4 address browsers reach the server and its relays
	// on; empty means server.public_url's host, resolved at start if it is a
	// name.
	PublicIP string `yaml:"public_ip"`
	// Secret signs the time-limited TURN credentials handed to browsers;
	// every replica needs the same one. Empty means a random one per process.
	Secret string `yaml:"secret" secret:"true"`
}

// template returns the defaults with ${VAR} references still unexpanded.
func template() *Config {
	return &Config{
		Server: Server{
			Listen:          ":8080",
			PublicURL:       "http://localhost:8080",
			ShutdownTimeout: 15 * time.Second,
		},
		Store:    Store{Driver: "sqlite", DSN: "assistbot.db"},
		PIN:      PIN{Digits: 6, TTL: 20 * time.Minute, ClientGuessesPerMinute: 10, GlobalGuessesPerMinute: 300},
		Provider: Provider{Kind: "builtin"},
		API:      API{Tokens: []string{"${ASSISTBOT_API_TOKEN}"}},
		Locale:   "en",
		Escalation: Escalation{
			After:         []time.Duration{time.Minute, 3 * time.Minute},
			UnopenedAfter: 5 * time.Minute,
		},
		Slack: Slack{
			BotToken:      "${SLACK_BOT_TOKEN}",
			SigningSecret: "${SLACK_SIGNING_SECRET}",
			AppToken:      "${SLACK_APP_TOKEN}",
			Command:       "/remote",
			APIURL:        "https://slack.com/api/",
		},
		Discord: Discord{
			Token:   "${DISCORD_BOT_TOKEN}",
			Gateway: true,
			APIURL:  "https://discord.com/api/v10/",
		},
		Twilio: Twilio{
			AccountSID:    "${TWILIO_ACCOUNT_SID}",
			AuthToken:     "${TWILIO_AUTH_TOKEN}",
			Desk:          "slack",
			DefaultRegion: "US",
			MPS:           1,
			APIURL:        "https://api.twilio.com",
		},
		LogMeIn: LogMeIn{
			APIURL:       "https://secure.logmeinrescue.com/API/",
			AuthCode:     "${LOGMEIN_AUTHCODE}",
			Password:     "${LOGMEIN_PASSWORD}",
			IDField:      "cfield5",
			PollInterval: 10 * time.Second,
			DesktopLink:  "https://secure.logmeinrescue.com/Customer/Code.aspx?Code={pin}",
			MobileLink:   "https://rescuemobile.com/{pin}",
			ManualURL:    "https://www.LogMeIn123.com",
		},
		MeshCentral: MeshCentral{
			User:          "${MESHCENTRAL_USER}",
			Password:      "${MESHCENTRAL_PASSWORD}",
			LoginToken:    "${MESHCENTRAL_LOGIN_TOKEN}",
			Consent:       "prompt",
			ShareMinutes:  60,
			InviteMinutes: 20,
		},
		Console: Console{Enabled: true, WebChat: true, SessionTTL: 12 * time.Hour},
		Log:     Log{Format: "text", Level: "info"},
		WebRTC: WebRTC{
			TURN: TURN{Listen: ":3478", Realm: "assistbot"},
		},
	}
}

// Default returns the default configuration as if loaded from an empty file
// with an empty environment: the ${VAR} references among the defaults (the
// secrets and api.tokens) expand to empty values. It validates as is and
// serves on :8080 with SQLite in ./assistbot.db and the builtin provider.
func Default() *Config {
	l := newLoader(nil)
	c := template()
	l.expandStruct(c)
	c.normalize(l.refs)
	c.refs = l.origins(c)
	return c
}

// Webhook is one configured webhook endpoint (docs/webhooks.md).
type Webhook struct {
	// ID names the endpoint in the API and in the Assistbot-Delivery header.
	ID string `yaml:"id"`
	// URL is the http:// or https:// address events are POSTed to.
	URL string `yaml:"url"`
	// Secret signs every request (at least 16 characters).
	Secret string `yaml:"secret" secret:"true"`
	// Events lists the event types to send, or patterns such as session.*; empty sends all.
	Events []string `yaml:"events"`
	// Description says what the endpoint is for.
	Description string `yaml:"description"`
}
