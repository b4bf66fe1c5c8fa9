package manifest

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/assistbot/assistbot/adapters/slack"
	"github.com/assistbot/assistbot/bots/i18n"
)

const (
	deployManifest = "../../../deploy/slack-app-manifest.yaml"
	slackDoc       = "../../../docs/slack.md"
)

// TestManifest checks the app manifest: the request URLs under the
// public URL, the command with escaping on (mentions arrive as IDs), the
// shortcut's callback ID, the scopes and events, and Socket Mode without
// URLs.

var update = flag.Bool("update", false, "rewrite deploy/slack-app-manifest.yaml from the generator")

func TestManifest(t *testing.T) {
	cat, _ := i18n.New("en")
	out, err := Build(Options{URL: "https://support.example.com/", Command: "/helpdesk", Catalog: cat})
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := yaml.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	c := m.Features.SlashCommands[0]
	if c.Command != "/helpdesk" || c.URL != "https://support.example.com/slack/commands" || !c.ShouldEscape ||
		m.Settings.Interactivity.RequestURL != "https://support.example.com/slack/interactions" ||
		m.Settings.EventSubscriptions.RequestURL != "https://support.example.com/slack/events" ||
		m.Features.Shortcuts[0].CallbackID != slack.ShortcutID || m.Features.Shortcuts[0].Type != "message" ||
		m.Settings.SocketModeEnabled || !m.Features.AppHome.MessagesTabEnabled {
		t.Errorf("manifest:\n%s", out)
	}
	if strings.Join(m.OAuthConfig.Scopes.Bot, " ") != strings.Join(BotScopes(), " ") || len(m.Settings.EventSubscriptions.BotEvents) != len(BotEvents()) {
		t.Errorf("scopes %v, events %v", m.OAuthConfig.Scopes.Bot, m.Settings.EventSubscriptions.BotEvents)
	}

	out, err = Build(Options{SocketMode: true, Catalog: cat, Locale: "ja"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "url:") || !strings.Contains(string(out), "socket_mode_enabled: true") || !strings.Contains(string(out), "リモートサポートを開始") {
		t.Errorf("socket mode manifest:\n%s", out)
	}
	for _, bad := range []string{"", "support.example.com", "ftp://x", "https://x/?a=b"} {
		if _, err := Build(Options{URL: bad, Catalog: cat}); err == nil {
			t.Errorf("URL %q accepted", bad)
		}
	}
}

// TestDeployManifest keeps deploy/slack-app-manifest.yaml what the
// command prints for the example URL (go test -update rewrites it).
func TestDeployManifest(t *testing.T) {
	cat, _ := i18n.New("en")
	out, err := Build(Options{URL: "https://support.example.com", Catalog: cat})
	if err != nil {
		t.Fatal(err)
	}
	head := "# The Slack app for assistbot. Create it at https://api.slack.com/apps\n" +
		"# (\"Create New App\" > \"From an app manifest\"), after replacing\n" +
		"# https://support.example.com with assistbot's public URL, or print one for\n" +
		"# your configuration with: assistbot slack manifest --url https://your.host\n" +
		"# (generated; see docs/slack.md, \"Connect Slack\")\n"
	want := head + string(out)
	if *update {
		if err := os.WriteFile(deployManifest, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(deployManifest)
	if err != nil || string(got) != want {
		t.Errorf("%s is not what the generator prints (go test -update rewrites it): %v", deployManifest, err)
	}
}

// TestManifestReferences keeps the Slack page of the docs and the deploy
// manifest pointing at each other: the manifest's header sends readers to
// docs/slack.md, "Connect Slack", and the page's links to the manifest
// resolve from the page's own directory, as GitHub and editors read them.
func TestManifestReferences(t *testing.T) {
	b, err := os.ReadFile(slackDoc)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	if !strings.HasPrefix(text, "# Connect Slack\n") {
		t.Errorf(`%s is not titled "Connect Slack", which %s refers to`, slackDoc, deployManifest)
	}
	links := regexp.MustCompile(`\]\(([^)\s]*slack-app-manifest\.yaml)\)`).FindAllStringSubmatch(text, -1)
	if len(links) == 0 {
		t.Errorf("%s does not link to the manifest", slackDoc)
	}
	for _, l := range links {
		if _, err := os.Stat(filepath.Join(filepath.Dir(slackDoc), filepath.FromSlash(l[1]))); err != nil {
			t.Errorf("link %q does not resolve from %s: %v", l[1], filepath.Dir(slackDoc), err)
		}
	}
}
