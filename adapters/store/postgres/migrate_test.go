package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/assistbot/assistbot/adapters/store/postgres/pgtest"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/internal/schema"
	"github.com/jackc/pgx/v5/pgconn"
)

func latestVersion(t *testing.T) int {
	t.Helper()
	list, err := schema.Scripts(migrationFiles, "migrations")
	if err != nil {
		t.Fatalf("migrations: %v", err)
	}
	return len(list)
}

// applied returns the versions recorded in schema_migrations, in order.
func applied(t *testing.T, dsn string) []int {
	t.Helper()
	rows, err := rawConn(t, dsn).Query(context.Background(), "SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

func wantApplied(t *testing.T, dsn string, latest int) {
	t.Helper()
	got := applied(t, dsn)
	if len(got) != latest || latest < 1 {
		t.Fatalf("schema_migrations holds %v, want versions 1 to %d once each", got, latest)
	}
	for i, v := range got {
		if v != i+1 {
			t.Errorf("schema_migrations holds %v, want versions 1 to %d once each", got, latest)
		}
	}
}

func TestMigrateFresh(t *testing.T) {
	dsn := pgtest.Schema(t)
	openDSN(t, dsn)
	wantApplied(t, dsn, latestVersion(t))
}

func TestMigrateReopen(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Schema(t)
	s, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	ch := newChange("600000")
	if err := s.CreateSession(ctx, ch); err != nil {
		t.Fatal(err)
	}
	s.Close()
	for range 2 {
		s, err := Open(ctx, dsn)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		got, err := s.FindSession(ctx, ch.Session.ID)
		s.Close()
		if err != nil || got.PIN != "600000" {
			t.Errorf("session after reopening: %v, %v", got, err)
		}
	}
	wantApplied(t, dsn, latestVersion(t))
}

func TestMigrateRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Schema(t)
	s, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	latest := latestVersion(t)
	if _, err := rawConn(t, dsn).Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, 'from the future')", latest+1); err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, dsn)
	want := fmt.Sprintf("database schema version %d is newer than this assistbot supports (%d)", latest+1, latest)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Open(newer schema) = %v, want an error saying %q", err, want)
	}
}

// TestMigrateConcurrentOpens starts several replicas on a new schema at
// once: each script must run once, which the advisory lock ensures (a
// second run of 0001_init.sql would fail on tables that exist).
func TestMigrateConcurrentOpens(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Schema(t)
	const replicas = 8
	stores := make([]*Store, replicas)
	errs := make([]error, replicas)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			stores[i], errs[i] = Open(ctx, dsn)
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: Open: %v", i, err)
			continue
		}
		defer stores[i].Close()
	}
	wantApplied(t, dsn, latestVersion(t))
	// They share one schema: what one writes, another reads.
	if errs[0] == nil && errs[replicas-1] == nil {
		ch := newChange("610000")
		if err := stores[0].CreateSession(ctx, ch); err != nil {
			t.Fatal(err)
		}
		if got, err := stores[replicas-1].FindSessionByPIN(ctx, "610000"); err != nil || got.ID != ch.Session.ID {
			t.Errorf("another replica reads %v, %v", got, err)
		}
	}
}

// TestAppendOnlyInSchema checks that the triggers hold against any
// writer, not only this package's.
func TestAppendOnlyInSchema(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Schema(t)
	s := openDSN(t, dsn)
	if err := s.CreateSession(ctx, newChange("700000")); err != nil {
		t.Fatal(err)
	}
	c := &core.Conversation{ID: core.NewID(), Customer: core.Endpoint{Channel: core.ChannelSMS, Address: "+12015550123"}, State: core.ConversationOpen}
	m := &core.Message{ConversationID: c.ID, Direction: core.FromCustomer, Text: "hello", At: core.SystemClock{}.Now()}
	if err := s.AppendMessage(ctx, &core.MessageChange{Conversation: c, Message: m}); err != nil {
		t.Fatal(err)
	}
	db := rawConn(t, dsn)
	for _, q := range []string{
		"UPDATE events SET detail = 'rewritten'", "DELETE FROM events", "TRUNCATE events CASCADE",
		"UPDATE messages SET text = 'rewritten'", "DELETE FROM messages", "TRUNCATE messages CASCADE",
	} {
		if _, err := db.Exec(ctx, q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want the trigger to refuse it", q, err)
		}
	}
}

func TestLivePINConstraintInSchema(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Schema(t)
	s := openDSN(t, dsn)
	a, b := newChange("800000"), newChange("800001")
	for _, ch := range []*core.Change{a, b} {
		if err := s.CreateSession(ctx, ch); err != nil {
			t.Fatal(err)
		}
	}
	_, err := rawConn(t, dsn).Exec(ctx, "UPDATE sessions SET pin = '800000' WHERE id = $1", b.Session.ID)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.ConstraintName != "sessions_live_pin" {
		t.Errorf("second live session with one PIN: %v, want the sessions_live_pin index to refuse it", err)
	}
}

// TestMigrateRefusesForeignTable checks that assistbot does not take
// another tool's schema_migrations for its own.
func TestMigrateRefusesForeignTable(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Schema(t)
	// As Rails makes it.
	if _, err := rawConn(t, dsn).Exec(ctx, "CREATE TABLE schema_migrations (version varchar NOT NULL PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	_, err := Open(ctx, dsn)
	if err == nil || !strings.Contains(err.Error(), "was not made by assistbot") {
		t.Errorf("Open(foreign schema_migrations) = %v", err)
	}
}
