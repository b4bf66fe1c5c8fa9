package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/internal/schema"
)

// rawDB opens the database file with plain database/sql, as another
// program would.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func userVersion(t *testing.T, path string) int {
	t.Helper()
	var v int
	if err := rawDB(t, path).QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func latestVersion(t *testing.T) int {
	t.Helper()
	list, err := schema.Scripts(migrationFiles, "migrations")
	if err != nil {
		t.Fatalf("migrations: %v", err)
	}
	return len(list)
}

func TestMigrateFresh(t *testing.T) {
	p := filepath.Join(t.TempDir(), "fresh.db")
	s, err := Open(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if got, want := userVersion(t, p), latestVersion(t); got != want || want < 1 {
		t.Errorf("user_version of a new database = %d, want %d", got, want)
	}
}

func TestMigrateReopen(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "reopen.db")
	s, err := Open(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	ch := newChange("600000")
	if err := s.CreateSession(ctx, ch); err != nil {
		t.Fatal(err)
	}
	s.Close()
	for range 2 {
		s, err := Open(ctx, p)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		got, err := s.FindSession(ctx, ch.Session.ID)
		s.Close()
		if err != nil || got.PIN != "600000" {
			t.Errorf("session after reopening: %v, %v", got, err)
		}
	}
	if got, want := userVersion(t, p), latestVersion(t); got != want {
		t.Errorf("user_version after reopening = %d, want %d", got, want)
	}
}

func TestMigrateRefusesNewerSchema(t *testing.T) {
	p := filepath.Join(t.TempDir(), "newer.db")
	s, err := Open(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	latest := latestVersion(t)
	if _, err := rawDB(t, p).Exec(fmt.Sprintf("PRAGMA user_version = %d", latest+1)); err != nil {
		t.Fatal(err)
	}
	_, err = Open(context.Background(), p)
	want := fmt.Sprintf("database schema version %d is newer than this assistbot supports (%d)", latest+1, latest)
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), p) {
		t.Errorf("Open(newer schema) = %v, want an error naming %s and saying %q", err, p, want)
	}
}

func TestPragmas(t *testing.T) {
	for _, c := range []struct {
		mode string
		want int64
	}{{"FULL", 2}, {"NORMAL", 1}} {
		s := openTemp(t, Synchronous(c.mode))
		got := map[string]any{}
		err := s.w.Do(context.Background(), func(w *wconn) error {
			for _, p := range []string{"synchronous", "foreign_keys", "busy_timeout"} {
				v, err := w.conn.QueryInt(context.Background(), "PRAGMA "+p)
				if err != nil {
					return err
				}
				got[p] = v
			}
			mode, err := w.conn.QueryString(context.Background(), "PRAGMA journal_mode")
			got["journal_mode"] = mode
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.r.db.Exec("CREATE TABLE scratch (a)"); err == nil {
			t.Errorf("a read connection wrote")
		}
		want := map[string]any{"synchronous": c.want, "foreign_keys": int64(1), "busy_timeout": int64(5000), "journal_mode": "wal"}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("Synchronous(%s): PRAGMA %s = %v, want %v", c.mode, k, got[k], v)
			}
		}
	}
}

func TestEventsAppendOnlyInSchema(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "events.db")
	s, err := Open(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateSession(ctx, newChange("700000")); err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, p)
	for _, q := range []string{"UPDATE events SET detail = 'rewritten'", "DELETE FROM events"} {
		if _, err := db.Exec(q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want the trigger to refuse it", q, err)
		}
	}
}

func TestLivePINConstraintInSchema(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "pins.db")
	s, err := Open(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a, b := newChange("800000"), newChange("800001")
	for _, ch := range []*core.Change{a, b} {
		if err := s.CreateSession(ctx, ch); err != nil {
			t.Fatal(err)
		}
	}
	// The constraint holds against any writer, not only this package's.
	_, err = rawDB(t, p).Exec("UPDATE sessions SET pin = '800000' WHERE id = ?", b.Session.ID)
	if constraintOf(err) != livePIN {
		t.Errorf("second live session with one PIN: %v, want the live_pin index to refuse it", err)
	}
}

func TestMessagesAppendOnlyInSchema(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "messages.db")
	s, err := Open(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := &core.Conversation{ID: core.NewID(), Customer: core.Endpoint{Channel: core.ChannelSMS, Address: "+12015550123"}, State: core.ConversationOpen}
	m := &core.Message{ConversationID: c.ID, Direction: core.FromCustomer, Text: "hello", At: core.SystemClock{}.Now()}
	if err := s.AppendMessage(ctx, &core.MessageChange{Conversation: c, Message: m}); err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, p)
	for _, q := range []string{"UPDATE messages SET text = 'rewritten'", "DELETE FROM messages"} {
		if _, err := db.Exec(q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want the trigger to refuse it", q, err)
		}
	}
}
