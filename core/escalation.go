package core

import (
	"context"
	"fmt"
	"time"
)

// Actions that change no state but tell the desk something needs doing:
// a customer has waited past a threshold (escalate), or has not opened
// the link they were sent (remind).
const (
	ActionEscalate Action = "escalate"
	ActionRemind   Action = "remind"
)

// NoticeReminder tells the desk, in a message of its own that the
// platforms notify about (never an edit), that a session needs someone:
// Level is the escalation threshold passed (0 for the reminder of an
// unopened link), Waited how long it has been.
const NoticeReminder NoticeKind = "reminder"

// Escalation is when the engine tells the desk about customers left
// waiting. After lists increasing thresholds on the time since the
// customer joined; Unopened, when set, is how long after a link was sent
// the agent is reminded that the customer has not opened it.
type Escalation struct {
	After    []time.Duration
	Unopened time.Duration
}

// EscalateDue records the escalations and reminders that are due (the
// sweeper calls it every few seconds) and returns how many, each
// once: the version check makes one replica's record win, and the other
// replicas then find it in the log.
func (e *Engine) EscalateDue(ctx context.Context) (int, error) {
	if len(e.escalation.After) == 0 && e.escalation.Unopened <= 0 {
		return 0, nil
	}
	due, err := e.store.FindSessions(ctx, SessionFilter{States: []State{StateWaiting, StateSent}, Limit: 1000})
	if err != nil {
		return 0, fmt.Errorf("escalate: %w", err)
	}
	n := 0
	for _, d := range due {
		_, ch, err := e.change(ctx, d.ID, func(s *Session, c *Conversation, now time.Time) (*Change, error) {
			log, err := e.store.FindEvents(ctx, s.ID)
			if err != nil {
				return nil, err
			}
			return e.escalation.next(s, c, log, now), nil
		})
		if err != nil {
			return n, fmt.Errorf("escalate %s: %w", d.ID, err)
		}
		if ch != nil {
			n++
		}
	}
	return n, nil
}

// next returns the escalation or reminder of s that is due at now, given
// its log, or nil.
func (x Escalation) next(s *Session, c *Conversation, log []Event, now time.Time) *Change {
	var since time.Time
	action, level, done := ActionEscalate, 0, 0
	for _, ev := range log {
		switch ev.Action {
		case ActionEscalate:
			done++
		case ActionSend:
			since = ev.At
		case ActionRemind:
			since = time.Time{} // this link's reminder is out
		}
	}
	switch cur := s.Current(now); {
	case cur == StateWaiting:
		waited := now.Sub(s.JoinedAt)
		for level < len(x.After) && waited >= x.After[level] {
			level++
		}
		if level <= done {
			return nil
		}
		since = s.JoinedAt
	case cur == StateSent && x.Unopened > 0 && !since.IsZero() && now.Sub(since) >= x.Unopened:
		action = ActionRemind
	default:
		return nil
	}
	waited := now.Sub(since).Truncate(time.Second)
	s.UpdatedAt = now
	ev := Event{SessionID: s.ID, At: now, Actor: Actor{Kind: ActorSystem}.String(), Action: action, From: s.State, To: s.State,
		Detail: fmt.Sprintf("waited %s", waited)}
	if action == ActionEscalate {
		ev.Detail = fmt.Sprintf("level %d of %d, waited %s", level, len(x.After), waited)
	}
	ch := &Change{Session: s, Events: []Event{ev}}
	if !c.Desk.IsZero() {
		ch.Deliveries = []*Delivery{newDelivery(c, c.Desk, Notice{Kind: NoticeReminder, Locale: s.Locale, SessionID: s.ID,
			Action: action, State: s.State, Device: s.Device, Actor: s.Agent, Level: level, Final: level == len(x.After),
			Waited: waited, Customer: CustomerLabel(c)}, now)}
	}
	return ch
}
