// Package fanout hands values to every subscriber in the process without
// ever blocking the one who publishes them: the engine's updates, for the
// console's live queue and the platforms' cards.
package fanout

import "sync"

// Hub fans values out to its subscribers. A subscriber that falls behind
// is dropped (its channel is closed) and is expected to subscribe again
// and reload what it shows.
type Hub[T any] struct {
	mu   sync.Mutex
	subs map[chan T]struct{}
}

// New returns an empty hub.
func New[T any]() *Hub[T] { return &Hub[T]{subs: make(map[chan T]struct{})} }

// Subscribe returns a channel of values with room for buf of them and a
// function that ends the subscription.
func (h *Hub[T]) Subscribe(buf int) (<-chan T, func()) {
	c := make(chan T, max(buf, 1))
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

// DropAll drops every subscriber, as if each had fallen behind: values
// they should have had were lost.
func (h *Hub[T]) DropAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.subs {
		delete(h.subs, c)
		close(c)
	}
}

// Publish sends v to every subscriber that has room and drops the others.
func (h *Hub[T]) Publish(v T) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.subs {
		select {
		case c <- v:
		default:
			delete(h.subs, c)
			close(c)
		}
	}
}
