package remote

import (
	"context"

	"github.com/assistbot/assistbot/core"
)

// Subscriber is the engine's feed of updates (core.Engine.Subscribe).
type Subscriber interface {
	Subscribe(buf int) (<-chan core.Update, func())
}

// Follower follows the engine's updates for a platform. The engine's hub
// never blocks on a subscriber: one that falls behind is dropped (its
// channel closed). The Follower then subscribes again at once and calls
// CatchUp, since updates were lost in between.
type Follower struct {
	// Buffer is how many updates may wait before the hub drops the
	// follower; default 1024.
	Buffer int
	// Update handles one update, in the order they were published; it
	// should not block for long (Cards.Update draws in the background).
	Update func(ctx context.Context, u core.Update)
	// CatchUp reloads whatever follows the updates (Cards.CatchUp), after
	// the hub dropped the follower and it subscribed again.
	CatchUp func(ctx context.Context)
	// Subscribed, when set, is called each time a subscription is in
	// place: an update published before it is not seen.
	Subscribed func()
}

// DefaultBuffer is Follower.Buffer's default.
const DefaultBuffer = 1024

// Run follows e's updates until ctx ends.
func (f Follower) Run(ctx context.Context, e Subscriber) {
	buf := f.Buffer
	if buf <= 0 {
		buf = DefaultBuffer
	}
	for first := true; ctx.Err() == nil; first = false {
		updates, stop := e.Subscribe(buf)
		if f.Subscribed != nil {
			f.Subscribed()
		}
		if !first && f.CatchUp != nil {
			f.CatchUp(ctx)
		}
		f.follow(ctx, updates)
		stop()
	}
}

// follow hands updates to Update until ctx ends or the hub drops the
// subscription.
func (f Follower) follow(ctx context.Context, updates <-chan core.Update) {
	for {
		select {
		case <-ctx.Done():
			return
		case u, ok := <-updates:
			if !ok {
				return
			}
			f.Update(ctx, u)
		}
	}
}

// DeskEngine is what a chat platform whose channels are desks (Slack,
// Discord) asks of core.Engine besides what its Bot does: the
// conversations of desk threads, the relay of messages both ways, and the
// updates that keep cards and threads current.
type DeskEngine interface {
	Subscriber
	Conversation(ctx context.Context, id string) (*core.Conversation, error)
	ConversationByThread(ctx context.Context, desk core.Endpoint, thread string) (*core.Conversation, error)
	CustomerMessage(ctx context.Context, in core.Inbound) (*core.Conversation, *core.Message, error)
	AgentMessage(ctx context.Context, conversationID string, agent core.Actor, text, source string) (*core.Message, *core.Delivery, error)
}

var _ DeskEngine = (*core.Engine)(nil)
