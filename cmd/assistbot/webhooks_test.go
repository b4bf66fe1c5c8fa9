package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assistbot/assistbot/config"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
	hooks "github.com/assistbot/assistbot/core/webhook"
)

const hookSecret = "0123456789abcdef0123456789abcdef"

// hit is one request a receiver got.
type hit struct {
	delivery, event string
	payload         hooks.Payload
}

// receiver is a webhook endpoint for the tests: it checks every request's
// signature the way docs/webhooks.md tells receivers to, and answers as
// its answer function says.
type receiver struct {
	t      *testing.T
	clock  core.Clock
	srv    *httptest.Server
	mu     sync.Mutex
	hits   []hit
	answer func(n int, w http.ResponseWriter, r *http.Request) // n counts from 1
}

func newReceiver(t *testing.T, clock core.Clock) *receiver {
	rc := &receiver{t: t, clock: clock}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := hooks.Verify(hookSecret, r.Header.Get("Assistbot-Signature"), body, clock.Now(), hooks.Tolerance); err != nil {
			t.Errorf("signature: %v", err)
			http.Error(w, "bad signature", http.StatusBadRequest)
			return
		}
		var p hooks.Payload
		if err := json.Unmarshal(body, &p); err != nil {
			t.Errorf("payload: %v\n%s", err, body)
		}
		if r.Header.Get("Assistbot-Event") != p.Type || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("headers %v for %s", r.Header, p.Type)
		}
		rc.mu.Lock()
		rc.hits = append(rc.hits, hit{delivery: r.Header.Get("Assistbot-Delivery"), event: p.Type, payload: p})
		n, answer := len(rc.hits), rc.answer
		rc.mu.Unlock()
		if answer != nil {
			answer(n, w, r)
		}
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) got() []hit {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]hit(nil), rc.hits...)
}

// wait waits until cond holds for the requests received.
func (rc *receiver) wait(what string, cond func([]hit) bool) []hit {
	rc.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if h := rc.got(); cond(h) {
			return h
		}
		time.Sleep(10 * time.Millisecond)
	}
	rc.t.Fatalf("%s: not within 10s; got %v", what, events(rc.got()))
	return nil
}

func events(hs []hit) []string {
	var out []string
	for _, h := range hs {
		out = append(out, h.event)
	}
	return out
}

func atLeast(n int) func([]hit) bool { return func(h []hit) bool { return len(h) >= n } }

type apiWebhook struct {
	ID             string `json:"id"`
	Enabled        bool   `json:"enabled"`
	Source         string `json:"source"`
	DisabledReason string `json:"disabled_reason"`
	Error          struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

type apiHookDeliveries struct {
	Deliveries []struct {
		ID             int64  `json:"id"`
		Event          string `json:"event"`
		Status         string `json:"status"`
		Attempts       int    `json:"attempts"`
		ResponseStatus int    `json:"response_status"`
		Error          string `json:"error"`
		Tries          []struct {
			Attempt        int    `json:"attempt"`
			ResponseStatus int    `json:"response_status"`
			Outcome        string `json:"outcome"`
		} `json:"tries"`
	} `json:"deliveries"`
}

// waitDeliveries waits until cond holds for the deliveries to endpoint
// id, newest first.
func waitDeliveries(s *server, id string, cond func(apiHookDeliveries) bool) apiHookDeliveries {
	s.t.Helper()
	var ds apiHookDeliveries
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		ds = apiHookDeliveries{}
		if s.api("GET", "/api/v1/webhooks/"+id+"/deliveries", "", &ds); cond(ds) {
			return ds
		}
	}
	s.t.Fatalf("deliveries of %s: not within 10s: %+v", id, ds)
	return ds
}

// hookConfig lists one configured endpoint, crm, at u.
func hookConfig(u string) func(*config.Config) {
	return func(c *config.Config) {
		c.WebhooksAllowPrivate = true
		c.Webhooks = []config.Webhook{{ID: "crm", URL: u, Secret: hookSecret}}
	}
}

