package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/assistbot/assistbot/core"
)

// createConversation stores c, which must succeed.
func (f *storeFixture) createConversation(c *core.Conversation) *core.Conversation {
	f.t.Helper()
	if err := f.st.CreateConversation(f.t.Context(), c); err != nil {
		f.t.Fatalf("CreateConversation(%s): %v", c.ID, err)
	}
	return c
}

// message returns a message of conversation convID written at.
func message(convID string, dir core.Direction, text, source string, at time.Time) *core.Message {
	return &core.Message{ConversationID: convID, Direction: dir, Author: "Ada", Text: text, At: at, Source: source}
}

// textDelivery returns a queued text notice of conversation c to its desk.
func textDelivery(c *core.Conversation, text string, at time.Time) *core.Delivery {
	return &core.Delivery{
		ConversationID: c.ID,
		To:             c.Desk,
		Notice:         core.Notice{Kind: core.NoticeText, ConversationID: c.ID, Customer: "…0001", Author: "Ada", Text: text},
		Status:         core.DeliveryQueued,
		NextAttemptAt:  at,
		CreatedAt:      at,
		UpdatedAt:      at,
	}
}

func testConversationByThread(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	c := f.createConversation(f.conversation(core.Endpoint{Channel: core.ChannelSMS, Address: "+15550100001"}))
	other := f.conversation(core.Endpoint{Channel: core.ChannelSMS, Address: "+15550100002"})
	other.DeskThread = "1710428999.000999"
	f.createConversation(other)
	noThread := f.conversation(core.Endpoint{Channel: core.ChannelSMS, Address: "+15550100003"})
	noThread.DeskThread = ""
	f.createConversation(noThread)

	got, err := f.st.FindConversationByThread(ctx, c.Desk, c.DeskThread)
	if err != nil {
		t.Fatalf("FindConversationByThread: %v", err)
	}
	wantSame(t, "conversation by thread", c, got)
	_, err = f.st.FindConversationByThread(ctx, core.Endpoint{Channel: core.ChannelSlack, Address: "C9999"}, c.DeskThread)
	wantCode(t, "the thread under another desk", err, core.CodeNotFound)
	_, err = f.st.FindConversationByThread(ctx, c.Desk, "")
	wantCode(t, "an empty thread", err, core.CodeNotFound)

	// A thread started later is found once recorded.
	noThread.DeskThread = "1710429000.000001"
	if err := f.st.UpdateConversation(ctx, noThread); err != nil {
		t.Fatal(err)
	}
	if got, err := f.st.FindConversationByThread(ctx, noThread.Desk, noThread.DeskThread); err != nil || got.ID != noThread.ID {
		t.Errorf("recorded thread: %v, %v", got, err)
	}
}

func testFindConversations(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	var all []*core.Conversation
	for i, desk := range []string{core.ChannelSlack, core.ChannelConsole, core.ChannelSlack, core.ChannelConsole} {
		c := f.conversation(core.Endpoint{Channel: core.ChannelWeb, Address: f.id("chat")})
		c.Desk = core.Endpoint{Channel: desk, Address: "desk"}
		c.UpdatedAt = At(time.Duration(10-i) * time.Minute) // the first is the most recent
		if i == 3 {
			c.State = core.ConversationClosed
		}
		all = append(all, f.createConversation(c))
	}
	ids := func(list []*core.Conversation) []string {
		var out []string
		for _, c := range list {
			out = append(out, c.ID)
		}
		return out
	}
	for name, tc := range map[string]struct {
		f    core.ConversationFilter
		want []string
	}{
		"all, most recent first": {core.ConversationFilter{}, ids(all)},
		"open":                   {core.ConversationFilter{State: core.ConversationOpen}, ids(all[:3])},
		"console desk":           {core.ConversationFilter{DeskChannel: core.ChannelConsole}, []string{all[1].ID, all[3].ID}},
		"open on the console":    {core.ConversationFilter{State: core.ConversationOpen, DeskChannel: core.ChannelConsole}, []string{all[1].ID}},
		"limit":                  {core.ConversationFilter{Limit: 2}, ids(all[:2])},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := f.st.FindConversations(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			wantSame(t, "conversations", tc.want, ids(got))
		})
	}
}

