package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/store/postgres/pgtest"
	"github.com/jackc/pgx/v5"
)

// lockHolder returns the server process that holds s's lock called name,
// as pg_locks shows it: a session-level advisory lock, whose 64-bit key
// the view splits in two.
func lockHolder(t *testing.T, admin *pgx.Conn, s *Store, name string) uint32 {
	t.Helper()
	var pid uint32
	err := admin.QueryRow(context.Background(), `
		WITH k AS (SELECT hashtextextended('assistbot lock ' || $1 || ' ' || $2, 0) AS key)
		SELECT l.pid FROM pg_locks l, k
		WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
		AND l.classid::bigint = (k.key >> 32) & 4294967295 AND l.objid::bigint = k.key & 4294967295`,
		s.schema, name).Scan(&pid)
	if err != nil {
		t.Fatalf("the server shows no holder of the lock %q: %v", name, err)
	}
	return pid
}

// takeWithin tries s's lock called name until it gets it, and fails t
// after d: the lock was never freed.
func takeWithin(t *testing.T, s *Store, name string, d time.Duration) func() {
	t.Helper()
	for deadline := time.Now().Add(d); ; {
		_, release, ok, err := s.TryLock(context.Background(), name)
		if err != nil {
			t.Fatalf("TryLock: %v", err)
		}
		if ok {
			return release
		}
		if time.Now().After(deadline) {
			t.Fatalf("the lock %q was not freed within %s", name, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestLockAcrossReplicas has two stores on one database, as two replicas
// that both want to hold the Discord gateway connection: one holds it at
// a time; when it lets go, the other takes over; when its connection to
// the database drops, it hears that it lost the lock, and the other takes
// over without waiting for it.
func TestLockAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Schema(t)
	a, b := openDSN(t, dsn), openDSN(t, dsn)
	admin := rawConn(t, pgtest.DSN())
	const name = "discord gateway"

	lostA, releaseA, ok, err := a.TryLock(ctx, name)
	if err != nil || !ok {
		t.Fatalf("A: TryLock = %v, %v; want the lock", ok, err)
	}
	if _, _, ok, err := b.TryLock(ctx, name); err != nil || ok {
		t.Fatalf("B: TryLock while A holds it = %v, %v; want ok=false", ok, err)
	}
	lockHolder(t, admin, a, name)
	releaseA()
	if n := a.pool.Stat().AcquiredConns(); n != 0 {
		t.Errorf("A: %d connections in use after release, want the lock's back in the pool", n)
	}
	if isClosed(lostA) {
		t.Errorf("A: lost closed by release")
	}

	lostB, releaseB, ok, err := b.TryLock(ctx, name)
	if err != nil || !ok {
		t.Fatalf("B: TryLock after A released = %v, %v; want the lock", ok, err)
	}
	defer releaseB()
	if _, _, ok, err := a.TryLock(ctx, name); err != nil || ok {
		t.Fatalf("A: TryLock while B holds it = %v, %v; want ok=false", ok, err)
	}

	// B's connection drops: a failover, a proxy restarting, an operator.
	pid := lockHolder(t, admin, b, name)
	if _, err := admin.Exec(ctx, "SELECT pg_terminate_backend($1)", pid); err != nil {
		t.Fatal(err)
	}
	select {
	case <-lostB:
	case <-time.After(20 * time.Second): // a hang, not a measurement
		t.Fatal("B: lost not closed after its connection was terminated")
	}
	releaseA = takeWithin(t, a, name, 20*time.Second)
	releaseB() // after the loss: does nothing
	if _, _, ok, err := b.TryLock(ctx, name); err != nil || ok {
		t.Errorf("B: TryLock after its late release = %v, %v; want A still holding it", ok, err)
	}
	if err := b.Ping(ctx); err != nil {
		t.Errorf("B: Ping after losing the lock's connection: %v", err)
	}
	if n := b.pool.Stat().AcquiredConns(); n != 0 {
		t.Errorf("B: %d connections in use after the loss, want none", n)
	}

	// A replica that stops frees its locks for the others.
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	releaseA() // after Close: does nothing
	takeWithin(t, b, name, 20*time.Second)()
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
