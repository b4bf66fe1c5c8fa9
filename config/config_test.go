package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// env returns a getenv func backed by m.
func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// cmpConfig compares configurations, including the remembered references,
// treating nil and empty lists alike.
func cmpConfig() cmp.Options {
	return cmp.Options{cmp.AllowUnexported(Config{}, origin{}), cmpopts.EquateEmpty()}
}

// problems returns the Problems in err, failing the test if err is not one.
func problems(t *testing.T, err error) Problems {
	t.Helper()
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("error %v (%T) is not a Problems", err, err)
	}
	return ps
}

func TestDefaultValidates(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	if c.Server.Listen != ":8080" || c.Store.Driver != "sqlite" || c.Store.DSN != "assistbot.db" || c.Provider.Kind != "builtin" {
		t.Errorf("Default() = %+v; want :8080, sqlite assistbot.db, builtin", c)
	}
	if c.PIN.TTL != 20*time.Minute || c.Server.ShutdownTimeout != 15*time.Second || c.Twilio.MPS != 1 {
		t.Errorf("Default() durations/mps = %v %v %v", c.PIN.TTL, c.Server.ShutdownTimeout, c.Twilio.MPS)
	}
	if len(c.API.Tokens) != 0 || c.Slack.BotToken != "" || len(c.Console.Agents) != 0 || len(c.WebRTC.ICEServers) != 0 {
		t.Errorf("Default() secrets and lists should be empty without an environment: %+v", c)
	}
}

func TestDefaultEqualsEmptyLoad(t *testing.T) {
	for _, in := range []string{"", "\n", "# only a comment\n", "~\n", "---\n"} {
		t.Run(strings.TrimSpace(in), func(t *testing.T) {
			c, err := Load(strings.NewReader(in), nil)
			if err != nil {
				t.Fatalf("Load(%q) = %v", in, err)
			}
			if d := cmp.Diff(Default(), c, cmpConfig()); d != "" {
				t.Errorf("Load(%q) differs from Default() (-want +got):\n%s", in, d)
			}
		})
	}
	c, err := Load(nil, nil)
	if err != nil || c.Validate() != nil {
		t.Fatalf("Load(nil, nil) = %v, %v", c, err)
	}
}

