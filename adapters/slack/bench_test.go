package slack

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/assistbot/assistbot/adapters/slack/slackfake"
	"github.com/assistbot/assistbot/bots/i18n"
	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
	"github.com/assistbot/assistbot/core/outbox"
)

// BenchmarkParseCommand reads one slash command's form.
func BenchmarkParseCommand(b *testing.B) {
	body := []byte(commandForm("<@U0CUSTOMER|pat>", "https://hooks.slack.com/commands/T0TEAM/1/x").Encode())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseCommand(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFreshCard renders a new session's card as the command's
// answer: bots/remote's Card and the Block Kit encoding.
func BenchmarkFreshCard(b *testing.B) {
	r := newCardRig(b, &coretest.Provider{})
	is := remote.Issued{Session: goldenSession(core.StateIssued, core.DeviceUnknown),
		Conversation: goldenConversation(core.Endpoint{Channel: core.ChannelSlack, Address: customerID}, "pat")}
	buf := make([]byte, 0, 8192)
	b.ReportAllocs()
	for b.Loop() {
		card := r.bot.IssuedCard(is, "en")
		v := r.a.cardView(&card, is.Conversation, testChannel)
		buf = appendAnswerJSON(buf[:0], &v)
	}
}

// BenchmarkCommand answers one slash command end to end, as Slack posts
// it: read and verify the body, parse it, issue a PIN and render the card
// as the answer. The store keeps nothing (the memory store's PIN check
// scans every session, which would soon be all the benchmark measured)
// and the provider counts, so that the figure is mostly the adapter's.
func BenchmarkCommand(b *testing.B) {
	cat, err := i18n.New("en")
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	p := &coretest.Provider{IssueFunc: func(context.Context, core.IssueRequest) (core.Ticket, error) {
		n++
		pin := fmt.Sprintf("%06d", n%1000000)
		return core.Ticket{PIN: pin, DesktopURL: "https://support.example.com/?code=" + pin,
			MobileURL: "https://support.example.com/m/" + pin, ManualURL: "https://support.example.com/"}, nil
	}}
	e := core.NewEngine(core.Options{Courier: outbox.New(outbox.Options{}), Store: forgetful{coretest.NewMemStore()}, Provider: p})
	a, err := New(Options{Engine: e, Bot: remote.New(e, cat), BotToken: "xoxb-bench", SigningSecret: testSecret,
		APIURL: "http://127.0.0.1:1/api/"})
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	a.Mount(mux)
	body := []byte(commandForm("<@U0CUSTOMER|pat>", "https://hooks.slack.com/commands/T0TEAM/1/x").Encode())
	req := slackfake.Request("http://assistbot.test/slack/commands", testSecret, "application/x-www-form-urlencoded", body)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		req.Body = io.NopCloser(bytes.NewReader(body))
		clear(w.h)
		mux.ServeHTTP(w, req)
		if w.status != 0 && w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
}

// forgetful is a store that keeps no session.
type forgetful struct{ *coretest.MemStore }

func (forgetful) CreateSession(context.Context, *core.Change) error { return nil }

// discardWriter is a ResponseWriter that keeps nothing but the status.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(status int)      { w.status = status }
