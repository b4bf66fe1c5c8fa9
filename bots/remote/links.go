package remote

import (
	"context"

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

// LinkReader is what LinksSent reads of the engine.
type LinkReader interface {
	Sessions(ctx context.Context, f core.SessionFilter) ([]*core.Session, error)
	Deliveries(ctx context.Context, id string) ([]*core.Delivery, error)
}

// LinksSent returns the links sent to conversation conv's customer, with
// their sessions, and the conversation's sessions newest first: what a
// transcript shows beside the messages, in the console and in the chat.
// Whether a link still opens is link.Session.Opens(link.Delivery).
func LinksSent(ctx context.Context, e LinkReader, conv *core.Conversation) ([]SentLink, []*core.Session, error) {
	sessions, err := e.Sessions(ctx, core.SessionFilter{ConversationID: conv.ID, Limit: ConversationSessions})
	if err != nil {
		return nil, nil, err
	}
	var links []SentLink
	for _, s := range sessions {
		ds, err := e.Deliveries(ctx, s.ID)
		if err != nil {
			return nil, nil, err
		}
		for _, d := range ds {
			if d.Notice.Kind == core.NoticeLink && d.To == conv.Customer {
				links = append(links, SentLink{Session: s, Delivery: d})
			}
		}
	}
	return links, sessions, nil
}