// TestWebhooksEndToEnd: a configured endpoint and one created through the
// API both get every event, signed, in order; bad endpoints are refused;
// the payload holds no PIN and no full address.
func TestWebhooksEndToEnd(t *testing.T) {
	clock := coretest.NewClock(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC))
	crm := newReceiver(t, clock)
	other := newReceiver(t, clock)
	s := startMain(t, hookConfig(crm.srv.URL), &Main{Clock: clock, PINs: coretest.NewPINs("246810")})

	var made apiWebhook
	if code := s.api("POST", "/api/v1/webhooks", `{"url":"`+other.srv.URL+`/in","secret":"`+hookSecret+`","events":["session.*","conversation.*"]}`, &made); code != http.StatusCreated || !strings.HasPrefix(made.ID, "wh_") || !made.Enabled {
		t.Fatalf("create: %d %+v", code, made)
	}
	for body, want := range map[string]string{
		`{"url":"ftp://example.com/x","secret":"` + hookSecret + `"}`:                     "url: the url must start with http:// or https://",
		`{"url":"https://example.com/x"}`:                                                 "secret: is required",
		`{"url":"https://example.com/x","secret":"short"}`:                                "at least 16 characters",
		`{"url":"https://example.com/x","secret":"` + hookSecret + `","events":["nope"]}`: "events:",
	} {
		var res apiWebhook
		if code := s.api("POST", "/api/v1/webhooks", body, &res); code != http.StatusBadRequest || res.Error.Code != "invalid" || !strings.Contains(res.Error.Message, want) {
			t.Errorf("%s: %d %+v, want 400 invalid %q", body, code, res.Error, want)
		}
	}
	var list struct{ Webhooks []apiWebhook }
	if s.api("GET", "/api/v1/webhooks", "", &list); len(list.Webhooks) != 2 || list.Webhooks[0].ID != "crm" || list.Webhooks[0].Source != "config" {
		t.Fatalf("list: %+v", list)
	}
	var res apiWebhook
	if code := s.api("DELETE", "/api/v1/webhooks/crm", "", &res); code != http.StatusBadRequest {
		t.Errorf("delete a configured endpoint: %d", code)
	}

	// A web chat customer writes; a session is made, sent and closed;
	// the conversation is closed.
	customer := newPerson(t, s.url)
	customer.send("GET", "/chat", nil)
	customer.send("POST", "/chat/messages", url.Values{"csrf": {customer.csrf}, "text": {"Can someone look at my screen?"}})
	convs, _ := s.Engine().Conversations(context.Background(), core.ConversationFilter{State: core.ConversationOpen})
	if len(convs) != 1 {
		t.Fatalf("conversations: %v", convs)
	}
	var sess apiSession
	s.api("POST", "/api/v1/sessions", `{"conversation_id":"`+convs[0].ID+`","agent":"ada"}`, &sess)
	s.api("POST", "/api/v1/sessions/"+sess.ID+"/send", `{"link":"desktop"}`, &sess)
	s.api("POST", "/api/v1/sessions/"+sess.ID+"/close", `{"agent":"ada"}`, &sess)
	s.api("POST", "/api/v1/conversations/"+convs[0].ID+"/close", `{"agent":"ada"}`, nil)

	want := []string{"conversation.opened", "message.received", "session.issued", "session.sent", "session.closed", "conversation.closed"}
	got := crm.wait("crm gets every event", atLeast(len(want)))
	if fmt.Sprint(events(got)) != fmt.Sprint(want) {
		t.Errorf("crm got %v, want %v in this order", events(got), want)
	}
	filtered := other.wait("the API's endpoint gets its events", atLeast(len(want)-1))
	if fmt.Sprint(events(filtered)) != fmt.Sprint([]string{"conversation.opened", "session.issued", "session.sent", "session.closed", "conversation.closed"}) {
		t.Errorf("the filtered endpoint got %v", events(filtered))
	}
	seen := map[string]bool{}
	for _, h := range append(got, filtered...) {
		if seen[h.delivery] || !strings.HasPrefix(h.delivery, h.payload.ID+".") {
			t.Errorf("delivery id %q for event %s", h.delivery, h.payload.ID)
		}
		seen[h.delivery] = true
		raw, _ := json.Marshal(h.payload)
		if strings.Contains(string(raw), "246810") || strings.Contains(string(raw), "desktop_url") {
			t.Errorf("a payload shows the PIN or a link: %s", raw)
		}
	}
	if s := got[2].payload.Data.Session; s == nil || s.ID != sess.ID || s.State != "issued" || s.Agent != "ada" {
		t.Errorf("session.issued: %+v", got[2].payload.Data)
	}
	if c := got[1].payload.Data.Conversation; c == nil || c.Customer.Channel != "web" || !strings.HasPrefix(c.Customer.Address, "…") || got[1].payload.Data.Message.Text != "Can someone look at my screen?" {
		t.Errorf("message.received: %+v %+v", got[1].payload.Data.Conversation, got[1].payload.Data.Message)
	}
	ds := waitDeliveries(s, "crm", func(ds apiHookDeliveries) bool {
		return len(ds.Deliveries) == len(want) && ds.Deliveries[0].Status == "delivered"
	})
	if d := ds.Deliveries[0]; d.Event != "conversation.closed" || len(d.Tries) != 1 || d.ResponseStatus != 200 {
		t.Errorf("deliveries: %+v", ds)
	}
	if code := s.api("DELETE", "/api/v1/webhooks/"+made.ID, "", nil); code != http.StatusOK {
		t.Errorf("delete: %d", code)
	}
	if code := s.api("GET", "/api/v1/webhooks/"+made.ID, "", nil); code != http.StatusNotFound {
		t.Errorf("get after delete: %d", code)
	}
}

