// Package manifest makes the Slack app manifest that sets up assistbot's
// Slack app in one paste: the slash command, the message shortcut, the
// events, the bot scopes and the request URLs.
package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/assistbot/assistbot/adapters/slack"
	"github.com/assistbot/assistbot/bots/i18n"
)

// Options describe the Slack app to create.
type Options struct {
	// Name is the app's and the bot's display name (default "assistbot").
	Name string
	// URL is assistbot's public base URL ("https://support.example.com");
	// the request URLs are under it. It is not needed in Socket Mode.
	URL string
	// Command is the slash command ("/remote").
	Command string
	// SocketMode makes the app connect out instead of taking requests.
	SocketMode bool
	// Catalog and Locale give the descriptions users see in Slack.
	Catalog *i18n.Catalog
	Locale  string
}

// BotScopes are the bot token scopes assistbot needs, and why.
func BotScopes() []string {
	return []string{
		"commands",         // the slash command and the message shortcut
		"chat:write",       // cards in threads, desk alerts, customer DMs
		"im:write",         // DM a customer who is a Slack user; edit alerts in an agent's DM
		"im:history",       // a customer's replies in that DM
		"channels:read",    // who is in the desk channel (public); is a channel shared with a customer
		"groups:read",      // who is in the desk channel (private); is a channel shared with a customer
		"channels:history", // agents' replies in desk threads (public)
		"groups:history",   // agents' replies in desk threads (private)
		"usergroups:read",  // who is in slack.agent_group
		"users:read",       // names and languages of customers and agents
	}
}

// BotEvents are the events assistbot subscribes to.
func BotEvents() []string {
	return []string{
		"message.channels", "message.groups", "message.im",
		"member_joined_channel", "member_left_channel",
		"subteam_members_changed",
	}
}

// manifest is Slack's app manifest, as much of it as assistbot fills in.
type manifest struct {
	DisplayInformation struct {
		Name        string `yaml:"name"`
		Description string `yaml:"description"`
	} `yaml:"display_information"`
	Features struct {
		AppHome struct {
			HomeTabEnabled             bool `yaml:"home_tab_enabled"`
			MessagesTabEnabled         bool `yaml:"messages_tab_enabled"`
			MessagesTabReadOnlyEnabled bool `yaml:"messages_tab_read_only_enabled"`
		} `yaml:"app_home"`
		BotUser struct {
			DisplayName  string `yaml:"display_name"`
			AlwaysOnline bool   `yaml:"always_online"`
		} `yaml:"bot_user"`
		SlashCommands []slashCommand `yaml:"slash_commands"`
		Shortcuts     []shortcut     `yaml:"shortcuts"`
	} `yaml:"features"`
	OAuthConfig struct {
		Scopes struct {
			Bot []string `yaml:"bot"`
		} `yaml:"scopes"`
	} `yaml:"oauth_config"`
	Settings struct {
		EventSubscriptions struct {
			RequestURL string   `yaml:"request_url,omitempty"`
			BotEvents  []string `yaml:"bot_events"`
		} `yaml:"event_subscriptions"`
		Interactivity struct {
			IsEnabled  bool   `yaml:"is_enabled"`
			RequestURL string `yaml:"request_url,omitempty"`
		} `yaml:"interactivity"`
		OrgDeployEnabled     bool `yaml:"org_deploy_enabled"`
		SocketModeEnabled    bool `yaml:"socket_mode_enabled"`
		TokenRotationEnabled bool `yaml:"token_rotation_enabled"`
	} `yaml:"settings"`
}

type slashCommand struct {
	Command      string `yaml:"command"`
	URL          string `yaml:"url,omitempty"`
	Description  string `yaml:"description"`
	UsageHint    string `yaml:"usage_hint"`
	ShouldEscape bool   `yaml:"should_escape"`
}

type shortcut struct {
	Name        string `yaml:"name"`
	Type        string `yaml:"type"`
	CallbackID  string `yaml:"callback_id"`
	Description string `yaml:"description"`
}

// Build returns the YAML app manifest for o: paste it into "Create New
// App > From an app manifest" at api.slack.com/apps.
func Build(o Options) ([]byte, error) {
	if o.Catalog == nil {
		return nil, errors.New("slack manifest: a catalog is required")
	}
	if o.Name == "" {
		o.Name = "assistbot"
	}
	if o.Command == "" {
		o.Command = "/remote"
	}
	base := ""
	if !o.SocketMode {
		u, err := url.Parse(o.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("slack manifest: %q is not an http(s) base URL such as https://support.example.com", o.URL)
		}
		base = strings.TrimSuffix(u.String(), "/")
	}
	t := func(key string) string { return o.Catalog.T(o.Locale, key) }
	var m manifest
	m.DisplayInformation.Name = truncate(o.Name, 35)
	m.DisplayInformation.Description = truncate(t("slack.manifest.description"), 140)
	m.Features.AppHome.MessagesTabEnabled = true // customers who are Slack users answer in the app's DM
	m.Features.BotUser.DisplayName = truncate(o.Name, 80)
	m.Features.BotUser.AlwaysOnline = true
	m.Features.SlashCommands = []slashCommand{{
		Command:      o.Command,
		Description:  t("slack.manifest.command"),
		UsageHint:    t("slack.manifest.usage_hint"),
		ShouldEscape: true, // mentions arrive as <@U123|name>: no lookup needed
	}}
	m.Features.Shortcuts = []shortcut{{
		Name:        truncate(t("slack.manifest.shortcut"), 24),
		Type:        "message",
		CallbackID:  slack.ShortcutID,
		Description: truncate(t("slack.manifest.shortcut_description"), 150),
	}}
	m.OAuthConfig.Scopes.Bot = BotScopes()
	m.Settings.EventSubscriptions.BotEvents = BotEvents()
	m.Settings.Interactivity.IsEnabled = true
	m.Settings.SocketModeEnabled = o.SocketMode
	if !o.SocketMode {
		m.Features.SlashCommands[0].URL = base + "/slack/commands"
		m.Settings.EventSubscriptions.RequestURL = base + "/slack/events"
		m.Settings.Interactivity.RequestURL = base + "/slack/interactions"
	}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&m); err != nil {
		return nil, fmt.Errorf("slack manifest: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("slack manifest: %w", err)
	}
	return out.Bytes(), nil
}

// truncate cuts s to at most n runes, as Slack's length limits count.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
