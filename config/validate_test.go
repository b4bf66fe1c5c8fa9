package config

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// full returns a valid configuration with every component switched on.
func full() *Config {
	c := Default()
	c.Provider.Kind = "logmein"
	c.LogMeIn.AuthCode = "logmein-authcode"
	c.API.Tokens = []string{"0123456789abcdef0123"}
	c.Slack = Slack{Enabled: true, BotToken: "xoxb-1", SigningSecret: "sig", Command: "/remote", APIURL: "https://slack.com/api/"}
	c.Discord = Discord{Enabled: true, Token: "tok", ApplicationID: "123456789012345678", GuildID: "42",
		DeskChannel: "900000000000000001", AgentRoles: []string{"700000000000000001"},
		Gateway: true, APIURL: "https://discord.com/api/v10/"}
	c.Twilio = Twilio{Enabled: true, AccountSID: "AC" + strings.Repeat("0a", 16), AuthToken: "auth",
		From: "+15551234567", MessagingServiceSID: "MG" + strings.Repeat("F1", 16), Desk: "slack",
		DefaultRegion: "US", MPS: 1, APIURL: "https://api.twilio.com"}
	c.Slack.DeskChannel = "C0123ABCD" // twilio.desk is slack: SMS conversations are followed there
	c.Console.Agents = []Agent{{Name: "alice", PasswordHash: "$argon2id$v=19$x"}, {Name: "bob", PasswordHash: "$2b$10$x"}}
	c.WebRTC.ICEServers = []ICEServer{{URLs: []string{"stun:stun.example.org:3478", "TURNS:turn.example.org:5349"}}}
	c.WebRTC.TURN.Enabled = true
	c.Server.TrustedProxies = []string{"10.0.0.0/8", "192.0.2.1", "2001:db8::/32"}
	return c
}

// meshcentral returns a change to a valid MeshCentral provider, edited by
// edit when not nil.
func meshcentral(edit func(*MeshCentral)) func(*Config) {
	return func(c *Config) {
		c.Provider.Kind = "meshcentral"
		c.MeshCentral.URL, c.MeshCentral.User, c.MeshCentral.Password = "https://mesh.example.com", "assistbot", "pw"
		if edit != nil {
			edit(&c.MeshCentral)
		}
	}
}

func TestFullValidates(t *testing.T) {
	if err := full().Validate(); err != nil {
		t.Fatalf("full().Validate() = %v", err)
	}
}

