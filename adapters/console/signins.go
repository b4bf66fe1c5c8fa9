package console

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/assistbot/assistbot/adapters/web"
	"github.com/assistbot/assistbot/core"
)

// maxSignIns caps the sign-ins a console keeps in memory when it has no
// store. Only a correct password makes one, so the cap is reached only by
// a misbehaving script; the sign-ins closest to expiry are then ended
// first.
const maxSignIns = 10000

// signIn is one browser signed in as an agent. The browser's cookie holds
// a random token and a seal of the agent's credentials; the store keeps
// only the token's hash, so that a copy of the store opens nothing,
// signing out really ends the sign-in, and every replica knows it.
type signIn struct {
	agent   string
	hash    string // the SHA-256 (hex) of the cookie's token: the store's key
	csrf    string // the token every form and fetch must carry
	expires time.Time
	list    *signIns
}

// ended returns a channel that is closed when the sign-in ends (sign-out
// on any replica, or expiry), so that what it opened (an event stream, a
// signaling socket) ends with it.
func (si *signIn) ended() <-chan struct{} { return si.list.watch(si) }

// signIns are the console's sign-ins: kept by a core.SignInStore, which
// every replica shares when it is the database, and watched here for
// what this replica keeps open for them.
type signIns struct {
	store core.SignInStore
	keys  *web.Keyring
	now   func() time.Time
	ttl   time.Duration

	mu sync.Mutex
	// watched are the sign-ins whose end this replica waits for, by
	// hash: closing gone ends their streams.
	watched map[string]*watch
}

type watch struct {
	gone    chan struct{}
	expires time.Time
}

func newSignIns(store core.SignInStore, keys *web.Keyring, now func() time.Time, ttl time.Duration) *signIns {
	if store == nil {
		store = newMemSignIns()
	}
	return &signIns{store: store, keys: keys, now: now, ttl: ttl, watched: map[string]*watch{}}
}

// seal is the part of the cookie that ties a sign-in to the agent's
// password hash as it was: when the hash changes (a new password, the
// one-time agent of another run) or the agent is removed, the cookie
// stops working.
func seal(a Agent) string {
	sum := sha256.Sum256([]byte("assistbot console sign-in\x00" + a.Name + "\x00" + a.PasswordHash))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// create signs agent a in and returns the cookie's value.
func (s *signIns) create(ctx context.Context, a Agent) (string, *signIn, error) {
	token, hash := core.NewSecret()
	now := s.now()
	rec := &core.SignIn{TokenHash: hash, Agent: a.Name, CreatedAt: now, ExpiresAt: now.Add(s.ttl)}
	if err := s.store.CreateSignIn(ctx, rec); err != nil {
		return "", nil, fmt.Errorf("console: record the sign-in: %w", err)
	}
	si, err := s.signIn(ctx, rec)
	if err != nil {
		return "", nil, err
	}
	return token + "." + seal(a), si, nil
}

// find returns the live sign-in of a cookie's value, checked against the
// agents as configured now: nil when there is none. An error means the
// store could not tell.
func (s *signIns) find(ctx context.Context, cookie string, agents map[string]Agent) (*signIn, error) {
	token, sealed, ok := strings.Cut(cookie, ".")
	if !ok || token == "" {
		return nil, nil
	}
	hash := core.SecretKey(token)
	rec, err := s.store.FindSignIn(ctx, hash, s.now())
	if core.ErrorCode(err) == core.CodeNotFound {
		s.gone(hash)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("console: find the sign-in: %w", err)
	}
	a, known := agents[rec.Agent]
	if !known || subtle.ConstantTimeCompare([]byte(sealed), []byte(seal(a))) != 1 {
		return nil, nil
	}
	return s.signIn(ctx, rec)
}

func (s *signIns) signIn(ctx context.Context, rec *core.SignIn) (*signIn, error) {
	csrf, err := s.keys.Sign(ctx, "signin", rec.TokenHash)
	if err != nil {
		return nil, err
	}
	return &signIn{agent: rec.Agent, hash: rec.TokenHash, csrf: csrf, expires: rec.ExpiresAt, list: s}, nil
}

// validCSRF reports whether token is si's CSRF token (under the current
// key or the one before a rotation).
func (s *signIns) validCSRF(ctx context.Context, si *signIn, token string) (bool, error) {
	return s.keys.Valid(ctx, "signin", si.hash, token)
}

// end signs the browser with the cookie's value out, on every replica.
func (s *signIns) end(ctx context.Context, si *signIn) error {
	if err := s.store.EndSignIn(ctx, si.hash); err != nil {
		return fmt.Errorf("console: end the sign-in: %w", err)
	}
	s.gone(si.hash)
	return nil
}

// watch returns the channel closed when si ends.
func (s *signIns) watch(si *signIn) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, ok := s.watched[si.hash]
	if !ok {
		w = &watch{gone: make(chan struct{}), expires: si.expires}
		s.watched[si.hash] = w
	}
	return w.gone
}

