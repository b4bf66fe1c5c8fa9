package discord

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/assistbot/assistbot/core"
)

func TestParseCustomID(t *testing.T) {
	for _, tc := range []struct {
		in, action, key string
		ok              bool
	}{
		{"remote.send_desktop:06h15iv6v8fo481ne5n52aij98", "remote.send_desktop", "06h15iv6v8fo481ne5n52aij98", true},
		{"remote.issue:abc", "remote.issue", "abc", true},
		{"remote.end:", "", "", false},
		{"remote.end", "", "", false},
		{"remote.teleport:abc", "", "", false},
		{"remote.close:abc:def", "", "", false},
		{"remote.close:../../x", "", "", false},
		{"remote.close:" + strings.Repeat("a", maxKey+1), "", "", false},
		{"", "", "", false},
	} {
		action, key, ok := parseCustomID(tc.in)
		if action != tc.action || key != tc.key || ok != tc.ok {
			t.Errorf("parseCustomID(%q) = %q, %q, %v", tc.in, action, key, ok)
		}
	}
}

func TestParseOptions(t *testing.T) {
	opt := func(name string, typ discordgo.ApplicationCommandOptionType, v any) *discordgo.ApplicationCommandInteractionDataOption {
		return &discordgo.ApplicationCommandInteractionDataOption{Name: name, Type: typ, Value: v}
	}
	for _, tc := range []struct {
		name string
		in   []*discordgo.ApplicationCommandInteractionDataOption
		want commandOptions
		ok   bool
	}{
		{"none", nil, commandOptions{}, true},
		{"customer and device", []*discordgo.ApplicationCommandInteractionDataOption{opt("customer", 6, "7"), opt("device", 3, "mobile")}, commandOptions{"7", "mobile"}, true},
		{"customer as a string option", []*discordgo.ApplicationCommandInteractionDataOption{opt("customer", 3, "7")}, commandOptions{}, false},
		{"customer not a string", []*discordgo.ApplicationCommandInteractionDataOption{opt("customer", 6, 7.0)}, commandOptions{}, false},
		{"unknown device", []*discordgo.ApplicationCommandInteractionDataOption{opt("device", 3, "tablet")}, commandOptions{}, false},
		{"unknown option", []*discordgo.ApplicationCommandInteractionDataOption{opt("phone", 3, "+12015550123")}, commandOptions{}, false},
		{"nil option", []*discordgo.ApplicationCommandInteractionDataOption{nil}, commandOptions{}, false},
	} {
		got, ok := parseOptions(discordgo.ApplicationCommandInteractionData{Options: tc.in})
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("%s: %+v, %v", tc.name, got, ok)
		}
	}
}

// TestRedact keeps interaction tokens, which are in webhook URLs, out of
// errors that get logged.
func TestRedact(t *testing.T) {
	err := &url.Error{Op: "Patch", URL: "https://discord.com/api/v9/webhooks/1/SECRET-TOKEN/messages/@original", Err: errors.New("connection refused")}
	got := redact(err).Error()
	if strings.Contains(got, "SECRET-TOKEN") || !strings.Contains(got, "connection refused") {
		t.Errorf("redact = %q", got)
	}
	r := newRig(t)
	r.fake.Fail("PATCH", "webhooks/", 429, `{"message":"You are being rate limited.","retry_after":1}`, nil, 1)
	i := &discordgo.Interaction{AppID: appID, Token: "SECRET-TOKEN"}
	_, rerr := r.a.session.InteractionResponseEdit(i, &discordgo.WebhookEdit{}, discordgo.WithContext(context.Background()))
	if got := r.a.apiError("edit", rerr).Error(); strings.Contains(got, "SECRET-TOKEN") {
		t.Errorf("rate limit error %q", got)
	}
}

// TestTransport sends discordgo's requests to the configured base, path
// and query intact, and refuses anything else.
func TestTransport(t *testing.T) {
	var got *http.Request
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = r
		return &http.Response{StatusCode: 204, Body: http.NoBody}, nil
	})
	s, err := newSession("x", "https://proxy.example.com/discord/api/v10", rt, func() {}, func() bool { return false })
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", discordgo.EndpointAPI+"channels/1/messages?limit=5", nil)
	if _, err := s.Client.Do(req); err != nil {
		t.Fatal(err)
	}
	if got.URL.String() != "https://proxy.example.com/discord/api/v10/channels/1/messages?limit=5" {
		t.Errorf("sent to %s", got.URL)
	}
	req, _ = http.NewRequest("GET", "https://cdn.example.com/avatars/1.png", nil)
	if _, err := s.Client.Do(req); err == nil {
		t.Error("a request outside the API was sent")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestMemories: a card is edited through its interaction token for the
// token's life, by the adapter's clock, not longer; and what the adapter
// remembers is bounded.
func TestMemories(t *testing.T) {
	r := newRig(t)
	s := r.issue()
	r.clock.Add(cardTTL - time.Second)
	if !r.a.cards.OnScreen(s.ID) {
		t.Error("the card is not followed before its token expires")
	}
	r.clock.Add(time.Second)
	if r.a.cards.OnScreen(s.ID) {
		t.Error("the card is followed after its token expired")
	}
	for i := range maxCached + 10 {
		r.a.dms.Add(itoa(int64(i)), "v")
	}
	if n := r.a.dms.Len(); n > maxCached {
		t.Errorf("%d entries, bound %d", n, maxCached)
	}
}

// TestUnknownMessageReposted: an alert whose message was deleted is
// posted again in the thread rather than failing.
func TestUnknownMessageReposted(t *testing.T) {
	r := newRig(t)
	d := &core.Delivery{To: r.a.Desk(), Notice: core.Notice{Kind: core.NoticeSession, Action: core.ActionEnd, Locale: "en",
		Thread: "390000000000000039", Replace: "390000000000000039/391000000000000039"}}
	rc, err := r.a.deliver(context.Background(), d)
	if err != nil || !strings.HasPrefix(rc.ExternalID, "390000000000000039/") || rc.Thread != "" {
		t.Fatalf("receipt %+v, %v", rc, err)
	}
	if m := r.fake.Messages("390000000000000039"); len(m) != 1 || m[0].Content != "The remote support session ended." {
		t.Errorf("thread %+v", m)
	}
}
