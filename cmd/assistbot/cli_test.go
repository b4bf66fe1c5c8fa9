package main

import (
	"bytes"
	"context"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/assistbot/assistbot/adapters/store/sqlite"
	"github.com/assistbot/assistbot/config"
)

// runCLI runs the command line with env as the whole environment.
func runCLI(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	getenv := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	code = run(context.Background(), args, &out, &errOut, getenv)
	return code, out.String(), errOut.String()
}

func writeFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "assistbot.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVersion(t *testing.T) {
	code, out, _ := runCLI(t, nil, "version")
	if code != 0 || !strings.HasPrefix(out, "assistbot dev") {
		t.Errorf("version: %d %q", code, out)
	}
}

func TestUsage(t *testing.T) {
	for name, args := range map[string][]string{
		"unknown command": {"frobnicate"},
		"config alone":    {"config"},
		"unknown flag":    {"--frob"},
	} {
		t.Run(name, func(t *testing.T) {
			code, _, errOut := runCLI(t, nil, args...)
			if code != exitUsage || !strings.Contains(errOut, "usage: assistbot") {
				t.Errorf("exit %d, stderr %q", code, errOut)
			}
		})
	}
	if code, out, _ := runCLI(t, nil, "help"); code != 0 || !strings.Contains(out, "config check") {
		t.Errorf("help: %d %q", code, out)
	}
}

