package coretest

import (
	"bytes"
	"context"
	"crypto/rand"
	"time"

	"github.com/assistbot/assistbot/core"
)

// The state every replica shares besides the domain (core/shared.go):
// keys, sign-ins, memos and locks. A MemStore is one process's, so its
// locks are that process's too.

// memKey is a stored key and the one before its last rotation.
type memKey struct{ current, previous []byte }

// memo is a stored memo.
type memo struct {
	value   string
	expires time.Time
}

// The key sizes every store accepts: shorter keys can be guessed, and a
// longer one is no key but a mistake.
const (
	minKeySize = 16
	maxKeySize = 1024
)

// checkKey refuses what no store can make a key of.
func checkKey(name string, size int) error {
	if name == "" {
		return core.Errorf(core.CodeInvalid, "a key needs a name")
	}
	if size < minKeySize || size > maxKeySize {
		return core.Errorf(core.CodeInvalid, "a key must have %d to %d bytes, not %d", minKeySize, maxKeySize, size)
	}
	return nil
}

func randomKey(size int) []byte {
	b := make([]byte, size)
	rand.Read(b)
	return b
}

// Key implements core.KeyStore.
func (m *MemStore) Key(ctx context.Context, name string, size int) (current, previous []byte, err error) {
	if err := checkKey(name, size); err != nil {
		return nil, nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.keys == nil {
		m.keys = map[string]memKey{}
	}
	k, ok := m.keys[name]
	if !ok {
		k = memKey{current: randomKey(size)}
		m.keys[name] = k
	}
	return bytes.Clone(k.current), bytes.Clone(k.previous), nil
}

// RotateKey implements core.KeyStore.
func (m *MemStore) RotateKey(ctx context.Context, name string, size int) error {
	if err := checkKey(name, size); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.keys == nil {
		m.keys = map[string]memKey{}
	}
	m.keys[name] = memKey{current: randomKey(size), previous: m.keys[name].current}
	return nil
}

// checkSignIn refuses a sign-in that no store keeps: without a token, or
// without an end.
func checkSignIn(s *core.SignIn) error {
	switch {
	case s == nil || s.TokenHash == "":
		return core.Errorf(core.CodeInvalid, "a sign-in needs its token's hash")
	case s.ExpiresAt.IsZero():
		return core.Errorf(core.CodeInvalid, "a sign-in needs an expiry")
	}
	return nil
}

// CreateSignIn implements core.SignInStore.
func (m *MemStore) CreateSignIn(ctx context.Context, s *core.SignIn) error {
	if err := checkSignIn(s); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.signIns == nil {
		m.signIns = map[string]core.SignIn{}
	}
	if _, ok := m.signIns[s.TokenHash]; ok {
		return core.Errorf(core.CodeConflict, "the sign-in exists")
	}
	m.signIns[s.TokenHash] = *s
	return nil
}

// FindSignIn implements core.SignInStore.
func (m *MemStore) FindSignIn(ctx context.Context, tokenHash string, now time.Time) (*core.SignIn, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.signIns[tokenHash]
	if !ok || !s.ExpiresAt.After(now) {
		return nil, notFound("sign-in")
	}
	return &s, nil
}

// EndSignIn implements core.SignInStore.
func (m *MemStore) EndSignIn(ctx context.Context, tokenHash string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.signIns, tokenHash)
	return nil
}

// ExpireSignIns implements core.SignInStore.
func (m *MemStore) ExpireSignIns(ctx context.Context, now time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for h, s := range m.signIns {
		if s.ExpiresAt.Before(now) {
			delete(m.signIns, h)
			n++
		}
	}
	return n, nil
}

// checkMemo refuses a memo that no store keeps.
func checkMemo(key string, expires time.Time) error {
	switch {
	case key == "":
		return core.Errorf(core.CodeInvalid, "a memo needs a key")
	case expires.IsZero():
		return core.Errorf(core.CodeInvalid, "a memo needs an expiry")
	}
	return nil
}

// PutMemo implements core.MemoStore.
func (m *MemStore) PutMemo(ctx context.Context, key, value string, expires time.Time) error {
	if err := checkMemo(key, expires); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.memos == nil {
		m.memos = map[string]memo{}
	}
	m.memos[key] = memo{value: value, expires: expires}
	return nil
}

// FindMemo implements core.MemoStore.
func (m *MemStore) FindMemo(ctx context.Context, key string, now time.Time) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.memos[key]
	if !ok || !v.expires.After(now) {
		return "", notFound("memo")
	}
	return v.value, nil
}

// ExpireMemos implements core.MemoStore.
func (m *MemStore) ExpireMemos(ctx context.Context, now time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for k, v := range m.memos {
		if v.expires.Before(now) {
			delete(m.memos, k)
			n++
		}
	}
	return n, nil
}

// TryLock implements core.Locker within the process: a MemStore is one
// process's store, and however many engines share it, only one of them
// holds a lock at a time. Closing the store loses every lock.
func (m *MemStore) TryLock(ctx context.Context, name string) (lost <-chan struct{}, release func(), ok bool, err error) {
	if name == "" {
		return nil, func() {}, false, core.Errorf(core.CodeInvalid, "a lock needs a name")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, func() {}, false, core.Errorf(core.CodeUnavailable, "store closed")
	}
	if _, held := m.locks[name]; held {
		return nil, func() {}, false, nil
	}
	if m.locks == nil {
		m.locks = map[string]chan struct{}{}
	}
	c := make(chan struct{})
	m.locks[name] = c
	return c, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		// After Close, or a second call, the name may be another
		// holder's.
		if m.locks[name] == c {
			delete(m.locks, name)
		}
	}, true, nil
}

// loseLocks ends every lock held, as a closed store's.
func (m *MemStore) loseLocks() {
	for name, c := range m.locks {
		close(c)
		delete(m.locks, name)
	}
}
