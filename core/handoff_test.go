package core_test

import (
	"strings"
	"testing"

	"github.com/assistbot/assistbot/core"
)

// TestHandOver: a hand-off changes the session's agent, not its state,
// records who handed it to whom and why, and queues a notice for the
// desk alone, in a message of its own; a session that moved on is
// refused and changes nothing.
func TestHandOver(t *testing.T) {
	r := newRig(t)
	s := r.issue(t)
	got, err := r.HandOver(ctx, s.ID, core.Handover{By: alice, To: "bob", Note: "billing question"})
	if err != nil || got.Agent != "bob" || got.State != core.StateIssued {
		t.Fatalf("HandOver: %+v, %v", got, err)
	}
	evs, _ := r.Events(ctx, s.ID)
	last := evs[len(evs)-1]
	if last.Action != core.ActionHandoff || last.Actor != "agent:alice" || last.Detail != "to bob, from alice: billing question" || last.From != core.StateIssued || last.To != core.StateIssued {
		t.Errorf("recorded %+v", last)
	}
	ds, _ := r.Deliveries(ctx, s.ID)
	if len(ds) != 1 || ds[0].To != desk || ds[0].Notice.Kind != core.NoticeHandoff || ds[0].Notice.Assignee != "bob" ||
		ds[0].Notice.Actor != "alice" || ds[0].Notice.Text != "billing question" || ds[0].Notice.SessionID != s.ID {
		t.Fatalf("deliveries %+v", ds)
	}
	// Back to the queue, as one session of a whole conversation.
	got, err = r.HandOver(ctx, s.ID, core.Handover{By: core.Actor{Kind: core.ActorAgent, Name: "bob"}, Whole: true})
	if err != nil || got.Agent != "" {
		t.Fatalf("to the queue: %+v, %v", got, err)
	}
	if evs, _ := r.Events(ctx, s.ID); evs[len(evs)-1].Detail != "to the queue, from bob" {
		t.Errorf("recorded %+v", evs[len(evs)-1])
	}
	ds, _ = r.Deliveries(ctx, s.ID)
	if len(ds) != 2 || ds[0].Notice.SessionID != "" || ds[0].SessionID != s.ID || ds[0].Notice.Assignee != "" {
		t.Errorf("the conversation's notice: %+v", ds[0])
	}
	// Quiet: recorded, not told.
	if _, err := r.HandOver(ctx, s.ID, core.Handover{By: alice, To: "carol", Quiet: true}); err != nil {
		t.Fatal(err)
	}
	if ds, _ = r.Deliveries(ctx, s.ID); len(ds) != 2 {
		t.Errorf("a quiet hand-off queued a notice: %d", len(ds))
	}
	// A note too long, and a session that moved on.
	_, err = r.HandOver(ctx, s.ID, core.Handover{By: alice, To: "bob", Note: strings.Repeat("x", core.MaxNoteRunes+1)})
	wantCode(t, err, core.CodeInvalid)
	if _, err := r.Close(ctx, s.ID, alice); err != nil {
		t.Fatal(err)
	}
	_, err = r.HandOver(ctx, s.ID, core.Handover{By: alice, To: "bob"})
	wantCode(t, err, core.CodeInvalidTransition)
	if msg := core.ErrorMessage(err); msg != "cannot hand the session over: the session is closed" {
		t.Errorf("message %q", msg)
	}
	if now, _ := r.Session(ctx, s.ID); now.Agent != "carol" {
		t.Errorf("a refused hand-off changed the agent to %q", now.Agent)
	}
	// No desk: nothing to tell.
	bare, _, _ := r.Issue(ctx, core.Request{Agent: "alice"})
	if _, err := r.HandOver(ctx, bare.ID, core.Handover{By: alice, To: "bob"}); err != nil {
		t.Fatal(err)
	}
	if ds, _ := r.Deliveries(ctx, bare.ID); len(ds) != 0 {
		t.Errorf("deliveries without a desk: %+v", ds)
	}
}