// gone closes the watch of the sign-in with hash, if this replica has one.
func (s *signIns) gone(hash string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w, ok := s.watched[hash]; ok {
		delete(s.watched, hash)
		close(w.gone)
	}
}

// sweep deletes the expired sign-ins from the store, and ends what this
// replica keeps open for sign-ins that expired or ended elsewhere (signed
// out on another replica). A store that cannot answer ends nothing.
func (s *signIns) sweep(ctx context.Context, expire bool) error {
	now := s.now()
	if expire {
		if _, err := s.store.ExpireSignIns(ctx, now); err != nil {
			return fmt.Errorf("console: expire sign-ins: %w", err)
		}
	}
	s.mu.Lock()
	hashes := make([]string, 0, len(s.watched))
	for h, w := range s.watched {
		if !now.Before(w.expires) {
			delete(s.watched, h)
			close(w.gone)
			continue
		}
		hashes = append(hashes, h)
	}
	s.mu.Unlock()
	for _, h := range hashes {
		_, err := s.store.FindSignIn(ctx, h, now)
		switch {
		case core.ErrorCode(err) == core.CodeNotFound:
			s.gone(h)
		case err != nil:
			return fmt.Errorf("console: check a sign-in: %w", err)
		}
	}
	return nil
}

// memSignIns keeps sign-ins in memory, for a console given no store: a
// restart signs every agent out, and replicas do not share them.
type memSignIns struct {
	mu     sync.Mutex
	byHash map[string]core.SignIn
}

var _ core.SignInStore = (*memSignIns)(nil)

func newMemSignIns() *memSignIns { return &memSignIns{byHash: map[string]core.SignIn{}} }

// CreateSignIn implements core.SignInStore. At the cap, the sign-ins
// closest to expiry are ended first.
func (m *memSignIns) CreateSignIn(ctx context.Context, s *core.SignIn) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.byHash) >= maxSignIns {
		m.expireLocked(s.CreatedAt)
	}
	for len(m.byHash) >= maxSignIns {
		var oldest string
		for h, v := range m.byHash {
			if oldest == "" || v.ExpiresAt.Before(m.byHash[oldest].ExpiresAt) {
				oldest = h
			}
		}
		delete(m.byHash, oldest)
	}
	m.byHash[s.TokenHash] = *s
	return nil
}

// FindSignIn implements core.SignInStore.
func (m *memSignIns) FindSignIn(ctx context.Context, tokenHash string, now time.Time) (*core.SignIn, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.byHash[tokenHash]
	if !ok || !now.Before(s.ExpiresAt) {
		return nil, core.Errorf(core.CodeNotFound, "sign-in not found")
	}
	return &s, nil
}

// EndSignIn implements core.SignInStore.
func (m *memSignIns) EndSignIn(ctx context.Context, tokenHash string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.byHash, tokenHash)
	return nil
}

// ExpireSignIns implements core.SignInStore.
func (m *memSignIns) ExpireSignIns(ctx context.Context, now time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.expireLocked(now), nil
}

func (m *memSignIns) expireLocked(now time.Time) int {
	n := 0
	for h, s := range m.byHash {
		if !now.Before(s.ExpiresAt) {
			delete(m.byHash, h)
			n++
		}
	}
	return n
}
