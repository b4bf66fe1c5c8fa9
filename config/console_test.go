package config

import (
	"strings"
	"testing"
	"time"
)

// TestConsoleDefaults checks what a newcomer gets with no file at all: the
// console and the web chat on, a twelve-hour sign-in, no agents (serve
// then makes a one-time one).
func TestConsoleDefaults(t *testing.T) {
	c := Default()
	if !c.Console.Enabled || !c.Console.WebChat || c.Console.SessionTTL != 12*time.Hour || len(c.Console.Agents) != 0 {
		t.Errorf("console defaults = %+v", c.Console)
	}
}

// TestConsoleFromFileAndEnv sets the console keys both ways: the file, and
// the environment overriding it.
func TestConsoleFromFileAndEnv(t *testing.T) {
	file := "console:\n  enabled: true\n  web_chat: false\n  session_ttl: 2h\n  agents:\n    - name: alice\n      password_hash: \"$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA\"\n"
	c, err := Load(strings.NewReader(file), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Console.WebChat || c.Console.SessionTTL != 2*time.Hour || c.Console.Agents[0].Name != "alice" {
		t.Errorf("from the file: %+v", c.Console)
	}
	c, err = Load(strings.NewReader(file), env(map[string]string{
		"ASSISTBOT_CONSOLE_ENABLED":     "false",
		"ASSISTBOT_CONSOLE_WEB_CHAT":    "true",
		"ASSISTBOT_CONSOLE_SESSION_TTL": "30m",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Console.Enabled || !c.Console.WebChat || c.Console.SessionTTL != 30*time.Minute {
		t.Errorf("from the environment: %+v", c.Console)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate() = %v", err)
	}
}