func testAppendMessage(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	c := f.createConversation(f.conversation(core.Endpoint{Channel: core.ChannelSMS, Address: "+15550100001"}))
	at := At(time.Hour)
	m := message(c.ID, core.FromCustomer, "my screen is black", "sms:SM0001", at)
	d := textDelivery(c, m.Text, at)
	if err := f.st.AppendMessage(ctx, &core.MessageChange{Message: m, Deliveries: []*core.Delivery{d}}); err != nil {
		t.Fatalf("AppendMessage: %v", err)
	}
	if m.ID == 0 || d.ID == 0 {
		t.Fatalf("ids not set: message %d, delivery %d", m.ID, d.ID)
	}
	got, err := f.st.FindMessages(ctx, core.MessageFilter{ConversationID: c.ID})
	if err != nil || len(got) != 1 {
		t.Fatalf("FindMessages: %v, %v", got, err)
	}
	wantSame(t, "message", m, got[0])
	wantUTC(t, "message", got[0].At)
	if conv := f.findConversation(c.ID); !conv.UpdatedAt.Equal(at) {
		t.Errorf("conversation UpdatedAt = %v, want the message's time %v", conv.UpdatedAt, at)
	}
	claimed, err := f.st.ClaimDeliveries(ctx, at, 10, time.Minute)
	if err != nil || len(claimed) != 1 || claimed[0].ID != d.ID || claimed[0].Notice.Text != m.Text {
		t.Errorf("ClaimDeliveries: %+v, %v", claimed, err)
	}
	// An older message does not move the conversation back in time.
	old := message(c.ID, core.FromAgent, "earlier", "", At(time.Minute))
	if err := f.st.AppendMessage(ctx, &core.MessageChange{Message: old}); err != nil {
		t.Fatal(err)
	}
	if conv := f.findConversation(c.ID); !conv.UpdatedAt.Equal(at) {
		t.Errorf("conversation UpdatedAt moved back to %v", conv.UpdatedAt)
	}
}

