package config

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// locales returns the base languages assistbot has text for.
func locales() []string { return []string{"en", "ko", "ja", "es", "de", "fr"} }

var (
	accountSIDRE = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)
	serviceSIDRE = regexp.MustCompile(`^MG[0-9a-fA-F]{32}$`)
	e164RE       = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	regionRE     = regexp.MustCompile(`^[A-Z]{2}$`)
	hex64RE      = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)
)

// Validate checks the whole configuration and returns nil or a Problems
// value listing every problem, in file order. Messages never contain the
// value of a secret field.
func (c *Config) Validate() error {
	if c == nil {
		return Problems{{Message: "no configuration"}}
	}
	k := &checker{refs: c.liveRefs(), vars: c.liveVars()}
	k.server(&c.Server)
	k.store(&c.Store)
	k.pin(&c.PIN)
	k.oneOf("provider.kind", c.Provider.Kind, "builtin", "logmein", "meshcentral")
	k.api(&c.API)
	if !validLocale(c.Locale) {
		k.add("locale", "%q is not supported; use %s, optionally with a region such as ko-KR", c.Locale, orList(locales()))
	}
	if c.Slack.Enabled {
		k.slack(&c.Slack)
	}
	if c.Discord.Enabled {
		k.discord(&c.Discord)
	}
	if c.Twilio.Enabled {
		k.twilio(c)
	}
	if c.Provider.Kind == "logmein" {
		k.logmein(&c.LogMeIn)
	}
	if c.Provider.Kind == "meshcentral" {
		k.meshcentral(&c.MeshCentral)
	}
	k.metrics(&c.Metrics)
	k.escalation(&c.Escalation)
	k.console(c)
	k.oneOf("log.format", c.Log.Format, "text", "json")
	k.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	k.webrtc(&c.WebRTC)
	k.webhooks(c)
	if len(k.ps) == 0 {
		return nil
	}
	return k.ps
}

func (k *checker) server(s *Server) {
	k.hostPort("server.listen", s.Listen)
	if u := k.httpURL("server.public_url", s.PublicURL, "an absolute http:// or https:// URL such as https://support.example.com", true); u != nil {
		if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
			k.add("server.public_url", "must not contain a query (?...) or a fragment (#...)")
		}
		if u.User != nil {
			k.add("server.public_url", "must not contain a user name or password")
		}
	}
	for i, p := range s.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err == nil {
			continue
		}
		if _, err := netip.ParseAddr(p); err != nil {
			k.add(fmt.Sprintf("server.trusted_proxies[%d]", i), "%q is not an IP address or a CIDR range such as 10.0.0.0/8", p)
		}
	}
	k.duration("server.shutdown_timeout", s.ShutdownTimeout, time.Second, 10*time.Minute)
}

func (k *checker) store(s *Store) {
	k.oneOf("store.driver", s.Driver, "sqlite", "postgres")
	k.required("store.dsn", s.DSN, "(a file path for sqlite, a connection string for postgres)")
	if s.Retention != 0 && s.Retention < 24*time.Hour {
		// Minutes or hours here are far more likely a slip (90m for 90d)
		// than a wish to delete yesterday's sessions.
		k.add("store.retention", "must be 0 (keep everything) or at least 24h (got %s); 90 days is 2160h", fmtDuration(s.Retention))
	}
}

func (k *checker) pin(p *PIN) {
	if p.Digits < 6 || p.Digits > 10 {
		k.add("pin.digits", "must be from 6 to 10 (got %d)", p.Digits)
	}
	k.duration("pin.ttl", p.TTL, time.Second, 24*time.Hour)
	if p.ClientGuessesPerMinute < 1 {
		k.add("pin.client_guesses_per_minute", "must be at least 1 (got %d)", p.ClientGuessesPerMinute)
	}
	if p.GlobalGuessesPerMinute < 1 {
		k.add("pin.global_guesses_per_minute", "must be at least 1 (got %d)", p.GlobalGuessesPerMinute)
	}
}