func TestValidateRules(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Config)
		key    string // "" means the change is valid
	}{
		{"listen not host:port", func(c *Config) { c.Server.Listen = "8080" }, "server.listen"},
		{"listen port out of range", func(c *Config) { c.Server.Listen = ":70000" }, "server.listen"},
		{"listen port by name", func(c *Config) { c.Server.Listen = ":http" }, "server.listen"},
		{"public_url without scheme", func(c *Config) { c.Server.PublicURL = "localhost:8080" }, "server.public_url"},
		{"public_url ftp", func(c *Config) { c.Server.PublicURL = "ftp://example.com" }, "server.public_url"},
		{"escalation not increasing", func(c *Config) { c.Escalation.After = []time.Duration{3 * time.Minute, time.Minute} }, "escalation.after"},
		{"escalation zero", func(c *Config) { c.Escalation.After = []time.Duration{0} }, "escalation.after"},
		{"retention in minutes", func(c *Config) { c.Store.Retention = 90 * time.Minute }, "store.retention"},
		{"escalation slack group", func(c *Config) { c.Escalation.SlackGroup = "@support" }, "escalation.slack_group"},
		{"escalation discord role", func(c *Config) { c.Escalation.DiscordRole = "support" }, "escalation.discord_role"},
		{"public_url without a host", func(c *Config) { c.Server.PublicURL = "https://:8443" }, "server.public_url"},
		{"public_url query", func(c *Config) { c.Server.PublicURL = "https://example.com/?a=1" }, "server.public_url"},
		{"public_url fragment", func(c *Config) { c.Server.PublicURL = "https://example.com/#x" }, "server.public_url"},
		{"public_url empty", func(c *Config) { c.Server.PublicURL = "" }, "server.public_url"},
		{"public_url with path", func(c *Config) { c.Server.PublicURL = "https://example.com/support" }, ""},
		{"trusted proxy", func(c *Config) { c.Server.TrustedProxies = []string{"10.0.0.1", "proxy"} }, "server.trusted_proxies[1]"},
		{"shutdown too short", func(c *Config) { c.Server.ShutdownTimeout = 0 }, "server.shutdown_timeout"},
		{"shutdown too long", func(c *Config) { c.Server.ShutdownTimeout = 11 * time.Minute }, "server.shutdown_timeout"},
		{"store driver", func(c *Config) { c.Store.Driver = "mysql" }, "store.driver"},
		{"store postgres", func(c *Config) { c.Store = Store{Driver: "postgres", DSN: "postgres://db/x"} }, ""},
		{"store dsn", func(c *Config) { c.Store.DSN = "" }, "store.dsn"},
		{"digits too few", func(c *Config) { c.PIN.Digits = 5 }, "pin.digits"},
		{"digits too many", func(c *Config) { c.PIN.Digits = 11 }, "pin.digits"},
		{"digits 10", func(c *Config) { c.PIN.Digits = 10 }, ""},
		{"ttl too short", func(c *Config) { c.PIN.TTL = time.Millisecond }, "pin.ttl"},
		{"ttl too long", func(c *Config) { c.PIN.TTL = 25 * time.Hour }, "pin.ttl"},
		{"client guesses", func(c *Config) { c.PIN.ClientGuessesPerMinute = 0 }, "pin.client_guesses_per_minute"},
		{"global guesses", func(c *Config) { c.PIN.GlobalGuessesPerMinute = -1 }, "pin.global_guesses_per_minute"},
		{"provider kind", func(c *Config) { c.Provider.Kind = "teamviewer" }, "provider.kind"},
		{"logmein authcode", func(c *Config) { c.LogMeIn.AuthCode = "" }, "logmein.authcode"},
		{"logmein email and password", func(c *Config) {
			c.LogMeIn.AuthCode, c.LogMeIn.Email, c.LogMeIn.Password = "", "tech@example.com", "pw"
		}, ""},
		{"logmein password only", func(c *Config) { c.LogMeIn.AuthCode, c.LogMeIn.Password = "", "pw" }, "logmein.email"},
		{"logmein email only", func(c *Config) { c.LogMeIn.AuthCode, c.LogMeIn.Email = "", "tech@example.com" }, "logmein.password"},
		{"logmein email not an address", func(c *Config) { c.LogMeIn.AuthCode, c.LogMeIn.Email, c.LogMeIn.Password = "", "tech", "pw" }, "logmein.email"},
		{"logmein authcode wins", func(c *Config) { c.LogMeIn.Email = "tech" }, ""},
		{"logmein node id", func(c *Config) { c.LogMeIn.NodeID = "337366" }, ""},
		{"logmein node id not numeric", func(c *Config) { c.LogMeIn.NodeID = "tom" }, "logmein.node_id"},
		{"logmein id field", func(c *Config) { c.LogMeIn.IDField = "cfield0" }, "logmein.id_field"},
		{"logmein id field 1", func(c *Config) { c.LogMeIn.IDField = "cfield1" }, ""},
		{"logmein notechconsole", func(c *Config) { c.LogMeIn.NoTechConsole = true }, ""},
		{"logmein ignored for builtin", func(c *Config) { c.Provider.Kind = "builtin"; c.LogMeIn = LogMeIn{} }, ""},
		{"desktop link without pin", func(c *Config) { c.LogMeIn.DesktopLink = "https://example.com/" }, "logmein.desktop_link"},
		{"mobile link not http", func(c *Config) { c.LogMeIn.MobileLink = "ftp://example.com/{pin}" }, "logmein.mobile_link"},
		{"manual url", func(c *Config) { c.LogMeIn.ManualURL = "www.example.com" }, "logmein.manual_url"},
		{"logmein api http", func(c *Config) { c.LogMeIn.APIURL = "http://example.com/API/" }, "logmein.api_url"},
		{"logmein api http localhost", func(c *Config) { c.LogMeIn.APIURL = "http://127.0.0.1:9000/API/" }, ""},
		{"logmein poll", func(c *Config) { c.LogMeIn.PollInterval = 0 }, "logmein.poll_interval"},
		{"meshcentral", meshcentral(nil), ""},
		{"meshcentral url missing", meshcentral(func(m *MeshCentral) { m.URL = "" }), "meshcentral.url"},
		{"meshcentral url http", meshcentral(func(m *MeshCentral) { m.URL = "http://mesh.example.com" }), "meshcentral.url"},
		{"meshcentral url http localhost", meshcentral(func(m *MeshCentral) { m.URL = "http://127.0.0.1:4430" }), ""},
		{"meshcentral url with path", meshcentral(func(m *MeshCentral) { m.URL = "https://mesh.example.com/tenant" }), "meshcentral.url"},
		{"meshcentral user", meshcentral(func(m *MeshCentral) { m.User = "" }), "meshcentral.user"},
		{"meshcentral password", meshcentral(func(m *MeshCentral) { m.Password = "" }), "meshcentral.password"},
		{"meshcentral login token instead", meshcentral(func(m *MeshCentral) { m.User, m.Password, m.LoginToken = "", "", "~t:tokenuser:tokenpass" }), ""},
		{"meshcentral login token and password", meshcentral(func(m *MeshCentral) { m.LoginToken = "~t:tokenuser:tokenpass" }), "meshcentral.login_token"},
		{"meshcentral login token malformed", meshcentral(func(m *MeshCentral) { m.User, m.Password, m.LoginToken = "", "", "abc" }), "meshcentral.login_token"},
		{"meshcentral login token without password", meshcentral(func(m *MeshCentral) { m.User, m.Password, m.LoginToken = "", "", "~t:abc:" }), "meshcentral.login_token"},
		{"meshcentral login token without user", meshcentral(func(m *MeshCentral) { m.User, m.Password, m.LoginToken = "", "", "~t::pw" }), "meshcentral.login_token"},
		{"meshcentral domain", meshcentral(func(m *MeshCentral) { m.Domain = "/tenant1/" }), ""},
		{"meshcentral domain with a space", meshcentral(func(m *MeshCentral) { m.Domain = "a b" }), "meshcentral.domain"},
		{"meshcentral domain with a path", meshcentral(func(m *MeshCentral) { m.Domain = "a/b" }), "meshcentral.domain"},
		{"meshcentral cert hash as openssl prints it", meshcentral(func(m *MeshCentral) { m.CertSHA256 = "sha256 Fingerprint=" + strings.Repeat("AB:", 31) + "AB" }), ""},
		{"meshcentral ca file missing", meshcentral(func(m *MeshCentral) { m.CAFile = "/nonexistent/ca.pem" }), "meshcentral.ca_file"},
		{"meshcentral ca file not pem", meshcentral(func(m *MeshCentral) { m.CAFile = "validate_test.go" }), "meshcentral.ca_file"},
		{"meshcentral cert hash", meshcentral(func(m *MeshCentral) { m.CertSHA256 = strings.Repeat("AB:", 31) + "AB" }), ""},
		{"meshcentral cert hash short", meshcentral(func(m *MeshCentral) { m.CertSHA256 = "abcd" }), "meshcentral.cert_sha256"},
		{"meshcentral consent", meshcentral(func(m *MeshCentral) { m.Consent = "ask" }), "meshcentral.consent"},
		{"meshcentral share minutes", meshcentral(func(m *MeshCentral) { m.ShareMinutes = 0 }), "meshcentral.share_minutes"},
		{"meshcentral invite minutes", meshcentral(func(m *MeshCentral) { m.InviteMinutes = 2000 }), "meshcentral.invite_minutes"},
		{"meshcentral ignored for builtin", func(c *Config) { c.Provider.Kind = "builtin"; c.MeshCentral = MeshCentral{} }, ""},
		{"metrics token", func(c *Config) { c.Metrics.Token = "0123456789abcdef" }, ""},
		{"metrics token short", func(c *Config) { c.Metrics.Token = "secret" }, "metrics.token"},
		{"api token short", func(c *Config) { c.API.Tokens = []string{"0123456789abcdef", "short"} }, "api.tokens[1]"},
		{"api token empty dropped", func(c *Config) { c.API.Tokens = []string{""} }, ""},
		{"locale", func(c *Config) { c.Locale = "zh" }, "locale"},
		{"locale empty", func(c *Config) { c.Locale = "" }, "locale"},
		{"locale bad subtag", func(c *Config) { c.Locale = "en-" }, "locale"},
		{"locale region", func(c *Config) { c.Locale = "ko-KR" }, ""},
		{"locale en-US", func(c *Config) { c.Locale = "en-US" }, ""},
		{"slack bot_token missing", func(c *Config) { c.Slack.BotToken = "" }, "slack.bot_token"},
		{"slack bot_token kind", func(c *Config) { c.Slack.BotToken = "xoxp-1" }, "slack.bot_token"},
		{"slack signing_secret", func(c *Config) { c.Slack.SigningSecret = "" }, "slack.signing_secret"},
		{"slack socket mode", func(c *Config) { c.Slack.SigningSecret = ""; c.Slack.AppToken = "xapp-1" }, ""},
		{"slack app_token kind", func(c *Config) { c.Slack.AppToken = "xoxb-2" }, "slack.app_token"},
		{"slack command slash", func(c *Config) { c.Slack.Command = "remote" }, "slack.command"},
		{"slack command short", func(c *Config) { c.Slack.Command = "/" }, "slack.command"},
		{"slack command space", func(c *Config) { c.Slack.Command = "/re mote" }, "slack.command"},
		{"slack command long", func(c *Config) { c.Slack.Command = "/" + strings.Repeat("a", 32) }, "slack.command"},
		{"slack api_url", func(c *Config) { c.Slack.APIURL = "slack" }, "slack.api_url"},
		{"slack desk_channel name", func(c *Config) { c.Slack.DeskChannel = "#support" }, "slack.desk_channel"},
		{"slack desk_channel private", func(c *Config) { c.Slack.DeskChannel = "G0123ABCD" }, ""},
		{"slack agent_group", func(c *Config) { c.Slack.AgentGroup = "S0123ABCD" }, ""},
		{"slack agent_group handle", func(c *Config) { c.Slack.AgentGroup = "@support" }, "slack.agent_group"},
		{"slack allowed_teams", func(c *Config) { c.Slack.AllowedTeams = []string{"T0123ABCD", "E0123ABCD"} }, ""},
		{"slack allowed_teams name", func(c *Config) { c.Slack.AllowedTeams = []string{"T0123ABCD", "acme"} }, "slack.allowed_teams[1]"},
		{"slack ignored when disabled", func(c *Config) { c.Slack = Slack{}; c.Twilio.Desk = "console" }, ""},
		{"discord application_id", func(c *Config) { c.Discord.ApplicationID = "" }, "discord.application_id"},
		{"discord application_id digits", func(c *Config) { c.Discord.ApplicationID = "app" }, "discord.application_id"},
		{"discord token", func(c *Config) { c.Discord.Token = "" }, "discord.token"},
		{"discord webhook needs public_key", func(c *Config) { c.Discord.Gateway = false }, "discord.public_key"},
		{"discord webhook", func(c *Config) { c.Discord.Gateway, c.Discord.PublicKey = false, strings.Repeat("ab", 32) }, ""},
		{"discord webhook still needs the token", func(c *Config) {
			c.Discord.Gateway, c.Discord.Token, c.Discord.PublicKey = false, "", strings.Repeat("ab", 32)
		}, "discord.token"},
		{"discord gateway and webhook together", func(c *Config) { c.Discord.PublicKey = strings.Repeat("ab", 32) }, ""},
		{"discord desk_channel", func(c *Config) { c.Discord.DeskChannel = "" }, "discord.desk_channel"},
		{"discord desk_channel digits", func(c *Config) { c.Discord.DeskChannel = "#desk" }, "discord.desk_channel"},
		{"discord agent_roles digits", func(c *Config) { c.Discord.AgentRoles = []string{"1", "Support"} }, "discord.agent_roles[1]"},
		{"discord no agent_roles", func(c *Config) { c.Discord.AgentRoles = nil }, ""},
		{"discord public_key hex", func(c *Config) { c.Discord.PublicKey = "xyz" }, "discord.public_key"},
		{"discord guild_id", func(c *Config) { c.Discord.GuildID = "guild" }, "discord.guild_id"},
		{"discord api_url", func(c *Config) { c.Discord.APIURL = "" }, "discord.api_url"},
		{"twilio account_sid", func(c *Config) { c.Twilio.AccountSID = "AC123" }, "twilio.account_sid"},
		{"twilio auth_token", func(c *Config) { c.Twilio.AuthToken = "" }, "twilio.auth_token"},
		{"twilio sender", func(c *Config) { c.Twilio.From, c.Twilio.MessagingServiceSID = "", "" }, "twilio.from"},
		{"twilio only service", func(c *Config) { c.Twilio.From = "" }, ""},
		{"twilio from", func(c *Config) { c.Twilio.From = "555-1234" }, "twilio.from"},
		{"twilio service sid", func(c *Config) { c.Twilio.MessagingServiceSID = "MG1" }, "twilio.messaging_service_sid"},
		{"twilio desk", func(c *Config) { c.Twilio.Desk = "email" }, "twilio.desk"},
		{"twilio desk disabled", func(c *Config) { c.Twilio.Desk = "discord"; c.Discord.Enabled = false }, "twilio.desk"},
		{"twilio desk console", func(c *Config) { c.Twilio.Desk = "console" }, ""},
		{"twilio desk slack", func(c *Config) { c.Twilio.Desk = "slack"; c.Slack.DeskChannel = "C0123ABCD" }, ""},
		{"twilio desk slack without a channel", func(c *Config) { c.Twilio.Desk = "slack"; c.Slack.DeskChannel = "" }, "twilio.desk"},
		{"twilio desk discord", func(c *Config) { c.Twilio.Desk = "discord" }, ""},
		{"twilio region", func(c *Config) { c.Twilio.DefaultRegion = "us" }, "twilio.default_region"},
		{"twilio mps zero", func(c *Config) { c.Twilio.MPS = 0 }, "twilio.mps"},
		{"twilio mps high", func(c *Config) { c.Twilio.MPS = 1001 }, "twilio.mps"},
		{"twilio mps fraction", func(c *Config) { c.Twilio.MPS = 0.5 }, ""},
		{"twilio api_url", func(c *Config) { c.Twilio.APIURL = "twilio" }, "twilio.api_url"},
		{"agent name empty", func(c *Config) { c.Console.Agents[1].Name = "" }, "console.agents[1].name"},
		{"agent name space", func(c *Config) { c.Console.Agents[1].Name = "bob smith" }, "console.agents[1].name"},
		{"agent name duplicate", func(c *Config) { c.Console.Agents[1].Name = "alice" }, "console.agents[1].name"},
		{"agent hash plain", func(c *Config) { c.Console.Agents[1].PasswordHash = "hunter2" }, "console.agents[1].password_hash"},
		{"agent hash empty", func(c *Config) { c.Console.Agents[0].PasswordHash = "" }, "console.agents[0].password_hash"},
		{"agent hash 2y", func(c *Config) { c.Console.Agents[0].PasswordHash = "$2y$12$x" }, ""},
		{"console session_ttl too short", func(c *Config) { c.Console.SessionTTL = time.Minute }, "console.session_ttl"},
		{"console session_ttl too long", func(c *Config) { c.Console.SessionTTL = 31 * 24 * time.Hour }, "console.session_ttl"},
		{"console session_ttl a week", func(c *Config) { c.Console.SessionTTL = 7 * 24 * time.Hour }, ""},
		{"console disabled", func(c *Config) { c.Console.Enabled = false }, ""},
		{"console disabled but the sms desk", func(c *Config) { c.Console.Enabled = false; c.Twilio.Desk = "console" }, "console.enabled"},
		{"console disabled, sms off", func(c *Config) { c.Console.Enabled = false; c.Twilio.Enabled = false; c.Twilio.Desk = "console" }, ""},
		{"web chat without console", func(c *Config) { c.Console.Enabled, c.Console.WebChat = false, true }, ""},
		{"log format", func(c *Config) { c.Log.Format = "xml" }, "log.format"},
		{"log level", func(c *Config) { c.Log.Level = "verbose" }, "log.level"},
		{"ice server without urls", func(c *Config) { c.WebRTC.ICEServers[0].URLs = nil }, "webrtc.ice_servers[0].urls"},
		{"ice server url scheme", func(c *Config) { c.WebRTC.ICEServers[0].URLs[1] = "https://x" }, "webrtc.ice_servers[0].urls[1]"},
		{"ice server url bare scheme", func(c *Config) { c.WebRTC.ICEServers[0].URLs[0] = "stun:" }, "webrtc.ice_servers[0].urls[0]"},
		{"turn listen", func(c *Config) { c.WebRTC.TURN.Listen = "3478" }, "webrtc.turn.listen"},
		{"turn realm", func(c *Config) { c.WebRTC.TURN.Realm = "" }, "webrtc.turn.realm"},
		{"turn ignored when disabled", func(c *Config) { c.WebRTC.TURN = TURN{} }, ""},
		{"turn public_ip", func(c *Config) { c.WebRTC.TURN.PublicIP = "203.0.113.7" }, ""},
		{"turn public_ip not an IP", func(c *Config) { c.WebRTC.TURN.PublicIP = "turn.example.org" }, "webrtc.turn.public_ip"},
		{"turn public_ip IPv6", func(c *Config) { c.WebRTC.TURN.PublicIP = "2001:db8::1" }, "webrtc.turn.public_ip"},
		{"turn public_ip unspecified", func(c *Config) { c.WebRTC.TURN.PublicIP = "0.0.0.0" }, "webrtc.turn.public_ip"},
		{"turn secret", func(c *Config) { c.WebRTC.TURN.Secret = "0123456789abcdef" }, ""},
		{"turn secret too short", func(c *Config) { c.WebRTC.TURN.Secret = "0123456789abcde" }, "webrtc.turn.secret"},
		{"relay only with the embedded turn", func(c *Config) { c.WebRTC.RelayOnly = true }, ""},
		{"relay only without turn", func(c *Config) {
			c.WebRTC.RelayOnly, c.WebRTC.TURN.Enabled, c.WebRTC.ICEServers = true, false, []ICEServer{{URLs: []string{"stun:stun.example.org"}}}
		}, "webrtc.relay_only"},
		{"relay only with a turn url", func(c *Config) {
			c.WebRTC.RelayOnly, c.WebRTC.TURN.Enabled = true, false
			c.WebRTC.ICEServers[0].URLs = []string{"TURNS:turn.example.org:5349"}
		}, ""},
		{"turn checks ignored when disabled", func(c *Config) {
			c.WebRTC.TURN = TURN{PublicIP: "x", Secret: "short"}
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := full()
			tc.change(c)
			err := c.Validate()
			if tc.key == "" {
				if err != nil {
					t.Fatalf("Validate() = %v; want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil; want a problem for %s", tc.key)
			}
			ps := problems(t, err)
			if d := cmp.Diff([]string{tc.key}, ps.Keys()); d != "" {
				t.Errorf("problem keys (-want +got):\n%s\n%v", d, err)
			}
			if ps[0].Message == "" {
				t.Error("empty message")
			}
		})
	}
}

