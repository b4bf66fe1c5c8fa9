package api

import (
	"context"
	"errors"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/web/webtest"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
	hooks "github.com/assistbot/assistbot/core/webhook"
)

// noDNS is the resolver of the tests' webhooks: every name fails to
// resolve at once, so that no test waits on the network.
var noDNS = &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
	return nil, errors.New("no DNS in tests")
}}

// faultyHooks is the webhook store with faults put in: every call the
// API makes fails with err when it is set.
type faultyHooks struct {
	hooks.Store
	mu  sync.Mutex
	err error
}

func (f *faultyHooks) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *faultyHooks) check() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

func (f *faultyHooks) CreateWebhook(ctx context.Context, e *hooks.Endpoint) error {
	if err := f.check(); err != nil {
		return err
	}
	return f.Store.CreateWebhook(ctx, e)
}

func (f *faultyHooks) UpdateWebhook(ctx context.Context, e *hooks.Endpoint) error {
	if err := f.check(); err != nil {
		return err
	}
	return f.Store.UpdateWebhook(ctx, e)
}

func (f *faultyHooks) DeleteWebhook(ctx context.Context, id string, now time.Time) error {
	if err := f.check(); err != nil {
		return err
	}
	return f.Store.DeleteWebhook(ctx, id, now)
}

func (f *faultyHooks) FindWebhook(ctx context.Context, id string) (*hooks.Endpoint, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	return f.Store.FindWebhook(ctx, id)
}

func (f *faultyHooks) FindWebhooks(ctx context.Context) ([]*hooks.Endpoint, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	return f.Store.FindWebhooks(ctx)
}

func (f *faultyHooks) FindWebhookDeliveries(ctx context.Context, id string, before int64, limit int) ([]*core.Delivery, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	return f.Store.FindWebhookDeliveries(ctx, id, before, limit)
}

func (f *faultyHooks) FindWebhookAttempts(ctx context.Context, ids []int64) ([]hooks.Attempt, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	return f.Store.FindWebhookAttempts(ctx, ids)
}

// hookRig is a rig whose API manages webhooks: in a store over the
// rig's, so that the engine's sessions and the endpoints' deliveries
// share one outbox, through a faulty wrapper, and reloaded into a
// dispatcher that is not running, as a replica's would be.
type hookRig struct {
	*rig
	store  *coretest.MemWebhookStore
	faults *faultyHooks
	d      *hooks.Dispatcher
}

func newHookRig(t *testing.T) *hookRig {
	r := newRig(t)
	h := &hookRig{rig: r, store: coretest.NewMemWebhookStore(r.Store)}
	h.faults = &faultyHooks{Store: h.store}
	h.d = &hooks.Dispatcher{Store: h.store, Clock: r.Clock, Logger: r.Logger,
		Configured: []*hooks.Endpoint{{ID: "crm", URL: "https://203.0.113.20/events", Secret: "configured-secret-0123", Source: hooks.SourceConfig}}}
	r.api.webhooks = &Webhooks{Store: h.faults, Reload: h.d.Reload, Resolver: noDNS, Clock: r.Clock}
	return h
}

// reloaded returns the ids of the endpoints the dispatcher sends to.
func (h *hookRig) reloaded() []string {
	var ids []string
	for _, e := range h.d.Endpoints() {
		ids = append(ids, e.ID)
	}
	return ids
}