// TestWebhookRetriesAndDisabling: a 429's Retry-After is honoured on the
// engine's clock, the delivery id stays across attempts, a 4xx fails a
// delivery without a retry, and an endpoint failing for 24 hours is
// disabled, the desk told, and an update re-enables it.
func TestWebhookRetriesAndDisabling(t *testing.T) {
	clock := coretest.NewClock(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC))
	crm := newReceiver(t, clock)
	var mode string
	var mu sync.Mutex
	setMode := func(m string) { mu.Lock(); mode = m; mu.Unlock() }
	crm.answer = func(n int, w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		m := mode
		mu.Unlock()
		switch {
		case m == "" && n == 1:
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(http.StatusTooManyRequests)
		case m == "gone":
			w.WriteHeader(http.StatusGone)
		case m == "down":
			w.WriteHeader(http.StatusBadGateway)
		}
	}
	s := startMain(t, hookConfig(crm.srv.URL), &Main{Clock: clock, PINs: coretest.NewPINs("246810", "135790")})
	var sess apiSession
	s.api("POST", "/api/v1/sessions", ``, &sess) // conversation.opened, session.issued
	first := crm.wait("the first attempt", atLeast(1))
	// The retry is due 30s from when the dispatcher read the clock, once
	// the answer was in: the clock moves on only once that is saved.
	queuedAgain := func(ds apiHookDeliveries) bool {
		for _, d := range ds.Deliveries {
			if d.Event == "conversation.opened" && d.Status == "queued" && d.Error != "" {
				return true
			}
		}
		return false
	}
	waitDeliveries(s, "crm", queuedAgain)
	time.Sleep(1500 * time.Millisecond) // more than a poll: nothing is due before 30s
	if n := len(crm.got()); n != 1 {
		t.Fatalf("%d requests before Retry-After passed", n)
	}
	clock.Add(29 * time.Second)
	time.Sleep(1500 * time.Millisecond)
	if n := len(crm.got()); n != 1 {
		t.Fatalf("%d requests 29s into a Retry-After of 30s", n)
	}
	clock.Add(time.Second)
	got := crm.wait("the retry and the next event", atLeast(3))
	if got[1].delivery != first[0].delivery || got[1].payload.ID != first[0].payload.ID || got[2].event != "session.issued" {
		t.Errorf("the retry's delivery id %q, event %q; first %q, %q; then %s", got[1].delivery, got[1].payload.ID,
			first[0].delivery, first[0].payload.ID, got[2].event)
	}
	ds := waitDeliveries(s, "crm", func(ds apiHookDeliveries) bool {
		return len(ds.Deliveries) == 2 && ds.Deliveries[0].Status == "delivered"
	})
	if d := ds.Deliveries[1]; d.Status != "delivered" || d.Attempts != 2 || len(d.Tries) != 2 || d.Tries[0].ResponseStatus != 429 ||
		d.Tries[0].Outcome != "retry" || d.Tries[1].Outcome != "delivered" {
		t.Errorf("the retried delivery: %+v", d)
	}

	// 410: failed at once, and the next event goes out.
	setMode("gone")
	s.api("POST", "/api/v1/sessions/"+sess.ID+"/regenerate", ``, &sess)
	s.api("POST", "/api/v1/sessions/"+sess.ID+"/close", ``, &sess)
	ds = waitDeliveries(s, "crm", func(ds apiHookDeliveries) bool {
		return len(ds.Deliveries) == 4 && ds.Deliveries[0].Status != "queued"
	})
	if d := ds.Deliveries[1]; d.Event != "session.regenerated" || d.Status != "failed" || d.Attempts != 1 || d.ResponseStatus != 410 {
		t.Errorf("the refused delivery: %+v", d)
	}
	if n := len(crm.got()); n != 5 {
		t.Errorf("%d requests; a 410 is not retried", n)
	}

	// Down for more than 24 hours: disabled.
	setMode("down")
	s.api("POST", "/api/v1/sessions", ``, &sess)
	crm.wait("the first failure", atLeast(6))
	waitDeliveries(s, "crm", queuedAgain)
	clock.Add(25 * time.Hour)
	crm.wait("the attempt a day later", atLeast(7))
	var hook apiWebhook
	deadline := time.Now().Add(5 * time.Second)
	for s.api("GET", "/api/v1/webhooks/crm", "", &hook); hook.Enabled && time.Now().Before(deadline); s.api("GET", "/api/v1/webhooks/crm", "", &hook) {
		time.Sleep(20 * time.Millisecond)
	}
	if hook.Enabled || !strings.Contains(hook.DisabledReason, "no successful delivery for 24h0m0s") {
		t.Fatalf("after a day of failures: %+v", hook)
	}
	var told bool
	for deadline := time.Now().Add(5 * time.Second); !told && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		convs, _ := s.Engine().Conversations(context.Background(), core.ConversationFilter{DeskChannel: core.ChannelConsole})
		for _, c := range convs {
			told = told || (c.Customer == core.Endpoint{Channel: core.ChannelWebhook, Address: "crm"})
		}
	}
	if !told {
		t.Error("the console was not told")
	}
	waitDeliveries(s, "crm", func(ds apiHookDeliveries) bool {
		return ds.Deliveries[0].Status == "failed" && ds.Deliveries[1].Status == "failed"
	})
	setMode("ok")
	if code := s.api("PATCH", "/api/v1/webhooks/crm", `{"enabled":true}`, &hook); code != http.StatusOK || !hook.Enabled {
		t.Fatalf("re-enable: %d %+v", code, hook)
	}
	// A new session: the one above expired during the day of failures.
	n := len(crm.got())
	if code := s.api("POST", "/api/v1/sessions", ``, &sess); code != http.StatusCreated {
		t.Fatalf("a session after re-enabling: %d", code)
	}
	crm.wait("an event after re-enabling", atLeast(n+1))
}

