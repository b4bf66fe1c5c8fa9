package postgres

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/store/postgres/pgtest"
	"github.com/assistbot/assistbot/core"
)

// TestSharedStateAcrossReplicas has two stores on one database, as two
// replicas behind a load balancer without sticky sessions: whichever
// one a request reaches, it signs and verifies with the same keys, knows
// the same sign-ins and reads the same memos.
func TestSharedStateAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Schema(t)
	a, b := openDSN(t, dsn), openDSN(t, dsn)

	// Both replicas start at once and need the cookie key on their first
	// request: they make one key between them.
	const callers = 8
	var wg sync.WaitGroup
	got := make([][]byte, 2*callers)
	errs := make([]error, 2*callers)
	start := make(chan struct{})
	for i := range 2 * callers {
		st := []*Store{a, b}[i%2]
		wg.Go(func() {
			<-start
			got[i], _, errs[i] = st.Key(ctx, "cookies", 32)
		})
	}
	close(start)
	wg.Wait()
	for i := range got {
		if errs[i] != nil || len(got[i]) != 32 || !bytes.Equal(got[i], got[0]) {
			t.Fatalf("replica %d, caller %d: Key = %x, %v; want %x like the first", i%2, i/2, got[i], errs[i], got[0])
		}
	}
	// A rotation on one replica is the other's at once: a cookie signed
	// by either before it still verifies on both.
	if err := a.RotateKey(ctx, "cookies", 32); err != nil {
		t.Fatal(err)
	}
	curA, prevA, errA := a.Key(ctx, "cookies", 32)
	curB, prevB, errB := b.Key(ctx, "cookies", 32)
	if errA != nil || errB != nil || !bytes.Equal(curA, curB) || !bytes.Equal(prevB, got[0]) || !bytes.Equal(prevA, prevB) ||
		bytes.Equal(curB, got[0]) {
		t.Errorf("after A rotated: A has %x (previous %x, %v), B %x (previous %x, %v); want one new key and %x as previous",
			curA, prevA, errA, curB, prevB, errB, got[0])
	}

	// An agent signs in through A and is signed in on B; signing out on B
	// ends it on A.
	now := core.SystemClock{}.Now()
	_, hash := core.NewSecret()
	in := &core.SignIn{TokenHash: hash, Agent: "ada@example.test", CreatedAt: now, ExpiresAt: now.Add(8 * time.Hour)}
	if err := a.CreateSignIn(ctx, in); err != nil {
		t.Fatal(err)
	}
	if got, err := b.FindSignIn(ctx, hash, now); err != nil || got.Agent != in.Agent {
		t.Errorf("B finds the sign-in made on A: %+v, %v", got, err)
	}
	if err := b.EndSignIn(ctx, hash); err != nil {
		t.Fatal(err)
	}
	if _, err := a.FindSignIn(ctx, hash, now); core.ErrorCode(err) != core.CodeNotFound {
		t.Errorf("A finds the sign-in ended on B: %v, want CodeNotFound", err)
	}

	// A Discord interaction answered on A is edited from B.
	if err := a.PutMemo(ctx, "discord:42", "token-a", now.Add(15*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if v, err := b.FindMemo(ctx, "discord:42", now); err != nil || v != "token-a" {
		t.Errorf("B finds the memo put on A: %q, %v", v, err)
	}
	if err := b.PutMemo(ctx, "discord:42", "token-b", now.Add(15*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if v, err := a.FindMemo(ctx, "discord:42", now); err != nil || v != "token-b" {
		t.Errorf("A finds the memo B replaced: %q, %v", v, err)
	}
}

// TestSharedStateUnderStricterIsolation runs the writes that replicas
// race for on a server whose statements run in SERIALIZABLE by default,
// where the loser of a race fails instead of waiting and doing nothing:
// replicas asking at once for a new key still all get the one key, and
// two replicas rotating a key, or putting a memo, at once both succeed.
func TestSharedStateUnderStricterIsolation(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.WithParam(pgtest.Schema(t), "default_transaction_isolation", "serializable")
	replicas := []*Store{openDSN(t, dsn), openDSN(t, dsn)}
	const callers = 16
	for round := range 8 {
		name := fmt.Sprintf("key-%d", round)
		got := make([][]byte, callers)
		errs := make([]error, callers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range callers {
			wg.Go(func() {
				<-start
				got[i], _, errs[i] = replicas[i%2].Key(ctx, name, 32)
			})
		}
		close(start)
		wg.Wait()
		for i := range got {
			if errs[i] != nil || len(got[0]) != 32 || !bytes.Equal(got[i], got[0]) {
				t.Fatalf("%s, caller %d: Key = %x, %v; want %x like caller 0 (%v)", name, i, got[i], errs[i], got[0], errs[0])
			}
		}
	}
	// Both replicas rotate a key, or put one memo, at the same moment.
	now := core.SystemClock{}.Now()
	for round := range 8 {
		var errs [4]error
		var wg sync.WaitGroup
		start := make(chan struct{})
		for r, st := range replicas {
			wg.Go(func() {
				<-start
				errs[r] = st.RotateKey(ctx, "key-0", 32)
			})
			wg.Go(func() {
				<-start
				errs[2+r] = st.PutMemo(ctx, "discord:1", fmt.Sprint(r), now.Add(time.Minute))
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("round %d, write %d: %v", round, i, err)
			}
		}
	}
	cur, prev, err := replicas[0].Key(ctx, "key-0", 32)
	if err != nil || len(cur) != 32 || len(prev) != 32 {
		t.Errorf("Key after the rotations = %x, previous %x, %v", cur, prev, err)
	}
}

// TestExpireInBatches prunes more expired rows than one batch holds: all
// go, in several statements, and the live ones stay.
func TestExpireInBatches(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	s.expireBatch = 3
	now := core.SystemClock{}.Now()
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
		if err := s.PutMemo(ctx, hash, "v", expires); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.ExpireSignIns(ctx, now); err != nil || n != 10 {
		t.Errorf("ExpireSignIns = %d, %v; want 10", n, err)
	}
	if n, err := s.ExpireMemos(ctx, now); err != nil || n != 10 {
		t.Errorf("ExpireMemos = %d, %v; want 10", n, err)
	}
	for _, hash := range live {
		if _, err := s.FindSignIn(ctx, hash, now); err != nil {
			t.Errorf("a live sign-in after pruning: %v", err)
		}
		if _, err := s.FindMemo(ctx, hash, now); err != nil {
			t.Errorf("a live memo after pruning: %v", err)
		}
	}
}

// TestSharedQueriesUseIndexes asks PostgreSQL how it runs the lookups the
// console and the Discord adapter make on every request, and the pruning,
// once the tables hold a few thousand rows and the planner has
// statistics: none may read a whole table.
func TestSharedQueriesUseIndexes(t *testing.T) {
	ctx := context.Background()
	st := openTest(t)
	now := core.SystemClock{}.Now()
	if _, _, err := st.Key(ctx, "cookies", 32); err != nil {
		t.Fatal(err)
	}
	c, err := st.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	// 3000 of each, one in ten expired.
	for _, q := range []string{
		`INSERT INTO sign_ins (token_hash, agent, created_at, expires_at)
			SELECT md5(i::text), 'agent' || (i % 20), $1::timestamptz, $1::timestamptz + (i - 300) * interval '1 second'
			FROM generate_series(1, 3000) i`,
		`INSERT INTO memos (name, value, expires_at)
			SELECT 'discord:' || i, md5(i::text), $1::timestamptz + (i - 300) * interval '1 second'
			FROM generate_series(1, 3000) i`,
		`INSERT INTO secret_keys (name, current_key)
			SELECT 'key ' || i, decode(md5(i::text), 'hex') FROM generate_series(1, 3000) i
			WHERE $1::timestamptz IS NOT NULL`,
	} {
		if _, err := c.Exec(ctx, q, now); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Exec(ctx, "ANALYZE sign_ins, memos, secret_keys"); err != nil {
		t.Fatal(err)
	}
	hash := "7f6ffaa6bb0b408017b62254211691b5" // md5('1337')
	for _, q := range []struct {
		name  string
		sql   string
		args  []any
		table string
	}{
		{"find key", findKeySQL, []any{"cookies"}, "secret_keys"},
		{"find sign-in", findSignInSQL, []any{hash, now}, "sign_ins"},
		{"end sign-in", endSignInSQL, []any{hash}, "sign_ins"},
		{"expire sign-ins", expireSignInsSQL, []any{now, expireBatch}, "sign_ins"},
		{"find memo", findMemoSQL, []any{"discord:1337", now}, "memos"},
		{"put memo", putMemoSQL, []any{"discord:1337", "v", now}, "memos"},
		{"expire memos", expireMemosSQL, []any{now, expireBatch}, "memos"},
	} {
		text := explain(t, c, q.name, q.sql, q.args...)
		if strings.Contains(text, "Seq Scan") {
			t.Errorf("%s reads a whole table:\n%s", q.name, text)
		}
		t.Logf("%s:\n%s", q.name, text)
	}
}
