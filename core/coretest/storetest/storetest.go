// Package storetest is the contract every core.Store passes: the
// in-memory fake, SQLite and PostgreSQL each run RunStoreTests against a
// store of their own.
package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/assistbot/assistbot/core"
	"github.com/google/go-cmp/cmp"
)

// RunStoreTests is the contract every core.Store must honour. open returns
// a new, empty store for each subtest and arranges for it to be closed
// when the test ends; Close must therefore tolerate a second call. The
// suite is deterministic and never sleeps.
//
// Besides what core.Store documents, the suite pins down: times come back
// as given to the microsecond, in UTC, and the zero time stays zero;
// "newest first" means by CreatedAt then id, both descending, for
// sessions, and by id, descending, for deliveries; ClaimDeliveries goes by
// id and claims nothing for a limit below 1; FindEvents of an unknown
// session is empty, not an error; UpdateDelivery saves only status,
// reason, attempts, NextAttemptAt, ExternalID and UpdatedAt, and ends the
// claim when the save is its holder's; a refused write changes nothing,
// neither in the store nor in the caller's structs (versions, ids, claim
// tokens). Stores that implement core.OrphanReleaser are held to it too.
//
// Of the shared state (core/shared.go), it pins down: a key has 16 to
// 1024 bytes, else CodeInvalid, and the size only matters when a key is
// made; the previous key is nil, not empty, before the first rotation;
// the slices returned are the caller's own; a sign-in or a memo has
// expired at now when its expiry is at or before now, and is pruned when
// its expiry is before now; one without an expiry, key or token hash is
// refused with CodeInvalid, a second sign-in with one token hash with
// CodeConflict; a lock not taken comes with a release that does nothing,
// release never closes lost, a second release does not free the next
// holder's lock, and closing the store loses every lock it holds.
func RunStoreTests(t *testing.T, open func(t *testing.T) core.Store) {
	cases := []struct {
		name string
		run  func(*testing.T, *storeFixture)
	}{
		{"ConversationRoundTrip", testConversationRoundTrip},
		{"ConversationUpdate", testConversationUpdate},
		{"ConversationNotFound", testConversationNotFound},
		{"ConversationDuplicateID", testConversationDuplicateID},
		{"OpenConversationUnique", testOpenConversationUnique},
		{"SessionRoundTrip", testSessionRoundTrip},
		{"SessionZeroValues", testSessionZeroValues},
		{"SessionWithExistingConversation", testSessionWithExistingConversation},
		{"SessionUnknownConversation", testSessionUnknownConversation},
		{"SessionDuplicateID", testSessionDuplicateID},
		{"SessionOpenConversationConflict", testSessionOpenConversationConflict},
		{"SessionPINInUseIsAtomic", testSessionPINInUseIsAtomic},
		{"SessionUpdate", testSessionUpdate},
		{"SessionStaleVersion", testSessionStaleVersion},
		{"SessionUpdateNotFound", testSessionUpdateNotFound},
		{"PINFreedWhenNotLive", testPINFreedWhenNotLive},
		{"PINRegenerated", testPINRegenerated},
		{"FindSessionByPIN", testFindSessionByPIN},
		{"FindSessions", testFindSessions},
		{"FindSessionsLimit", testFindSessionsLimit},
		{"FindSessionsFilters", testFindSessionsFilters},
		{"FindSessionsPages", testFindSessionsPages},
		{"Events", testEvents},
		{"EventsAppendOnly", testEventsAppendOnly},
		{"DeliveryRoundTrip", testDeliveryRoundTrip},
		{"ClaimDeliveries", testClaimDeliveries},
		{"ClaimDeliveriesLimit", testClaimDeliveriesLimit},
		{"UpdateDelivery", testUpdateDelivery},
		{"UpdateDeliveryFinal", testUpdateDeliveryFinal},
		{"RenewClaim", testRenewClaim},
		{"ClaimLost", testClaimLost},
		{"ReportNotFenced", testReportNotFenced},
		{"ClaimOrder", testClaimOrder},
		{"ClaimLimitKeepsOrder", testClaimLimitKeepsOrder},
		{"ReleaseOrphanedClaims", testReleaseOrphanedClaims},
		{"FindDeliveries", testFindDeliveries},
		{"FindDeliveryByExternalID", testFindDeliveryByExternalID},
		{"Stats", testStats},
		{"PingAndClose", testPingAndClose},
		{"ConcurrentPINs", testConcurrentPINs},
		{"ConcurrentUpdate", testConcurrentUpdate},
		{"ConcurrentOpenConversation", testConcurrentOpenConversation},
		{"ConcurrentClaims", testConcurrentClaims},
		{"ConversationByThread", testConversationByThread},
		{"FindConversations", testFindConversations},
		{"AppendMessage", testAppendMessage},
		{"FindNewestMessages", testFindNewestMessages},
		{"AppendMessageToClosed", testAppendMessageToClosed},
		{"AppendMessageNewConversation", testAppendMessageNewConversation},
		{"AppendMessageDuplicate", testAppendMessageDuplicate},
		{"AppendMessageRefused", testAppendMessageRefused},
		{"FindMessages", testFindMessages},
		{"OptOut", testOptOut},
		{"KeyMadeOnce", testKeyMadeOnce},
		{"RotateKey", testRotateKey},
		{"KeyInvalid", testKeyInvalid},
		{"ConcurrentKey", testConcurrentKey},
		{"SignInRoundTrip", testSignInRoundTrip},
		{"SignOut", testSignOut},
		{"SignInRefused", testSignInRefused},
		{"ExpireSignIns", testExpireSignIns},
		{"Memo", testMemo},
		{"ExpireMemos", testExpireMemos},
		{"Lock", testLock},
		{"ConcurrentLock", testConcurrentLock},
		{"LockLostOnClose", testLockLostOnClose},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.run(t, &storeFixture{t: t, st: open(t), n: new(int)})
		})
	}
}

