package remote

import (
	"context"
	"slices"
	"time"

	"github.com/assistbot/assistbot/core"
)

// ConversationSessions caps the sessions of one conversation read for its
// transcript and its list of sessions.
const ConversationSessions = 100

// SentLink is a link sent to a conversation's customer, with its session.
type SentLink struct {
	Session  *core.Session
	Delivery *core.Delivery
}

// TranscriptReader is what Transcript reads of the engine.
type TranscriptReader interface {
	Transcript(ctx context.Context, convID string) ([]*core.Message, error)
	Sessions(ctx context.Context, f core.SessionFilter) ([]*core.Session, error)
	Deliveries(ctx context.Context, id string) ([]*core.Delivery, error)
}

// A TranscriptLine is a message of a conversation or a link sent to its
// customer: one of Message and Link is set.
type TranscriptLine struct {
	At      time.Time
	Message *core.Message
	Link    *SentLink
}

// Kind is how the console and the chat show l: "in" for a message from
// the customer, "out" for one from the desk, "link" for a link sent.
func (l TranscriptLine) Kind() string {
	switch {
	case l.Message == nil:
		return "link"
	case l.Message.Direction == core.FromAgent:
		return "out"
	}
	return "in"
}

// Transcript returns what the console and the chat show of conversation
// conv: its messages and the links sent to its customer, oldest first,
// and its sessions, newest first. Whether a link still opens is
// Link.Session.Opens(Link.Delivery).
func Transcript(ctx context.Context, e TranscriptReader, conv *core.Conversation) ([]TranscriptLine, []*core.Session, error) {
	msgs, err := e.Transcript(ctx, conv.ID)
	if err != nil {
		return nil, nil, err
	}
	sessions, err := e.Sessions(ctx, core.SessionFilter{ConversationID: conv.ID, Limit: ConversationSessions})
	if err != nil {
		return nil, nil, err
	}
	lines := make([]TranscriptLine, 0, len(msgs))
	for _, m := range msgs {
		lines = append(lines, TranscriptLine{At: m.At, Message: m})
	}
	for _, s := range sessions {
		ds, err := e.Deliveries(ctx, s.ID)
		if err != nil {
			return nil, nil, err
		}
		for _, d := range ds {
			if d.Notice.Kind == core.NoticeLink && d.To == conv.Customer {
				lines = append(lines, TranscriptLine{At: d.CreatedAt, Link: &SentLink{Session: s, Delivery: d}})
			}
		}
	}
	slices.SortStableFunc(lines, func(a, b TranscriptLine) int { return a.At.Compare(b.At) })
	return lines, sessions, nil
}
