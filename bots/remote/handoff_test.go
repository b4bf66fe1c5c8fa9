package remote_test

import (
	"context"
	"testing"

	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
)

// TestHandOff: who may hand what to whom. A session's own agent hands it
// to anyone or back to the queue; anyone takes a session themselves; a
// supervisor hands anything; anyone else is refused and nothing changes.
func TestHandOff(t *testing.T) {
	r := newRig(t)
	s, c := r.issue(t, pat)
	bob := remote.Asker{Actor: core.Actor{Kind: core.ActorAgent, Name: "bob"}, Names: []string{"bob", "U0BOB"}}
	me := remote.Asker{Actor: alice, Names: []string{"alice"}}
	boss := remote.Asker{Actor: core.Actor{Kind: core.ActorAgent, Name: "sue"}, Names: []string{"sue"}, Supervisor: true}

	_, err := r.bot.HandOffSession(ctx, bob, s.ID, "carol", "")
	if core.ErrorCode(err) != core.CodeForbidden || r.bot.ErrorText(err, "en") != "Only the session's own agent or technician, or a supervisor, can hand it to someone else. You can take it yourself." {
		t.Errorf("bob hands alice's session: %v (%q)", err, r.bot.ErrorText(err, "en"))
	}
	if got, _ := r.engine.Session(ctx, s.ID); got.Agent != "alice" {
		t.Errorf("a refused hand-off changed the agent to %q", got.Agent)
	}
	got, err := r.bot.HandOffSession(ctx, bob, s.ID, "U0BOB", "mine now")
	if err != nil || got.Agent != "U0BOB" {
		t.Fatalf("bob takes it: %+v, %v", got, err)
	}
	got, err = r.bot.HandOffSession(ctx, bob, s.ID, "", "")
	if err != nil || got.Agent != "" {
		t.Fatalf("bob puts it back: %+v, %v", got, err)
	}
	if _, err := r.bot.HandOffSession(ctx, me, s.ID, "bob", ""); core.ErrorCode(err) != core.CodeForbidden {
		t.Errorf("alice hands a session of the queue: %v", err)
	}
	if got, err = r.bot.HandOffSession(ctx, boss, s.ID, "carol", "vip"); err != nil || got.Agent != "carol" {
		t.Fatalf("the supervisor: %+v, %v", got, err)
	}

	// The whole conversation: its open sessions, one notice.
	second, _, err := r.engine.Issue(ctx, core.Request{ConversationID: c.ID, Agent: "carol"})
	if err != nil {
		t.Fatal(err)
	}
	carol := remote.Asker{Actor: core.Actor{Kind: core.ActorAgent, Name: "carol"}, Names: []string{"carol"}}
	done, err := r.bot.HandOffConversation(ctx, carol, c.ID, "dave", "over to you")
	if err != nil || len(done) != 2 || done[0].Agent != "dave" || done[1].Agent != "dave" {
		t.Fatalf("the conversation: %+v, %v", done, err)
	}
	notices := 0
	for _, id := range []string{s.ID, second.ID} {
		ds, _ := r.engine.Deliveries(ctx, id)
		for _, d := range ds {
			if d.Notice.Kind == core.NoticeHandoff && d.Notice.SessionID == "" {
				notices++
			}
		}
	}
	// The rig's conversation has no desk: nothing to tell.
	if notices != 0 {
		t.Errorf("%d notices without a desk", notices)
	}
	if _, err := r.bot.HandOffConversation(ctx, carol, c.ID, "erin", ""); core.ErrorCode(err) != core.CodeForbidden {
		t.Errorf("carol hands dave's conversation: %v", err)
	}
	// Sessions that moved on.
	for _, id := range []string{s.ID, second.ID} {
		if _, err := r.engine.Close(ctx, id, alice); err != nil {
			t.Fatal(err)
		}
	}
	_, err = r.bot.HandOffSession(ctx, boss, s.ID, "bob", "")
	if core.ErrorCode(err) != core.CodeInvalidTransition || core.ErrorMessage(err) != "cannot hand the session over: the session is closed" ||
		r.bot.ErrorText(err, "en") != "This session is Closed, so that is not possible now." {
		t.Errorf("a closed session: %v (%q)", err, r.bot.ErrorText(err, "en"))
	}
	_, err = r.bot.HandOffConversation(ctx, boss, c.ID, "bob", "")
	if core.ErrorCode(err) != core.CodeInvalidTransition || r.bot.ErrorText(err, "en") != "This conversation has no open remote session to hand over." {
		t.Errorf("nothing open: %v (%q)", err, r.bot.ErrorText(err, "en"))
	}
	if _, err := r.engine.CloseConversation(ctx, c.ID, alice); err != nil {
		t.Fatal(err)
	}
	if _, err = r.bot.HandOffConversation(ctx, boss, c.ID, "bob", ""); core.ErrorMessage(err) != "the conversation is closed" {
		t.Errorf("a closed conversation: %v", err)
	}
	// Refusals of the colleague, named.
	if got := r.bot.ErrorText(remote.HandoffRefusal("zed", false), "en"); got != "There is no colleague called zed: the session was not handed over." {
		t.Errorf("unknown: %q", got)
	}
	if err := remote.HandoffRefusal("zed", true); core.ErrorCode(err) != core.CodeForbidden {
		t.Errorf("not an agent: %v", err)
	}
}

// staleRead is the engine with its session reads made before a change
// that the hand-off then meets.
type staleRead struct {
	*core.Engine
	stale *core.Session
}

func (e staleRead) Session(context.Context, string) (*core.Session, error) {
	s := *e.stale
	return &s, nil
}

// TestHandOffMeetsAnotherHandOff: alice reads her session, a supervisor
// hands it to bob, and alice's hand-off to carol is written after: it is
// refused, since the session is no longer hers, and bob keeps it.
func TestHandOffMeetsAnotherHandOff(t *testing.T) {
	r := newRig(t)
	s, _ := r.issue(t, pat)
	boss := remote.Asker{Actor: core.Actor{Kind: core.ActorAgent, Name: "sue"}, Names: []string{"sue"}, Supervisor: true}
	if _, err := r.bot.HandOffSession(ctx, boss, s.ID, "bob", ""); err != nil {
		t.Fatal(err)
	}
	me := remote.Asker{Actor: alice, Names: []string{"alice"}}
	_, err := remote.HandOffSession(ctx, staleRead{r.engine, s}, me, s.ID, "carol", "")
	if core.ErrorCode(err) != core.CodeForbidden {
		t.Errorf("alice's hand-off of a session handed to bob meanwhile: %v", err)
	}
	if got, _ := r.engine.Session(ctx, s.ID); got.Agent != "bob" {
		t.Errorf("the session's agent is %q, want bob", got.Agent)
	}
}

// TestHandoffText: what the desk reads of a hand-off.
func TestHandoffText(t *testing.T) {
	r := newRig(t)
	text, note := r.bot.HandoffText(core.Notice{Kind: core.NoticeHandoff, SessionID: "s1", Actor: "alice", Assignee: "U0BOB", Text: "vip"}, "en", "<@U0BOB>")
	if text != "alice handed this remote session to <@U0BOB>." || note != "Note: vip" {
		t.Errorf("%q %q", text, note)
	}
	text, note = r.bot.HandoffText(core.Notice{Kind: core.NoticeHandoff, Actor: "alice"}, "de", "")
	if text != "alice hat dieses Gespräch an die Warteschlange übergeben." || note != "" {
		t.Errorf("%q %q", text, note)
	}
}