func (k *checker) logmein(m *LogMeIn) {
	if u := k.httpURL("logmein.api_url", m.APIURL, "an https:// URL", true); u != nil {
		h := u.Hostname()
		if u.Scheme != "https" && h != "localhost" && h != "127.0.0.1" && h != "::1" {
			k.add("logmein.api_url", "must use https:// (http:// is only allowed for localhost)")
		}
	}
	switch {
	case strings.TrimSpace(m.AuthCode) != "":
	case m.Email == "" && m.Password == "":
		k.required("logmein.authcode", m.AuthCode, "when provider.kind is logmein, unless logmein.email and logmein.password are set")
	default:
		if k.required("logmein.email", m.Email, "with logmein.password when logmein.authcode is empty") && !strings.Contains(m.Email, "@") {
			k.add("logmein.email", "%q is not an email address", m.Email)
		}
		k.required("logmein.password", m.Password, "with logmein.email when logmein.authcode is empty")
	}
	if m.NodeID != "" && !allDigits(m.NodeID) {
		k.add("logmein.node_id", "%q must be the technician's numeric node ID from the Rescue Administration Center", m.NodeID)
	}
	k.oneOf("logmein.id_field", m.IDField, "cfield1", "cfield2", "cfield3", "cfield4", "cfield5")
	k.duration("logmein.poll_interval", m.PollInterval, time.Second, 10*time.Minute)
	for _, l := range []struct{ key, v string }{
		{"logmein.desktop_link", m.DesktopLink},
		{"logmein.mobile_link", m.MobileLink},
	} {
		if !strings.Contains(l.v, "{pin}") {
			k.add(l.key, "must contain {pin}, which is replaced by the session PIN")
			continue
		}
		k.httpURL(l.key, strings.ReplaceAll(l.v, "{pin}", "123456"), "an http:// or https:// URL", false)
	}
	k.httpURL("logmein.manual_url", m.ManualURL, "an http:// or https:// URL", true)
}

func (k *checker) meshcentral(m *MeshCentral) {
	if u := k.httpURL("meshcentral.url", m.URL, "the MeshCentral server's https:// URL, such as https://mesh.example.com", true); u != nil {
		h := u.Hostname()
		if u.Scheme != "https" && h != "localhost" && h != "127.0.0.1" && h != "::1" {
			k.add("meshcentral.url", "must use https:// (http:// is only allowed for localhost)")
		}
		if u.Path != "" && u.Path != "/" || u.RawQuery != "" {
			k.add("meshcentral.url", "must be the server's base URL, without a path or query; name a domain with meshcentral.domain")
		}
	}
	switch token := strings.TrimSpace(m.LoginToken); {
	case token == "":
		k.required("meshcentral.user", m.User, "when provider.kind is meshcentral, unless meshcentral.login_token is set")
		k.required("meshcentral.password", m.Password, "with meshcentral.user, unless meshcentral.login_token is set")
	case m.User != "" || m.Password != "":
		k.add("meshcentral.login_token", "is set together with meshcentral.user or meshcentral.password; use the login token or the user and password, not both")
	case !loginTokenShape(token):
		k.add("meshcentral.login_token", "must be a MeshCentral login token as MeshCentral shows it: ~t:, the token's user name, a colon and its password")
	}
	if strings.ContainsAny(strings.Trim(m.Domain, "/"), "/?#% ") {
		k.add("meshcentral.domain", "must be the name of a MeshCentral domain, such as tenant1, without spaces or the characters / ? # %% inside (got %q)", m.Domain)
	}
	if m.CAFile != "" {
		b, err := os.ReadFile(m.CAFile)
		switch {
		case err != nil:
			k.add("meshcentral.ca_file", "cannot read %q: %s", m.CAFile, fileError(err))
		case !x509.NewCertPool().AppendCertsFromPEM(b):
			k.add("meshcentral.ca_file", "%q holds no PEM certificate", m.CAFile)
		}
	}
	if m.CertSHA256 != "" && !hex64RE.MatchString(fingerprintDigits(m.CertSHA256)) {
		k.add("meshcentral.cert_sha256", "must be the certificate's SHA-256 fingerprint: 64 hexadecimal digits, colons allowed, as `openssl x509 -noout -fingerprint -sha256` prints it")
	}
	k.oneOf("meshcentral.consent", m.Consent, "none", "notify", "prompt")
	if m.ShareMinutes < 1 || m.ShareMinutes > 24*60 {
		k.add("meshcentral.share_minutes", "must be from 1 to 1440 (got %d)", m.ShareMinutes)
	}
	if m.InviteMinutes < 1 || m.InviteMinutes > 24*60 {
		k.add("meshcentral.invite_minutes", "must be from 1 to 1440 (got %d)", m.InviteMinutes)
	}
}

// loginTokenShape reports whether token is written as MeshCentral shows
// a login token: "~t:", its user name, a colon and its password, neither
// empty.
func loginTokenShape(token string) bool {
	i := strings.LastIndexByte(token, ':')
	return i > len("~t:") && strings.HasPrefix(token, "~t:") && i < len(token)-1
}