func TestConfigCheck(t *testing.T) {
	t.Run("defaults", func(t *testing.T) {
		code, out, errOut := runCLI(t, nil, "config", "check")
		if code != 0 || !strings.Contains(out, "configuration is valid") {
			t.Errorf("exit %d, out %q, err %q", code, out, errOut)
		}
	})
	t.Run("every problem, no secret", func(t *testing.T) {
		path := writeFile(t, `
pin: { digits: 4 }
slack: { enabled: true, bot_token: "not-a-bot-token-hunter2-SECRET" }
log: { format: xml }
`)
		code, out, errOut := runCLI(t, nil, "--config", path, "config", "check")
		if code == 0 {
			t.Fatalf("exit 0 for a bad config; out %q", out)
		}
		for _, key := range []string{"pin.digits", "slack.bot_token", "slack.signing_secret", "log.format"} {
			if !strings.Contains(errOut, key) {
				t.Errorf("the report does not name %s:\n%s", key, errOut)
			}
		}
		if strings.Contains(errOut+out, "hunter2") {
			t.Errorf("the report prints a secret:\n%s", errOut)
		}
	})
	t.Run("from ASSISTBOT_CONFIG, with env overlay", func(t *testing.T) {
		path := writeFile(t, "pin: { digits: 8 }\n")
		code, _, errOut := runCLI(t, map[string]string{"ASSISTBOT_CONFIG": path, "ASSISTBOT_PIN_TTL": "forever"}, "config", "check")
		if code == 0 || !strings.Contains(errOut, "ASSISTBOT_PIN_TTL") {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
	})
	t.Run("a PostgreSQL DSN that does not parse", func(t *testing.T) {
		for _, dsn := range []string{"postgres://assistbot:hunter2@db/assistbot?pool_max_conns=ten", "host=db port=abc dbname=x password=hunter2"} {
			path := writeFile(t, "store: { driver: postgres, dsn: \""+dsn+"\" }\n")
			for _, cmd := range [][]string{{"config", "check"}, {"serve"}} {
				code, out, errOut := runCLI(t, nil, append([]string{"--config", path}, cmd...)...)
				if code == 0 || !strings.Contains(errOut, "store.dsn") || strings.Contains(errOut+out, "hunter2") {
					t.Errorf("%s with %q: exit %d, stderr %q", cmd[0], dsn, code, errOut)
				}
			}
		}
	})
	t.Run("missing file", func(t *testing.T) {
		code, _, errOut := runCLI(t, nil, "config", "check", "--config", "/nonexistent/assistbot.yaml")
		if code == 0 || !strings.Contains(errOut, "/nonexistent/assistbot.yaml") {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
	})
}

func TestServeRefusesBadConfig(t *testing.T) {
	code, _, errOut := runCLI(t, map[string]string{"ASSISTBOT_PIN_DIGITS": "11"}, "serve")
	if code != exitUsage || !strings.Contains(errOut, "pin.digits") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestHealthcheck(t *testing.T) {
	healthy := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" || !healthy {
			http.Error(w, "no", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	env := map[string]string{"ASSISTBOT_SERVER_LISTEN": strings.TrimPrefix(srv.URL, "http://")}
	if code, _, errOut := runCLI(t, env, "healthcheck"); code != 0 {
		t.Errorf("healthy server: exit %d, %s", code, errOut)
	}
	// A server started with serve --listen, whatever server.listen says.
	if code, _, errOut := runCLI(t, map[string]string{"ASSISTBOT_SERVER_LISTEN": "127.0.0.1:1"}, "healthcheck", "--listen", strings.TrimPrefix(srv.URL, "http://")); code != 0 {
		t.Errorf("healthy server at --listen: exit %d, %s", code, errOut)
	}
	healthy = false
	if code, _, _ := runCLI(t, env, "healthcheck"); code == 0 {
		t.Error("unhealthy server: exit 0")
	}
	srv.Close()
	if code, _, _ := runCLI(t, env, "healthcheck"); code == 0 {
		t.Error("no server: exit 0")
	}
}

func TestDialAddr(t *testing.T) {
	for in, want := range map[string]string{":8080": "127.0.0.1:8080", "0.0.0.0:80": "127.0.0.1:80", "[::]:80": "127.0.0.1:80", "10.0.0.5:8080": "10.0.0.5:8080"} {
		if got := dialAddr(in); got != want {
			t.Errorf("dialAddr(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFollowListen(t *testing.T) {
	cfg := config.Default()
	cfg.Server.Listen = ":9090"
	followListen(cfg)
	if cfg.Server.PublicURL != "http://localhost:9090" {
		t.Errorf("default public url became %q", cfg.Server.PublicURL)
	}
	cfg = config.Default()
	cfg.Server.Listen, cfg.Server.PublicURL = ":9090", "https://support.example.com"
	followListen(cfg)
	if cfg.Server.PublicURL != "https://support.example.com" {
		t.Errorf("explicit public url changed to %q", cfg.Server.PublicURL)
	}
}

func TestLoggerRedactsSecrets(t *testing.T) {
	var buf bytes.Buffer
	log := newLogger(config.Log{Format: "json", Level: "info"}, &buf, []string{"xoxb-very-secret-token"})
	log.Info("call failed", "url", "https://slack.com/api?token=xoxb-very-secret-token", "err", context.DeadlineExceeded)
	if strings.Contains(buf.String(), "xoxb-very-secret-token") || !strings.Contains(buf.String(), "[redacted]") {
		t.Errorf("log line: %s", buf.String())
	}
}

var update = flag.Bool("update", false, "rewrite the golden files of the help tests")

// TestHelp keeps every command's help, with its flags, defaults and
// examples, in testdata/help; "assistbot help X" and "assistbot X --help"
// print the same. go test -run TestHelp -update rewrites them.
func TestHelp(t *testing.T) {
	for _, path := range []string{"", "serve", "config check", "agent add", "healthcheck", "version",
		"slack manifest", "discord sync-commands", "keys rotate"} {
		name := strings.ReplaceAll(path, " ", "_")
		if name == "" {
			name = "assistbot"
		}
		t.Run(name, func(t *testing.T) {
			args := append([]string{"help"}, strings.Fields(path)...)
			code, out, errOut := runCLI(t, nil, args...)
			if code != exitOK || errOut != "" {
				t.Fatalf("help %s: exit %d, stderr %q", path, code, errOut)
			}
			_, flagOut, _ := runCLI(t, nil, append(strings.Fields(path), "--help")...)
			if flagOut != out {
				t.Errorf("%q --help differs from help %q:\n%s", path, path, flagOut)
			}
			golden := filepath.Join("testdata", "help", name+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestHelp -update)", err)
			}
			if string(want) != out {
				t.Errorf("help %s changed (go test -run TestHelp -update):\n%s", path, cmp.Diff(string(want), out))
			}
			if path != "" && path != "version" && !strings.Contains(out, "Examples:") {
				t.Errorf("help %s has no example", path)
			}
		})
	}
}

// A flag is never taken for an argument: "agent add --help" explains
// itself and makes no agent.
func TestAgentAddHelpMakesNoAgent(t *testing.T) {
	var out, errOut bytes.Buffer
	code := agentCommand(context.Background(), []string{"add", "--help"}, strings.NewReader("a long enough password\n"), &out, &errOut)
	if code != exitOK || strings.Contains(out.String(), "password_hash") || !strings.Contains(out.String(), "Usage:") {
		t.Errorf("agent add --help: exit %d, stdout %q, stderr %q", code, out.String(), errOut.String())
	}
}

// Slack takes only https request URLs: a manifest with http ones would be
// refused by Slack, so the command refuses first and says what to do.
func TestSlackManifestNeedsHTTPS(t *testing.T) {
	code, out, errOut := runCLI(t, nil, "slack", "manifest")
	if code != exitUsage || out != "" || !strings.Contains(errOut, "only https://") || !strings.Contains(errOut, "--socket-mode") {
		t.Errorf("manifest for http://localhost:8080: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, out, _ = runCLI(t, nil, "slack", "manifest", "--url", "https://support.example.com")
	if code != exitOK || !strings.Contains(out, "https://support.example.com/slack/commands") {
		t.Errorf("manifest for https: exit %d, %q", code, out)
	}
	code, out, _ = runCLI(t, nil, "slack", "manifest", "--socket-mode")
	if code != exitOK || !strings.Contains(out, "socket_mode_enabled: true") || strings.Contains(out, "localhost") {
		t.Errorf("Socket Mode manifest: exit %d, %q", code, out)
	}
}

// A command that needs a secret says which variable it was to come from.
func TestDiscordSyncNamesTheVariable(t *testing.T) {
	code, _, errOut := runCLI(t, nil, "discord", "sync-commands")
	if code != exitFailed || !strings.Contains(errOut, "discord.token: is required to register commands (it comes from ${DISCORD_BOT_TOKEN}, which is not set)") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

// TestKeysRotate: "keys rotate" makes a new current key and keeps the old
// one as the previous, for every key or the ones named; a name it does
// not know is a usage error that lists the keys.
func TestKeysRotate(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "assistbot.db")
	cfg := writeFile(t, "store:\n  driver: sqlite\n  dsn: "+dsn+"\n")
	keys := func() map[string][2][]byte {
		t.Helper()
		st, err := sqlite.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		out := map[string][2][]byte{}
		for _, k := range sharedKeys {
			cur, prev, err := st.Key(context.Background(), k.name, k.size)
			if err != nil {
				t.Fatal(err)
			}
			out[k.name] = [2][]byte{cur, prev}
		}
		return out
	}
	before := keys()
	code, out, errOut := runCLI(t, nil, "--config", cfg, "keys", "rotate", "web-chat")
	if code != exitOK || !strings.Contains(out, "rotated web-chat") || errOut != "" {
		t.Fatalf("keys rotate web-chat: exit %d, %q, %q", code, out, errOut)
	}
	after := keys()
	for name, k := range after {
		rotated := !bytes.Equal(k[0], before[name][0])
		switch {
		case name == "web-chat" && (!rotated || !bytes.Equal(k[1], before[name][0])):
			t.Errorf("web-chat: current changed %v, previous is the old current %v", rotated, bytes.Equal(k[1], before[name][0]))
		case name != "web-chat" && rotated:
			t.Errorf("%s rotated, though not named", name)
		}
	}
	if code, out, _ := runCLI(t, nil, "--config", cfg, "keys", "rotate"); code != exitOK || strings.Count(out, "rotated ") != len(sharedKeys) {
		t.Errorf("keys rotate: exit %d, %q", code, out)
	}
	code, _, errOut = runCLI(t, nil, "--config", cfg, "keys", "rotate", "cookies")
	if code != exitUsage || !strings.Contains(errOut, `no key is called "cookies"; the keys are console.csrf, web-chat, link-proof`) {
		t.Errorf("unknown key: exit %d, %q", code, errOut)
	}
}
