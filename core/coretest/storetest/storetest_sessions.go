package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/assistbot/assistbot/core"
)

func testSessionRoundTrip(t *testing.T, f *storeFixture) {
	c := f.conversation(core.Endpoint{Channel: core.ChannelSMS, Address: "+15550100010"})
	s := f.session(c.ID, "012345", core.StateIssued)
	s.Version, c.Version = 9, 9 // the store decides
	ch := &core.Change{Conversation: c, Session: s,
		Events: []core.Event{NewEvent(s, core.ActionIssue, "", core.StateIssued, s.CreatedAt)}}
	if err := f.st.CreateSession(t.Context(), ch); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	if s.Version != 1 || c.Version != 1 {
		t.Errorf("versions after create: session %d, conversation %d; want 1 and 1", s.Version, c.Version)
	}
	got := f.findSession(s.ID)
	wantSame(t, "session", s, got)
	wantUTC(t, "session", sessionTimes(got)...)
	wantSame(t, "conversation", c, f.findConversation(c.ID))
}

func testSessionZeroValues(t *testing.T, f *storeFixture) {
	c := f.conversation(core.Endpoint{})
	s := &core.Session{ID: f.id("sess"), ConversationID: c.ID, PIN: "000000", State: core.StateIssued}
	if err := f.st.CreateSession(t.Context(), &core.Change{Conversation: c, Session: s}); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	got := f.findSession(s.ID)
	wantSame(t, "session", s, got)
	for i, tm := range sessionTimes(got) {
		if !tm.IsZero() {
			t.Errorf("time %d = %v, want the zero time", i, tm)
		}
	}
}

func testSessionWithExistingConversation(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	c := f.conversation(core.Endpoint{Channel: core.ChannelWeb, Address: "chat-2"})
	if err := f.st.CreateConversation(ctx, c); err != nil {
		t.Fatalf("CreateConversation: %v", err)
	}
	s := f.session(c.ID, "123456", core.StateIssued)
	if err := f.st.CreateSession(ctx, &core.Change{Session: s}); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	wantSame(t, "session", s, f.findSession(s.ID))
	wantSame(t, "conversation", c, f.findConversation(c.ID))
}

func testSessionUnknownConversation(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	s := f.session("no-such-conversation", "123456", core.StateIssued)
	err := f.st.CreateSession(ctx, &core.Change{Session: s})
	wantCode(t, "CreateSession(unknown conversation)", err, core.CodeNotFound)
	_, err = f.st.FindSession(ctx, s.ID)
	wantCode(t, "FindSession(refused)", err, core.CodeNotFound)
}

func testSessionDuplicateID(t *testing.T, f *storeFixture) {
	s := f.issue("123456", core.StateIssued)
	dup := f.session(s.ConversationID, "654321", core.StateWaiting)
	dup.ID = s.ID
	err := f.st.CreateSession(t.Context(), &core.Change{Session: dup})
	wantCode(t, "CreateSession(same id)", err, core.CodeConflict)
	wantSame(t, "session", s, f.findSession(s.ID))
}

func testSessionOpenConversationConflict(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	ep := core.Endpoint{Channel: core.ChannelSMS, Address: "+15550100011"}
	if err := f.st.CreateConversation(ctx, f.conversation(ep)); err != nil {
		t.Fatalf("CreateConversation: %v", err)
	}
	c := f.conversation(ep)
	s := f.session(c.ID, "123456", core.StateIssued)
	err := f.st.CreateSession(ctx, &core.Change{Conversation: c, Session: s})
	wantIs(t, "CreateSession(second open conversation)", err, core.ErrOpenConversation)
	_, err = f.st.FindSession(ctx, s.ID)
	wantCode(t, "FindSession(refused)", err, core.CodeNotFound)
}

