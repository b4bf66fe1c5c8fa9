package core

import (
	"time"
)

// Mode is how a technician works in an active session.
type Mode string

// The modes.
const (
	ModeControl Mode = "control" // remote control: the technician drives
	ModeView    Mode = "view"    // view only: the technician watches
)

// Valid reports whether m is a known mode.
func (m Mode) Valid() bool { return m == ModeControl || m == ModeView }

// Device is the kind of device the customer joined from.
type Device string

// The devices.
const (
	DeviceUnknown Device = "unknown"
	DeviceDesktop Device = "desktop"
	DeviceMobile  Device = "mobile"
)

// Valid reports whether d is a known device.
func (d Device) Valid() bool {
	return d == DeviceUnknown || d == DeviceDesktop || d == DeviceMobile
}

// LinkKind selects which of a session's links to send the customer.
type LinkKind string

// The link kinds.
const (
	LinkDesktop LinkKind = "desktop"
	LinkMobile  LinkKind = "mobile"
)

// Valid reports whether k is a known link kind.
func (k LinkKind) Valid() bool { return k == LinkDesktop || k == LinkMobile }

// Session is one remote-support session: a PIN issued by a provider for a
// conversation, and what became of it. Sessions change only through the
// Engine; every change is recorded as an Event.
type Session struct {
	ID             string
	ConversationID string
	Provider       string
	// ProviderRef is the provider's own identifier for the session, if any.
	ProviderRef string

	// PIN is kept as a string: leading zeros are valid digits.
	PIN          string
	PINExpiresAt time.Time
	DesktopURL   string
	MobileURL    string
	ManualURL    string
	// CustomerURL is the provider's own page that connects the
	// customer's device, where assistbot's landing page leads (see
	// Ticket.CustomerURL); "" when the links are the provider's.
	CustomerURL string
	// TechnicianURL is the link the technician works through, from a
	// provider that is a Starter, set when the session starts. It is a
	// secret: whoever has it reaches the customer's computer.
	TechnicianURL string

	State      State
	Device     Device
	Mode       Mode // set when the session becomes active
	Agent      string
	Technician string
	Locale     string
	// CustomerKey is the SHA-256 (hex) of the secret handed to the
	// customer's browser when they joined; it authorises their later
	// requests without the PIN, which is consumed by then.
	CustomerKey string
	// Origin is where the agent asked for the session, on their own
	// platform (a channel id): a place to reach the customer in public
	// should the platform refuse them a direct message. "" when none.
	Origin string

	CreatedAt time.Time
	UpdatedAt time.Time
	JoinedAt  time.Time
	StartedAt time.Time
	EndedAt   time.Time

	// Version is the optimistic-lock counter; the store bumps it on every
	// update and refuses an update based on a stale read.
	Version int
}

// Current returns the state as a reader at time now should see it: a
// session whose PIN lifetime has passed before the customer joined is
// expired, even before the sweeper has recorded it.
func (s *Session) Current(now time.Time) State {
	if s.State.PINLive() && !now.Before(s.PINExpiresAt) {
		return StateExpired
	}
	return s.State
}

// Link returns the session's URL for kind.
func (s *Session) Link(kind LinkKind) string {
	if kind == LinkMobile {
		return s.MobileURL
	}
	return s.DesktopURL
}

// SessionFilter selects sessions. Zero fields match everything.
//
// The bounds on the creation time (Since, Until, AfterCreatedAt) take a
// session without one (CreatedAt zero) as created before any other: it
// comes last newest first, as it does in every store.
type SessionFilter struct {
	States         []State
	ConversationID string
	// Agent selects the sessions of the agent of that name (Session.Agent),
	// exactly as stored.
	Agent string
	// Channel selects the sessions whose conversation's customer is on
	// that channel ("sms"); sessions without a customer have none.
	Channel string
	// Since selects the sessions created at or after it; Until, those
	// created before it.
	Since, Until time.Time
	// AfterID, when set, continues a listing newest first after the
	// session with that id created at AfterCreatedAt: it selects the
	// sessions created before AfterCreatedAt, and those created at that
	// time whose id sorts before AfterID. That session need not exist
	// any more.
	AfterCreatedAt time.Time
	AfterID        string
	// ExpiresBefore selects sessions whose live PIN expires before it.
	ExpiresBefore time.Time
	// AsOf, when set, matches States as Session.Current(AsOf) would: a
	// session stored as issued or sent whose PIN expired at or before
	// AsOf counts as expired, and not as issued or sent.
	AsOf time.Time
	// Limit caps the result (the store applies a default of 100 when zero
	// and a ceiling of 1000).
	Limit int
}

// A StatePart is one part of the sessions a SessionFilter's States
// select, which a store can read newest first from one stretch of an
// index: the sessions stored in State, or, when Lapsed, the live PINs
// (issued or sent) past their lifetime at the filter's AsOf, which count
// as expired before the sweeper records it. InLifetime narrows a live
// State to the PINs still within their lifetime at AsOf.
type StatePart struct {
	State      State
	InLifetime bool
	Lapsed     bool
}

// StateParts splits f.States into parts, each state once, in the order
// given. Without AsOf each state is a part of its own; with it, issued
// and sent hold only the PINs still in their lifetime, and expired adds
// the lapsed ones. No States, no parts.
func StateParts(f SessionFilter) []StatePart {
	var parts []StatePart
	seen := map[State]bool{}
	asOf := !f.AsOf.IsZero()
	for _, st := range f.States {
		if seen[st] {
			continue
		}
		seen[st] = true
		parts = append(parts, StatePart{State: st, InLifetime: asOf && st.PINLive()})
		if asOf && st == StateExpired {
			parts = append(parts, StatePart{Lapsed: true})
		}
	}
	return parts
}

// Actor says who did something, for the event log.
type Actor struct {
	Kind ActorKind
	Name string
}

// ActorKind classifies actors.
type ActorKind string

// The actor kinds.
const (
	ActorAgent      ActorKind = "agent"
	ActorTechnician ActorKind = "technician"
	ActorCustomer   ActorKind = "customer"
	ActorProvider   ActorKind = "provider"
	ActorSystem     ActorKind = "system"
)

// String renders the actor as "kind:name", or only the kind when unnamed.
func (a Actor) String() string {
	if a.Name == "" {
		return string(a.Kind)
	}
	return string(a.Kind) + ":" + a.Name
}

// Event is one entry of a session's append-only log: who did what, when,
// and the state change it made. The log is the session's audit trail.
type Event struct {
	ID        int64
	SessionID string
	At        time.Time
	Actor     string
	Action    Action
	From      State
	To        State
	// Detail says what else changed, for people ("desktop link to sms:…0123").
	// It never holds a PIN or a full phone number.
	Detail string
}

// Opens reports whether the link that delivery d carried still opens
// session s: it went out, and its PIN is the session's live one.
func (s *Session) Opens(d *Delivery) bool {
	return s.State.PINLive() && s.PIN == d.Notice.PIN && (d.Status == DeliverySent || d.Status == DeliveryDelivered)
}
