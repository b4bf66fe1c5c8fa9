package console

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

const (
	// csrfKey names the key the console's CSRF tokens are made with, in
	// the key store; every replica reads the same one.
	csrfKey     = "console.csrf"
	csrfKeySize = 32
	// keyRefresh is how long a replica uses the key it read before it
	// reads it again, so that a rotation reaches every replica within it.
	// A token made with the key before a rotation still verifies: the
	// previous key is kept.
	keyRefresh = time.Minute
)

// keyring makes and checks the console's CSRF tokens: each is an HMAC of
// a value the browser's cookie stands for, under the key every replica
// shares, so that a page from another site can neither read nor forge it
// and any replica can check what another made.
type keyring struct {
	store core.KeyStore
	now   func() time.Time

	mu       sync.Mutex
	current  []byte
	previous []byte
	read     time.Time
}

func newKeyring(store core.KeyStore, now func() time.Time) *keyring {
	if store == nil {
		store = &memKeys{}
	}
	return &keyring{store: store, now: now}
}

// keys returns the current and previous keys, read from the store at
// most once a keyRefresh. When a refresh fails, the keys already read
// serve on; with none read yet, the error is returned.
func (k *keyring) keys(ctx context.Context) (current, previous []byte, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	if k.current != nil && now.Sub(k.read) < keyRefresh && !now.Before(k.read) {
		return k.current, k.previous, nil
	}
	cur, prev, err := k.store.Key(ctx, csrfKey, csrfKeySize)
	if err != nil {
		if k.current != nil {
			return k.current, k.previous, nil
		}
		return nil, nil, fmt.Errorf("console: read the csrf key: %w", err)
	}
	k.current, k.previous, k.read = cur, prev, now
	return cur, prev, nil
}

// make returns the token of value for purpose ("login", "signin").
func (k *keyring) make(ctx context.Context, purpose, value string) (string, error) {
	cur, _, err := k.keys(ctx)
	if err != nil {
		return "", err
	}
	return mac(cur, purpose, value), nil
}

// valid reports whether token is the token of value for purpose under the
// current key or the previous one.
func (k *keyring) valid(ctx context.Context, purpose, value, token string) (bool, error) {
	if value == "" || token == "" {
		return false, nil
	}
	cur, prev, err := k.keys(ctx)
	if err != nil {
		return false, err
	}
	ok := hmac.Equal([]byte(token), []byte(mac(cur, purpose, value)))
	if prev != nil {
		ok = hmac.Equal([]byte(token), []byte(mac(prev, purpose, value))) || ok
	}
	return ok, nil
}

func mac(key []byte, purpose, value string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// memKeys is the key store of a console given none: keys made at random
// for this process, which every restart replaces.
type memKeys struct {
	mu   sync.Mutex
	keys map[string][2][]byte
}

var _ core.KeyStore = (*memKeys)(nil)

// Key implements core.KeyStore.
func (m *memKeys) Key(ctx context.Context, name string, size int) (current, previous []byte, err error) {
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
func (m *memKeys) RotateKey(ctx context.Context, name string, size int) error {
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