// storeFixture is one subtest's store and the means to fill it.
type storeFixture struct {
	t  *testing.T
	st core.Store
	n  *int // the last id suffix handed out
}

// sub returns the storeFixture for a subtest of f's test.
func (f *storeFixture) sub(t *testing.T) *storeFixture { return &storeFixture{t: t, st: f.st, n: f.n} }

// Epoch is the suite's reference time: UTC, to the microsecond, the
// precision every store keeps.
func Epoch() time.Time { return time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.UTC) }

// At returns Epoch()+d.
func At(d time.Duration) time.Time { return Epoch().Add(d) }

// id returns a new id with prefix; ids sort in the order handed out.
func (f *storeFixture) id(prefix string) string {
	*f.n++
	return fmt.Sprintf("%s-%04d", prefix, *f.n)
}

// conversation returns an open conversation for customer with every field
// set.
func (f *storeFixture) conversation(customer core.Endpoint) *core.Conversation {
	return &core.Conversation{
		ID:           f.id("conv"),
		Customer:     customer,
		CustomerName: "Ada Lovelace",
		Desk:         core.Endpoint{Channel: core.ChannelSlack, Address: "C0123"},
		DeskThread:   "1710428966.000100",
		Locale:       "en-GB",
		State:        core.ConversationOpen,
		CreatedAt:    At(time.Second),
		UpdatedAt:    At(2 * time.Second),
	}
}

// NewSession returns a session with every field set.
func NewSession(id, conversationID, pin string, state core.State, created time.Time) *core.Session {
	return &core.Session{
		ID:             id,
		ConversationID: conversationID,
		Provider:       "fake",
		ProviderRef:    "ref-" + id,
		PIN:            pin,
		PINExpiresAt:   created.Add(20 * time.Minute),
		DesktopURL:     "https://example.test/d/" + id,
		MobileURL:      "https://example.test/m/" + id,
		ManualURL:      "https://example.test/manual",
		State:          state,
		Device:         core.DeviceDesktop,
		Mode:           core.ModeView,
		Agent:          "agent@example.test",
		Technician:     "tech@example.test",
		Locale:         "de-CH",
		CustomerKey:    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		Origin:         "C0ORIGIN",
		CustomerURL:    "https://mesh.example.test/invite?c=" + pin,
		TechnicianURL:  "https://mesh.example.test/sharing?c=" + id,
		CreatedAt:      created,
		UpdatedAt:      created.Add(time.Second),
		JoinedAt:       created.Add(2 * time.Second),
		StartedAt:      created.Add(3 * time.Second),
		EndedAt:        created.Add(4 * time.Second),
	}
}

// session returns a session of conversation convID with every field set.
func (f *storeFixture) session(convID, pin string, state core.State) *core.Session {
	return NewSession(f.id("sess"), convID, pin, state, At(time.Minute))
}

// NewEvent returns an event of s from one state to another.
func NewEvent(s *core.Session, a core.Action, from, to core.State, when time.Time) core.Event {
	return core.Event{SessionID: s.ID, At: when, Actor: "agent:ada", Action: a, From: from, To: to,
		Detail: "customer sms:…0123"}
}

