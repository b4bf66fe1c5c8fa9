package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest/storetest"
)

// openTemp opens a store in a new file of the test's temporary directory
// and closes it when the test ends.
func openTemp(t testing.TB, opts ...Option) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "assistbot.db"), opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestStoreContract(t *testing.T) {
	storetest.RunStoreTests(t, func(t *testing.T) core.Store { return openTemp(t) })
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, c := range []struct {
		name, path, want string
		opts             []Option
	}{
		{"directory", dir, dir + ": is a directory", nil},
		{"missing directory", filepath.Join(dir, "nope", "a.db"), filepath.Join(dir, "nope", "a.db"), nil},
		{"memory", ":memory:", "must be a file path", nil},
		{"bad synchronous", filepath.Join(dir, "b.db"), "synchronous must be", []Option{Synchronous("SOMETIMES")}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := Open(ctx, c.path, c.opts...)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%s) succeeded", c.path)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("Open(%s) = %v, want an error containing %q", c.path, err, c.want)
			}
		})
	}
	if os.Geteuid() != 0 { // root reads anything
		t.Run("permission", func(t *testing.T) {
			p := filepath.Join(dir, "locked.db")
			if err := os.WriteFile(p, nil, 0o000); err != nil {
				t.Fatal(err)
			}
			_, err := Open(ctx, p)
			if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "permission denied") {
				t.Errorf("Open(unreadable) = %v, want permission denied naming the path", err)
			}
		})
	}
}

func TestOpenCreatesPrivateFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "new.db")
	s, err := Open(context.Background(), p)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatalf("the database file was not created: %v", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		t.Errorf("database file mode %v, want no access for group and others", perm)
	}
}

func TestCloseRemovesWAL(t *testing.T) {
	p := filepath.Join(t.TempDir(), "wal.db")
	s, err := Open(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(context.Background(), newChange("123456")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FindSessionByPIN(context.Background(), "123456"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		if _, err := os.Stat(p + suffix); !os.IsNotExist(err) {
			t.Errorf("%s after Close: %v, want it removed", suffix, err)
		}
	}
}

func TestClosed(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	sess := &core.Session{ID: "s", ConversationID: "c", PIN: "123456", State: core.StateIssued}
	for name, err := range map[string]error{
		"Ping":                 s.Ping(ctx),
		"CreateSession":        s.CreateSession(ctx, &core.Change{Session: sess}),
		"UpdateSession":        s.UpdateSession(ctx, &core.Change{Session: sess}),
		"UpdateDelivery":       s.UpdateDelivery(ctx, &core.Delivery{ID: 1}),
		"CreateConversation":   s.CreateConversation(ctx, &core.Conversation{ID: "c"}),
		"FindSession":          second(s.FindSession(ctx, "s")),
		"FindOpenConversation": second(s.FindOpenConversation(ctx, core.Endpoint{Channel: "sms", Address: "+15550100"})),
		"FindSessions":         second(s.FindSessions(ctx, core.SessionFilter{})),
		"FindEvents":           second(s.FindEvents(ctx, "s")),
		"ClaimDeliveries":      second(s.ClaimDeliveries(ctx, sess.CreatedAt, 1, 0)),
		"Stats":                second(s.Stats(ctx)),
		"Key":                  third(s.Key(ctx, "cookies", 32)),
		"RotateKey":            s.RotateKey(ctx, "cookies", 32),
		"CreateSignIn":         s.CreateSignIn(ctx, &core.SignIn{TokenHash: "h", ExpiresAt: sess.PINExpiresAt.Add(1)}),
		"FindSignIn":           second(s.FindSignIn(ctx, "h", sess.CreatedAt)),
		"EndSignIn":            s.EndSignIn(ctx, "h"),
		"ExpireSignIns":        second(s.ExpireSignIns(ctx, sess.CreatedAt)),
		"PutMemo":              s.PutMemo(ctx, "k", "v", sess.PINExpiresAt.Add(1)),
		"FindMemo":             second(s.FindMemo(ctx, "k", sess.CreatedAt)),
		"ExpireMemos":          second(s.ExpireMemos(ctx, sess.CreatedAt)),
		"TryLock":              fourth(s.TryLock(ctx, "gateway")),
	} {
		if core.ErrorCode(err) != core.CodeUnavailable {
			t.Errorf("%s after Close = %v, want CodeUnavailable", name, err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func third[T, U any](_ T, _ U, err error) error { return err }

func fourth[T, U, V any](_ T, _ U, _ V, err error) error { return err }

func TestBadInput(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	for name, err := range map[string]error{
		"CreateSession(nil)":          s.CreateSession(ctx, nil),
		"CreateSession(no session)":   s.CreateSession(ctx, &core.Change{}),
		"UpdateSession(nil)":          s.UpdateSession(ctx, nil),
		"CreateConversation(nil)":     s.CreateConversation(ctx, nil),
		"UpdateConversation(nil)":     s.UpdateConversation(ctx, nil),
		"UpdateDelivery(nil)":         s.UpdateDelivery(ctx, nil),
		"CreateSession(nil delivery)": s.CreateSession(ctx, &core.Change{Session: &core.Session{ID: "x"}, Deliveries: []*core.Delivery{nil}}),
	} {
		if core.ErrorCode(err) != core.CodeInvalid {
			t.Errorf("%s = %v, want CodeInvalid", name, err)
		}
	}
}
