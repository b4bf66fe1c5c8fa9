package core

import (
	"context"
	"time"
)

// Broadcaster is implemented by stores that several replicas share
// (PostgreSQL, with LISTEN/NOTIFY): it carries what one replica published
// to every other one, so that their live views (console and chat streams,
// desk alerts, cards) follow a change made anywhere. A store used by one
// process does not implement it.
type Broadcaster interface {
	// Broadcast tells the other replicas about a. It must not block for
	// long: the engine calls it from one goroutine, after the commit.
	Broadcast(ctx context.Context, a Announcement) error
	// Listen calls heard with each announcement another replica made,
	// never this replica's own, until ctx ends; it reconnects by itself
	// and returns only when ctx ends. An announcement it cannot read is
	// skipped after a call to unreadable, which says why.
	Listen(ctx context.Context, heard func(Announcement), unreadable func(error)) error
}

// Announcement is what one replica tells the others about an update it
// published: enough to find what changed in the store, and nothing a log
// may not show (no PIN, no address).
type Announcement struct {
	SessionID      string `json:"s,omitempty"`
	Event          *Event `json:"e,omitempty"`
	DeliveryID     int64  `json:"d,omitempty"`
	ConversationID string `json:"c,omitempty"`
	MessageID      int64  `json:"m,omitempty"`
	Closer         string `json:"x,omitempty"`
}

// announcement describes u for the other replicas.
func announcement(u Update) Announcement {
	var a Announcement
	if u.Session != nil {
		a.SessionID = u.Session.ID
	}
	if u.Event != nil {
		ev := *u.Event
		a.Event = &ev
	}
	if u.Delivery != nil {
		a.DeliveryID = u.Delivery.ID
		if a.SessionID == "" {
			a.SessionID = u.Delivery.SessionID
		}
	}
	if u.Conversation != nil {
		a.ConversationID = u.Conversation.ID
	}
	if u.Message != nil {
		a.MessageID = u.Message.ID
		a.ConversationID = u.Message.ConversationID
	}
	a.Closer = u.Closer
	return a
}

// rebuild makes the Update another replica published from what the store
// holds now. Its session is the current one, which may be newer than the
// change announced: readers treat updates as news to reload on, never as
// the last word.
func (e *Engine) rebuild(ctx context.Context, a Announcement) (Update, error) {
	var u Update
	if a.SessionID != "" {
		s, err := e.store.FindSession(ctx, a.SessionID)
		if err != nil {
			return u, err
		}
		s.State = s.Current(e.clock.Now())
		u.Session = s
		u.Event = a.Event
	}
	if a.DeliveryID != 0 {
		d, err := e.store.FindDelivery(ctx, a.DeliveryID)
		if err != nil {
			return u, err
		}
		u.Delivery = d
	}
	if a.ConversationID != "" {
		c, err := e.store.FindConversation(ctx, a.ConversationID)
		if err != nil {
			return u, err
		}
		u.Conversation, u.Closer = c, a.Closer
	}
	if a.MessageID != 0 {
		ms, err := e.store.FindMessages(ctx, MessageFilter{ConversationID: a.ConversationID, AfterID: a.MessageID - 1, Limit: 1})
		if err != nil {
			return u, err
		}
		if len(ms) == 1 && ms[0].ID == a.MessageID {
			u.Message = ms[0]
		}
	}
	return u, nil
}

// broadcastQueue is how many announcements may wait to be sent before
// new ones are dropped (and counted in the log): a replica whose database
// is too slow to announce keeps serving; other replicas then show the
// change on their next reload.
const broadcastQueue = 1024

// broadcastTimeout bounds one announcement.
const broadcastTimeout = 5 * time.Second

// announce queues u for the other replicas, without blocking.
func (e *Engine) announce(u Update) {
	if e.broadcast == nil {
		return
	}
	select {
	case e.announcements <- announcement(u):
	default:
		e.log.Warn("an update was not announced to the other replicas: too many waiting")
	}
}

// broadcastLoop sends the queued announcements, and publishes what the
// other replicas announce on this replica's hub, until ctx ends.
func (e *Engine) broadcastLoop(ctx context.Context) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := e.broadcast.Listen(ctx, func(a Announcement) {
			rctx, cancel := context.WithTimeout(ctx, broadcastTimeout)
			defer cancel()
			u, err := e.rebuild(rctx, a)
			if err != nil {
				e.log.Warn("an announced update could not be read", "session_id", a.SessionID, "conversation_id", a.ConversationID, "err", err)
				return
			}
			u.Heard = true
			e.hub.Publish(u)
		}, func(err error) {
			e.log.Warn("skipped an announcement from another replica that could not be read", "err", err)
		})
		if err != nil && ctx.Err() == nil {
			e.log.Error("listening to the other replicas stopped", "err", err)
		}
	}()
	for {
		select {
		case <-ctx.Done():
			<-done
			return
		case a := <-e.announcements:
			bctx, cancel := context.WithTimeout(ctx, broadcastTimeout)
			if err := e.broadcast.Broadcast(bctx, a); err != nil && ctx.Err() == nil {
				e.log.Warn("announce an update to the other replicas", "session_id", a.SessionID, "err", err)
			}
			cancel()
		}
	}
}
