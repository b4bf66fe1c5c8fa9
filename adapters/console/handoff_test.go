package console

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/assistbot/assistbot/adapters/web/webtest"
	"github.com/assistbot/assistbot/core"
)

// TestHandoff: the session page's form hands the session to a console
// agent or back to the queue, with a note in the log; the colleague's
// queue shows it as theirs; refusals are the page's error and change
// nothing.
func TestHandoff(t *testing.T) {
	r := newRig(t)
	s, _, err := r.Engine.Issue(ctx, core.Request{Customer: core.Endpoint{Channel: core.ChannelWeb, Address: "chat-1"},
		Desk: core.Endpoint{Channel: core.ChannelConsole}, Agent: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	alice, bob := r.Visitor(), r.Visitor()
	signInAs(alice, "alice", alicePW)
	signInAs(bob, "bob", bobPW)
	resp, page := alice.Get("/console/sessions/" + s.ID)
	webtest.WantStatus(t, resp, page, http.StatusOK)
	webtest.WantContains(t, page, `action="/console/sessions/`+s.ID+`/handoff"`, `<option value="bob">bob</option>`, "Back to the queue")
	path := "/console/sessions/" + s.ID + "/handoff"

	// Unknown colleague: refused, named.
	resp, out := alice.Fetch(path, url.Values{"to": {"zed"}})
	if resp.StatusCode != http.StatusBadRequest || out["error"] != "There is no colleague called zed: the session was not handed over." {
		t.Errorf("unknown colleague: %d %v", resp.StatusCode, out)
	}
	// A plain form gets the error page.
	resp, body := alice.Post(path, url.Values{"csrf": {alice.CSRF}, "to": {"zed"}})
	webtest.WantStatus(t, resp, body, http.StatusBadRequest)
	webtest.WantContains(t, body, "There is no colleague called zed")

	// alice hands it to bob, with a note.
	resp, out = alice.Fetch(path, url.Values{"to": {"bob"}, "note": {"knows the printer"}})
	if resp.StatusCode != http.StatusOK || out["session"] != s.ID {
		t.Fatalf("hand-off: %d %v", resp.StatusCode, out)
	}
	if got := r.Session(s.ID); got.Agent != "bob" {
		t.Errorf("agent %q", got.Agent)
	}
	evs, _ := r.Engine.Events(ctx, s.ID)
	if e := evs[len(evs)-1]; e.Action != core.ActionHandoff || e.Actor != "agent:alice" || e.Detail != "to bob, from alice: knows the printer" {
		t.Errorf("event %+v", e)
	}
	_, log := bob.Get("/console/sessions/" + s.ID)
	webtest.WantContains(t, log, "Handed over", "to bob, from alice: knows the printer")
	_, queue := bob.Get("/console")
	webtest.WantContains(t, queue, `agent bob</span> <span class="badge yours">yours</span>`)
	_, aliceQueue := alice.Get("/console")
	webtest.WantNotContains(t, aliceQueue, `class="badge yours"`)

	// With roles, alice (an agent, not a supervisor) may no longer hand
	// bob's session on, but may take it herself; a supervisor may hand
	// anything.
	r.console.roleOf = func(name string) string { return map[string]string{"alice": "agent", "bob": "technician"}[name] }
	resp, out = alice.Fetch(path, url.Values{"to": {""}})
	if resp.StatusCode != http.StatusForbidden || out["error"] != "Only the session's own agent or technician, or a supervisor, can hand it to someone else. You can take it yourself." {
		t.Errorf("not hers: %d %v", resp.StatusCode, out)
	}
	if got := r.Session(s.ID); got.Agent != "bob" {
		t.Errorf("a refused hand-off changed the agent to %q", got.Agent)
	}
	if resp, out = alice.Fetch(path, url.Values{"to": {"alice"}}); resp.StatusCode != http.StatusOK {
		t.Errorf("taking it: %d %v", resp.StatusCode, out)
	}
	if resp, out = bob.Fetch(path, url.Values{"to": {""}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("bob hands alice's: %d %v", resp.StatusCode, out)
	}
	r.console.roleOf = func(name string) string { return map[string]string{"bob": "supervisor"}[name] }
	if resp, out = bob.Fetch(path, url.Values{"to": {""}}); resp.StatusCode != http.StatusOK || r.Session(s.ID).Agent != "" {
		t.Errorf("the supervisor: %d %v", resp.StatusCode, out)
	}

	// The conversation's form hands its open sessions; a session that
	// moved on is refused.
	_, convPage := alice.Get("/console/conversations/" + s.ConversationID)
	webtest.WantContains(t, convPage, `action="/console/conversations/`+s.ConversationID+`/handoff"`)
	resp, out = bob.Fetch("/console/conversations/"+s.ConversationID+"/handoff", url.Values{"to": {"alice"}, "note": {"yours"}})
	if resp.StatusCode != http.StatusOK || r.Session(s.ID).Agent != "alice" {
		t.Errorf("the conversation: %d %v", resp.StatusCode, out)
	}
	if _, err := r.Engine.Close(ctx, s.ID, core.Actor{Kind: core.ActorAgent, Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	resp, out = bob.Fetch(path, url.Values{"to": {"bob"}})
	if resp.StatusCode != http.StatusConflict || out["error"] != "This session is Closed, so that is not possible now." {
		t.Errorf("closed: %d %v", resp.StatusCode, out)
	}
	resp, out = bob.Fetch("/console/conversations/"+s.ConversationID+"/handoff", url.Values{"to": {"bob"}})
	if resp.StatusCode != http.StatusConflict || out["error"] != "This conversation has no open remote session to hand over." {
		t.Errorf("nothing open: %d %v", resp.StatusCode, out)
	}
	_, page = bob.Get("/console/sessions/" + s.ID)
	webtest.WantNotContains(t, page, `/handoff"`)
}
