package web

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxLimited caps the clients a limiter remembers; past it, the clients
// whose allowance is full again are forgotten, and then any.
const maxLimited = 10000

// limiter allows each client n attempts per period, refilled evenly: wrong
// console passwords, web chat messages. It reads the engine's clock, like
// the PIN guard, so tests move one clock.
type limiter struct {
	now    func() time.Time
	limit  rate.Limit
	burst  int
	period time.Duration

	mu      sync.Mutex
	clients map[string]*limited
}

type limited struct {
	lim  *rate.Limiter
	last time.Time
}

func newLimiter(now func() time.Time, n int, period time.Duration) *limiter {
	return &limiter{
		now:     now,
		limit:   rate.Limit(float64(n) / period.Seconds()),
		burst:   n,
		period:  period,
		clients: make(map[string]*limited),
	}
}

// wait returns how long client key must wait before its next attempt;
// zero when it may go ahead. It consumes nothing.
func (l *limiter) wait(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.clients[key]
	if !ok {
		return 0
	}
	return untilToken(c.lim, l.now())
}

// take records an attempt by client key.
func (l *limiter) take(key string) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entry(key, now).lim.AllowN(now, 1)
}

// allow records an attempt by client key if it may make one now, and
// otherwise returns how long it must wait.
func (l *limiter) allow(key string) time.Duration {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.entry(key, now)
	if d := untilToken(c.lim, now); d > 0 {
		return d
	}
	c.lim.AllowN(now, 1)
	return 0
}

func (l *limiter) entry(key string, now time.Time) *limited {
	c, ok := l.clients[key]
	if !ok {
		if len(l.clients) >= maxLimited {
			l.forget(now)
		}
		c = &limited{lim: rate.NewLimiter(l.limit, l.burst)}
		l.clients[key] = c
	}
	c.last = now
	return c
}

// forget drops the clients that have not tried for a whole period (their
// allowance is full again, as a new entry's would be), or every client
// when none is that old.
func (l *limiter) forget(now time.Time) {
	for k, c := range l.clients {
		if now.Sub(c.last) >= l.period {
			delete(l.clients, k)
		}
	}
	if len(l.clients) >= maxLimited {
		clear(l.clients)
	}
}
