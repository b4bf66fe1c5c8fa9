package web_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/web"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
)

// countingKeys counts the reads of a key store.
type countingKeys struct {
	core.KeyStore
	reads atomic.Int64
}

func (c *countingKeys) Key(ctx context.Context, name string, size int) ([]byte, []byte, error) {
	c.reads.Add(1)
	return c.KeyStore.Key(ctx, name, size)
}

// TestKeyringFollowsRotation: replicas sharing a key store check each
// other's tokens across a rotation. A replica that has not read the new
// key yet accepts a token signed with it at once; a token signed before
// the rotation keeps working until the next one; a wrong token makes a
// replica read the store at most once a second.
func TestKeyringFollowsRotation(t *testing.T) {
	ctx := context.Background()
	clock := coretest.NewClock(time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC))
	store := &countingKeys{KeyStore: coretest.NewMemStore()}
	a := web.NewKeyring(store, "chat", 32, clock.Now)
	b := web.NewKeyring(store, "chat", 32, clock.Now)
	valid := func(k *web.Keyring, token string) bool {
		t.Helper()
		ok, err := k.Valid(ctx, "form", "chat-1", token)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	old, err := a.Sign(ctx, "form", "chat-1")
	if err != nil {
		t.Fatal(err)
	}
	if !valid(b, old) {
		t.Fatal("b refuses a's token")
	}
	if err := store.RotateKey(ctx, "chat", 32); err != nil {
		t.Fatal(err)
	}
	clock.Add(2 * time.Second)
	// A replica started after the rotation signs with the new key.
	fresh, err := web.NewKeyring(store, "chat", 32, clock.Now).Sign(ctx, "form", "chat-1")
	if err != nil {
		t.Fatal(err)
	}
	if fresh == old {
		t.Fatal("the rotation did not change the token")
	}
	if !valid(b, fresh) {
		t.Error("b refuses a token of the new key until its next refresh")
	}
	if !valid(a, old) || !valid(b, old) {
		t.Error("a token of the key before the rotation is refused")
	}

	reads := store.reads.Load()
	for range 100 {
		if valid(a, "forged") {
			t.Fatal("a forged token is valid")
		}
	}
	if n := store.reads.Load() - reads; n > 1 {
		t.Errorf("100 wrong tokens within a second read the store %d times, want at most 1", n)
	}

	if err := store.RotateKey(ctx, "chat", 32); err != nil {
		t.Fatal(err)
	}
	clock.Add(web.KeyRefresh)
	if valid(a, old) || valid(b, old) {
		t.Error("a token two rotations old is still valid")
	}
	if !valid(a, fresh) {
		t.Error("a token of the previous key is refused")
	}
}
