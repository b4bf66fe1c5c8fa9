package core

import (
	"cmp"
	"context"
	"strings"
	"time"
	"unicode/utf8"
)

// Hand-offs (Engine.HandOver). ActionHandoff changes a session's Agent,
// not its state. NoticeHandoff tells the desk in a message of its own
// (never an edit): Actor handed it to Assignee ("" for the queue), Text
// is the note; without a SessionID it is about the whole conversation.
// CodeForbidden refuses what the one asking may not do.
const (
	ActionHandoff Action     = "handoff"
	NoticeHandoff NoticeKind = "handoff"
	CodeForbidden Code       = "forbidden"
	MaxNoteRunes             = 500
)

// Handover is who hands a session to whom ("" for the queue), and why.
// Whole marks one session of a conversation handed over at once; Quiet
// leaves its desk notice to another of them. May, when set, says whether
// By may hand the session as it stands when the hand-off is written (its
// agent may have changed since it was read): an error refuses it.
type Handover struct {
	By           Actor
	To, Note     string
	Whole, Quiet bool
	May          func(*Session) error
}

// HandOver makes h.To the agent of open session id, records who handed
// it and the note, and tells the desk; nothing goes to the customer.
func (e *Engine) HandOver(ctx context.Context, id string, h Handover) (*Session, error) {
	if utf8.RuneCountInString(h.Note) > MaxNoteRunes || !utf8.ValidString(h.Note) || strings.ContainsFunc(h.Note, forbidden) {
		return nil, Errorf(CodeInvalid, "the note must be valid text of at most %d characters", MaxNoteRunes)
	}
	s, _, err := e.change(ctx, id, func(s *Session, c *Conversation, now time.Time) (*Change, error) {
		cur := s.Current(now)
		if !cur.Open() {
			return nil, &TransitionError{From: cur, Action: ActionHandoff}
		}
		if h.May != nil {
			if err := h.May(s); err != nil {
				return nil, err
			}
		}
		detail := "to " + cmp.Or(h.To, "the queue")
		if s.Agent != "" {
			detail += ", from " + s.Agent
		}
		if h.Note != "" {
			detail += ": " + h.Note
		}
		ev := Event{SessionID: s.ID, At: now, Actor: h.By.String(), Action: ActionHandoff, From: cur, To: cur, Detail: detail}
		s.Agent, s.UpdatedAt = h.To, now
		ch := &Change{Session: s, Events: []Event{ev}}
		if !c.Desk.IsZero() && !h.Quiet {
			n := Notice{Kind: NoticeHandoff, Locale: s.Locale, SessionID: s.ID, State: cur, Actor: h.By.Name, Assignee: h.To, Text: h.Note}
			if h.Whole {
				n.SessionID = ""
			}
			ch.Deliveries = []*Delivery{newDelivery(c, c.Desk, n, now)}
			ch.Deliveries[0].SessionID = s.ID
		}
		return ch, nil
	})
	return s, err
}
