package sqlite

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/assistbot/assistbot/core"
)

// TestSharedStateSurvivesRestart: what the console signed with before a
// restart still verifies after it, with the key rotated just before the
// restart too, and the agents signed in stay signed in.
func TestSharedStateSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "restart.db")
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	s, err := Open(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	before, _, err := s.Key(ctx, "cookies", 32)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RotateKey(ctx, "cookies", 32); err != nil {
		t.Fatal(err)
	}
	current, _, err := s.Key(ctx, "cookies", 32)
	if err != nil {
		t.Fatal(err)
	}
	_, hash := core.NewSecret()
	if err := s.CreateSignIn(ctx, &core.SignIn{TokenHash: hash, Agent: "ada", CreatedAt: now, ExpiresAt: now.Add(8 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutMemo(ctx, "discord:1", "token", now.Add(15*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cur, prev, err := s.Key(ctx, "cookies", 32)
	if err != nil || !bytes.Equal(cur, current) || !bytes.Equal(prev, before) {
		t.Errorf("Key after a restart = %x, previous %x, %v; want %x, previous %x", cur, prev, err, current, before)
	}
	if in, err := s.FindSignIn(ctx, hash, now.Add(time.Hour)); err != nil || in.Agent != "ada" {
		t.Errorf("FindSignIn after a restart = %+v, %v; want ada still signed in", in, err)
	}
	if v, err := s.FindMemo(ctx, "discord:1", now); err != nil || v != "token" {
		t.Errorf("FindMemo after a restart = %q, %v", v, err)
	}
}

// TestExpireInBatches prunes more expired rows than one batch holds: all
// go, the live ones stay, and each batch is a transaction of its own, so
// that other writes pass between them instead of waiting for the whole
// pruning.
func TestExpireInBatches(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	s.expireBatch = 3
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	var live []string
	for i := range 12 {
		_, hash := core.NewSecret()
		expires := now.Add(-time.Duration(i+1) * time.Minute)
		if i >= 10 {
			expires = now.Add(time.Minute)
			live = append(live, hash)
		}
		if err := s.CreateSignIn(ctx, &core.SignIn{TokenHash: hash, Agent: "ada", ExpiresAt: expires}); err != nil {
			t.Fatal(err)
		}
		key := fmt.Sprintf("memo-%d", i)
		if err := s.PutMemo(ctx, key, "v", expires); err != nil {
			t.Fatal(err)
		}
	}
	for name, expire := range map[string]func(context.Context, time.Time) (int, error){
		"ExpireSignIns": s.ExpireSignIns, "ExpireMemos": s.ExpireMemos,
	} {
		commits := s.w.Commits()
		if n, err := expire(ctx, now); err != nil || n != 10 {
			t.Errorf("%s = %d, %v; want 10", name, n, err)
		}
		// 3, 3, 3, 1: the last, short batch says there is no more.
		if got := s.w.Commits() - commits; got != 4 {
			t.Errorf("%s took %d transactions, want 4 of at most 3 rows", name, got)
		}
	}
	for _, hash := range live {
		if _, err := s.FindSignIn(ctx, hash, now); err != nil {
			t.Errorf("a live sign-in after pruning: %v", err)
		}
	}
	for _, key := range []string{"memo-10", "memo-11"} {
		if _, err := s.FindMemo(ctx, key, now); err != nil {
			t.Errorf("a live memo after pruning: %v", err)
		}
	}
}

// TestNotBroadcaster: one process uses a SQLite file, so there is nobody
// to announce updates to, and the engine must not start listening.
func TestNotBroadcaster(t *testing.T) {
	if _, ok := any((*Store)(nil)).(core.Broadcaster); ok {
		t.Error("the SQLite store implements core.Broadcaster")
	}
}
