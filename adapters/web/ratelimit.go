package web

import (
	"container/list"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxClients caps how many per-client limiters are kept. Entries are only
// made by wrong PINs, which the global limit bounds, so the cap is reached
// only under a distributed attack; the least recently failing client is
// then forgotten, and the global limit still holds.
const maxClients = 10000

// warnEvery spaces the operator warnings about one limited client.
const warnEvery = time.Minute

// guard limits wrong PIN guesses per client and globally. Only failed
// lookups consume tokens, so customers who follow a good link never meet
// the limit, while a guesser gets a handful of tries a minute.
type guard struct {
	now     func() time.Time
	limit   rate.Limit
	burst   int
	idle    time.Duration // after this long without a failure a limiter is full again
	global  *rate.Limiter
	log     *slog.Logger
	metrics *Metrics

	mu           sync.Mutex
	clients      map[string]*list.Element // of *client
	lru          *list.List               // front: the most recent failure
	globalWarned time.Time
}

// client is one client's limiter.
type client struct {
	key    string
	lim    *rate.Limiter
	failed time.Time // last failure
	warned time.Time // last warning logged
}

type guardOptions struct {
	perClient, global int // per minute
	now               func() time.Time
	log               *slog.Logger
	metrics           *Metrics
}

func newGuard(o guardOptions) *guard {
	return &guard{
		now:     o.now,
		limit:   perMinute(o.perClient),
		burst:   o.perClient,
		idle:    time.Minute,
		global:  rate.NewLimiter(perMinute(o.global), o.global),
		log:     o.log,
		metrics: o.metrics,
		clients: make(map[string]*list.Element),
		lru:     list.New(),
	}
}

func perMinute(n int) rate.Limit { return rate.Limit(float64(n) / 60) }

// wait reports how long the client with key must wait before its next
// guess may be looked up: zero when it may go ahead now. When it must wait
// it logs one warning per client per minute; ip is what the warning names.
func (g *guard) wait(key, ip string) time.Duration {
	d, warn := g.check(key, g.now())
	if d == 0 {
		return 0
	}
	g.metrics.pinFailure(reasonRateLimited)
	if warn != "" {
		g.log.Warn("too many wrong pins; refusing guesses without looking them up", "client", ip, "limit", warn)
	}
	return d
}

// check returns how long the client with key must wait at now and, when
// it must and no warning went out within the last minute, which limit to
// warn about ("client" or "global"). Logging is left to the caller, outside
// the lock.
func (g *guard) check(key string, now time.Time) (wait time.Duration, warn string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	var c *client
	if el, ok := g.clients[key]; ok {
		c = el.Value.(*client)
		wait = untilToken(c.lim, now)
	}
	global := untilToken(g.global, now)
	switch {
	case wait == 0 && global == 0:
		return 0, ""
	case wait > 0 && now.Sub(c.warned) >= warnEvery:
		c.warned, warn = now, "client"
	case wait == 0 && now.Sub(g.globalWarned) >= warnEvery:
		g.globalWarned, warn = now, "global"
	}
	return max(wait, global), warn
}

// fail records a wrong guess by the client with key.
func (g *guard) fail(key string) {
	now := g.now()
	g.metrics.pinFailure(reasonUnknown)
	g.global.AllowN(now, 1)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.evictIdle(now)
	el, ok := g.clients[key]
	if !ok {
		if g.lru.Len() >= maxClients {
			g.remove(g.lru.Back())
		}
		el = g.lru.PushFront(&client{key: key, lim: rate.NewLimiter(g.limit, g.burst)})
		g.clients[key] = el
	}
	c := el.Value.(*client)
	c.lim.AllowN(now, 1)
	c.failed = now
	g.lru.MoveToFront(el)
}

// evictIdle forgets clients that have not failed for long enough that
// their limiter is full again: a fresh one would behave the same. The list
// is in failure order, so only its tail needs looking at.
func (g *guard) evictIdle(now time.Time) {
	for el := g.lru.Back(); el != nil; el = g.lru.Back() {
		if now.Sub(el.Value.(*client).failed) < g.idle {
			return
		}
		g.remove(el)
	}
}

func (g *guard) remove(el *list.Element) {
	delete(g.clients, el.Value.(*client).key)
	g.lru.Remove(el)
}

// size returns the number of clients tracked.
func (g *guard) size() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.lru.Len()
}

// untilToken returns how long until lim has a whole token at now.
func untilToken(lim *rate.Limiter, now time.Time) time.Duration {
	tokens := lim.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	secs := (1 - tokens) / float64(lim.Limit())
	return max(time.Duration(secs*float64(time.Second)), time.Nanosecond)
}

// clientAddr returns the address of the client behind r: the peer, or,
// when the peer is a trusted proxy, the right-most X-Forwarded-For address
// that is not itself a trusted proxy. Addresses to the left of that one
// were written by the client and cannot be believed.
func clientAddr(r *http.Request, trusted []netip.Prefix) (netip.Addr, bool) {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, false
	}
	addr := peer.Addr().Unmap()
	if !isTrusted(addr, trusted) {
		return addr, true
	}
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		parts := strings.Split(hops[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			hop, ok := parseHop(parts[j])
			if !ok {
				// Garbage inserted by someone: the last address a
				// trusted proxy vouched for is as far as we can see.
				return addr, true
			}
			addr = hop
			if !isTrusted(hop, trusted) {
				return hop, true
			}
		}
	}
	return addr, true
}

// parseHop parses one X-Forwarded-For entry, which some proxies write with
// a port.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// limitKey is the key a client is limited under. An IPv6 client usually
// holds a whole /64, so that is the unit: otherwise each of its addresses
// would get a fresh allowance.
func limitKey(a netip.Addr, ok bool, remoteAddr string) string {
	if !ok {
		return "peer:" + remoteAddr
	}
	if a.Is6() && !a.Is4In6() {
		return netip.PrefixFrom(a.WithZone(""), 64).Masked().String()
	}
	return a.String()
}
