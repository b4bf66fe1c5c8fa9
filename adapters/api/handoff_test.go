package api

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/assistbot/assistbot/core"
)

// colleagues is the test's directory: bob and U0BOB are agents, U0GUEST
// is a user who is not; tina is a console technician, sue a supervisor.
var colleagues = Directory{
	Colleague: func(_ context.Context, to string) (bool, bool) {
		switch to {
		case "bob", "U0BOB", "tina", "sue", "alice":
			return true, true
		case "U0GUEST":
			return true, false
		}
		return false, false
	},
	Role: func(name string) string {
		return map[string]string{"tina": "technician", "alice": "agent", "sue": "supervisor", "bob": "agent"}[name]
	},
}

// handoffConformance drives the hand-off operations to each of their
// statuses, within TestOpenAPIConformance; the statuses every operation
// shares (401, 422, 500, 503) come from its other subtests.
func handoffConformance(t *testing.T, cf *conformance) {
	post := func(path, body string) call { return call{method: http.MethodPost, path: path, body: body} }
	r := newRig(t)
	r.api.HandoffTo(colleagues)
	s := r.Issue("en")
	p := "/api/v1/sessions/" + s.ID + "/handoff"
	c := "/api/v1/conversations/" + s.ConversationID + "/handoff"
	cf.do(t, r, post(p, `{"to":"bob","note":"billing","by":"alice"}`), 200, true)
	cf.do(t, r, post(p, `{"to":null}`), 200, true)
	got := cf.do(t, r, post(c, `{"to":"U0BOB","note":"all yours","by":"sue"}`), 200, true)
	if ss := got.json["sessions"].([]any); len(ss) != 1 || ss[0].(map[string]any)["agent"] != "U0BOB" {
		t.Errorf("the conversation's sessions: %s", got.body)
	}
	// The log records each hand-off; the desk of a session that has one
	// is told.
	if evs := cf.do(t, r, call{method: http.MethodGet, path: "/api/v1/sessions/" + s.ID + "/events"}, 200, true); strings.Count(string(evs.body), `"action":"handoff"`) != 3 {
		t.Errorf("the hand-offs in the log: %s", evs.body)
	}
	desked, _, err := r.Engine.Issue(ctx, core.Request{Customer: core.Endpoint{Channel: core.ChannelWeb, Address: "chat-9"},
		Desk: core.Endpoint{Channel: core.ChannelConsole}, Agent: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	cf.do(t, r, post("/api/v1/sessions/"+desked.ID+"/handoff", `{"to":"bob","note":"billing"}`), 200, true)
	if got := cf.do(t, r, call{method: http.MethodGet, path: "/api/v1/sessions/" + desked.ID}, 200, true); !strings.Contains(string(got.body), `"kind":"handoff"`) {
		t.Errorf("no hand-off for the desk in %s", got.body)
	}
	for _, bad := range []struct {
		call     call
		docValid bool
	}{
		{post(p, `{"to":"zed"}`), true},
		{post(c, `{"to":"zed"}`), true},
		{post(p, `{}`), false},
		{post(c, `{"note":"x"}`), false},
		{post(p, `{"to":"bob","note":"`+strings.Repeat("n", 501)+`"}`), false},
		{post(p, `{"to":"bob","reason":"x"}`), false},
	} {
		cf.do(t, r, bad.call, 400, bad.docValid)
	}
	// tina is no supervisor, and the session is not hers; U0GUEST is no
	// agent.
	cf.do(t, r, post(p, `{"to":"bob","by":"tina"}`), 403, true)
	cf.do(t, r, post(c, `{"to":"","by":"tina"}`), 403, true)
	cf.do(t, r, post(p, `{"to":"U0GUEST"}`), 403, true)
	cf.do(t, r, post(c, `{"to":"U0GUEST"}`), 403, true)
	cf.do(t, r, post("/api/v1/sessions/nosuch/handoff", `{"to":"bob"}`), 404, true)
	cf.do(t, r, post("/api/v1/conversations/nosuch/handoff", `{"to":"bob"}`), 404, true)
	if _, err := r.Engine.Close(ctx, s.ID, core.Actor{Kind: core.ActorAgent, Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	cf.do(t, r, post(p, `{"to":"bob"}`), 409, true)
	cf.do(t, r, post(c, `{"to":"bob"}`), 409, true)
}

// TestHandoff: the hand-off is recorded and told to the desk, and each
// refusal names its problem and changes nothing.
func TestHandoff(t *testing.T) {
	r := newRig(t)
	r.api.HandoffTo(colleagues)
	s, _, err := r.Engine.Issue(ctx, core.Request{Customer: core.Endpoint{Channel: core.ChannelWeb, Address: "chat-1"},
		Desk: core.Endpoint{Channel: core.ChannelConsole}, Agent: "tina"})
	if err != nil {
		t.Fatal(err)
	}
	p := "/api/v1/sessions/" + s.ID + "/handoff"
	for _, c := range []struct {
		body, code, msg string
		status          int
	}{
		{`{"to":"zed"}`, "invalid", `there is no colleague called "zed"`, 400},
		{`{"to":"U0GUEST"}`, "forbidden", `"U0GUEST" may not take sessions: not an agent of this desk`, 403},
		{`{"to":"bob","by":"alice"}`, "forbidden", "only the session's own agent or technician, or a supervisor, may hand it to someone else", 403},
		{`{"note":"x"}`, "invalid", `"to" is required`, 400},
		{`{"to":"bob","note":"a\u0000b"}`, "invalid", "the note must be valid text of at most 500 characters", 400},
	} {
		resp, body := r.call(http.MethodPost, p, c.body)
		code, msg := apiError(t, body)
		if resp.StatusCode != c.status || code != c.code || !strings.Contains(msg, c.msg) {
			t.Errorf("%s: %d %s %q", c.body, resp.StatusCode, code, msg)
		}
	}
	if got := r.Session(s.ID); got.Agent != "tina" {
		t.Fatalf("a refused hand-off changed the agent to %q", got.Agent)
	}
	// tina hands her own session on; alice takes it herself.
	resp, body := r.call(http.MethodPost, p, `{"to":"bob","note":"needs a Mac expert","by":"tina"}`)
	if resp.StatusCode != 200 || body["agent"] != "bob" || body["state"] != "issued" {
		t.Fatalf("hand-off: %d %v", resp.StatusCode, body)
	}
	if resp, body = r.call(http.MethodPost, p, `{"to":"alice","by":"alice"}`); resp.StatusCode != 200 || body["agent"] != "alice" {
		t.Fatalf("taking it: %d %v", resp.StatusCode, body)
	}
	evs, _ := r.Engine.Events(ctx, s.ID)
	if e := evs[len(evs)-2]; e.Action != core.ActionHandoff || e.Actor != "agent:tina" || e.Detail != "to bob, from tina: needs a Mac expert" {
		t.Errorf("event %+v", e)
	}
	ds, _ := r.Engine.Deliveries(ctx, s.ID)
	if len(ds) != 2 || ds[1].To.Channel != core.ChannelConsole || ds[1].Notice.Assignee != "bob" || ds[1].Notice.Text != "needs a Mac expert" {
		t.Errorf("deliveries %+v", ds)
	}
	for _, d := range ds {
		if d.To.Channel != core.ChannelConsole {
			t.Errorf("something went to the customer: %+v", d)
		}
	}
}
