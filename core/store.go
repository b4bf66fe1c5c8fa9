package core

import (
	"context"
	"time"
)

// Store keeps conversations, sessions, their event logs and the outbox.
// Each method is one transaction. Methods return CodeNotFound for missing
// rows; the sentinel errors in errors.go for the constraint violations
// named below; any other failure as an internal error.
type Store interface {
	ConversationStore
	SessionStore
	OutboxStore
	KeyStore
	SignInStore
	MemoStore
	Locker

	// Stats counts sessions by state and queued deliveries.
	Stats(ctx context.Context) (Stats, error)
	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
	// Close releases the store's resources. Calling it again is harmless;
	// other methods called after it return CodeUnavailable.
	Close() error
}

// ConversationStore keeps conversations, their transcripts and the
// endpoints that opted out.
type ConversationStore interface {
	// CreateConversation inserts c (ID set by the caller) with Version 1.
	// It returns ErrOpenConversation when c is open and its customer
	// endpoint already has an open conversation.
	CreateConversation(ctx context.Context, c *Conversation) error
	// UpdateConversation saves c if its Version matches the stored one and
	// bumps it; otherwise it returns ErrVersion.
	UpdateConversation(ctx context.Context, c *Conversation) error
	// FindConversation returns the conversation with id.
	FindConversation(ctx context.Context, id string) (*Conversation, error)
	// FindOpenConversation returns the open conversation of a customer
	// endpoint.
	FindOpenConversation(ctx context.Context, customer Endpoint) (*Conversation, error)
	// FindConversationByThread returns the conversation followed in thread
	// under desk.
	FindConversationByThread(ctx context.Context, desk Endpoint, thread string) (*Conversation, error)
	// FindConversations returns the conversations matching f, most
	// recently updated first.
	FindConversations(ctx context.Context, f ConversationFilter) ([]*Conversation, error)

	// AppendMessage adds ch.Message to its conversation's transcript, and
	// in the same transaction creates ch.Conversation (when not nil),
	// queues ch.Deliveries and sets the conversation's UpdatedAt to the
	// message's time. It returns ErrDuplicate, and writes nothing, when a
	// message with the same non-empty Source exists; ErrOpenConversation
	// as CreateConversation; CodeNotFound for an unknown conversation.
	AppendMessage(ctx context.Context, ch *MessageChange) error
	// FindMessages returns messages of a conversation, oldest first.
	FindMessages(ctx context.Context, f MessageFilter) ([]*Message, error)

	// SetOptOut records whether an endpoint asked to receive nothing more
	// (an SMS STOP) or asked again to receive messages (START).
	SetOptOut(ctx context.Context, ep Endpoint, optedOut bool, at time.Time) error
	// OptedOut reports whether an endpoint asked to receive nothing more.
	OptedOut(ctx context.Context, ep Endpoint) (bool, error)
}

// SessionStore keeps sessions and their event logs.
type SessionStore interface {
	// CreateSession inserts ch.Session with Version 1, and in the same
	// transaction ch.Conversation (when not nil), ch.Events and
	// ch.Deliveries. It returns ErrPINInUse when the session's PIN is live
	// in another session, and ErrOpenConversation as CreateConversation.
	CreateSession(ctx context.Context, ch *Change) error
	// UpdateSession saves ch.Session if its Version matches the stored one
	// (else ErrVersion), bumps the version, and appends ch.Events and
	// ch.Deliveries in the same transaction. ErrPINInUse as CreateSession.
	UpdateSession(ctx context.Context, ch *Change) error
	// FindSession returns the session with id.
	FindSession(ctx context.Context, id string) (*Session, error)
	// FindSessionByPIN returns the session whose live PIN is pin.
	FindSessionByPIN(ctx context.Context, pin string) (*Session, error)
	// FindSessions returns the sessions matching f, newest first.
	FindSessions(ctx context.Context, f SessionFilter) ([]*Session, error)
	// FindEvents returns a session's event log, oldest first.
	FindEvents(ctx context.Context, sessionID string) ([]Event, error)
}

