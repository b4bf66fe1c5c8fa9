package slack

import (
	"sync"
	"time"
)

// maxCached bounds a cache of Web API answers: past it, the cache starts
// over rather than grow with every user or channel ever seen.
const maxCached = 10000

// cache keeps Web API answers for a while, so that a frequent lookup
// (users.info, conversations.info) does not cost a call each time.
type cache[V any] struct {
	ttl time.Duration
	now func() time.Time
	mu  sync.Mutex
	m   map[string]cached[V]
}

type cached[V any] struct {
	v  V
	at time.Time
}

func newCache[V any](ttl time.Duration) *cache[V] {
	return &cache[V]{ttl: ttl, now: time.Now, m: map[string]cached[V]{}}
}

// get returns the answer kept for key, unless it is older than the ttl.
func (c *cache[V]) get(key string) (V, bool) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if !ok || now.Sub(e.at) >= c.ttl {
		var zero V
		return zero, false
	}
	return e.v, true
}

// put keeps v as the answer for key from now on.
func (c *cache[V]) put(key string, v V) {
	now := c.now()
	c.mu.Lock()
	if len(c.m) >= maxCached {
		clear(c.m)
	}
	c.m[key] = cached[V]{v, now}
	c.mu.Unlock()
}