// fingerprintDigits is the hexadecimal of a certificate fingerprint as
// openssl prints it, "sha256 Fingerprint=AB:CD:…", or as pasted from
// elsewhere: what follows an "=", without colons, spaces or dashes.
func fingerprintDigits(s string) string {
	if i := strings.LastIndexByte(s, '='); i >= 0 {
		s = s[i+1:]
	}
	return strings.NewReplacer(":", "", " ", "", "-", "").Replace(strings.TrimSpace(s))
}

// fileError says why a file could not be read, without the path twice.
func fileError(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

func (k *checker) escalation(x *Escalation) {
	for i, d := range x.After {
		switch {
		case d <= 0 || d > 24*time.Hour:
			k.add("escalation.after", "%v is not a waiting time from 1s to 24h", d)
		case i > 0 && d <= x.After[i-1]:
			k.add("escalation.after", "%v does not come after %v: list the waiting times in increasing order, such as [1m, 3m]", d, x.After[i-1])
		}
	}
	if x.UnopenedAfter != 0 {
		k.duration("escalation.unopened_after", x.UnopenedAfter, time.Minute, 24*time.Hour)
	}
	if x.SlackGroup != "" && !slackGroupID.MatchString(x.SlackGroup) {
		k.add("escalation.slack_group", "%q is not a Slack user group id such as S0123ABCD (Slack shows it in the group's menu: Copy group ID)", x.SlackGroup)
	}
	if x.DiscordRole != "" && !snowflake.MatchString(x.DiscordRole) {
		k.add("escalation.discord_role", "%q is not a Discord role id (17 to 20 digits; turn on Developer Mode and Copy Role ID)", x.DiscordRole)
	}
}

// slackGroupID and snowflake are the shapes of a Slack user group id and
// a Discord id.
var (
	slackGroupID = regexp.MustCompile(`^S[A-Z0-9]{6,20}$`)
	snowflake    = regexp.MustCompile(`^[0-9]{17,20}$`)
)

func (k *checker) metrics(m *Metrics) {
	if t := strings.TrimSpace(m.Token); t != "" && utf8.RuneCountInString(t) < 16 {
		k.add("metrics.token", "is too short: use at least 16 characters (try `openssl rand -hex 32`)")
	}
}

func (k *checker) api(a *API) {
	for i, t := range a.Tokens {
		t = strings.TrimSpace(t)
		if t != "" && utf8.RuneCountInString(t) < 16 {
			k.add(fmt.Sprintf("api.tokens[%d]", i), "is too short: API tokens must be at least 16 characters (try `openssl rand -hex 32`)")
		}
	}
}

// validLocale accepts one of the supported languages, alone or as the
// base of a BCP 47 tag such as ko-KR or en-US.
func validLocale(s string) bool {
	parts := strings.Split(s, "-")
	found := false
	for _, l := range locales() {
		found = found || strings.EqualFold(parts[0], l)
	}
	if !found {
		return false
	}
	for _, p := range parts[1:] {
		if p == "" || len(p) > 8 {
			return false
		}
		for _, c := range p {
			if c > unicode.MaxASCII || !(unicode.IsLetter(c) || unicode.IsDigit(c)) {
				return false
			}
		}
	}
	return true
}

func (k *checker) slack(s *Slack) {
	if k.required("slack.bot_token", s.BotToken, "when slack.enabled is true") && !strings.HasPrefix(s.BotToken, "xoxb-") {
		k.add("slack.bot_token", "must be a bot token starting with \"xoxb-\"")
	}
	if s.AppToken == "" {
		k.required("slack.signing_secret", s.SigningSecret, "when slack.enabled is true, unless app_token is set for Socket Mode")
	} else if !strings.HasPrefix(s.AppToken, "xapp-") {
		k.add("slack.app_token", "must be an app-level token starting with \"xapp-\"")
	}
	n := utf8.RuneCountInString(s.Command)
	if !strings.HasPrefix(s.Command, "/") || n < 2 || n > 32 || strings.IndexFunc(s.Command, unicode.IsSpace) >= 0 {
		k.add("slack.command", "%q must start with \"/\" and be 2 to 32 characters without spaces, such as \"/remote\"", s.Command)
	}
	if s.DeskChannel != "" && !slackID(s.DeskChannel, "CG") {
		k.add("slack.desk_channel", "%q must be a channel ID such as C0123ABCD (in Slack: the channel's details, at the bottom), not its name", s.DeskChannel)
	}
	if s.AgentGroup != "" && !slackID(s.AgentGroup, "S") {
		k.add("slack.agent_group", "%q must be a user group ID such as S0123ABCD, not its @handle", s.AgentGroup)
	}
	for i, t := range s.AllowedTeams {
		if !slackID(t, "TE") {
			k.add(fmt.Sprintf("slack.allowed_teams[%d]", i), "%q must be a workspace ID such as T0123ABCD", t)
		}
	}
	k.httpURL("slack.api_url", s.APIURL, "an http:// or https:// URL", true)
}

// slackID reports whether s looks like a Slack ID starting with one of
// prefixes: upper-case letters and digits.
func slackID(s, prefixes string) bool {
	if len(s) < 3 || len(s) > 32 || !strings.ContainsRune(prefixes, rune(s[0])) {
		return false
	}
	for _, c := range s[1:] {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func (k *checker) discord(d *Discord) {
	if k.required("discord.application_id", d.ApplicationID, "when discord.enabled is true") && !allDigits(d.ApplicationID) {
		k.add("discord.application_id", "%q must be the numeric application ID", d.ApplicationID)
	}
	// Every mode needs the token: cards arrive by interaction, but DMs,
	// desk threads and follow-ups are REST calls made as the bot.
	k.required("discord.token", d.Token, "when discord.enabled is true (the bot sends DMs and desk messages with it)")
	if !d.Gateway {
		k.required("discord.public_key", d.PublicKey, "when discord.gateway is false (interactions arrive by webhook)")
	}
	if d.PublicKey != "" && !hex64RE.MatchString(d.PublicKey) {
		k.add("discord.public_key", "must be the application's public key: 64 hexadecimal characters")
	}
	if d.GuildID != "" && !allDigits(d.GuildID) {
		k.add("discord.guild_id", "%q must be a numeric guild ID, or empty for global commands", d.GuildID)
	}
	if k.required("discord.desk_channel", d.DeskChannel, "when discord.enabled is true (agents follow each conversation in a thread there)") && !allDigits(d.DeskChannel) {
		k.add("discord.desk_channel", "%q must be a numeric channel ID (Developer Mode, then right-click the channel and Copy Channel ID)", d.DeskChannel)
	}
	for i, r := range d.AgentRoles {
		if !allDigits(r) {
			k.add(fmt.Sprintf("discord.agent_roles[%d]", i), "%q must be a numeric role ID (Developer Mode, then right-click the role and Copy Role ID)", r)
		}
	}
	k.httpURL("discord.api_url", d.APIURL, "an http:// or https:// URL", true)
}

func (k *checker) twilio(c *Config) {
	t := &c.Twilio
	if k.required("twilio.account_sid", t.AccountSID, "when twilio.enabled is true") && !accountSIDRE.MatchString(t.AccountSID) {
		k.add("twilio.account_sid", "must be \"AC\" followed by 32 hexadecimal characters")
	}
	k.required("twilio.auth_token", t.AuthToken, "when twilio.enabled is true")
	if t.From == "" && t.MessagingServiceSID == "" {
		k.add("twilio.from", "either twilio.from or twilio.messaging_service_sid is required when twilio.enabled is true")
	}
	if t.From != "" && !e164RE.MatchString(t.From) {
		k.add("twilio.from", "%q is not an E.164 phone number such as +15551234567", t.From)
	}
	if t.MessagingServiceSID != "" && !serviceSIDRE.MatchString(t.MessagingServiceSID) {
		k.add("twilio.messaging_service_sid", "%q must be \"MG\" followed by 32 hexadecimal characters", t.MessagingServiceSID)
	}
	if k.oneOf("twilio.desk", t.Desk, "slack", "discord", "console") {
		switch {
		case (t.Desk == "slack" && !c.Slack.Enabled) || (t.Desk == "discord" && !c.Discord.Enabled):
			k.add("twilio.desk", "is %s but %s.enabled is false; enable %s or choose another desk (slack, discord or console)", t.Desk, t.Desk, t.Desk)
		case t.Desk == "slack" && strings.TrimSpace(c.Slack.DeskChannel) == "":
			// SMS conversations are followed in threads of that channel.
			// (discord.desk_channel is required whenever Discord is on.)
			k.add("twilio.desk", "is slack but slack.desk_channel is empty; set the channel where agents follow SMS conversations")
		}
	}
	if !regionRE.MatchString(t.DefaultRegion) {
		k.add("twilio.default_region", "%q must be two upper-case letters, an ISO 3166 country code such as US", t.DefaultRegion)
	}
	if !(t.MPS > 0 && t.MPS <= 1000) {
		k.add("twilio.mps", "must be more than 0 and at most 1000 messages per second (got %g)", t.MPS)
	}
	k.httpURL("twilio.api_url", t.APIURL, "an http:// or https:// URL", true)
}

func (k *checker) console(cfg *Config) {
	c := &cfg.Console
	if !c.Enabled && cfg.Twilio.Enabled && cfg.Twilio.Desk == "console" {
		k.add("console.enabled", "is false but twilio.desk is console; enable the console or choose another desk (slack or discord)")
	}
	k.duration("console.session_ttl", c.SessionTTL, 5*time.Minute, 30*24*time.Hour)
	first := map[string]int{}
	for i, a := range c.Agents {
		key := fmt.Sprintf("console.agents[%d]", i)
		switch j, dup := first[a.Name]; {
		case a.Name == "":
			k.add(key+".name", "is required")
		case strings.IndexFunc(a.Name, unicode.IsSpace) >= 0:
			k.add(key+".name", "%q must not contain spaces", a.Name)
		case dup:
			k.add(key+".name", "%q is already used by console.agents[%d]; names must be unique", a.Name, j)
		default:
			first[a.Name] = i
		}
		if !ValidRole(a.Role) {
			k.add(key+".role", "%q is not a role; use technician, agent or supervisor (empty is supervisor)", a.Role)
		}
		if !k.required(key+".password_hash", a.PasswordHash, "") {
			continue
		}
		ok := false
		for _, p := range []string{"$argon2id$", "$2a$", "$2b$", "$2y$"} {
			ok = ok || strings.HasPrefix(a.PasswordHash, p)
		}
		if !ok {
			k.add(key+".password_hash", "must be an argon2id hash ($argon2id$...) or a bcrypt hash ($2a$, $2b$ or $2y$...), not a plain password")
		}
	}
}

func (k *checker) webrtc(w *WebRTC) {
	for i, s := range w.ICEServers {
		key := fmt.Sprintf("webrtc.ice_servers[%d].urls", i)
		if len(s.URLs) == 0 {
			k.add(key, "needs at least one stun:, turn: or turns: URL")
		}
		for j, u := range s.URLs {
			ok := false
			for _, p := range []string{"stun:", "turn:", "turns:"} {
				ok = ok || (len(u) > len(p) && strings.EqualFold(u[:len(p)], p))
			}
			if !ok {
				k.add(fmt.Sprintf("%s[%d]", key, j), "%q must be a stun:, turn: or turns: URL such as stun:stun.example.org:3478", u)
			}
		}
	}
	if w.RelayOnly && !w.TURN.Enabled && !hasTURN(w.ICEServers) {
		k.add("webrtc.relay_only", "needs a TURN server: set webrtc.turn.enabled to true, or add a turn: or turns: URL to webrtc.ice_servers")
	}
	if w.TURN.Enabled {
		k.hostPort("webrtc.turn.listen", w.TURN.Listen)
		k.required("webrtc.turn.realm", w.TURN.Realm, "when webrtc.turn.enabled is true")
		k.turnPublicIP(w.TURN.PublicIP)
		if s := w.TURN.Secret; s != "" && utf8.RuneCountInString(s) < 16 {
			k.add("webrtc.turn.secret", "is too short: use at least 16 characters (try `openssl rand -hex 32`), "+
				"since whoever guesses it can make TURN credentials; set the same value on every replica, "+
				"so that credentials issued by one are accepted by the others")
		}
	}
}

// hasTURN reports whether servers include a TURN server.
func hasTURN(servers []ICEServer) bool {
	for _, s := range servers {
		for _, u := range s.URLs {
			l := strings.ToLower(u)
			if strings.HasPrefix(l, "turn:") || strings.HasPrefix(l, "turns:") {
				return true
			}
		}
	}
	return false
}

// turnPublicIP checks webrtc.turn.public_ip when set: the embedded TURN
// server advertises it as the relay address, and its relays are IPv4 only.
func (k *checker) turnPublicIP(v string) {
	if v == "" {
		return
	}
	ip, err := netip.ParseAddr(v)
	ip = ip.Unmap()
	switch {
	case err != nil:
		k.add("webrtc.turn.public_ip", "%q is not an IP address", v)
	case !ip.Is4():
		k.add("webrtc.turn.public_ip", "%q is not an IPv4 address; the embedded TURN server relays over IPv4 only", v)
	case ip.IsUnspecified():
		k.add("webrtc.turn.public_ip", "%q is not an address browsers can reach; use the server's public IPv4 address", v)
	}
}
