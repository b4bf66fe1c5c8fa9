package api

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/web/webtest"
	"github.com/assistbot/assistbot/core"
)

// handedMeanwhile is the engine while a supervisor hands one of the
// conversation's sessions to carol, concurrently with the API's
// conversation hand-off: between the API's check of the sessions and its
// write of that one.
type handedMeanwhile struct {
	*core.Engine
	id string
}

func (h *handedMeanwhile) HandOver(ctx context.Context, id string, ho core.Handover) (*core.Session, error) {
	if id == h.id {
		if _, err := h.Engine.HandOver(ctx, id, core.Handover{By: core.Actor{Kind: core.ActorAgent, Name: "sue"}, To: "carol"}); err != nil {
			return nil, err
		}
	}
	return h.Engine.HandOver(ctx, id, ho)
}

// TestConversationHandoffMeetsAnotherHandoff: a session that a supervisor
// hands on while the conversation's hand-off runs stays with whom she
// chose; the others go, and the answer says so. (The whole hand-off was
// answered 403 after it had handed the others over.)
func TestConversationHandoffMeetsAnotherHandoff(t *testing.T) {
	r := newRig(t)
	r.api.HandoffTo(Directory{
		Colleague: func(_ context.Context, to string) (bool, bool) { return true, true },
		Role:      func(name string) string { return map[string]string{"bob": "agent", "sue": "supervisor"}[name] },
	})
	first, _, err := r.Engine.Issue(ctx, core.Request{Customer: webtest.Pat, Agent: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	r.Clock.Add(time.Second)
	second, _, err := r.Engine.Issue(ctx, core.Request{Customer: webtest.Pat, Agent: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	r.Clock.Add(time.Second)
	// Sessions are handed newest first: second, then first, which sue
	// hands to carol meanwhile.
	r.api.engine = &handedMeanwhile{Engine: r.Engine, id: first.ID}
	resp, got := r.call(http.MethodPost, "/api/v1/conversations/"+first.ConversationID+"/handoff", `{"to":"dave","by":"bob"}`)
	if resp.StatusCode != http.StatusOK {
		code, msg := apiError(t, got)
		t.Fatalf("the hand-off answered %d %s %q", resp.StatusCode, code, msg)
	}
	if a, b := r.Session(second.ID).Agent, r.Session(first.ID).Agent; a != "dave" || b != "carol" {
		t.Errorf("sessions with %q and %q, want dave (handed) and carol (handed on meanwhile)", a, b)
	}
}
