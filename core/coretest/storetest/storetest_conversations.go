package storetest

import (
	"testing"
	"time"

	"github.com/assistbot/assistbot/core"
)

func testConversationRoundTrip(t *testing.T, f *storeFixture) {
	c := f.conversation(core.Endpoint{Channel: core.ChannelSMS, Address: "+15550100001"})
	c.Version = 7 // the store decides
	if err := f.st.CreateConversation(t.Context(), c); err != nil {
		t.Fatalf("CreateConversation: %v", err)
	}
	if c.Version != 1 {
		t.Errorf("Version after create = %d, want 1", c.Version)
	}
	got := f.findConversation(c.ID)
	wantSame(t, "conversation", c, got)
	wantUTC(t, "conversation", got.CreatedAt, got.UpdatedAt)
}

func testConversationUpdate(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	c := f.conversation(core.Endpoint{Channel: core.ChannelWeb, Address: "chat-1"})
	if err := f.st.CreateConversation(ctx, c); err != nil {
		t.Fatalf("CreateConversation: %v", err)
	}
	stale := f.findConversation(c.ID)

	c.CustomerName, c.Locale, c.State = "Ada King", "fr", core.ConversationClosed
	c.Desk = core.Endpoint{Channel: core.ChannelDiscord, Address: "42"}
	c.UpdatedAt = At(time.Hour)
	if err := f.st.UpdateConversation(ctx, c); err != nil {
		t.Fatalf("UpdateConversation: %v", err)
	}
	if c.Version != 2 {
		t.Errorf("Version after update = %d, want 2", c.Version)
	}
	wantSame(t, "updated conversation", c, f.findConversation(c.ID))

	stale.CustomerName = "stale"
	err := f.st.UpdateConversation(ctx, stale)
	wantIs(t, "UpdateConversation(stale)", err, core.ErrVersion)
	if stale.Version != 1 {
		t.Errorf("Version after a refused update = %d, want 1", stale.Version)
	}
	wantSame(t, "conversation after a stale update", c, f.findConversation(c.ID))

	missing := f.conversation(core.Endpoint{})
	missing.Version = 1
	wantCode(t, "UpdateConversation(unknown)", f.st.UpdateConversation(ctx, missing), core.CodeNotFound)
}

func testConversationNotFound(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	_, err := f.st.FindConversation(ctx, "no-such-conversation")
	wantCode(t, "FindConversation(unknown)", err, core.CodeNotFound)
	_, err = f.st.FindOpenConversation(ctx, core.Endpoint{Channel: core.ChannelSMS, Address: "+15550100999"})
	wantCode(t, "FindOpenConversation(unknown)", err, core.CodeNotFound)

	// The zero endpoint is "nowhere": it has no open conversation even
	// when conversations without a customer are open.
	if err := f.st.CreateConversation(ctx, f.conversation(core.Endpoint{})); err != nil {
		t.Fatalf("CreateConversation: %v", err)
	}
	_, err = f.st.FindOpenConversation(ctx, core.Endpoint{})
	wantCode(t, "FindOpenConversation(zero endpoint)", err, core.CodeNotFound)
}

func testConversationDuplicateID(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	c := f.conversation(core.Endpoint{})
	if err := f.st.CreateConversation(ctx, c); err != nil {
		t.Fatalf("CreateConversation: %v", err)
	}
	dup := f.conversation(core.Endpoint{Channel: core.ChannelSMS, Address: "+15550100002"})
	dup.ID = c.ID
	wantCode(t, "CreateConversation(same id)", f.st.CreateConversation(ctx, dup), core.CodeConflict)
	wantSame(t, "conversation", c, f.findConversation(c.ID))
}

func testOpenConversationUnique(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	ep := core.Endpoint{Channel: core.ChannelSMS, Address: "+15550100003"}
	a := f.conversation(ep)
	if err := f.st.CreateConversation(ctx, a); err != nil {
		t.Fatalf("CreateConversation(a): %v", err)
	}
	b := f.conversation(ep)
	wantIs(t, "CreateConversation(second open)", f.st.CreateConversation(ctx, b), core.ErrOpenConversation)
	_, err := f.st.FindConversation(ctx, b.ID)
	wantCode(t, "FindConversation(refused)", err, core.CodeNotFound)

	// Closed conversations, other channels and the zero endpoint do not
	// collide.
	closed := f.conversation(ep)
	closed.State = core.ConversationClosed
	other := f.conversation(core.Endpoint{Channel: core.ChannelWeb, Address: ep.Address})
	nobody1, nobody2 := f.conversation(core.Endpoint{}), f.conversation(core.Endpoint{})
	for _, c := range []*core.Conversation{closed, other, nobody1, nobody2} {
		if err := f.st.CreateConversation(ctx, c); err != nil {
			t.Errorf("CreateConversation(%s, %s): %v", c.Customer, c.State, err)
		}
	}
	got, err := f.st.FindOpenConversation(ctx, ep)
	if err != nil {
		t.Fatalf("FindOpenConversation: %v", err)
	}
	wantSame(t, "open conversation", a, got)

	// Closing a frees the endpoint for b; reopening a then collides.
	a.State = core.ConversationClosed
	if err := f.st.UpdateConversation(ctx, a); err != nil {
		t.Fatalf("UpdateConversation(close a): %v", err)
	}
	if err := f.st.CreateConversation(ctx, b); err != nil {
		t.Fatalf("CreateConversation(b after a closed): %v", err)
	}
	if got, err := f.st.FindOpenConversation(ctx, ep); err != nil || got.ID != b.ID {
		t.Errorf("FindOpenConversation = %v, %v; want %s", got, err, b.ID)
	}
	a.State = core.ConversationOpen
	wantIs(t, "UpdateConversation(reopen a)", f.st.UpdateConversation(ctx, a), core.ErrOpenConversation)
	if a.Version != 2 {
		t.Errorf("Version after a refused update = %d, want 2", a.Version)
	}
	if got := f.findConversation(a.ID); got.State != core.ConversationClosed {
		t.Errorf("a is %s after a refused reopening, want closed", got.State)
	}
}