// webhookConformance drives the webhook operations to each of their
// statuses, within TestOpenAPIConformance.
func webhookConformance(t *testing.T, cf *conformance) {
	post := func(path, body string) call { return call{method: http.MethodPost, path: path, body: body} }
	get := func(path string) call { return call{method: http.MethodGet, path: path} }
	patch := func(path, body string) call { return call{method: http.MethodPatch, path: path, body: body} }
	del := func(path string) call { return call{method: http.MethodDelete, path: path} }
	keyed := func(c call, key string) call {
		c.header = webtest.Headers("Idempotency-Key", key)
		return c
	}
	const secret = `"secret":"0123456789abcdef"`

	t.Run("managed", func(t *testing.T) {
		h := newHookRig(t)
		ctx := t.Context()
		if got := cf.do(t, h.rig, get("/api/v1/webhooks"), 200, true); len(got.json["webhooks"].([]any)) != 0 {
			t.Errorf("no endpoint yet: %s", got.body)
		}
		create := keyed(post("/api/v1/webhooks", `{"url":"https://203.0.113.10/hooks",`+secret+`,"events":["session.*","conversation.closed"],"description":"CRM"}`), "wh-1")
		created := cf.do(t, h.rig, create, 201, true)
		id, _ := created.json["id"].(string)
		w := "/api/v1/webhooks/" + id
		if !strings.HasPrefix(id, "wh_") || created.header.Get("Location") != w {
			t.Fatalf("id %q, Location %q", id, created.header.Get("Location"))
		}
		if strings.Contains(string(created.body), "0123456789abcdef") || created.json["enabled"] != true || created.json["source"] != "api" {
			t.Errorf("the endpoint created: %s", created.body)
		}
		if !slices.Contains(h.reloaded(), id) {
			t.Errorf("the dispatcher was not reloaded: it sends to %v", h.reloaded())
		}
		again := cf.do(t, h.rig, create, 201, true)
		if string(again.body) != string(created.body) || again.header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("the retry answered %s, not %s", again.body, created.body)
		}
		cf.do(t, h.rig, keyed(post("/api/v1/webhooks", `{"url":"https://203.0.113.11/hooks",`+secret+`}`), "wh-1"), 422, true)

		// Refused endpoints, each with a message that starts with its field.
		for _, c := range []struct {
			body, field string
			docValid    bool
		}{
			{`{}`, "url", false},
			{`{` + secret + `}`, "url", false},
			{`{"url":"ftp://203.0.113.10/",` + secret + `}`, "url", true},
			{`{"url":"http://127.0.0.1:8080/",` + secret + `}`, "url", true},
			{`{"url":"https://me:pw@203.0.113.10/",` + secret + `}`, "url", true},
			{`{"url":"https://crm.example.com/hooks",` + secret + `}`, "url", true}, // does not resolve
			{`{"url":"https://203.0.113.10/"}`, "secret", false},
			{`{"url":"https://203.0.113.10/","secret":"short"}`, "secret", false},
			{`{"url":"https://203.0.113.10/",` + secret + `,"events":["session.nothing"]}`, "events", true},
			{`{"url":"https://203.0.113.10/",` + secret + `,"events":["["]}`, "events", true},
			{`{"url":"https://203.0.113.10/",` + secret + `,"enabled":false}`, "enabled", false},
			{`{"url":"https://203.0.113.10/",` + secret + `,"colour":"red"}`, "unknown field", false},
			{`{"url":5}`, "url", false},
		} {
			got := cf.do(t, h.rig, post("/api/v1/webhooks", c.body), 400, c.docValid)
			if msg := got.json["error"].(map[string]any)["message"].(string); !strings.Contains(msg, c.field) {
				t.Errorf("%s: the message %q does not name %s", c.body, msg, c.field)
			}
		}

		// The configured endpoint, as the dispatcher writes it.
		if err := h.d.Open(ctx); err != nil {
			t.Fatal(err)
		}
		list := cf.do(t, h.rig, get("/api/v1/webhooks"), 200, true)
		if l := list.json["webhooks"].([]any); len(l) != 2 || l[0].(map[string]any)["source"] != "config" {
			t.Fatalf("the list: %s", list.body)
		}
		cf.do(t, h.rig, get(w), 200, true)
		cf.do(t, h.rig, get("/api/v1/webhooks/nosuch"), 404, true)

		// Changes.
		h.Clock.Add(time.Minute)
		changed := cf.do(t, h.rig, patch(w, `{"description":"CRM (billing)","events":[],"url":"https://203.0.113.12/hooks"}`), 200, true)
		if changed.json["description"] != "CRM (billing)" || len(changed.json["events"].([]any)) != 0 || changed.json["updated_at"] == created.json["updated_at"] {
			t.Errorf("changed: %s", changed.body)
		}
		off := cf.do(t, h.rig, patch(w, `{"enabled":false}`), 200, true)
		if off.json["enabled"] != false || off.json["disabled_reason"] != "disabled through the API" || off.json["disabled_at"] == nil {
			t.Errorf("disabled: %s", off.body)
		}
		if slices.Contains(h.reloaded(), id) {
			t.Errorf("the dispatcher still sends to the disabled endpoint: %v", h.reloaded())
		}
		if on := cf.do(t, h.rig, patch(w, `{"enabled":true}`), 200, true); on.json["enabled"] != true || on.json["disabled_at"] != nil {
			t.Errorf("re-enabled: %s", on.body)
		}
		cf.do(t, h.rig, patch(w, ``), 200, true)
		for _, c := range []struct {
			call     call
			docValid bool
		}{
			{patch(w, `{"url":"http://10.0.0.1/"}`), true},
			{patch(w, `{"events":["nope"]}`), true},
			{patch(w, `{"secret":"short"}`), false},
			{patch(w, `{"enabled":"yes"}`), false},
			{patch(w, `{"id":"wh_other"}`), false},
			{patch("/api/v1/webhooks/crm", `{"url":"https://203.0.113.30/"}`), true}, // configured
			{patch("/api/v1/webhooks/crm", `{"secret":"0123456789abcdef0"}`), true},
			{del("/api/v1/webhooks/crm"), true},
		} {
			cf.do(t, h.rig, c.call, 400, c.docValid)
		}
		if got := cf.do(t, h.rig, patch("/api/v1/webhooks/crm", `{"enabled":false}`), 200, true); got.json["enabled"] != false {
			t.Errorf("the configured endpoint: %s", got.body)
		}
		cf.do(t, h.rig, patch("/api/v1/webhooks/nosuch", `{"enabled":true}`), 404, true)

		// Deliveries: one retried after a 500, one delivered, one never
		// tried; the endpoint succeeded once, and fails since.
		s := h.Issue("en")
		conv, err := h.Engine.Conversation(ctx, s.ConversationID)
		if err != nil {
			t.Fatal(err)
		}
		now := h.Clock.Now()
		var ds []*core.Delivery
		for i, typ := range []string{"session.issued", "session.sent", "conversation.closed"} {
			d := &core.Delivery{ConversationID: conv.ID, To: core.Endpoint{Channel: core.ChannelWebhook, Address: id},
				Notice: core.Notice{Kind: core.NoticeWebhook, Body: `{"id":"evt_` + strconv.Itoa(i) + `","type":"` + typ + `","version":1}`},
				Status: core.DeliveryQueued, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
			if strings.HasPrefix(typ, "session.") {
				d.SessionID = s.ID
			}
			ds = append(ds, d)
		}
		if err := h.store.UpdateConversationQueue(ctx, conv, ds); err != nil {
			t.Fatal(err)
		}
		claimed, err := h.store.ClaimWebhookDeliveries(ctx, id, now, 2, time.Minute)
		if err != nil || len(claimed) != 2 {
			t.Fatalf("claimed %v, %v", claimed, err)
		}
		for _, a := range []*hooks.Attempt{
			{DeliveryID: claimed[1].ID, N: 1, Duration: 12 * time.Millisecond, Status: 204, Outcome: hooks.OutcomeDelivered},
			{DeliveryID: claimed[0].ID, N: 1, Duration: 1500 * time.Microsecond, Status: 500, Error: "the endpoint answered 500", Outcome: hooks.OutcomeRetry},
			{DeliveryID: claimed[0].ID, N: 2, Duration: 10 * time.Second, Error: "timeout after 10s", Outcome: hooks.OutcomeRetry},
		} {
			a.EndpointID, a.At = id, h.Clock.Now()
			if _, err := h.store.RecordWebhookAttempt(ctx, a, hooks.DefaultDisable); err != nil {
				t.Fatal(err)
			}
			h.Clock.Add(time.Second)
		}
		claimed[1].Status, claimed[1].UpdatedAt = core.DeliveryDelivered, h.Clock.Now()
		claimed[0].Reason, claimed[0].NextAttemptAt, claimed[0].UpdatedAt = "timeout after 10s", h.Clock.Now().Add(2*time.Second), h.Clock.Now()
		claimed[0].Attempts = 2
		for _, d := range claimed {
			if err := h.store.UpdateDelivery(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		health := cf.do(t, h.rig, get(w), 200, true)
		if health.json["last_success_at"] == nil || health.json["failing_since"] == nil {
			t.Errorf("the endpoint's health: %s", health.body)
		}
		page := cf.do(t, h.rig, get(w+"/deliveries"), 200, true)
		got := page.json["deliveries"].([]any)
		if len(got) != 3 {
			t.Fatalf("the deliveries: %s", page.body)
		}
		first, retried := got[2].(map[string]any), got[1].(map[string]any)
		if first["event"] != "session.issued" || first["event_id"] != "evt_0" || retried["status"] != "delivered" ||
			len(first["tries"].([]any)) != 2 || first["response_status"] != nil || first["next_attempt_at"] == nil {
			t.Errorf("the deliveries: %s", page.body)
		}
		last := strconv.FormatFloat(got[1].(map[string]any)["id"].(float64), 'f', -1, 64)
		if p := cf.do(t, h.rig, get(w+"/deliveries?limit=2&before="+last), 200, true); len(p.json["deliveries"].([]any)) != 1 {
			t.Errorf("the page before %s: %s", last, p.body)
		}
		for _, c := range []struct {
			query    string
			docValid bool
		}{
			{"limit=0", false},
			{"limit=201", false},
			{"limit=ten", false},
			{"before=0", false},
			{"before=x", false},
		} {
			got := cf.do(t, h.rig, get(w+"/deliveries?"+c.query), 400, c.docValid)
			name, _, _ := strings.Cut(c.query, "=")
			if msg := got.json["error"].(map[string]any)["message"].(string); !strings.Contains(msg, name) {
				t.Errorf("%s: the message %q does not name the parameter", c.query, msg)
			}
		}
		cf.do(t, h.rig, get("/api/v1/webhooks/nosuch/deliveries"), 404, true)
		// The session's own deliveries show those to webhooks too.
		detail := cf.do(t, h.rig, get("/api/v1/sessions/"+s.ID), 200, true)
		if !strings.Contains(string(detail.body), `"kind":"webhook"`) {
			t.Errorf("the session's deliveries: %s", detail.body)
		}

		// Deleted: answered as it was; its queued delivery fails.
		gone := cf.do(t, h.rig, del(w), 200, true)
		if gone.json["id"] != id {
			t.Errorf("deleted: %s", gone.body)
		}
		if slices.Contains(h.reloaded(), id) {
			t.Errorf("the dispatcher still sends to the deleted endpoint: %v", h.reloaded())
		}
		if d, err := h.Store.FindDelivery(ctx, claimed[0].ID); err != nil || d.Status != core.DeliveryFailed || d.Reason != hooks.ReasonGone {
			t.Errorf("the queued delivery of the deleted endpoint: %+v, %v", d, err)
		}
		cf.do(t, h.rig, del(w), 404, true)
		cf.do(t, h.rig, get(w), 404, true)
		cf.do(t, h.rig, get(w+"/deliveries"), 404, true)
	})

	// Every operation refuses a missing or wrong token, answers 503
	// without a webhook store or when it cannot be reached, 500 when it
	// fails, and 409 when it keeps conflicting.
	t.Run("every operation", func(t *testing.T) {
		h := newHookRig(t)
		created := cf.do(t, h.rig, post("/api/v1/webhooks", `{"url":"https://203.0.113.10/hooks",`+secret+`}`), 201, true)
		w := "/api/v1/webhooks/" + created.json["id"].(string)
		calls := []call{
			post("/api/v1/webhooks", `{"url":"https://203.0.113.10/hooks",`+secret+`}`),
			get("/api/v1/webhooks"),
			get(w),
			patch(w, `{"description":"x"}`),
			del(w),
			get(w + "/deliveries"),
		}
		for _, c := range calls {
			c.noToken = true
			if got := cf.do(t, h.rig, c, 401, false); got.header.Get("WWW-Authenticate") != "Bearer" {
				t.Errorf("%s %s: WWW-Authenticate = %q", c.method, c.path, got.header.Get("WWW-Authenticate"))
			}
			c.noToken, c.token = false, "wrong-token"
			cf.do(t, h.rig, c, 401, true)
		}
		h.faults.fail(core.Errorf(core.CodeUnavailable, "the database cannot be reached"))
		for _, c := range calls {
			cf.do(t, h.rig, c, 503, true)
		}
		h.faults.fail(errors.New("disk I/O error"))
		for _, c := range calls {
			if got := cf.do(t, h.rig, c, 500, true); strings.Contains(string(got.body), "disk") {
				t.Errorf("the detail of an internal error reached the client: %s", got.body)
			}
		}
		h.faults.fail(nil)
		// The endpoint changes under every PATCH, and an id is taken.
		h.faults.Store = conflicting{h.store}
		if got := cf.do(t, h.rig, calls[3], 409, true); !strings.Contains(string(got.body), "try again") {
			t.Errorf("PATCH: %s", got.body)
		}
		cf.do(t, h.rig, calls[0], 409, true)
		h.faults.Store = h.store

		// Without a store that keeps webhooks.
		r := newRig(t)
		for _, c := range calls {
			got := cf.do(t, r, c, 503, true)
			if msg := got.json["error"].(map[string]any)["message"]; msg != "webhooks are not available on this server" {
				t.Errorf("%s %s: %v", c.method, c.path, msg)
			}
		}
	})
}

// conflicting is a webhook store whose endpoints change under every
// update, and whose ids are all taken.
type conflicting struct{ hooks.Store }

func (conflicting) UpdateWebhook(context.Context, *hooks.Endpoint) error { return core.ErrVersion }

func (conflicting) CreateWebhook(_ context.Context, e *hooks.Endpoint) error {
	return core.Errorf(core.CodeConflict, "webhook %s already exists", e.ID)
}
