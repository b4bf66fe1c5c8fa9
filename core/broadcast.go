package core

import "context"

// Broadcaster is implemented by stores that several replicas share
// (PostgreSQL, with LISTEN/NOTIFY): it carries what one replica published
// to every other one, so that their live views (console and chat streams,
// desk alerts, cards) follow a change made anywhere. A store used by one
// process does not implement it.
type Broadcaster interface {
	// Broadcast tells the other replicas about as, in their order, in one
	// round trip where it can. It must not block for long: the engine
	// calls it from one goroutine, after the commit, with the
	// announcements that queued up meanwhile.
	Broadcast(ctx context.Context, as []Announcement) error
	// Listen calls heard with each announcement another replica made,
	// never this replica's own, until ctx ends; it reconnects by itself
	// and returns only when ctx ends. It calls listening each time it
	// starts to hear, the first time and after each reconnection: what
	// was announced before then was not heard. An announcement it cannot
	// read is skipped after a call to unreadable, which says why.
	Listen(ctx context.Context, heard func(Announcement), listening func(), unreadable func(error)) error
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

// Replicas carries this replica's updates to the others, and theirs
// back, over a Broadcaster (package core/replicas). The engine hands it
// every update it publishes, and publishes what it hears.
type Replicas interface {
	// Announce queues u for the other replicas; it must not block.
	Announce(u Update)
	// Run sends what was announced, and calls heard with each update
	// another replica made, until ctx ends. It calls missed when updates
	// of the others may have gone unheard: it stopped hearing them for a
	// while (a lost connection), and hears them again.
	Run(ctx context.Context, heard func(Update), missed func())
}
