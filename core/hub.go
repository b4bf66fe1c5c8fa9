package core

import "sync"

// Update is published after every committed change: a session event, a
// delivery whose status changed, a message relayed, a conversation opened
// or closed.
type Update struct {
	// Session is the session after the change; nil for a delivery update
	// of a notice that belongs to no session.
	Session *Session
	// Event is the event the change recorded, if any.
	Event *Event
	// Delivery is the outbox entry the change created or updated, if any.
	Delivery *Delivery
	// Conversation is the conversation a message belongs to, or one that
	// was closed.
	Conversation *Conversation
	// Closer names who closed Conversation, on the update of its closing.
	Closer string
	// Message is a message added to a transcript.
	Message *Message
	// Heard marks an update another replica made, heard through the
	// store (Broadcaster): what is done once per change, such as a
	// note posted to a desk, is left to the replica that made it.
	Heard bool
}

// Hub fans updates out to subscribers in the process: the console's live
// queue, the platform adapters refreshing their cards. It never blocks a
// publisher: a subscriber that falls behind is dropped (its channel is
// closed) and is expected to subscribe again and reload what it shows.
type Hub struct {
	mu   sync.Mutex
	subs map[chan Update]struct{}
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{subs: make(map[chan Update]struct{})} }

// Subscribe returns a channel of updates with room for buf of them and a
// function that ends the subscription.
func (h *Hub) Subscribe(buf int) (<-chan Update, func()) {
	if buf < 1 {
		buf = 1
	}
	c := make(chan Update, buf)
	h.mu.Lock()
	h.subs[c] = struct{}{}
	h.mu.Unlock()
	return c, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if _, ok := h.subs[c]; ok {
			delete(h.subs, c)
			close(c)
		}
	}
}

// Publish sends u to every subscriber that has room and drops the others.
func (h *Hub) Publish(u Update) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.subs {
		select {
		case c <- u:
		default:
			delete(h.subs, c)
			close(c)
		}
	}
}
