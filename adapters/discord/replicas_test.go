package discord

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/core"
)

// TestCardEditedByAnyReplica: the interaction token of an agent's card is
// kept in the store the replicas share, so a change made on a replica
// that never saw the command edits the card, even when the replica that
// answered the agent is gone. Without the shared store, nothing does.
func TestCardEditedByAnyReplica(t *testing.T) {
	for _, shared := range []bool{true, false} {
		r := newRig(t)
		o := r.opts
		if shared {
			o.Memo = r.store
		}
		first, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		in := r.remoteCommand(agent(), supportC, customerOption(patID))
		r.decodeResponse(r.postTo(first, in.json()))
		first.work.Wait()
		first.cards.Wait() // the token is kept; this replica then goes away
		s := r.sessions()[0]

		second, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		r.run(second)
		if _, _, err := r.engine.Send(context.Background(), s.ID, core.Actor{Kind: core.ActorAgent, Name: "alice"}, core.LinkMobile); err != nil {
			t.Fatal(err)
		}
		r.delivery(s.ID, core.NoticeLink)
		// The replica hears the sent link after the delivery is saved,
		// and edits the card after that.
		sent := func() bool {
			m, edited := r.fake.Webhook(in["token"].(string))
			return edited && strings.Contains(string(m.Embeds)+m.Content, "Sent")
		}
		if shared {
			eventually(t, "the card edited by the replica that made the change to say the link was sent", sent)
			continue
		}
		time.Sleep(300 * time.Millisecond)
		second.cards.Wait()
		if _, edited := r.fake.Webhook(in["token"].(string)); edited {
			t.Error("the card was edited without the shared store")
		}
	}
}

// TestNoteWrittenOnce: a failed delivery heard from another replica is
// left to that replica to report: the desk gets one note, not one per
// replica.
func TestNoteWrittenOnce(t *testing.T) {
	r := newRig(t)
	r.fake.RefuseDMs(patID)
	s, _, err := r.engine.Issue(context.Background(), core.Request{Customer: core.Endpoint{Channel: core.ChannelDiscord, Address: patID},
		CustomerName: "Pat", Desk: r.a.Desk(), Agent: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	r.run()
	if _, _, err := r.engine.Send(context.Background(), s.ID, core.Actor{Kind: core.ActorAgent, Name: "alice"}, core.LinkDesktop); err != nil {
		t.Fatal(err)
	}
	d := r.delivery(s.ID, core.NoticeLink)
	r.waitMessage(deskID, "**Pat**: Link to the customer: Not delivered")
	r.a.update(context.Background(), core.Update{Delivery: d, Heard: true})
	if n := len(r.fake.Messages(deskID)); n != 1 {
		t.Errorf("%d notes in the desk after the same failure was heard from another replica, want 1", n)
	}
	r.a.update(context.Background(), core.Update{Delivery: d})
	if n := len(r.fake.Messages(deskID)); n != 2 {
		t.Errorf("%d notes in the desk after this replica's own report, want 2 (the test's control)", n)
	}
}

// TestEscalationReminder: a reminder about a waiting customer is a new
// message in the desk thread naming the agent; the last escalation pings
// the escalation role, or the channel without one, and nobody else.
func TestEscalationReminder(t *testing.T) {
	for _, tc := range []struct {
		role    string
		final   bool
		want    string
		mention string
	}{
		{"", false, "**alice** · Pat has waited 1 min for a technician.", `{"parse":[],"replied_user":false}`},
		{"", true, "**alice** · Pat has waited 3 min for a technician. @here", `{"parse":["everyone"],"replied_user":false}`},
		{roleID, true, "**alice** · Pat has waited 3 min for a technician. <@&" + roleID + ">", `{"parse":[],"roles":["` + roleID + `"],"replied_user":false}`},
	} {
		r := newRig(t, func(o *Options) { o.EscalationRole = tc.role })
		waited, level := time.Minute, 1
		if tc.final {
			waited, level = 3*time.Minute, 2
		}
		d := &core.Delivery{To: r.a.Desk(), Notice: core.Notice{Kind: core.NoticeReminder, Action: core.ActionEscalate,
			Level: level, Final: tc.final, Actor: "alice", Customer: "Pat", Waited: waited, Thread: "390000000000000039"}}
		if _, err := r.a.deliver(context.Background(), d); err != nil {
			t.Fatal(err)
		}
		got := r.waitMessage("390000000000000039", "**alice**")
		if got.Content != tc.want || string(got.AllowedMentions) != tc.mention {
			t.Errorf("role %q, final %v: %q mentioning %s, want %q mentioning %s", tc.role, tc.final, got.Content, got.AllowedMentions, tc.want, tc.mention)
		}
	}
}
