package console

import (
	"crypto/rand"
	"sync"
	"time"

	"github.com/assistbot/assistbot/core"
)

// maxSignIns caps the sign-ins kept in memory. Only a correct password
// makes one, so the cap is reached only by a misbehaving script; the
// sign-ins closest to expiry are then ended first.
const maxSignIns = 10000

// signIn is one browser signed in as an agent. It lives only in memory:
// the cookie holds a random token, and the server keeps the token's hash,
// so that signing out really ends it and a copied cookie stops working.
type signIn struct {
	agent   string
	csrf    string // the token every form and fetch must carry
	expires time.Time
	// gone is closed when the sign-in ends (sign-out or expiry), so that
	// the event streams it opened end with it.
	gone chan struct{}
}

// signIns is the server-side store of sign-ins, keyed by the SHA-256 of
// their cookie token.
type signIns struct {
	now func() time.Time
	ttl time.Duration

	mu    sync.Mutex
	byKey map[string]*signIn
}

func newSignIns(now func() time.Time, ttl time.Duration) *signIns {
	return &signIns{now: now, ttl: ttl, byKey: make(map[string]*signIn)}
}

// create signs agent in and returns the cookie token.
func (s *signIns) create(agent string) (string, *signIn) {
	token, key := core.NewSecret()
	si := &signIn{agent: agent, csrf: rand.Text(), expires: s.now().Add(s.ttl), gone: make(chan struct{})}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.byKey) >= maxSignIns {
		s.sweepLocked()
	}
	for len(s.byKey) >= maxSignIns {
		var oldest string
		for k, v := range s.byKey {
			if oldest == "" || v.expires.Before(s.byKey[oldest].expires) {
				oldest = k
			}
		}
		s.endLocked(oldest)
	}
	s.byKey[key] = si
	return token, si
}

// find returns the live sign-in of a cookie token. An expired one is
// ended on the way.
func (s *signIns) find(token string) (*signIn, bool) {
	if token == "" {
		return nil, false
	}
	key := core.SecretKey(token)
	s.mu.Lock()
	defer s.mu.Unlock()
	si, ok := s.byKey[key]
	if !ok {
		return nil, false
	}
	if !s.now().Before(si.expires) {
		s.endLocked(key)
		return nil, false
	}
	return si, true
}

// end signs the browser with token out.
func (s *signIns) end(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.endLocked(core.SecretKey(token))
}

// sweep ends every expired sign-in, so that their event streams close.
func (s *signIns) sweep() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked()
}

func (s *signIns) sweepLocked() {
	now := s.now()
	for k, si := range s.byKey {
		if !now.Before(si.expires) {
			s.endLocked(k)
		}
	}
}

func (s *signIns) endLocked(key string) {
	if si, ok := s.byKey[key]; ok {
		delete(s.byKey, key)
		close(si.gone)
	}
}

// count returns how many sign-ins are live.
func (s *signIns) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byKey)
}
