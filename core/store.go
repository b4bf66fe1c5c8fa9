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
type OutboxStore interface {
	// ClaimDeliveries returns up to limit queued deliveries due at now,
	// in id order (the order they were queued), and in the same transaction counts an attempt and
	// pushes their NextAttemptAt to now+lease, so that no other worker
	// takes them before the lease ends.
	ClaimDeliveries(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]*Delivery, error)
	// UpdateDelivery saves d's status, reason, attempts, schedule and
	// external id. It returns ErrDeliveryFinal, and saves nothing, when the
	// stored delivery is already delivered or failed.
	UpdateDelivery(ctx context.Context, d *Delivery) error
	// FindDelivery returns the delivery with id.
	FindDelivery(ctx context.Context, id int64) (*Delivery, error)
	// FindDeliveries returns the deliveries matching f, newest first.
	FindDeliveries(ctx context.Context, f DeliveryFilter) ([]*Delivery, error)
	// FindDeliveryByExternalID returns the delivery a channel knows by id.
	FindDeliveryByExternalID(ctx context.Context, channel, externalID string) (*Delivery, error)
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