func testSessionPINInUseIsAtomic(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	for _, state := range []core.State{core.StateIssued, core.StateSent} {
		t.Run(string(state), func(t *testing.T) {
			f := f.sub(t)
			pin := "11111" + fmt.Sprint(len(state))
			live := f.issue(pin, state)
			ep := core.Endpoint{Channel: core.ChannelSMS, Address: "+1555010002" + fmt.Sprint(len(state))}
			c := f.conversation(ep)
			s := f.session(c.ID, pin, core.StateIssued)
			d := newDelivery(s, s.CreatedAt)
			ch := &core.Change{Conversation: c, Session: s, Deliveries: []*core.Delivery{d},
				Events: []core.Event{NewEvent(s, core.ActionIssue, "", core.StateIssued, s.CreatedAt)}}
			wantIs(t, "CreateSession(live pin)", f.st.CreateSession(ctx, ch), core.ErrPINInUse)
			if s.Version != 0 || ch.Events[0].ID != 0 || d.ID != 0 {
				t.Errorf("a refused create changed the caller's change: version %d, event id %d, delivery id %d",
					s.Version, ch.Events[0].ID, d.ID)
			}
			_, err := f.st.FindSession(ctx, s.ID)
			wantCode(t, "FindSession(refused)", err, core.CodeNotFound)
			_, err = f.st.FindConversation(ctx, c.ID)
			wantCode(t, "FindConversation(created with a refused session)", err, core.CodeNotFound)
			_, err = f.st.FindOpenConversation(ctx, ep)
			wantCode(t, "FindOpenConversation(created with a refused session)", err, core.CodeNotFound)
			if evs := f.findEvents(s.ID); len(evs) != 0 {
				t.Errorf("refused session has events %v", evs)
			}
			if ds, err := f.st.FindDeliveries(ctx, core.DeliveryFilter{SessionID: s.ID}); err != nil || len(ds) != 0 {
				t.Errorf("refused session has deliveries %v (err %v)", ds, err)
			}

			// The same PIN on a session that is not live is no conflict.
			s.State, s.ConversationID = core.StateWaiting, live.ConversationID
			ch.Conversation, ch.Deliveries = nil, nil
			if err := f.st.CreateSession(ctx, ch); err != nil {
				t.Errorf("CreateSession(same pin, not live): %v", err)
			}
		})
	}
}

func testSessionUpdate(t *testing.T, f *storeFixture) {
	s := f.issue("123456", core.StateIssued)
	s.State, s.Device, s.Mode = core.StateActive, core.DeviceMobile, core.ModeControl
	s.Technician, s.Locale, s.CustomerKey, s.Origin = "tech2@example.test", "fr", "00ff", "C0OTHER"
	s.UpdatedAt, s.JoinedAt, s.StartedAt, s.EndedAt = At(time.Hour), At(time.Hour), At(time.Hour), time.Time{}
	e1 := NewEvent(s, core.ActionJoin, core.StateIssued, core.StateWaiting, At(time.Hour))
	e2 := NewEvent(s, core.ActionStart, core.StateWaiting, core.StateActive, At(time.Hour))
	d := newDelivery(s, At(time.Hour))
	ch := &core.Change{Session: s, Events: []core.Event{e1, e2}, Deliveries: []*core.Delivery{d}}
	f.update(ch)
	if s.Version != 2 {
		t.Errorf("Version after update = %d, want 2", s.Version)
	}
	if ch.Events[0].ID == 0 || ch.Events[1].ID <= ch.Events[0].ID || d.ID == 0 {
		t.Errorf("ids after update: events %d, %d; delivery %d", ch.Events[0].ID, ch.Events[1].ID, d.ID)
	}
	wantSame(t, "session", s, f.findSession(s.ID))
	evs := f.findEvents(s.ID)
	if len(evs) != 3 {
		t.Fatalf("got %d events, want 3", len(evs))
	}
	wantSame(t, "events written by the update", ch.Events, evs[1:])
	wantSame(t, "delivery", d, f.findDelivery(d.ID))
}

func testSessionStaleVersion(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	s := f.issue("123456", core.StateIssued)
	a, b := f.findSession(s.ID), f.findSession(s.ID)

	a.State = core.StateSent
	f.update(&core.Change{Session: a, Deliveries: []*core.Delivery{newDelivery(a, a.CreatedAt)},
		Events: []core.Event{NewEvent(a, core.ActionSend, core.StateIssued, core.StateSent, At(time.Hour))}})

	b.State, b.Agent = core.StateClosed, "someone else"
	d := newDelivery(b, b.CreatedAt)
	ch := &core.Change{Session: b, Deliveries: []*core.Delivery{d},
		Events: []core.Event{NewEvent(b, core.ActionClose, core.StateIssued, core.StateClosed, At(time.Hour))}}
	wantIs(t, "UpdateSession(stale)", f.st.UpdateSession(ctx, ch), core.ErrVersion)
	if b.Version != 1 || ch.Events[0].ID != 0 || d.ID != 0 {
		t.Errorf("a refused update changed the caller's change: version %d, event id %d, delivery id %d",
			b.Version, ch.Events[0].ID, d.ID)
	}
	wantSame(t, "session after a stale update", a, f.findSession(s.ID))
	if evs := f.findEvents(s.ID); len(evs) != 2 {
		t.Errorf("got %d events, want 2 (issue, send): %v", len(evs), evs)
	}
	ds, err := f.st.FindDeliveries(ctx, core.DeliveryFilter{SessionID: s.ID})
	if err != nil || len(ds) != 1 {
		t.Errorf("got deliveries %v (err %v), want only the send's", ds, err)
	}
}

