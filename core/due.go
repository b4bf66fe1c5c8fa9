package core

import (
	"context"
	"fmt"
	"time"
)

// A DuePolicy finds what is due for the desk about sessions that changes
// no state: a customer left waiting escalates, a link nobody opened is
// worth a reminder (package core/escalation). The sweeper asks the
// engine's policies every few seconds.
type DuePolicy interface {
	// States lists the states of the sessions it looks at.
	States() []State
	// Due returns what is due for s at now, given its conversation and
	// its log, if anything.
	Due(s *Session, c *Conversation, log []Event, now time.Time) (Due, bool)
}

// Due is what a DuePolicy found due: an event to record in the session's
// log, and a notice for the conversation's desk, if it has one.
type Due struct {
	Action Action
	Detail string
	Notice Notice
}

// RecordDue records what the policies find due and returns how many
// records it made. Each is made once, however many replicas sweep: the
// session's version check lets one write win, and the others find the
// event in the log when they look again.
func (e *Engine) RecordDue(ctx context.Context) (int, error) {
	n := 0
	for _, p := range e.policies {
		due, err := e.store.FindSessions(ctx, SessionFilter{States: p.States(), Limit: 1000})
		if err != nil {
			return n, fmt.Errorf("due: %w", err)
		}
		for _, d := range due {
			_, ch, err := e.change(ctx, d.ID, func(s *Session, c *Conversation, now time.Time) (*Change, error) {
				log, err := e.store.FindEvents(ctx, s.ID)
				if err != nil {
					return nil, err
				}
				x, ok := p.Due(s, c, log, now)
				if !ok {
					return nil, nil
				}
				s.UpdatedAt = now
				ch := &Change{Session: s, Events: []Event{{SessionID: s.ID, At: now, Actor: Actor{Kind: ActorSystem}.String(),
					Action: x.Action, From: s.State, To: s.State, Detail: x.Detail}}}
				if !c.Desk.IsZero() {
					x.Notice.SessionID, x.Notice.Locale, x.Notice.Action = s.ID, s.Locale, x.Action
					ch.Deliveries = []*Delivery{newDelivery(c, c.Desk, x.Notice, now)}
				}
				return ch, nil
			})
			if err != nil {
				return n, fmt.Errorf("due %s: %w", d.ID, err)
			}
			if ch != nil {
				n++
			}
		}
	}
	return n, nil
}

// Actions a DuePolicy records: a customer has waited past a threshold
// (escalate), or has not opened the link they were sent (remind).
const (
	ActionEscalate Action = "escalate"
	ActionRemind   Action = "remind"
)

// NoticeReminder tells the desk, in a message of its own that the
// platforms notify about (never an edit), that a session needs someone;
// see Notice.Level.
const NoticeReminder NoticeKind = "reminder"
