package core

import (
	"context"
	"errors"
)

// Session returns the session with id as of now: a session whose PIN
// lifetime passed reads as expired at once.
func (e *Engine) Session(ctx context.Context, id string) (*Session, error) {
	s, err := e.store.FindSession(ctx, id)
	if err != nil {
		return nil, err
	}
	s.State = s.Current(e.clock.Now())
	return s, nil
}

// SessionByPIN returns the session whose PIN a customer may still use.
// Unknown, expired, revoked and used PINs all give ErrUnknownPIN. It
// changes nothing: the portal calls it to show a landing page.
func (e *Engine) SessionByPIN(ctx context.Context, pin string) (*Session, error) {
	if !ValidPIN(pin) {
		return nil, ErrUnknownPIN
	}
	s, err := e.store.FindSessionByPIN(ctx, pin)
	if ErrorCode(err) == CodeNotFound {
		return nil, ErrUnknownPIN
	}
	if err != nil {
		return nil, err
	}
	if s.Current(e.clock.Now()) != s.State {
		return nil, ErrUnknownPIN
	}
	return s, nil
}

// Sessions returns the sessions matching f as of now, newest first.
// Filtering on expired includes sessions whose lifetime passed but whose
// expiry the sweeper has not recorded yet; filtering on issued or sent
// excludes them.
func (e *Engine) Sessions(ctx context.Context, f SessionFilter) ([]*Session, error) {
	now := e.clock.Now()
	q := f
	if len(f.States) > 0 {
		// The store applies the PIN lifetime, so that a page holds as
		// many sessions as match, however many live ones are newer.
		q.AsOf = now
	}
	found, err := e.store.FindSessions(ctx, q)
	if err != nil {
		return nil, err
	}
	for _, s := range found {
		s.State = s.Current(now)
	}
	return found, nil
}

// Conversation returns the conversation with id.
func (e *Engine) Conversation(ctx context.Context, id string) (*Conversation, error) {
	return e.store.FindConversation(ctx, id)
}

// Events returns the event log of session id, oldest first.
func (e *Engine) Events(ctx context.Context, id string) ([]Event, error) {
	if _, err := e.store.FindSession(ctx, id); err != nil {
		return nil, err
	}
	return e.store.FindEvents(ctx, id)
}

// Deliveries returns the outbox entries of session id, newest first.
func (e *Engine) Deliveries(ctx context.Context, id string) ([]*Delivery, error) {
	return e.store.FindDeliveries(ctx, DeliveryFilter{SessionID: id})
}

// ReportDelivery applies a platform's later report on a message it
// accepted (a Twilio status callback): delivered, or failed with a reason.
// A report about a delivery already delivered or failed changes nothing.
func (e *Engine) ReportDelivery(ctx context.Context, channel, externalID string, status DeliveryStatus, reason string) (*Delivery, error) {
	if status != DeliverySent && status != DeliveryDelivered && status != DeliveryFailed {
		return nil, Errorf(CodeInvalid, "a platform cannot report status %q", status)
	}
	d, err := e.store.FindDeliveryByExternalID(ctx, channel, externalID)
	if err != nil {
		return nil, err
	}
	if d.Status == DeliveryDelivered || d.Status == DeliveryFailed || d.Status == status {
		return d, nil
	}
	d.Status, d.UpdatedAt = status, e.clock.Now()
	if status == DeliveryFailed {
		d.Reason = reason
	}
	if err := e.store.UpdateDelivery(ctx, d); err != nil {
		if errors.Is(err, ErrDeliveryFinal) {
			return e.store.FindDelivery(ctx, d.ID)
		}
		return nil, err
	}
	e.publishDelivery(ctx, d)
	return d, nil
}

// TranscriptLength is how many messages a transcript shows, the newest.
const TranscriptLength = 500

// Transcript returns the newest TranscriptLength messages of conversation
// convID, oldest first: what the console and the web chat show. It reads
// only those, however long the conversation.
func (e *Engine) Transcript(ctx context.Context, convID string) ([]*Message, error) {
	return e.store.FindMessages(ctx, MessageFilter{ConversationID: convID, Limit: TranscriptLength, Newest: true})
}
