package web

import (
	"container/list"
	"sync"
	"time"

	"github.com/assistbot/assistbot/core"
)

// DefaultMaxClients is how many clients a Limiter remembers when
// LimiterOptions leave MaxClients zero.
const DefaultMaxClients = 10000

// LimiterOptions configure a Limiter.
type LimiterOptions struct {
	// PerClient is how many attempts one client may make per Period; at
	// least one.
	PerClient int
	// Global, when positive, is how many attempts all clients together
	// may make per Period: a distributed guesser meets it however many
	// addresses it has.
	Global int
	// Period is the window the allowances refill over, evenly; default
	// one minute.
	Period time.Duration
	// Clock tells the time; it is the engine's clock, so that tests move
	// PIN lifetimes and limits together. Default core.SystemClock.
	Clock core.Clock
	// MaxClients caps the clients remembered; default DefaultMaxClients.
	// Past it the client that took least recently is forgotten (the
	// global limit still holds).
	MaxClients int
}

// Limiter gives each client an allowance of attempts that refills evenly
// over a period (a token bucket per client), optionally under one global
// allowance too. It limits wrong PINs on the portal, wrong passwords on
// the console's sign-in and messages on the web chat.
//
// An attempt is taken before its work is done, atomically: Take either
// takes from the allowances or refuses, so however many attempts a client
// sends at once, no more than its allowance get to the work. An attempt
// that turns out not to count (a right PIN, a failure of the server's
// own) is given back with Refund.
type Limiter struct {
	clock  core.Clock
	rate   float64 // tokens a second, per client
	burst  float64
	period time.Duration
	max    int

	mu           sync.Mutex
	clients      map[string]*list.Element // of *limited
	lru          *list.List               // front: the client that took last
	global       *bucket                  // nil without a global limit
	globalWarned time.Time
}

// Refusal is Take's answer. The zero Refusal lets the attempt go ahead;
// any other refuses it.
type Refusal struct {
	// Wait is how long until the client may try again; zero when the
	// attempt may go ahead now.
	Wait time.Duration
	// Global reports that the allowance of all clients together refused
	// the attempt, not the client's own.
	Global bool
	// Warn reports the first refusal by that allowance (the client's, or
	// the global one) within a period, so that callers warn operators
	// once a period rather than at every refused attempt.
	Warn bool
}

// limited is one client's allowance.
type limited struct {
	key    string
	b      bucket
	last   time.Time // last Take
	warned time.Time // last refusal with Warn
}

// NewLimiter returns a Limiter for o.
func NewLimiter(o LimiterOptions) *Limiter {
	period := o.Period
	if period <= 0 {
		period = time.Minute
	}
	n := max(o.PerClient, 1)
	l := &Limiter{
		clock:   o.Clock,
		rate:    float64(n) / period.Seconds(),
		burst:   float64(n),
		period:  period,
		max:     o.MaxClients,
		clients: make(map[string]*list.Element),
		lru:     list.New(),
	}
	if l.clock == nil {
		l.clock = core.SystemClock{}
	}
	if l.max <= 0 {
		l.max = DefaultMaxClients
	}
	if o.Global > 0 {
		g := float64(o.Global)
		l.global = &bucket{tokens: g, burst: g, rate: g / period.Seconds(), at: l.clock.Now()}
	}
	return l
}

// Take takes one attempt of the client with key from its allowance, and
// from the global one, before the attempt's work is done. When either is
// spent it takes nothing and returns how long to wait; the zero Refusal
// means the attempt was taken and may go ahead.
func (l *Limiter) Take(key string) Refusal {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.evictIdle(now)
	var c *limited
	var wait, global time.Duration
	if el, ok := l.clients[key]; ok {
		c = el.Value.(*limited)
		wait = c.b.until(now)
	}
	if l.global != nil {
		global = l.global.until(now)
	}
	switch {
	case wait > 0:
		r := Refusal{Wait: max(wait, global)}
		if now.Sub(c.warned) >= l.period {
			c.warned, r.Warn = now, true
		}
		return r
	case global > 0:
		r := Refusal{Wait: global, Global: true}
		if now.Sub(l.globalWarned) >= l.period {
			l.globalWarned, r.Warn = now, true
		}
		return r
	}
	if c == nil {
		if l.lru.Len() >= l.max {
			l.remove(l.lru.Back())
		}
		c = &limited{key: key, b: bucket{tokens: l.burst, burst: l.burst, rate: l.rate, at: now}}
		l.clients[key] = l.lru.PushFront(c)
	}
	c.b.tokens--
	c.last = now
	l.lru.MoveToFront(l.clients[key])
	if l.global != nil {
		l.global.tokens--
	}
	return Refusal{}
}

// Refund gives back an attempt that Take took for the client with key,
// for an attempt that turned out not to count against it. A client whose
// allowance is whole again is forgotten: a fresh one behaves the same.
func (l *Limiter) Refund(key string) {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if el, ok := l.clients[key]; ok {
		c := el.Value.(*limited)
		c.b.give(now)
		if c.b.tokens >= c.b.burst {
			l.remove(el)
		}
	}
	if l.global != nil {
		l.global.give(now)
	}
}

// Len returns how many clients the limiter remembers.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

// evictIdle forgets the clients that have not taken for a whole period:
// their allowance is whole again, as a new one's would be. The list is
// in the order of their last Take, so only its tail needs looking at.
func (l *Limiter) evictIdle(now time.Time) {
	for el := l.lru.Back(); el != nil; el = l.lru.Back() {
		if now.Sub(el.Value.(*limited).last) < l.period {
			return
		}
		l.remove(el)
	}
}

func (l *Limiter) remove(el *list.Element) {
	delete(l.clients, el.Value.(*limited).key)
	l.lru.Remove(el)
}

// bucket is a token bucket: up to burst tokens, refilled at rate a
// second.
type bucket struct {
	tokens, burst, rate float64
	at                  time.Time // when tokens was last brought up to date
}

// fill brings the tokens up to date at now.
func (b *bucket) fill(now time.Time) {
	if now.After(b.at) {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.at).Seconds()*b.rate)
		b.at = now
	}
}

// until returns how long from now until the bucket holds a whole token.
func (b *bucket) until(now time.Time) time.Duration {
	b.fill(now)
	if b.tokens >= 1 {
		return 0
	}
	secs := (1 - b.tokens) / b.rate
	return max(time.Duration(secs*float64(time.Second)), time.Nanosecond)
}

// give puts a token back, up to burst.
func (b *bucket) give(now time.Time) {
	b.fill(now)
	b.tokens = min(b.burst, b.tokens+1)
}