// OutboxStore keeps the deliveries on their way to an endpoint.
//
// Outbox workers, in one process or in several replicas, take deliveries
// by claiming them: a claim counts an attempt, marks each delivery with
// the claim's token and holds it for a lease, which the worker renews
// while it works. Only the holder of the token may save the outcome, so
// a worker whose lease ran out (it was paused, or lost the database for
// a while) cannot overwrite the outcome of the worker that took over.
//
// Deliveries to one recipient go out in the order they were queued. Their
// ordering key is the endpoint and the conversation (a customer, or one
// conversation's thread on a desk): a queued delivery is claimable at a
// time when it is due (NextAttemptAt at or before it), not held
// (ClaimUntil at or before it), and every queued delivery of the same key
// with a lower id is claimable too. A delivery waiting for a retry thus
// holds back the later deliveries of its key, and the deliveries of a key
// that one claim takes are always its earliest queued ones.
type OutboxStore interface {
	// ClaimDeliveries claims up to limit of the deliveries claimable at
	// now, in id order (the order they were queued), in one transaction:
	// it counts an attempt on each, gives them all one new random
	// ClaimToken, and holds them until now+lease, which it sets as their
	// ClaimUntil and also as their NextAttemptAt, so that a worker which
	// knows nothing of claims (an older replica during an upgrade) leaves
	// them alone too. A limit below 1 claims nothing. It never hands one
	// delivery to two claims whose leases overlap, however many workers
	// claim at once. It leaves the deliveries to ChannelWebhook alone:
	// each webhook endpoint's are claimed apart (core/webhook).
	ClaimDeliveries(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]*Delivery, error)
	// RenewClaim extends the lease of the deliveries that still carry
	// token to until (ClaimUntil, and NextAttemptAt of the queued ones),
	// and returns how many carry it. A worker that counts fewer than the
	// deliveries it claimed and has not saved yet lost the others to
	// another worker. An empty token holds nothing: it renews nothing
	// and returns 0.
	RenewClaim(ctx context.Context, token string, until time.Time) (int, error)
	// UpdateDelivery saves d's status, reason, attempts, schedule and
	// external id. A d with a ClaimToken is the claim holder's outcome:
	// it is refused with ErrClaimLost, saving nothing, unless the stored
	// delivery still carries that token; once saved, the claim ends, and
	// ClaimToken and ClaimUntil are emptied in the store and in d. A d
	// without one (a platform's status report) neither checks nor
	// changes the claim. It returns ErrDeliveryFinal, and saves nothing,
	// when the stored delivery is already delivered or failed (after
	// ErrClaimLost, which takes precedence); CodeNotFound for an unknown
	// id.
	UpdateDelivery(ctx context.Context, d *Delivery) error
	// FindDelivery returns the delivery with id.
	FindDelivery(ctx context.Context, id int64) (*Delivery, error)
	// FindDeliveries returns the deliveries matching f, newest first.
	FindDeliveries(ctx context.Context, f DeliveryFilter) ([]*Delivery, error)
	// FindDeliveryByExternalID returns the delivery a channel knows by id.
	FindDeliveryByExternalID(ctx context.Context, channel, externalID string) (*Delivery, error)
}

// OrphanReleaser is an OutboxStore that a single process uses (SQLite).
// When that process starts its outbox, every claim in the store was made
// by an earlier run of it, which has stopped or crashed: nobody will
// renew or save those deliveries. The outbox therefore calls
// ReleaseOrphanedClaims first, which ends every claim at once, makes the
// queued deliveries it held due at now rather than when their lease runs
// out, and returns how many it released. The attempts their claims
// counted stay counted: one of them may have been sent.
//
// A store that several processes share (PostgreSQL) must not implement
// it: there, a claim may belong to a replica that is alive and sending.
type OrphanReleaser interface {
	ReleaseOrphanedClaims(ctx context.Context, now time.Time) (int, error)
}

// Change is everything one session operation writes, saved atomically.
type Change struct {
	// Conversation, when not nil, is created with the session.
	Conversation *Conversation
	Session      *Session
	Events       []Event
	// Deliveries get their IDs from the store.
	Deliveries []*Delivery
}

// Stats is a count of what the store holds, for metrics.
type Stats struct {
	Sessions         map[State]int
	QueuedDeliveries int
}