// TestHangingWebhookDelaysNothingElse: while one endpoint hangs, the
// customer's web chat link and another endpoint's events go out.
func TestHangingWebhookDelaysNothingElse(t *testing.T) {
	slow := newReceiver(t, core.SystemClock{})
	release := make(chan struct{})
	slow.answer = func(n int, w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}
	defer close(release)
	fast := newReceiver(t, core.SystemClock{})
	s := startMain(t, func(c *config.Config) {
		c.WebhooksAllowPrivate = true
		c.Webhooks = []config.Webhook{{ID: "slow", URL: slow.srv.URL, Secret: hookSecret}, {ID: "fast", URL: fast.srv.URL, Secret: hookSecret}}
	}, &Main{PINs: coretest.NewPINs("246810")})
	customer := newPerson(t, s.url)
	customer.send("GET", "/chat", nil)
	customer.send("POST", "/chat/messages", url.Values{"csrf": {customer.csrf}, "text": {"hello"}})
	slow.wait("the slow endpoint is hanging", atLeast(1))
	convs, _ := s.Engine().Conversations(context.Background(), core.ConversationFilter{State: core.ConversationOpen})
	start := time.Now()
	var sess apiSession
	s.api("POST", "/api/v1/sessions", `{"conversation_id":"`+convs[0].ID+`","agent":"ada"}`, &sess)
	s.api("POST", "/api/v1/sessions/"+sess.ID+"/send", `{"link":"desktop"}`, &sess)
	fast.wait("the other endpoint's events", atLeast(4))
	for {
		ds, err := s.Engine().Deliveries(context.Background(), sess.ID)
		if err == nil && len(ds) > 0 && ds[len(ds)-1].Status != core.DeliveryQueued {
			break
		}
		if time.Since(start) > 3*time.Second {
			t.Fatalf("the customer's link is still queued after %v while a webhook hangs: %+v", time.Since(start), ds)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("took %v", took)
	}
	if n := len(slow.got()); n != 1 {
		t.Errorf("the hanging endpoint got %d requests; its next wait for the first", n)
	}
}