// newDelivery returns a queued delivery for s due at next, every field set.
func newDelivery(s *core.Session, next time.Time) *core.Delivery {
	return &core.Delivery{
		SessionID:      s.ID,
		ConversationID: s.ConversationID,
		To:             core.Endpoint{Channel: core.ChannelSMS, Address: "+15550100123"},
		Notice: core.Notice{Kind: core.NoticeLink, Locale: "fr", SessionID: s.ID,
			Action: core.ActionSend, State: core.StateSent, LinkKind: core.LinkMobile,
			Link: "https://example.test/m/" + s.ID, PIN: s.PIN, ExpiresAt: At(20 * time.Minute),
			Device: core.DeviceMobile, Mode: core.ModeControl, Actor: "ada", Thread: "1710428966.000100",
			Replace: "1710428999.000200", ConversationID: s.ConversationID, Customer: "…0123",
			CustomerChannel: core.ChannelSMS, Author: "Ada", Text: "Bonjour"},
		Status:        core.DeliveryQueued,
		Reason:        "",
		Attempts:      0,
		NextAttemptAt: next,
		ExternalID:    "",
		CreatedAt:     At(time.Minute),
		UpdatedAt:     At(time.Minute),
	}
}

// issue stores a new session in state with pin, with a conversation of
// its own (no customer) and an issue event.
func (f *storeFixture) issue(pin string, state core.State) *core.Session {
	f.t.Helper()
	c := f.conversation(core.Endpoint{})
	s := f.session(c.ID, pin, state)
	ch := &core.Change{Conversation: c, Session: s,
		Events: []core.Event{NewEvent(s, core.ActionIssue, "", core.StateIssued, s.CreatedAt)}}
	if err := f.st.CreateSession(f.t.Context(), ch); err != nil {
		f.t.Fatalf("CreateSession(pin %s, %s): %v", pin, state, err)
	}
	return s
}

// update saves ch, which must succeed.
func (f *storeFixture) update(ch *core.Change) {
	f.t.Helper()
	if err := f.st.UpdateSession(f.t.Context(), ch); err != nil {
		f.t.Fatalf("UpdateSession(%s): %v", ch.Session.ID, err)
	}
}

func (f *storeFixture) findSession(id string) *core.Session {
	f.t.Helper()
	s, err := f.st.FindSession(f.t.Context(), id)
	if err != nil {
		f.t.Fatalf("FindSession(%s): %v", id, err)
	}
	return s
}

func (f *storeFixture) findConversation(id string) *core.Conversation {
	f.t.Helper()
	c, err := f.st.FindConversation(f.t.Context(), id)
	if err != nil {
		f.t.Fatalf("FindConversation(%s): %v", id, err)
	}
	return c
}

func (f *storeFixture) findEvents(id string) []core.Event {
	f.t.Helper()
	evs, err := f.st.FindEvents(f.t.Context(), id)
	if err != nil {
		f.t.Fatalf("FindEvents(%s): %v", id, err)
	}
	return evs
}

func (f *storeFixture) findDelivery(id int64) *core.Delivery {
	f.t.Helper()
	d, err := f.st.FindDelivery(f.t.Context(), id)
	if err != nil {
		f.t.Fatalf("FindDelivery(%d): %v", id, err)
	}
	return d
}

// wantSame fails the test when got differs from want.
func wantSame(t *testing.T, what string, want, got any) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}

// wantIs fails the test unless errors.Is(err, target).
func wantIs(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want %v", what, err, target)
	}
}

// wantCode fails the test unless err has code.
func wantCode(t *testing.T, what string, err error, code core.Code) {
	t.Helper()
	if got := core.ErrorCode(err); got != code {
		t.Errorf("%s: got error %v (code %q), want code %q", what, err, got, code)
	}
}

// wantUTC fails the test unless every non-zero time is in UTC.
func wantUTC(t *testing.T, what string, times ...time.Time) {
	t.Helper()
	for i, tm := range times {
		if !tm.IsZero() && tm.Location() != time.UTC {
			t.Errorf("%s: time %d is in %v, want UTC", what, i, tm.Location())
		}
	}
}

func sessionTimes(s *core.Session) []time.Time {
	return []time.Time{s.PINExpiresAt, s.CreatedAt, s.UpdatedAt, s.JoinedAt, s.StartedAt, s.EndedAt}
}