func TestValidateReportsEveryProblemInOrder(t *testing.T) {
	c := full()
	c.WebRTC.TURN.Realm = ""
	c.Server.Listen = "nope"
	c.PIN.Digits = 3
	c.Slack.Command = "remote"
	c.Log.Level = "loud"
	want := []string{"server.listen", "pin.digits", "slack.command", "log.level", "webrtc.turn.realm"}
	for range 3 {
		if d := cmp.Diff(want, problems(t, c.Validate()).Keys()); d != "" {
			t.Fatalf("problem keys (-want +got):\n%s", d)
		}
	}
}

func TestValidateNil(t *testing.T) {
	var c *Config
	if c.Validate() == nil {
		t.Error("nil config validated")
	}
}

func TestValidateNeverShowsSecrets(t *testing.T) {
	c := full()
	secrets := map[string]*string{
		"slack bot token":      &c.Slack.BotToken,
		"slack signing secret": &c.Slack.SigningSecret,
		"slack app token":      &c.Slack.AppToken,
		"discord token":        &c.Discord.Token,
		"twilio auth token":    &c.Twilio.AuthToken,
		"logmein authcode":     &c.LogMeIn.AuthCode,
		"password hash":        &c.Console.Agents[0].PasswordHash,
		"ice credential":       &c.WebRTC.ICEServers[0].Credential,
	}
	for name, p := range secrets {
		*p = "SeCrEt-" + strings.ReplaceAll(name, " ", "-") // wrong format for most
	}
	c.API.Tokens = []string{"SeCrEt-tok"} // too short
	c.WebRTC.TURN.Secret = "SeCrEt-turn"  // too short
	// Bad neighbouring values, so that every section reports something.
	c.Slack.Command = "nope"
	c.Discord.Gateway = false
	c.Discord.PublicKey = "SeCrEt-not-hex"
	c.Twilio.From = "nope"
	c.LogMeIn.ManualURL = "nope"
	c.Console.Agents[0].Name = ""
	c.WebRTC.ICEServers[0].URLs = []string{"nope"}
	c.Store.DSN = "postgres://u:SeCrEt-db@db/x"
	c.Server.PublicURL = "nope"

	err := c.Validate()
	if err == nil {
		t.Fatal("Validate() = nil")
	}
	msg := err.Error()
	for _, want := range []string{"slack.bot_token", "slack.app_token", "api.tokens[0]", "console.agents[0].password_hash", "webrtc.turn.secret"} {
		if !strings.Contains(msg, want+":") {
			t.Errorf("Validate() does not report %s:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "SeCrEt") {
		t.Errorf("Validate() shows a secret value:\n%s", msg)
	}
	for _, s := range c.Secrets() {
		if strings.Contains(msg, s) {
			t.Errorf("Validate() shows secret %q", s)
		}
	}
}

func TestLoadNeverShowsSecrets(t *testing.T) {
	in := `
slack:
  bot_token: [SeCrEt-in-a-list]
  signing_secret: {SeCrEt: x}
console:
  agents:
    - name: a
      password_hash: [SeCrEt-hash]
`
	_, err := Load(strings.NewReader(in), env(map[string]string{"ASSISTBOT_API_TOKENS": "SeCrEt-env"}))
	if err == nil {
		t.Fatal("Load succeeded")
	}
	if strings.Contains(err.Error(), "SeCrEt-") {
		t.Errorf("Load error shows a secret value:\n%v", err)
	}
}

func TestValidateLogMeInNeverShowsPassword(t *testing.T) {
	c := full()
	c.LogMeIn.AuthCode, c.LogMeIn.Email, c.LogMeIn.Password = "", "not-an-address", "SeCrEt-password"
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "logmein.email") {
		t.Fatalf("Validate() = %v; want a problem with logmein.email", err)
	}
	if strings.Contains(err.Error(), "SeCrEt") {
		t.Errorf("Validate() shows the password: %v", err)
	}
	c.LogMeIn.Email, c.LogMeIn.Password = "tech@example.com", ""
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "logmein.password") {
		t.Errorf("Validate() = %v; want a problem with logmein.password", err)
	}
}
