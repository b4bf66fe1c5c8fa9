package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/web/webtest"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/escalation"
)

// TestEscalationInTheLogTranslated: the event log names every action in
// the agent's language, the escalation's too (it showed "escalate").
func TestEscalationInTheLogTranslated(t *testing.T) {
	w := webtest.New(t, webtest.Options{Policies: []core.DuePolicy{escalation.Policy{After: []time.Duration{time.Minute}}}})
	r := newRigOn(t, w, nil)
	c := r.Visitor()
	c.Lang = "ko"
	signInAs(c, "alice", alicePW)
	s := r.waiting(pat, core.DeviceDesktop)
	r.Clock.Add(2 * time.Minute)
	if n, err := r.Engine.RecordDue(ctx); err != nil || n != 1 {
		t.Fatalf("RecordDue = %d, %v", n, err)
	}
	_, body := c.Get("/console/sessions/" + s.ID + "/log")
	if strings.Contains(body, "<td>escalate</td>") || !strings.Contains(body, r.Catalog.T("ko", "console.action.escalate")) {
		t.Errorf("the Korean event log does not name the escalation in Korean:\n%s", body)
	}
}

// TestHandoffOfAClosedConversationSaysWhy: handing over a conversation a
// colleague closed meanwhile (a stale page) says it is closed; it said
// "Something went wrong. Please try again.", which never helps.
func TestHandoffOfAClosedConversationSaysWhy(t *testing.T) {
	r := newRig(t)
	a := r.Visitor()
	signInAs(a, "alice", alicePW)
	s := r.waiting(pat, core.DeviceDesktop)
	if _, body := a.Get("/console/conversations/" + s.ConversationID); !strings.Contains(body, `id="handoff"`) {
		t.Fatal("no hand-off form")
	}
	if _, err := r.Engine.CloseConversation(ctx, s.ConversationID, core.Actor{Kind: core.ActorAgent, Name: "bob"}); err != nil {
		t.Fatal(err)
	}
	resp, out := a.Fetch("/console/conversations/"+s.ConversationID+"/handoff", url.Values{"to": {"bob"}})
	msg, _ := out["error"].(string)
	if resp.StatusCode != http.StatusConflict || msg != r.Catalog.T("en", "error.handoff_closed") {
		t.Errorf("hand-off of a closed conversation: %d %q; want a sentence that says it is closed", resp.StatusCode, msg)
	}
}

// TestReplyFromTheSessionPageReturnsThere: the session page's reply form
// carries return=/console/sessions/{id}; without script, the answer
// brings the agent back there, to the shared screen, not to the
// conversation's page.
func TestReplyFromTheSessionPageReturnsThere(t *testing.T) {
	r := newRig(t)
	a := r.Visitor()
	signInAs(a, "alice", alicePW)
	s := r.waiting(pat, core.DeviceDesktop)
	_, page := a.Get("/console/sessions/" + s.ID)
	back := "/console/sessions/" + s.ID
	if !strings.Contains(page, `name="return" value="`+back+`"`) {
		t.Fatalf("the session page's reply form carries no return")
	}
	resp, _ := a.Post("/console/conversations/"+s.ConversationID+"/reply", url.Values{"csrf": {a.CSRF}, "text": {"one moment"}, "return": {back}})
	if got := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || got != back {
		t.Errorf("reply from the session page without script: %d to %q, want back to %q", resp.StatusCode, got, back)
	}
}
