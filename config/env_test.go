package config

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestEnvOverlay(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		get  func(*Config) any
		want any
	}{
		{"scalar", map[string]string{"ASSISTBOT_SERVER_LISTEN": "127.0.0.1:9090"},
			func(c *Config) any { return c.Server.Listen }, "127.0.0.1:9090"},
		{"top-level", map[string]string{"ASSISTBOT_LOCALE": "ko-KR"},
			func(c *Config) any { return c.Locale }, "ko-KR"},
		{"int", map[string]string{"ASSISTBOT_PIN_DIGITS": " 8 "},
			func(c *Config) any { return c.PIN.Digits }, 8},
		{"bool", map[string]string{"ASSISTBOT_SLACK_ENABLED": "true"},
			func(c *Config) any { return c.Slack.Enabled }, true},
		{"bool yes", map[string]string{"ASSISTBOT_DISCORD_SYNC_COMMANDS": "yes"},
			func(c *Config) any { return c.Discord.SyncCommands }, true},
		{"bool false", map[string]string{"ASSISTBOT_DISCORD_GATEWAY": "0"},
			func(c *Config) any { return c.Discord.Gateway }, false},
		{"duration", map[string]string{"ASSISTBOT_PIN_TTL": "5m"},
			func(c *Config) any { return c.PIN.TTL }, 5 * time.Minute},
		{"float", map[string]string{"ASSISTBOT_TWILIO_MPS": "2.5"},
			func(c *Config) any { return c.Twilio.MPS }, 2.5},
		{"list", map[string]string{"ASSISTBOT_SLACK_ALLOWED_TEAMS": " T1, ,T2,"},
			func(c *Config) any { return c.Slack.AllowedTeams }, []string{"T1", "T2"}},
		{"empty list", map[string]string{"ASSISTBOT_SERVER_TRUSTED_PROXIES": ""},
			func(c *Config) any { return c.Server.TrustedProxies }, []string{}},
		{"secret list", map[string]string{"ASSISTBOT_API_TOKENS": "aaaaaaaaaaaaaaaa,bbbbbbbbbbbbbbbb"},
			func(c *Config) any { return c.API.Tokens }, []string{"aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"}},
		{"nested", map[string]string{"ASSISTBOT_WEBRTC_TURN_ENABLED": "true"},
			func(c *Config) any { return c.WebRTC.TURN.Enabled }, true},
		{"turn public_ip", map[string]string{"ASSISTBOT_WEBRTC_TURN_PUBLIC_IP": "203.0.113.7"},
			func(c *Config) any { return c.WebRTC.TURN.PublicIP }, "203.0.113.7"},
		{"turn secret", map[string]string{"ASSISTBOT_WEBRTC_TURN_SECRET": "0123456789abcdef"},
			func(c *Config) any { return c.WebRTC.TURN.Secret }, "0123456789abcdef"},
		{"secret taken literally", map[string]string{"ASSISTBOT_SLACK_BOT_TOKEN": "xoxb-${NOT_EXPANDED}"},
			func(c *Config) any { return c.Slack.BotToken }, "xoxb-${NOT_EXPANDED}"},
		{"empty string", map[string]string{"ASSISTBOT_SLACK_DESK_CHANNEL": ""},
			func(c *Config) any { return c.Slack.DeskChannel }, ""},
		{"default reference variable", map[string]string{"ASSISTBOT_API_TOKEN": "0123456789abcdef"},
			func(c *Config) any { return c.API.Tokens }, []string{"0123456789abcdef"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(nil, env(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, tc.get(c)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestEnvOverridesFile(t *testing.T) {
	in := "pin:\n  digits: 7\n  ttl: 1m\nslack:\n  allowed_teams: [T9]\n"
	c, err := Load(strings.NewReader(in), env(map[string]string{
		"ASSISTBOT_PIN_DIGITS":          "9",
		"ASSISTBOT_SLACK_ALLOWED_TEAMS": "T1,T2",
	}))
	if err != nil {
		t.Fatal(err)
	}
	got := []any{c.PIN.Digits, c.PIN.TTL, c.Slack.AllowedTeams}
	want := []any{9, time.Minute, []string{"T1", "T2"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestEnvIgnoresUnknownVariables(t *testing.T) {
	c, err := Load(nil, env(map[string]string{
		"ASSISTBOT_CONFIG":    "/etc/assistbot.yaml",
		"ASSISTBOT_CI":        "true",
		"ASSISTBOT_API_TOKEN": "",
		"ASSISTBOT_NOPE":      "whatever",
		"ASSISTBOT_SERVER":    "x",
	}))
	if err != nil {
		t.Fatalf("Load = %v", err)
	}
	if d := cmp.Diff(Default(), c, cmpConfig()); d != "" {
		t.Errorf("unknown variables changed the config (-want +got):\n%s", d)
	}
}

func TestEnvErrors(t *testing.T) {
	for _, tc := range []struct {
		name, key, value, want string
	}{
		{"int", "ASSISTBOT_PIN_DIGITS", "abc", `ASSISTBOT_PIN_DIGITS (pin.digits): "abc" is not a whole number`},
		{"empty int", "ASSISTBOT_PIN_DIGITS", "", `ASSISTBOT_PIN_DIGITS (pin.digits): "" is not a whole number`},
		{"fraction", "ASSISTBOT_PIN_CLIENT_GUESSES_PER_MINUTE", "1.5", `ASSISTBOT_PIN_CLIENT_GUESSES_PER_MINUTE (pin.client_guesses_per_minute): "1.5" is not a whole number`},
		{"bool", "ASSISTBOT_SLACK_ENABLED", "maybe", `ASSISTBOT_SLACK_ENABLED (slack.enabled): "maybe" is not true or false`},
		{"nested bool", "ASSISTBOT_WEBRTC_TURN_ENABLED", "2", `ASSISTBOT_WEBRTC_TURN_ENABLED (webrtc.turn.enabled): "2" is not true or false`},
		{"duration", "ASSISTBOT_PIN_TTL", "5 minutes", `ASSISTBOT_PIN_TTL (pin.ttl): "5 minutes" is not a duration such as 30s, 5m or 1h30m`},
		{"duration without unit", "ASSISTBOT_PIN_TTL", "300", `ASSISTBOT_PIN_TTL (pin.ttl): "300" is not a duration: add a unit, such as 300s or 300m`},
		{"float", "ASSISTBOT_TWILIO_MPS", "fast", `ASSISTBOT_TWILIO_MPS (twilio.mps): "fast" is not a number`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(nil, env(map[string]string{tc.key: tc.value}))
			if err == nil || err.Error() != tc.want {
				t.Errorf("Load error = %v; want %q", err, tc.want)
			}
			ps := problems(t, err)
			if len(ps) != 1 || ps[0].Var != tc.key {
				t.Errorf("problems = %#v; want one from %s", ps, tc.key)
			}
		})
	}
}

func TestEnvReportsEveryProblem(t *testing.T) {
	_, err := Load(nil, env(map[string]string{
		"ASSISTBOT_PIN_DIGITS":          "x",
		"ASSISTBOT_SLACK_ENABLED":       "x",
		"ASSISTBOT_WEBRTC_TURN_ENABLED": "x",
	}))
	want := []string{"pin.digits", "slack.enabled", "webrtc.turn.enabled"}
	if d := cmp.Diff(want, problems(t, err).Keys()); d != "" {
		t.Errorf("problem keys (-want +got):\n%s", d)
	}
}

func TestSetFromEnvNeverQuotesSecrets(t *testing.T) {
	var d time.Duration
	v := reflect.ValueOf(&d).Elem()
	if msg := setFromEnv(v, "hunter2", true); msg == "" || strings.Contains(msg, "hunter2") {
		t.Errorf("setFromEnv message %q leaks the secret", msg)
	}
}

// TestEnvDurationList: a list of waiting times comes from a
// comma-separated variable; a number without a unit is named.
func TestEnvDurationList(t *testing.T) {
	c, err := Load(nil, env(map[string]string{"ASSISTBOT_ESCALATION_AFTER": "30s, 2m"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Escalation.After; len(got) != 2 || got[0] != 30*time.Second || got[1] != 2*time.Minute {
		t.Errorf("escalation.after = %v, want [30s 2m0s]", got)
	}
	_, err = Load(nil, env(map[string]string{"ASSISTBOT_ESCALATION_AFTER": "30s,2"}))
	if err == nil || !strings.Contains(err.Error(), "ASSISTBOT_ESCALATION_AFTER") || !strings.Contains(err.Error(), `"2"`) {
		t.Errorf("a unitless waiting time: %v", err)
	}
}

// TestEnvNamedInValidation: a value an ASSISTBOT_ variable set that
// parses but is not allowed is reported with the variable, as one that
// does not parse is; once the caller changes the value, it is not.
func TestEnvNamedInValidation(t *testing.T) {
	c, err := Load(strings.NewReader("pin: {digits: 6}\n"), env(map[string]string{"ASSISTBOT_PIN_DIGITS": "11", "ASSISTBOT_STORE_RETENTION": "1h"}))
	if err != nil {
		t.Fatal(err)
	}
	got := c.Validate()
	for _, want := range []string{"ASSISTBOT_PIN_DIGITS (pin.digits): must be from 6 to 10 (got 11)", "ASSISTBOT_STORE_RETENTION (store.retention): must be 0"} {
		if got == nil || !strings.Contains(got.Error(), want) {
			t.Errorf("Validate() = %v; want %q", got, want)
		}
	}
	c.PIN.Digits = 12
	if got := c.Validate(); got == nil || !strings.Contains(got.Error(), "pin.digits: must be from 6 to 10 (got 12)") || strings.Contains(got.Error(), "ASSISTBOT_PIN_DIGITS") {
		t.Errorf("after the caller's change: %v", got)
	}
}