func TestDefaultSecretsFromEnvironment(t *testing.T) {
	c, err := Load(nil, env(map[string]string{
		"SLACK_BOT_TOKEN":     "xoxb-from-env",
		"ASSISTBOT_API_TOKEN": "0123456789abcdef0123",
		"LOGMEIN_AUTHCODE":    "authcode-from-env",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Slack.BotToken != "xoxb-from-env" || c.LogMeIn.AuthCode != "authcode-from-env" {
		t.Errorf("secrets = %q, %q; want the environment's", c.Slack.BotToken, c.LogMeIn.AuthCode)
	}
	if d := cmp.Diff([]string{"0123456789abcdef0123"}, c.API.Tokens); d != "" {
		t.Errorf("api.tokens (-want +got):\n%s", d)
	}
}

func TestSecretKeys(t *testing.T) {
	want := []string{
		"api.tokens",
		"slack.bot_token", "slack.signing_secret", "slack.app_token",
		"discord.token",
		"twilio.auth_token",
		"logmein.authcode", "logmein.password",
		"meshcentral.password", "meshcentral.login_token",
		"console.agents[].password_hash",
		"metrics.token",
		"webrtc.ice_servers[].credential",
		"webrtc.turn.secret",
		"webhooks[].secret",
	}
	if d := cmp.Diff(want, SecretKeys()); d != "" {
		t.Errorf("SecretKeys() (-want +got):\n%s", d)
	}
}

func TestKeysEnvNames(t *testing.T) {
	seen := map[string]string{}
	for _, k := range Keys() {
		inList := strings.Contains(k.Path, "[]")
		switch {
		case k.Section && k.Env != "":
			t.Errorf("section %s has env name %s", k.Path, k.Env)
		case !k.Section && !inList && k.Env != EnvName(k.Path):
			t.Errorf("key %s has env name %q; want %q", k.Path, k.Env, EnvName(k.Path))
		case inList && k.Env != "":
			t.Errorf("list-of-mappings key %s has env name %s", k.Path, k.Env)
		}
		if k.Env == "" {
			continue
		}
		if other, dup := seen[k.Env]; dup {
			t.Errorf("%s and %s share env name %s", other, k.Path, k.Env)
		}
		seen[k.Env] = k.Path
	}
	for _, name := range []string{"ASSISTBOT_CONFIG", "ASSISTBOT_CI", "ASSISTBOT_API_TOKEN"} {
		if p, ok := seen[name]; ok {
			t.Errorf("%s is reserved but names key %s", name, p)
		}
	}
	for _, name := range []string{"ASSISTBOT_SERVER_LISTEN", "ASSISTBOT_PIN_TTL", "ASSISTBOT_LOCALE",
		"ASSISTBOT_SLACK_ALLOWED_TEAMS", "ASSISTBOT_WEBRTC_TURN_ENABLED", "ASSISTBOT_API_TOKENS",
		"ASSISTBOT_WEBRTC_TURN_PUBLIC_IP", "ASSISTBOT_WEBRTC_TURN_SECRET"} {
		if _, ok := seen[name]; !ok {
			t.Errorf("env name %s missing", name)
		}
	}
}

func TestSecrets(t *testing.T) {
	c := Default()
	c.API.Tokens = []string{"api-token-1234567890", "api-token-1234567890"}
	c.Slack.BotToken = "xoxb-bot"
	c.Slack.SigningSecret = "signing"
	c.Discord.Token = "discord-token"
	c.Twilio.AuthToken = "twilio-auth"
	c.LogMeIn.AuthCode = "logmein-auth"
	c.Console.Agents = []Agent{{Name: "alice", PasswordHash: "$argon2id$alice"}}
	c.WebRTC.ICEServers = []ICEServer{{URLs: []string{"turn:x"}, Username: "u", Credential: "turn-pass"}}
	c.WebRTC.TURN.Secret = "turn-secret-0123456789"
	c.Store = Store{Driver: "postgres", DSN: "postgres://ab:db-pass@db/ab"}
	want := []string{"api-token-1234567890", "xoxb-bot", "signing", "discord-token", "twilio-auth",
		"logmein-auth", "$argon2id$alice", "turn-pass", "turn-secret-0123456789", "db-pass"}
	if d := cmp.Diff(want, c.Secrets()); d != "" {
		t.Errorf("Secrets() (-want +got):\n%s", d)
	}
	if s := c.Summary(); slices.ContainsFunc(want, func(w string) bool { return strings.Contains(s, w) }) {
		t.Errorf("Summary() leaks a secret: %s", s)
	}
}

func TestDSNPassword(t *testing.T) {
	for _, tc := range []struct{ name, dsn, want string }{
		{"sqlite", "assistbot.db", ""},
		{"url", "postgres://u:p%40ss@h/db", "p@ss"},
		{"url without password", "postgresql://u@h/db", ""},
		{"url net/url refuses", "postgres://u:p%zz@ss@h:5432/db", "p%zz@ss"},
		{"key value", "host=db user=u password=s3cret dbname=x", "s3cret"},
		{"key value quoted", `host=db password='it\'s a secret' dbname=x`, "it's a secret"},
		{"key value first", "password = pw sslmode=disable", "pw"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := dsnPassword(tc.dsn); got != tc.want {
				t.Errorf("dsnPassword(%q) = %q; want %q", tc.dsn, got, tc.want)
			}
		})
	}
}

func TestProblemString(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    Problem
		want string
	}{
		{"key", Problem{Key: "pin.digits", Message: "m"}, "pin.digits: m"},
		{"line", Problem{Key: "pin.digits", Line: 3, Message: "m"}, "pin.digits (line 3): m"},
		{"var", Problem{Key: "pin.digits", Var: "ASSISTBOT_PIN_DIGITS", Message: "m"}, "ASSISTBOT_PIN_DIGITS (pin.digits): m"},
		{"line only", Problem{Line: 7, Message: "m"}, "line 7: m"},
		{"message only", Problem{Message: "m"}, "m"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.String(); got != tc.want {
				t.Errorf("String() = %q; want %q", got, tc.want)
			}
		})
	}
	ps := Problems{{Key: "a", Message: "x"}, {Key: "b", Message: "y"}}
	if got := ps.Error(); got != "a: x\nb: y" {
		t.Errorf("Error() = %q", got)
	}
}

// TestSummaryScreenSharing: the start-up line says how screen shares
// connect.
func TestSummaryScreenSharing(t *testing.T) {
	c := Default()
	if s := c.Summary(); !strings.Contains(s, "ICE servers 0, TURN off, relay only off") {
		t.Errorf("default summary: %s", s)
	}
	c.WebRTC.TURN.Enabled, c.WebRTC.RelayOnly = true, true
	c.WebRTC.ICEServers = []ICEServer{{URLs: []string{"stun:stun.example.org"}}}
	if s := c.Summary(); !strings.Contains(s, "ICE servers 1, TURN on, relay only on") {
		t.Errorf("summary: %s", s)
	}
}
