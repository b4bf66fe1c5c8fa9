package slack

import (
	"sync"
	"time"
)

// seen remembers the event IDs handled lately. Slack retries an event it
// got no timely 2xx for (X-Slack-Retry-Num says which attempt), and a
// Socket Mode reconnection can deliver one again; a retry must not relay
// a message twice. The transcript's own deduplication (core.ErrDuplicate)
// is the durable guard; this one also covers events that write nothing.
// It holds at most size IDs, each for at most ttl, oldest out first.
type seen struct {
	mu   sync.Mutex
	at   map[string]time.Time
	ring []string
	next int
	ttl  time.Duration
	now  func() time.Time
}

// newSeen returns an empty seen. Its map grows with the IDs it holds
// rather than being sized for size at once: most installations see far
// fewer events an hour than size, and a map made for 10,000 costs 1.6 MiB
// from the start.
func newSeen(size int, ttl time.Duration) *seen {
	return &seen{at: make(map[string]time.Time), ring: make([]string, size), ttl: ttl, now: time.Now}
}

// first records id and reports whether it is new.
func (s *seen) first(id string) bool {
	if id == "" {
		return true
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.at[id]; ok && now.Sub(t) < s.ttl {
		return false
	}
	if old := s.ring[s.next]; old != "" {
		delete(s.at, old)
	}
	s.ring[s.next] = id
	s.next = (s.next + 1) % len(s.ring)
	s.at[id] = now
	return true
}

// forget lets id be handled again: its handling failed and Slack's retry
// should get another chance.
func (s *seen) forget(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.at, id)
}
