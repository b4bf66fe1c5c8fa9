package discord

import (
	"sync"
	"time"
)

// memoSize bounds each memo: old entries go first when it is full, so a
// flood of interactions cannot grow memory without limit.
const memoSize = 10000

// memo is a small map whose entries expire. It holds what only this
// process needs to know for a while: interaction tokens (valid for 15
// minutes), DM channel ids, where a customer was named.
type memo[V any] struct {
	mu      sync.Mutex
	entries map[string]memoEntry[V]
}

type memoEntry[V any] struct {
	v       V
	expires time.Time
}

func newMemo[V any]() *memo[V] { return &memo[V]{entries: map[string]memoEntry[V]{}} }

// put remembers v under k until now+ttl.
func (m *memo[V]) put(k string, v V, now time.Time, ttl time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.entries) >= memoSize {
		m.evict(now)
	}
	m.entries[k] = memoEntry[V]{v, now.Add(ttl)}
}

// get returns the value under k if it has not expired.
func (m *memo[V]) get(k string, now time.Time) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[k]
	if !ok || !now.Before(e.expires) {
		var zero V
		return zero, false
	}
	return e.v, true
}

// evict drops expired entries, then, if the memo is still nearly full,
// arbitrary ones (map order) until a tenth of it is free, so that a full
// memo is not scanned on every put.
func (m *memo[V]) evict(now time.Time) {
	for k, e := range m.entries {
		if !now.Before(e.expires) {
			delete(m.entries, k)
		}
	}
	for k := range m.entries {
		if len(m.entries) < memoSize*9/10 {
			break
		}
		delete(m.entries, k)
	}
}