func testFindNewestMessages(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	c := f.createConversation(f.conversation(core.Endpoint{Channel: core.ChannelSMS, Address: "+15550100001"}))
	var ms []*core.Message
	for i := range 5 {
		m := message(c.ID, core.FromCustomer, fmt.Sprint("line ", i), "", At(time.Duration(i)*time.Minute))
		if err := f.st.AppendMessage(ctx, &core.MessageChange{Message: m}); err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	texts := func(got []*core.Message) []string {
		var out []string
		for _, m := range got {
			out = append(out, m.Text)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    core.MessageFilter
		want []string
	}{
		{"newest two", core.MessageFilter{ConversationID: c.ID, Limit: 2, Newest: true}, []string{"line 3", "line 4"}},
		{"oldest two", core.MessageFilter{ConversationID: c.ID, Limit: 2}, []string{"line 0", "line 1"}},
		{"newest after the fourth", core.MessageFilter{ConversationID: c.ID, AfterID: ms[3].ID, Limit: 3, Newest: true}, []string{"line 4"}},
		{"all, newest", core.MessageFilter{ConversationID: c.ID, Newest: true}, []string{"line 0", "line 1", "line 2", "line 3", "line 4"}},
	} {
		got, err := f.st.FindMessages(ctx, tc.f)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if g := texts(got); fmt.Sprint(g) != fmt.Sprint(tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, g, tc.want)
		}
	}
}

// A message meant for an open conversation (a customer's, an agent's
// reply) is refused once the conversation closed, with nothing written;
// one that need not be is saved.
func testAppendMessageToClosed(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	c := f.createConversation(f.conversation(core.Endpoint{Channel: core.ChannelSMS, Address: "+15550100001"}))
	c.State, c.UpdatedAt = core.ConversationClosed, At(time.Hour)
	if err := f.st.UpdateConversation(ctx, c); err != nil {
		t.Fatalf("UpdateConversation: %v", err)
	}
	m := message(c.ID, core.FromCustomer, "are you there?", "sms:SM0009", At(2*time.Hour))
	d := textDelivery(c, m.Text, At(2*time.Hour))
	err := f.st.AppendMessage(ctx, &core.MessageChange{Message: m, Deliveries: []*core.Delivery{d}, Open: true})
	wantIs(t, "AppendMessage(Open, closed conversation)", err, core.ErrConversationClosed)
	if msgs, _ := f.st.FindMessages(ctx, core.MessageFilter{ConversationID: c.ID}); len(msgs) != 0 {
		t.Errorf("%d messages in the closed conversation, want none", len(msgs))
	}
	if ds, _ := f.st.FindDeliveries(ctx, core.DeliveryFilter{ConversationID: c.ID}); len(ds) != 0 {
		t.Errorf("%d deliveries for the refused message, want none", len(ds))
	}
	if conv := f.findConversation(c.ID); !conv.UpdatedAt.Equal(At(time.Hour)) {
		t.Errorf("the refused message moved the conversation to %v", conv.UpdatedAt)
	}
	err = f.st.AppendMessage(ctx, &core.MessageChange{Message: message("nope", core.FromCustomer, "hi", "", At(time.Hour)), Open: true})
	if core.ErrorCode(err) != core.CodeNotFound {
		t.Errorf("AppendMessage(Open, no such conversation) = %v, want not found", err)
	}
	late := message(c.ID, core.FromAgent, "noted", "", At(3*time.Hour))
	if err := f.st.AppendMessage(ctx, &core.MessageChange{Message: late}); err != nil {
		t.Errorf("AppendMessage(closed conversation, not Open) = %v", err)
	}
}

func testAppendMessageNewConversation(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	c := f.conversation(core.Endpoint{Channel: core.ChannelSMS, Address: "+15550100001"})
	m := message(c.ID, core.FromCustomer, "hello", "sms:SM0002", At(time.Hour))
	if err := f.st.AppendMessage(ctx, &core.MessageChange{Conversation: c, Message: m}); err != nil {
		t.Fatalf("AppendMessage: %v", err)
	}
	if c.Version != 1 {
		t.Errorf("conversation Version = %d, want 1", c.Version)
	}
	got, err := f.st.FindOpenConversation(ctx, c.Customer)
	if err != nil || got.ID != c.ID {
		t.Fatalf("FindOpenConversation: %v, %v", got, err)
	}
	if msgs, _ := f.st.FindMessages(ctx, core.MessageFilter{ConversationID: c.ID}); len(msgs) != 1 {
		t.Errorf("%d messages, want 1", len(msgs))
	}
}

func testAppendMessageDuplicate(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	c := f.createConversation(f.conversation(core.Endpoint{Channel: core.ChannelSMS, Address: "+15550100001"}))
	first := message(c.ID, core.FromCustomer, "hello", "sms:SM0003", At(time.Hour))
	if err := f.st.AppendMessage(ctx, &core.MessageChange{Message: first, Deliveries: []*core.Delivery{textDelivery(c, "hello", At(time.Hour))}}); err != nil {
		t.Fatal(err)
	}
	again := message(c.ID, core.FromCustomer, "hello", "sms:SM0003", At(2*time.Hour))
	d := textDelivery(c, "hello", At(2*time.Hour))
	err := f.st.AppendMessage(ctx, &core.MessageChange{Message: again, Deliveries: []*core.Delivery{d}})
	wantIs(t, "AppendMessage(same source)", err, core.ErrDuplicate)
	if again.ID != 0 || d.ID != 0 {
		t.Errorf("a refused append set ids: message %d, delivery %d", again.ID, d.ID)
	}
	if msgs, _ := f.st.FindMessages(ctx, core.MessageFilter{ConversationID: c.ID}); len(msgs) != 1 {
		t.Errorf("%d messages after a duplicate, want 1", len(msgs))
	}
	if ds, _ := f.st.FindDeliveries(ctx, core.DeliveryFilter{ConversationID: c.ID}); len(ds) != 1 {
		t.Errorf("%d deliveries after a duplicate, want 1", len(ds))
	}
	// A duplicate that would open a conversation opens none.
	nc := f.conversation(core.Endpoint{Channel: core.ChannelSMS, Address: "+15550100002"})
	dup := message(nc.ID, core.FromCustomer, "hello", "sms:SM0003", At(3*time.Hour))
	wantIs(t, "AppendMessage(same source, new conversation)", f.st.AppendMessage(ctx, &core.MessageChange{Conversation: nc, Message: dup}), core.ErrDuplicate)
	_, err = f.st.FindConversation(ctx, nc.ID)
	wantCode(t, "the duplicate's conversation", err, core.CodeNotFound)
	// Messages without a source are never duplicates.
	for range 2 {
		if err := f.st.AppendMessage(ctx, &core.MessageChange{Message: message(c.ID, core.FromAgent, "ok", "", At(time.Hour))}); err != nil {
			t.Errorf("AppendMessage(no source): %v", err)
		}
	}
}

func testAppendMessageRefused(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	_, err := f.st.FindMessages(ctx, core.MessageFilter{ConversationID: "nope"})
	if err != nil {
		t.Errorf("FindMessages(unknown conversation): %v, want an empty list", err)
	}
	err = f.st.AppendMessage(ctx, &core.MessageChange{Message: message("nope", core.FromAgent, "hi", "", At(0))})
	wantCode(t, "AppendMessage(unknown conversation)", err, core.CodeNotFound)

	open := f.createConversation(f.conversation(core.Endpoint{Channel: core.ChannelSMS, Address: "+15550100001"}))
	rival := f.conversation(open.Customer)
	m := message(rival.ID, core.FromCustomer, "hi", "sms:SM0004", At(time.Hour))
	err = f.st.AppendMessage(ctx, &core.MessageChange{Conversation: rival, Message: m, Deliveries: []*core.Delivery{textDelivery(rival, "hi", At(time.Hour))}})
	wantIs(t, "AppendMessage(second open conversation)", err, core.ErrOpenConversation)
	if m.ID != 0 {
		t.Errorf("a refused append set the message id %d", m.ID)
	}
	if ds, _ := f.st.FindDeliveries(ctx, core.DeliveryFilter{}); len(ds) != 0 {
		t.Errorf("a refused append queued %d deliveries", len(ds))
	}
	// The refused message's source is free for the retry.
	m2 := message(open.ID, core.FromCustomer, "hi", "sms:SM0004", At(time.Hour))
	if err := f.st.AppendMessage(ctx, &core.MessageChange{Message: m2}); err != nil {
		t.Errorf("retry into the open conversation: %v", err)
	}
}

func testFindMessages(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	c := f.createConversation(f.conversation(core.Endpoint{Channel: core.ChannelWeb, Address: "chat-1"}))
	other := f.createConversation(f.conversation(core.Endpoint{Channel: core.ChannelWeb, Address: "chat-2"}))
	var ids []int64
	for i := range 5 {
		m := message(c.ID, core.FromCustomer, "line", "", At(time.Duration(i)*time.Second))
		if err := f.st.AppendMessage(ctx, &core.MessageChange{Message: m}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
		if err := f.st.AppendMessage(ctx, &core.MessageChange{Message: message(other.ID, core.FromAgent, "x", "", At(0))}); err != nil {
			t.Fatal(err)
		}
	}
	list := func(f2 core.MessageFilter) []int64 {
		got, err := f.st.FindMessages(ctx, f2)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, m := range got {
			out = append(out, m.ID)
		}
		return out
	}
	wantSame(t, "all, oldest first", ids, list(core.MessageFilter{ConversationID: c.ID}))
	wantSame(t, "after the second", ids[2:], list(core.MessageFilter{ConversationID: c.ID, AfterID: ids[1]}))
	wantSame(t, "limit", ids[:2], list(core.MessageFilter{ConversationID: c.ID, Limit: 2}))
}

func testOptOut(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	a := core.Endpoint{Channel: core.ChannelSMS, Address: "+15550100001"}
	b := core.Endpoint{Channel: core.ChannelSMS, Address: "+15550100002"}
	check := func(ep core.Endpoint, want bool) {
		t.Helper()
		got, err := f.st.OptedOut(ctx, ep)
		if err != nil || got != want {
			t.Errorf("OptedOut(%s) = %v, %v; want %v", ep, got, err, want)
		}
	}
	check(a, false)
	if err := f.st.SetOptOut(ctx, a, true, At(0)); err != nil {
		t.Fatal(err)
	}
	check(a, true)
	check(b, false)
	if err := f.st.SetOptOut(ctx, a, true, At(time.Minute)); err != nil {
		t.Errorf("opting out twice: %v", err)
	}
	if err := f.st.SetOptOut(ctx, a, false, At(time.Hour)); err != nil {
		t.Fatal(err)
	}
	check(a, false)
	if err := f.st.SetOptOut(ctx, b, false, At(0)); err != nil {
		t.Errorf("opting in an endpoint never opted out: %v", err)
	}
}
