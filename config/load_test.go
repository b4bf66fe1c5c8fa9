package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestExpand(t *testing.T) {
	vars := env(map[string]string{"A": "alpha", "B_2": "beta", "EMPTY": ""})
	for _, tc := range []struct {
		name, in, want string
		empty          []varRef
	}{
		{"plain", "hello", "hello", nil},
		{"whole", "${A}", "alpha", nil},
		{"embedded", "x${A}y${B_2}z", "xalphaybetaz", nil},
		{"unset", "${NOPE}", "", []varRef{{Name: "NOPE"}}},
		{"set but empty", "${EMPTY}", "", []varRef{{Name: "EMPTY", Set: true}}},
		{"bare dollar kept", "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", nil},
		{"dollar name kept", "$HOME/x", "$HOME/x", nil},
		{"empty braces kept", "${}", "${}", nil},
		{"digit first kept", "${1A}", "${1A}", nil},
		{"unclosed kept", "${A", "${A", nil},
		{"bad character kept", "${A-B}", "${A-B}", nil},
		{"dollar before reference", "$${A}", "$alpha", nil},
		{"not recursive", "${A}", "alpha", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, empty, _ := expand(tc.in, vars)
			if got != tc.want {
				t.Errorf("expand(%q) = %q; want %q", tc.in, got, tc.want)
			}
			if d := cmp.Diff(tc.empty, empty); d != "" {
				t.Errorf("empty refs (-want +got):\n%s", d)
			}
		})
	}
}

