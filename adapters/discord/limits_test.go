package discord

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
)

// TestLongMessages: a customer's message longer than Discord's 2,000
// characters (a Nitro DM, the web chat's 4,000) reaches the desk thread
// whole, in parts; an agent's reply longer than a DM takes is refused
// before it is queued, rather than cut.
func TestLongMessages(t *testing.T) {
	r := newRig(t)
	r.run()
	long := strings.TrimSpace(strings.Repeat("abcdefghi ", 300)) // 2,999 characters
	r.a.onMessageCreate(r.a.session, r.dm("381000000000000001", long))
	var thread string
	eventually(t, "the desk thread", func() bool {
		if th := r.fake.Threads(); len(th) == 1 {
			thread = th[0].ID
			return len(r.fake.Messages(thread)) == 2
		}
		return false
	})
	var words []string
	for _, m := range r.fake.Messages(thread) {
		if n := utf8.RuneCountInString(m.Content); n > maxContent {
			t.Errorf("a part of %d characters", n)
		}
		words = append(words, strings.Fields(m.Content)...)
	}
	if got := strings.Join(words, " "); !strings.HasSuffix(got, long) {
		t.Errorf("the desk got %d characters, ending %q", utf8.RuneCountInString(got), got[max(0, len(got)-12):])
	}
	convs, _ := r.engine.Conversations(context.Background(), core.ConversationFilter{})
	_, _, err := r.engine.AgentMessage(context.Background(), convs[0].ID, core.Actor{Kind: core.ActorAgent, Name: "alice"}, long, "")
	if core.ErrorCode(err) != core.CodeInvalid || !strings.Contains(core.ErrorMessage(err), "at most 2000 characters") {
		t.Errorf("a 2,999-character reply: %v", err)
	}
}

// TestSplit cuts at a word break near the limit, else hard.
func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want []string
	}{
		{"short", 10, []string{"short"}},
		{"aaaa bbbb cccc", 10, []string{"aaaa bbbb", "cccc"}},
		{"aaaaaaaaaaaaaaa", 10, []string{"aaaaaaaaaa", "aaaaa"}},
		{"line one\nline two", 10, []string{"line one", "line two"}},
		{"ééééééééééé", 10, []string{"éééééééééé", "é"}},
	} {
		if got := split(tc.s, tc.n); !slices.Equal(got, tc.want) {
			t.Errorf("split(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}

// flakyEngine fails Conversation once, as a store does for a moment.
type flakyEngine struct {
	Engine
	fail atomic.Bool
}

func (f *flakyEngine) Conversation(ctx context.Context, id string) (*core.Conversation, error) {
	if f.fail.CompareAndSwap(true, false) {
		return nil, core.Errorf(core.CodeUnavailable, "database is restarting")
	}
	return f.Engine.Conversation(ctx, id)
}

// TestDeskTextWhileTheConversationCannotBeRead: a customer's message for
// the desk thread, delivered while the conversation cannot be read for a
// moment, is retried; it was sent as a DM to a "user" whose id is the
// desk channel's, which Discord refuses for good.
func TestDeskTextWhileTheConversationCannotBeRead(t *testing.T) {
	var fe *flakyEngine
	r := newRig(t, func(o *Options) { fe = &flakyEngine{Engine: o.Engine}; o.Engine = fe })
	r.run()
	r.a.onMessageCreate(r.a.session, r.dm("382000000000000001", "hello"))
	var conv *core.Conversation
	eventually(t, "the conversation's thread recorded", func() bool {
		convs, _ := r.engine.Conversations(context.Background(), core.ConversationFilter{})
		if len(convs) == 1 && convs[0].DeskThread != "" {
			conv = convs[0]
			return true
		}
		return false
	})
	fe.fail.Store(true)
	d := &core.Delivery{To: r.a.Desk(), ConversationID: conv.ID,
		Notice: core.Notice{Kind: core.NoticeText, Author: "Pat", Text: "my second message", Thread: conv.DeskThread}}
	_, err := r.a.deliver(context.Background(), d)
	if core.ErrorCode(err) != core.CodeUnavailable {
		t.Errorf("delivered while the conversation could not be read: %v, want unavailable, to retry", err)
	}
	if _, err := r.a.deliver(context.Background(), d); err != nil { // the outbox's retry
		t.Fatalf("the retry: %v", err)
	}
	inThread := 0
	for _, m := range r.fake.Messages(conv.DeskThread) {
		if strings.Contains(m.Content, "my second message") {
			inThread++
		}
	}
	if inThread != 1 {
		t.Errorf("the message is in the desk thread %d times, want once", inThread)
	}
	if n := len(r.fake.DMs(deskID)); n > 0 {
		t.Errorf("the desk-bound message was sent as a DM to user %s (the desk channel's id)", deskID)
	}
}

// TestCardAfterTakingTheSessionBack: alice hands her session to Bob on
// her card's picker, then takes it back. The hand-off names her by her
// Discord user id, /remote by her user name: her card's buttons work
// either way.
func TestCardAfterTakingTheSessionBack(t *testing.T) {
	r := newRig(t)
	r.run()
	r.post(r.remoteCommand(agent(), supportC, customerOption(patID)).json())
	s := r.sessions()[0]
	if resp := r.decodeResponse(r.post(r.pick(agent(), s.ID, bobID, []string{roleID}).json())); resp.Type != 7 {
		t.Fatalf("hand to Bob: %d %q", resp.Type, resp.Data.Content)
	}
	if resp := r.decodeResponse(r.post(r.pick(agent(), s.ID, aliceID, []string{roleID}).json())); resp.Type != 7 {
		t.Fatalf("take it back: %d %q", resp.Type, resp.Data.Content)
	}
	got, _ := r.engine.Session(context.Background(), s.ID)
	resp := r.decodeResponse(r.post(r.click(agent(), supportC, remote.ActionSendDesktop+":"+s.ID, "120000000000000012", 64).json()))
	if resp.Type != 7 {
		t.Errorf("alice's own card after taking the session back (agent now %q): type %d %q", got.Agent, resp.Type, resp.Data.Content)
	}
}