func testSessionUpdateNotFound(t *testing.T, f *storeFixture) {
	s := f.session("no-such-conversation", "123456", core.StateIssued)
	s.Version = 1
	wantCode(t, "UpdateSession(unknown)", f.st.UpdateSession(t.Context(), &core.Change{Session: s}), core.CodeNotFound)
}

// testPINFreedWhenNotLive checks that a PIN is taken only while its
// session is issued or sent, on create and on update alike.
func testPINFreedWhenNotLive(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	for i, state := range []core.State{core.StateWaiting, core.StateActive, core.StateEnded, core.StateClosed, core.StateExpired} {
		t.Run(string(state), func(t *testing.T) {
			f := f.sub(t)
			pin := fmt.Sprintf("3%05d", i)
			a := f.issue(pin, core.StateIssued)
			b := f.session(a.ConversationID, pin, core.StateIssued)
			wantIs(t, "CreateSession(pin of an issued session)", f.st.CreateSession(ctx, &core.Change{Session: b}), core.ErrPINInUse)

			a.State = core.StateSent // keeping its own live PIN is no conflict
			f.update(&core.Change{Session: a})
			wantIs(t, "CreateSession(pin of a sent session)", f.st.CreateSession(ctx, &core.Change{Session: b}), core.ErrPINInUse)

			a.State = state
			f.update(&core.Change{Session: a})
			if err := f.st.CreateSession(ctx, &core.Change{Session: b}); err != nil {
				t.Fatalf("CreateSession(pin of a %s session): %v", state, err)
			}
			if got, err := f.st.FindSessionByPIN(ctx, pin); err != nil || got.ID != b.ID {
				t.Errorf("FindSessionByPIN = %v, %v; want %s", got, err, b.ID)
			}

			// Back to a live state, a's PIN now collides with b's.
			a.State = core.StateIssued
			ch := &core.Change{Session: a, Events: []core.Event{NewEvent(a, core.ActionRegenerate, state, core.StateIssued, At(time.Hour))}}
			wantIs(t, "UpdateSession(to a pin live elsewhere)", f.st.UpdateSession(ctx, ch), core.ErrPINInUse)
			if a.Version != 3 {
				t.Errorf("Version after a refused update = %d, want 3", a.Version)
			}
			if got := f.findSession(a.ID); got.State != state || got.Version != 3 {
				t.Errorf("after a refused update the session is %s version %d, want %s version 3", got.State, got.Version, state)
			}
			if evs := f.findEvents(a.ID); len(evs) != 1 {
				t.Errorf("a refused update wrote events: %v", evs)
			}
		})
	}
}

func testPINRegenerated(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	a := f.issue("444444", core.StateIssued)
	a.PIN = "555555"
	f.update(&core.Change{Session: a})
	if _, err := f.st.FindSessionByPIN(ctx, "444444"); core.ErrorCode(err) != core.CodeNotFound {
		t.Errorf("FindSessionByPIN(old pin) = %v, want not found", err)
	}
	if got, err := f.st.FindSessionByPIN(ctx, "555555"); err != nil || got.ID != a.ID {
		t.Errorf("FindSessionByPIN(new pin) = %v, %v; want %s", got, err, a.ID)
	}
	b := f.issue("444444", core.StateIssued) // the old PIN is free
	b.PIN = "555555"
	wantIs(t, "UpdateSession(to a live pin)", f.st.UpdateSession(ctx, &core.Change{Session: b}), core.ErrPINInUse)
	if got := f.findSession(b.ID); got.PIN != "444444" {
		t.Errorf("PIN after a refused update = %s, want 444444", got.PIN)
	}
}

func testFindSessionByPIN(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	issued := f.issue("012345", core.StateIssued)
	sent := f.issue("000001", core.StateSent)
	f.issue("000002", core.StateWaiting)
	f.issue("000003", core.StateExpired)
	for pin, want := range map[string]*core.Session{"012345": issued, "000001": sent} {
		got, err := f.st.FindSessionByPIN(ctx, pin)
		if err != nil {
			t.Errorf("FindSessionByPIN(%s): %v", pin, err)
			continue
		}
		wantSame(t, "session by pin "+pin, want, got)
	}
	for _, pin := range []string{"12345", "0123456", "000002", "000003", ""} {
		_, err := f.st.FindSessionByPIN(ctx, pin)
		wantCode(t, "FindSessionByPIN("+pin+")", err, core.CodeNotFound)
	}
}
