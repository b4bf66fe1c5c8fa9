package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"sync"
	"time"

	"github.com/assistbot/assistbot/core"
)

// Keyring timing. A replica reads its key again at most once a
// KeyRefresh, so that a rotation reaches it within that; and at once, at
// most once a keyRecheck, when a token verifies under neither key it
// holds, so that what a replica that already has the new key signed is
// accepted without waiting.
const (
	KeyRefresh = time.Minute
	keyRecheck = time.Second
)

// Keyring holds one of the signing keys the replicas share, kept in the
// store (core.KeyStore) under a name: the current key signs, and the
// current and the previous one verify, so that what was signed just
// before a rotation keeps working. It is safe for concurrent use.
type Keyring struct {
	store core.KeyStore
	name  string
	size  int
	now   func() time.Time

	mu       sync.Mutex
	current  []byte
	previous []byte
	read     time.Time
}

// NewKeyring returns the keyring of the key called name, of size bytes,
// in store. now tells the time of the refreshes (default time.Now).
// Without a store, the key is made at random for this process, and every
// restart replaces it: for tests, and for surfaces a single process
// serves.
func NewKeyring(store core.KeyStore, name string, size int, now func() time.Time) *Keyring {
	if store == nil {
		store = &processKeys{}
	}
	if now == nil {
		now = time.Now
	}
	return &Keyring{store: store, name: name, size: size, now: now}
}

// Keys returns the current key and the previous one (nil before the
// first rotation), read from the store at most once a KeyRefresh. When a
// read fails, the keys already read serve on; with none read yet, the
// error is returned.
func (k *Keyring) Keys(ctx context.Context) (current, previous []byte, err error) {
	return k.keys(ctx, KeyRefresh)
}

func (k *Keyring) keys(ctx context.Context, fresh time.Duration) (current, previous []byte, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	if k.current != nil && now.Sub(k.read) < fresh && !now.Before(k.read) {
		return k.current, k.previous, nil
	}
	cur, prev, err := k.store.Key(ctx, k.name, k.size)
	if err != nil {
		if k.current != nil {
			return k.current, k.previous, nil
		}
		return nil, nil, fmt.Errorf("read the %s key: %w", k.name, err)
	}
	k.current, k.previous, k.read = cur, prev, now
	return cur, prev, nil
}

// Check reports whether ok accepts the current key or the previous one.
// When it accepts neither, the keys are read again first if they were
// read more than a second ago: another replica may have rotated them.
func (k *Keyring) Check(ctx context.Context, ok func(key []byte) bool) (bool, error) {
	cur, prev, err := k.Keys(ctx)
	if err != nil {
		return false, err
	}
	if accepts(ok, cur, prev) {
		return true, nil
	}
	again, againPrev, err := k.keys(ctx, keyRecheck)
	if err != nil || (hmac.Equal(again, cur) && hmac.Equal(againPrev, prev)) {
		return false, err
	}
	return accepts(ok, again, againPrev), nil
}

// accepts tries every key, whatever the first answers, so that the time
// taken does not tell which key matched.
func accepts(ok func([]byte) bool, keys ...[]byte) bool {
	yes := false
	for _, key := range keys {
		if key != nil {
			yes = ok(key) || yes
		}
	}
	return yes
}

// Sign returns the token of value for purpose under the current key: a
// base64url HMAC-SHA256 of purpose NUL value.
func (k *Keyring) Sign(ctx context.Context, purpose, value string) (string, error) {
	cur, _, err := k.Keys(ctx)
	if err != nil {
		return "", err
	}
	return mac(cur, purpose, value), nil
}

// Valid reports whether token is the token of value for purpose under
// the current key or the previous one.
func (k *Keyring) Valid(ctx context.Context, purpose, value, token string) (bool, error) {
	if value == "" || token == "" {
		return false, nil
	}
	return k.Check(ctx, func(key []byte) bool { return hmac.Equal([]byte(token), []byte(mac(key, purpose, value))) })
}

func mac(key []byte, purpose, value string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// processKeys is the key store of a keyring given none: keys made at
// random for this process.
type processKeys struct {
	mu   sync.Mutex
	keys map[string][2][]byte
}

// Key implements core.KeyStore.
func (m *processKeys) Key(ctx context.Context, name string, size int) (current, previous []byte, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.keys[name]
	if !ok {
		k = [2][]byte{randomKey(size), nil}
		if m.keys == nil {
			m.keys = map[string][2][]byte{}
		}
		m.keys[name] = k
	}
	return k[0], k[1], nil
}

// RotateKey implements core.KeyStore.
func (m *processKeys) RotateKey(ctx context.Context, name string, size int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.keys == nil {
		m.keys = map[string][2][]byte{}
	}
	m.keys[name] = [2][]byte{randomKey(size), m.keys[name][0]}
	return nil
}

func randomKey(size int) []byte {
	b := make([]byte, size)
	rand.Read(b)
	return b
}
