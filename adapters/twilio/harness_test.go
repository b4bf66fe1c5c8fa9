package twilio_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/twilio"
	"github.com/assistbot/assistbot/adapters/twilio/twiliotest"
	"github.com/assistbot/assistbot/bots/i18n"
	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
	"github.com/assistbot/assistbot/core/outbox"
)

// The numbers of the tests: reserved for fiction, and valid for
// libphonenumber.
const (
	publicURL = "https://support.example.com"
	ourNumber = "+12015550100"
	customer  = "+12015550123"
)

// harness is an SMS channel wired to a real engine on an in-memory store,
// a fake Twilio API, and a mux that serves its webhooks.
type harness struct {
	t      *testing.T
	fake   *twiliotest.Fake
	store  *coretest.MemStore
	clock  *coretest.Clock
	engine *core.Engine
	bot    *remote.Bot
	sms    *twilio.Adapter
	// ch is the adapter's "sms" channel, as the outbox sees it.
	ch   smsChannel
	mux  *http.ServeMux
	logs *coretest.Buffer
	desk *coretest.Channel
}

// smsChannel is the channel the adapter offers: it delivers, and checks a
// number before anything is queued for it.
type smsChannel interface {
	core.Channel
	core.EndpointChecker
}

// newHarness builds a harness; edit adjusts the channel's options. The
// desk is a fake console channel, so relayed texts are delivered somewhere
// the test can see.
func newHarness(t *testing.T, edit func(*twilio.Options)) *harness {
	t.Helper()
	h := &harness{
		t:     t,
		fake:  twiliotest.New(t),
		store: coretest.NewMemStore(),
		clock: coretest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)),
		logs:  &coretest.Buffer{},
		desk:  &coretest.Channel{ChannelName: core.ChannelConsole},
	}
	catalog, err := i18n.New("en")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h.engine = core.NewEngine(core.Options{Courier: outbox.New(outbox.Options{}),
		Logger:    log,
		Store:     h.store,
		Provider:  &coretest.Provider{Pins: coretest.NewPINs("012345", "123456", "234567")},
		Clock:     h.clock,
		Channels:  []core.Channel{h.desk},
		Addresses: map[string]func(string) (string, error){core.ChannelSMS: twilio.NumberParser("US")},
	})
	h.bot = remote.New(h.engine, catalog)
	o := twilio.Options{
		Engine:     h.engine,
		Bot:        h.bot,
		AccountSID: twiliotest.AccountSID,
		AuthToken:  twiliotest.AuthToken,
		From:       ourNumber,
		PublicURL:  publicURL,
		APIURL:     h.fake.URL,
		Region:     "US",
		MPS:        1000,
		Desk:       core.Endpoint{Channel: core.ChannelConsole},
		StatusWait: 50 * time.Millisecond,
		Clock:      h.clock,
		Logger:     log,
	}
	if edit != nil {
		edit(&o)
	}
	h.sms, err = twilio.New(o)
	if err != nil {
		t.Fatal(err)
	}
	h.ch = h.sms.Channels()[0].(smsChannel)
	if err := h.engine.AddChannel(h.ch); err != nil {
		t.Fatal(err)
	}
	h.mux = http.NewServeMux()
	h.sms.Mount(h.mux)
	t.Cleanup(func() {
		if logs := h.logs.String(); strings.Contains(logs, customer) || strings.Contains(logs, twiliotest.AuthToken) {
			t.Errorf("the log holds a full phone number or the auth token:\n%s", logs)
		}
	})
	return h
}

// run delivers the outbox until the test ends.
func (h *harness) run() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = h.engine.Run(ctx); close(done) }()
	h.t.Cleanup(func() { cancel(); <-done })
}

// post serves a signed webhook as Twilio sends it and returns the answer.
func (h *harness) post(path string, form url.Values) (int, string) {
	h.t.Helper()
	return h.serve(twiliotest.Webhook(publicURL, path, form))
}

// serve serves r and returns the status and body.
func (h *harness) serve(r *http.Request) (int, string) {
	h.t.Helper()
	w := httptest.NewRecorder()
	h.mux.ServeHTTP(w, r)
	b, _ := io.ReadAll(w.Result().Body)
	return w.Code, string(b)
}

// text sends the webhook of a customer's text.
func (h *harness) text(sid, from, body string) (int, string) {
	h.t.Helper()
	return h.post(twilio.PathSMS, twiliotest.Incoming(sid, from, ourNumber, body))
}

// conversation returns the open conversation of an SMS number.
func (h *harness) conversation(number string) *core.Conversation {
	h.t.Helper()
	c, err := h.store.FindOpenConversation(context.Background(), core.Endpoint{Channel: core.ChannelSMS, Address: number})
	if err != nil {
		h.t.Fatalf("conversation of %s: %v", number, err)
	}
	return c
}

// messages returns a conversation's transcript.
func (h *harness) messages(convID string) []*core.Message {
	h.t.Helper()
	ms, err := h.engine.Messages(context.Background(), core.MessageFilter{ConversationID: convID})
	if err != nil {
		h.t.Fatal(err)
	}
	return ms
}

// optedOut reports whether number is recorded as opted out.
func (h *harness) optedOut(number string) bool {
	h.t.Helper()
	out, err := h.engine.OptedOut(context.Background(), core.Endpoint{Channel: core.ChannelSMS, Address: number})
	if err != nil {
		h.t.Fatal(err)
	}
	return out
}

// awaitDelivery polls the delivery until cond holds.
func (h *harness) awaitDelivery(id int64, cond func(*core.Delivery) bool) *core.Delivery {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		d, err := h.store.FindDelivery(context.Background(), id)
		if err != nil {
			h.t.Fatal(err)
		}
		if cond(d) {
			return d
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("delivery %d is %s (%q) after 5s", id, d.Status, d.Reason)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// awaitDesk waits until the desk received n notices and returns them.
func (h *harness) awaitDesk(n int) []core.Delivery {
	h.t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		if got := h.desk.Delivered(); len(got) >= n {
			return got
		}
		select {
		case <-h.desk.Attempted():
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			h.t.Fatalf("the desk received %d notices after 5s, want %d", len(h.desk.Delivered()), n)
		}
	}
}

// catalog returns the English catalog, for the texts expected.
func (h *harness) catalog() *i18n.Catalog { return h.bot.Catalog() }

// emptyTwiML is the answer that sends nothing back.
const emptyTwiML = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<Response></Response>`