func TestLoadExpansion(t *testing.T) {
	const in = `
server:
  public_url: https://${HOST}/support/
  shutdown_timeout: ${GRACE}
pin:
  digits: ${PIN_DIGITS}
  ttl: "${PIN_TTL}"
slack:
  enabled: ${SLACK_ON}
  desk_channel: ${CHANNEL}
  command: $HOME
twilio:
  mps: ${MPS}
console:
  agents:
    - name: alice
      password_hash: $argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA
    - name: ${BOB}
      password_hash: "${BOB_HASH}"
`
	c, err := Load(strings.NewReader(in), env(map[string]string{
		"HOST": "help.example.com", "GRACE": "30s", "PIN_DIGITS": "8", "PIN_TTL": "5m",
		"SLACK_ON": "true", "CHANNEL": "null", "MPS": "2.5", "BOB": "bob", "BOB_HASH": "$2b$10$xyz",
	}))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		got, want any
	}{
		{"string with trailing slash trimmed", c.Server.PublicURL, "https://help.example.com/support"},
		{"duration", c.Server.ShutdownTimeout, 30 * time.Second},
		{"int", c.PIN.Digits, 8},
		{"quoted duration", c.PIN.TTL, 5 * time.Minute},
		{"bool", c.Slack.Enabled, true},
		{"text that looks like null", c.Slack.DeskChannel, "null"},
		{"$HOME kept", c.Slack.Command, "$HOME"},
		{"float", c.Twilio.MPS, 2.5},
		{"bare $ kept", c.Console.Agents[0].PasswordHash, "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"},
		{"in a list", c.Console.Agents[1].Name, "bob"},
		{"quoted in a list", c.Console.Agents[1].PasswordHash, "$2b$10$xyz"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, tc.got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestLoadQuotedReferenceIntoInt(t *testing.T) {
	c, err := Load(strings.NewReader(`pin: {digits: "${D}"}`), env(map[string]string{"D": "9"}))
	if err != nil || c.PIN.Digits != 9 {
		t.Fatalf("Load = %v, %v; want digits 9", c, err)
	}
}

// TestLoadQuotedValues: values quoted as charts that quote everything
// write them are read as their fields' types; text stays text.
func TestLoadQuotedValues(t *testing.T) {
	c, err := Load(strings.NewReader("pin: {digits: \"8\", ttl: \"5m\"}\nslack: {enabled: \"true\", signing_secret: \"x\", bot_token: \"xoxb-1\"}\nlocale: \"123\"\n"), env(nil))
	if err != nil || c.PIN.Digits != 8 || c.PIN.TTL != 5*time.Minute || !c.Slack.Enabled || c.Locale != "123" {
		t.Fatalf("Load = %+v, %v", c, err)
	}
	if _, err := Load(strings.NewReader(`pin: {digits: "eight"}`), env(nil)); err == nil || !strings.Contains(err.Error(), `cannot use "eight" as a number`) {
		t.Errorf("a quoted word into a number: %v", err)
	}
}

func TestUnsetVariableInMessages(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		env      map[string]string
		want     string
	}{
		{"default reference", "slack: {enabled: true, app_token: xapp-1}", nil,
			"slack.bot_token: is required when slack.enabled is true (it comes from ${SLACK_BOT_TOKEN}, which is not set)"},
		{"file reference", "slack: {enabled: true, app_token: xapp-1, bot_token: '${MY_TOKEN}'}", nil,
			"slack.bot_token: is required when slack.enabled is true (it comes from ${MY_TOKEN}, which is not set)"},
		{"set but empty", "slack: {enabled: true, app_token: xapp-1}", map[string]string{"SLACK_BOT_TOKEN": ""},
			"slack.bot_token: is required when slack.enabled is true (it comes from ${SLACK_BOT_TOKEN}, which is set but empty)"},
		{"overridden by the file", "slack: {enabled: true, app_token: xapp-1, bot_token: ''}", nil,
			"slack.bot_token: is required when slack.enabled is true"},
		{"overridden by the environment", "slack: {enabled: true, app_token: xapp-1}", map[string]string{"ASSISTBOT_SLACK_BOT_TOKEN": ""},
			"ASSISTBOT_SLACK_BOT_TOKEN (slack.bot_token): is required when slack.enabled is true"},
		{"in a list", "console: {agents: [{name: a, password_hash: '${A_HASH}'}]}", nil,
			"console.agents[0].password_hash: is required (it comes from ${A_HASH}, which is not set)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(strings.NewReader(tc.in), env(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			err = c.Validate()
			if err == nil || err.Error() != tc.want {
				t.Errorf("Validate() = %v; want %q", err, tc.want)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		env      map[string]string
		want     string
	}{
		{"type error names key and line", "server:\n  listen: :80\npin:\n  digits: six\n",
			nil, `pin.digits (line 4): cannot use "six" as a number`},
		{"flow mapping", "pin: {ttl: 20m, digits: six}", nil, `pin.digits (line 1): cannot use "six" as a number`},
		{"fraction into int", "pin:\n  digits: 6.5\n", nil, `pin.digits (line 2): cannot use "6.5" as a whole number`},
		{"duration without unit", "pin:\n  ttl: 20\n", nil, `pin.ttl (line 2): cannot use "20" as a duration: add a unit, such as 20s or 20m`},
		{"bad duration", "server:\n  shutdown_timeout: soon\n", nil, `server.shutdown_timeout (line 2): cannot use "soon" as a duration such as 15s, 20m or 1h30m`},
		{"bad bool", "slack:\n  enabled: maybe\n", nil, `slack.enabled (line 2): cannot use "maybe" as true or false`},
		{"bad float", "twilio:\n  mps: fast\n", nil, `twilio.mps (line 2): cannot use "fast" as a number`},
		{"list expected", "server:\n  trusted_proxies: 10.0.0.1\n", nil, `server.trusted_proxies (line 2): must be a list such as [a, b], not a single value`},
		{"mapping expected", "pin: 6\n", nil, `pin (line 1): must be a mapping of keys (digits, ttl, client_guesses_per_minute, global_guesses_per_minute), not a single value`},
		{"value expected", "locale: [en]\n", nil, `locale (line 1): must be a single value, not a list`},
		{"list element", "console:\n  agents:\n    - name: a\n      password_hash: [x]\n", nil, `console.agents[0].password_hash (line 4): must be a single value, not a list`},
		{"unknown top-level key", "servr: {}\n", nil, `servr (line 1): unknown key; the top level accepts server, store, pin, provider, api, locale, slack, discord, twilio, logmein, meshcentral, console, metrics, log, webrtc`},
		{"unknown nested key", "webrtc:\n  turn:\n    enable: true\n", nil, `webrtc.turn.enable (line 3): unknown key; webrtc.turn accepts enabled, listen, realm, public_ip, secret`},
		{"unknown key in list", "webrtc:\n  ice_servers:\n    - url: stun:x\n", nil, `webrtc.ice_servers[0].url (line 3): unknown key; webrtc.ice_servers[0] accepts urls, username, credential`},
		{"duplicate key", "pin:\n  digits: 6\n  digits: 7\n", nil, `pin.digits (line 3): is given twice (first on line 2)`},
		{"syntax error names line", "server:\n  listen: :80\n   bad: [\n", nil, "line 3: invalid YAML: "},
		{"not a mapping", "- a\n", nil, "line 1: the file must be a mapping of sections"},
		{"two documents", "pin: {}\n---\npin: {}\n", nil, "line 2: the file holds a second YAML document"},
		{"unset variable into int", "pin:\n  digits: ${PIN_DIGITS}\n", nil,
			"pin.digits (line 2): is empty; it must be a whole number (it comes from ${PIN_DIGITS}, which is not set)"},
		{"bad variable into int", "pin:\n  digits: ${PIN_DIGITS}\n", map[string]string{"PIN_DIGITS": "eight"},
			`pin.digits (line 2): cannot use "eight" as a number`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(strings.NewReader(tc.in), env(tc.env))
			if err == nil {
				t.Fatalf("Load succeeded: %+v", c)
			}
			if got := err.Error(); !strings.HasPrefix(got, tc.want) {
				t.Errorf("Load error = %q; want prefix %q", got, tc.want)
			}
			problems(t, err)
		})
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	in := "pin:\n  digits: six\n  ttl: soon\nslak: {}\n"
	_, err := Load(strings.NewReader(in), env(map[string]string{"ASSISTBOT_LOG_LEVEL": "debug", "ASSISTBOT_PIN_TTL": "x"}))
	got := problems(t, err).Keys()
	want := []string{"pin.digits", "pin.ttl", "slak", "pin.ttl"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("problem keys (-want +got):\n%s\n%v", d, err)
	}
}

func TestLoadAliases(t *testing.T) {
	in := `
webrtc:
  ice_servers:
    - &stun {urls: ["stun:a.example:3478"], username: u}
    - <<: *stun
      credential: c
    - *stun
`
	c, err := Load(strings.NewReader(in), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []ICEServer{
		{URLs: []string{"stun:a.example:3478"}, Username: "u"},
		{URLs: []string{"stun:a.example:3478"}, Username: "u", Credential: "c"},
		{URLs: []string{"stun:a.example:3478"}, Username: "u"},
	}
	if d := cmp.Diff(want, c.WebRTC.ICEServers); d != "" {
		t.Errorf("ice_servers (-want +got):\n%s", d)
	}
}

func TestLoadAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("a0: &a0 {name: x}\n")
	b.WriteString("console:\n  agents:\n")
	prev := "a0"
	for i := 1; i < 30; i++ {
		b.WriteString("    - &a" + string(rune('a'+i%26)) + strings.Repeat("x", i) + " {<<: [")
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*" + prev)
		}
		b.WriteString("]}\n")
		prev = "a" + string(rune('a'+i%26)) + strings.Repeat("x", i)
	}
	done := make(chan error, 1)
	go func() {
		_, err := Load(strings.NewReader(b.String()), nil)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Load of an alias bomb succeeded")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Load of an alias bomb did not return")
	}
}

func TestNormalisation(t *testing.T) {
	in := `
server: {public_url: "https://help.example.com//"}
api: {tokens: ["", "  ", " 0123456789abcdef "]}
slack: {api_url: "http://127.0.0.1:9000/api"}
discord: {api_url: "http://127.0.0.1:9001"}
logmein: {api_url: "http://localhost:9002/API"}
`
	c, err := Load(strings.NewReader(in), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := []any{c.Server.PublicURL, c.API.Tokens, c.Slack.APIURL, c.Discord.APIURL, c.LogMeIn.APIURL}
	want := []any{"https://help.example.com", []string{"0123456789abcdef"},
		"http://127.0.0.1:9000/api/", "http://127.0.0.1:9001/", "http://localhost:9002/API/"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("normalised values (-want +got):\n%s", d)
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.yaml")
	if _, err := LoadFile(missing, nil); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("LoadFile(missing) = %v; want an error naming %s", err, missing)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("pin:\n  digits: six\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadFile(bad, nil)
	if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "pin.digits (line 2)") {
		t.Errorf("LoadFile(bad) = %v; want an error naming the file and the key", err)
	}
	problems(t, err)
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, []byte("pin:\n  digits: 7\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err := LoadFile(good, nil); err != nil || c.PIN.Digits != 7 {
		t.Errorf("LoadFile(good) = %v, %v", c, err)
	}
}

func TestStaleReferenceNotMentioned(t *testing.T) {
	c := Default()
	c.Slack.Enabled, c.Slack.AppToken = true, "xapp-1"
	want := "slack.bot_token: is required when slack.enabled is true (it comes from ${SLACK_BOT_TOKEN}, which is not set)"
	if err := c.Validate(); err == nil || err.Error() != want {
		t.Errorf("Validate() = %v; want %q", err, want)
	}
	c.Slack.BotToken = "set-by-the-caller"
	want = `slack.bot_token: must be a bot token starting with "xoxb-"`
	if err := c.Validate(); err == nil || err.Error() != want {
		t.Errorf("after a change, Validate() = %v; want %q", err, want)
	}
}

func TestZeroConfigDoesNotPanic(t *testing.T) {
	var c Config
	if c.Validate() == nil {
		t.Error("zero Config validated")
	}
	_ = c.Secrets()
	_ = c.Summary()
}

func FuzzLoad(f *testing.F) {
	for _, s := range []string{
		"", "pin: {digits: six}", "a: [", "- x", "&a [*a]", "<<: {}", "server: {<<: [*x]}",
		"console: {agents: [{name: a, password_hash: $x}]}", "webrtc: {turn: ~}", "? [a]\n: b",
		"pin:\n  digits: ${D}\n", "slack: !!binary aGk=", "api: {tokens: [[a]]}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		c, err := Load(strings.NewReader(in), env(map[string]string{"D": "7"}))
		if err == nil {
			_ = c.Validate()
		}
	})
}

// config check reports every problem in one run: an unknown key and a
// value of the wrong type do not hide what validation finds in the rest.
func TestCheckReportsEverythingAtOnce(t *testing.T) {
	c, err := Load(strings.NewReader(`
servr: { listen: ":9090" }
pin: { digits: many, ttl: 0s }
slack: { enabled: true }
`), env(nil))
	if err == nil {
		t.Fatal("Load accepted an unknown key")
	}
	var ps Problems
	if !errors.As(Check(c, err), &ps) {
		t.Fatalf("Check = %v, want Problems", Check(c, err))
	}
	got := ps.Keys()
	for _, key := range []string{"servr", "pin.digits", "pin.ttl", "slack.bot_token", "slack.signing_secret"} {
		if !slices.Contains(got, key) {
			t.Errorf("Check does not report %s; it reports %v", key, got)
		}
	}
	// The mistyped value was set aside: validation judged the default,
	// not a second time the value already reported.
	n := 0
	for _, k := range got {
		if k == "pin.digits" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("pin.digits is reported %d times in %v", n, got)
	}
}

// A command that needs a secret names the variable it was to come from.
func TestRequireNamesTheVariable(t *testing.T) {
	c, err := Load(strings.NewReader("discord: { application_id: \"123\" }\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	err = c.Require("to register commands", "discord.token", "discord.application_id")
	if err == nil {
		t.Fatal("Require accepted an empty discord.token")
	}
	want := "discord.token: is required to register commands (it comes from ${DISCORD_BOT_TOKEN}, which is not set)"
	if err.Error() != want {
		t.Errorf("Require = %q, want %q", err.Error(), want)
	}
}
