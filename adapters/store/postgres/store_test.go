package postgres

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/store/postgres/internal/conninfo"
	"github.com/assistbot/assistbot/adapters/store/postgres/pgtest"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest/storetest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// openDSN opens a store on dsn and closes it when the test ends.
func openDSN(t testing.TB, dsn string, opts ...Option) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn, opts...)
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

// openTest opens a store in a new schema of the test server.
func openTest(t testing.TB, opts ...Option) *Store {
	t.Helper()
	return openDSN(t, pgtest.Schema(t), opts...)
}

// rawConn connects to dsn as another program would.
func rawConn(t testing.TB, dsn string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func TestStoreContract(t *testing.T) {
	pgtest.Connect(t) // skips once, not in every subtest, without a server
	storetest.RunStoreTests(t, func(t *testing.T) core.Store { return openTest(t) })
}

// newChange returns what Engine.Issue writes: a conversation without a
// customer, a session in state issued with pin, and its issue event.
func newChange(pin string) *core.Change {
	now := core.SystemClock{}.Now()
	c := &core.Conversation{ID: core.NewID(), Desk: core.Endpoint{Channel: core.ChannelSlack, Address: "C0123"},
		Locale: "en", State: core.ConversationOpen, CreatedAt: now, UpdatedAt: now}
	s := &core.Session{ID: core.NewID(), ConversationID: c.ID, Provider: "builtin", PIN: pin,
		PINExpiresAt: now.Add(20 * time.Minute), State: core.StateIssued, Device: core.DeviceUnknown,
		Agent: "ada", Locale: "en", CreatedAt: now, UpdatedAt: now}
	return &core.Change{Conversation: c, Session: s, Events: []core.Event{{
		SessionID: s.ID, At: now, Actor: "agent:ada", Action: core.ActionIssue, To: core.StateIssued}}}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	const secret = "hunter2-Secret"
	for _, c := range []struct {
		name, dsn string
		want      []string
	}{
		{"empty", " ", []string{"the DSN is empty"}},
		{"bad url", "postgres://ada:" + secret + "@db.example:notaport/x", []string{"not a valid PostgreSQL connection string"}},
		{"bad key=value", "host=db.example password='" + secret + "' port=x", []string{"not a valid PostgreSQL connection string"}},
		{"unreachable", "postgres://ada:" + secret + "@127.0.0.1:1/assistbot?sslmode=disable&connect_timeout=5",
			[]string{"ada@127.0.0.1:1/assistbot", "cannot connect", "refused"}},
		{"pool size", "postgres://ada:" + secret + "@127.0.0.1/x?pool_max_conns=0", []string{"invalid pool setting", "pool_max_conns"}},
		{"lifetime", "postgres://ada:" + secret + "@127.0.0.1/x?pool_max_conn_lifetime=forever", []string{"invalid pool setting", "pool_max_conn_lifetime", "forever"}},
		{"idle time", "host=127.0.0.1 password=" + secret + " pool_max_conn_idle_time=" + secret, []string{"invalid pool setting", "pool_max_conn_idle_time"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := Open(ctx, c.dsn)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%s) succeeded", c.name)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Open = %v, want an error containing %q", err, w)
				}
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(fmt.Sprintf("%+v", err), secret) {
				t.Errorf("Open shows the password: %v", err)
			}
		})
	}
	if _, err := Open(ctx, "postgres://127.0.0.1/x", MaxConns(0)); err == nil || !strings.Contains(err.Error(), "at least 1") {
		t.Errorf("Open(MaxConns(0)) = %v", err)
	}
	if _, err := Open(ctx, "postgres://127.0.0.1/x", MaxConnLifetime(0)); err == nil || !strings.Contains(err.Error(), "must be positive") {
		t.Errorf("Open(MaxConnLifetime(0)) = %v", err)
	}
}

// TestPoolSettings checks that the DSN's pool_ settings reach the pool
// rather than the server, which would refuse them as unknown parameters,
// that the Options override them, and the defaults.
func TestPoolSettings(t *testing.T) {
	dsn := pgtest.Schema(t)
	for _, kv := range [][2]string{{"pool_max_conns", "3"}, {"pool_max_conn_lifetime", "5m"}, {"pool_max_conn_idle_time", "1m"}} {
		dsn = pgtest.WithParam(dsn, kv[0], kv[1])
	}
	cfg := openDSN(t, dsn).pool.Config()
	if cfg.MaxConns != 3 || cfg.MaxConnLifetime != 5*time.Minute || cfg.MaxConnIdleTime != time.Minute {
		t.Errorf("from the DSN: MaxConns %d, MaxConnLifetime %s, MaxConnIdleTime %s; want 3, 5m, 1m",
			cfg.MaxConns, cfg.MaxConnLifetime, cfg.MaxConnIdleTime)
	}
	cfg = openDSN(t, dsn, MaxConns(2), MaxConnLifetime(time.Minute)).pool.Config()
	if cfg.MaxConns != 2 || cfg.MaxConnLifetime != time.Minute {
		t.Errorf("with Options: MaxConns %d, MaxConnLifetime %s; want 2, 1m", cfg.MaxConns, cfg.MaxConnLifetime)
	}
	cfg = openTest(t).pool.Config()
	if want := int32(max(4, runtime.NumCPU())); cfg.MaxConns != want || cfg.MaxConnLifetime != time.Hour ||
		cfg.MaxConnIdleTime != 30*time.Minute {
		t.Errorf("defaults: MaxConns %d, MaxConnLifetime %s, MaxConnIdleTime %s; want %d, 1h, 30m",
			cfg.MaxConns, cfg.MaxConnLifetime, cfg.MaxConnIdleTime, want)
	}
	if cfg.ConnConfig.ConnectTimeout != conninfo.DefaultConnectTimeout || cfg.PingTimeout != conninfo.DefaultConnectTimeout {
		t.Errorf("defaults: ConnectTimeout %s, PingTimeout %s; want %s", cfg.ConnConfig.ConnectTimeout,
			cfg.PingTimeout, conninfo.DefaultConnectTimeout)
	}
}

func TestOpenServerErrors(t *testing.T) {
	pgtest.Connect(t) // skips without a server
	ctx := context.Background()
	missing := pgtest.WithParam(pgtest.DSN(), "search_path", "no_such_schema_here")
	if _, err := Open(ctx, missing); err == nil || !strings.Contains(err.Error(), "no schema of the search_path exists") {
		t.Errorf("Open(missing schema) = %v", err)
	}
	cfg, err := pgx.ParseConfig(pgtest.DSN())
	if err != nil {
		t.Fatal(err)
	}
	nodb := strings.Replace(pgtest.DSN(), "/"+cfg.Database, "/no_such_database_here", 1)
	if nodb == pgtest.DSN() {
		t.Skip("cannot rewrite the test DSN's database")
	}
	if _, err := Open(ctx, nodb); err == nil || !strings.Contains(err.Error(), `"no_such_database_here" does not exist`) {
		t.Errorf("Open(missing database) = %v", err)
	}
}

func TestClosed(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	sess := &core.Session{ID: "s", ConversationID: "c", PIN: "123456", State: core.StateIssued}
	for name, err := range map[string]error{
		"Ping":               s.Ping(ctx),
		"CreateSession":      s.CreateSession(ctx, &core.Change{Session: sess}),
		"UpdateSession":      s.UpdateSession(ctx, &core.Change{Session: sess}),
		"UpdateDelivery":     s.UpdateDelivery(ctx, &core.Delivery{ID: 1}),
		"CreateConversation": s.CreateConversation(ctx, &core.Conversation{ID: "c"}),
		"AppendMessage":      s.AppendMessage(ctx, &core.MessageChange{Message: &core.Message{ConversationID: "c"}}),
		"FindSession":        second(s.FindSession(ctx, "s")),
		"FindSessions":       second(s.FindSessions(ctx, core.SessionFilter{})),
		"FindEvents":         second(s.FindEvents(ctx, "s")),
		"ClaimDeliveries":    second(s.ClaimDeliveries(ctx, sess.CreatedAt, 1, 0)),
		"Stats":              second(s.Stats(ctx)),
		"OptedOut":           second(s.OptedOut(ctx, core.Endpoint{})),
		"Key":                third(s.Key(ctx, "cookies", 32)),
		"RotateKey":          s.RotateKey(ctx, "cookies", 32),
		"CreateSignIn":       s.CreateSignIn(ctx, &core.SignIn{TokenHash: "h", ExpiresAt: sess.PINExpiresAt.Add(1)}),
		"FindSignIn":         second(s.FindSignIn(ctx, "h", sess.CreatedAt)),
		"EndSignIn":          s.EndSignIn(ctx, "h"),
		"ExpireSignIns":      second(s.ExpireSignIns(ctx, sess.CreatedAt)),
		"PutMemo":            s.PutMemo(ctx, "k", "v", sess.PINExpiresAt.Add(1)),
		"FindMemo":           second(s.FindMemo(ctx, "k", sess.CreatedAt)),
		"ExpireMemos":        second(s.ExpireMemos(ctx, sess.CreatedAt)),
		"TryLock":            fourth(s.TryLock(ctx, "gateway")),
		"Broadcast":          s.Broadcast(ctx, []core.Announcement{{SessionID: "s"}}),
		"Listen":             s.Listen(ctx, func(core.Announcement) {}, func() {}, func(error) {}),
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
	s := openTest(t)
	ch := newChange("123456")
	ch.Events[0].SessionID = "another"
	for name, err := range map[string]error{
		"CreateSession(nil)":           s.CreateSession(ctx, nil),
		"CreateSession(no session)":    s.CreateSession(ctx, &core.Change{}),
		"UpdateSession(nil)":           s.UpdateSession(ctx, nil),
		"CreateConversation(nil)":      s.CreateConversation(ctx, nil),
		"UpdateConversation(nil)":      s.UpdateConversation(ctx, nil),
		"UpdateDelivery(nil)":          s.UpdateDelivery(ctx, nil),
		"AppendMessage(nil)":           s.AppendMessage(ctx, nil),
		"CreateSession(nil delivery)":  s.CreateSession(ctx, &core.Change{Session: &core.Session{ID: "x"}, Deliveries: []*core.Delivery{nil}}),
		"CreateSession(foreign event)": s.CreateSession(ctx, ch),
	} {
		if core.ErrorCode(err) != core.CodeInvalid {
			t.Errorf("%s = %v, want CodeInvalid", name, err)
		}
	}
}

// TestUnstorableText checks that text PostgreSQL cannot hold, which SQLite
// takes, is refused as invalid input rather than as an internal error
// that a platform's webhook would retry for ever.
func TestUnstorableText(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	c := &core.Conversation{ID: core.NewID(), Customer: core.Endpoint{Channel: core.ChannelWeb, Address: "chat"},
		Desk: core.Endpoint{Channel: core.ChannelConsole}, State: core.ConversationOpen}
	if err := s.CreateConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
	m := &core.Message{ConversationID: c.ID, Direction: core.FromCustomer, Text: "a\x00b"}
	err := s.AppendMessage(ctx, &core.MessageChange{Message: m})
	if core.ErrorCode(err) != core.CodeInvalid {
		t.Errorf("AppendMessage(NUL in text) = %v, want CodeInvalid", err)
	}
	d := &core.Delivery{ConversationID: c.ID, To: c.Desk, Status: core.DeliveryQueued,
		Notice: core.Notice{Kind: core.NoticeText, Text: "a\x00b"}}
	m = &core.Message{ConversationID: c.ID, Direction: core.FromCustomer, Text: "ab"}
	err = s.AppendMessage(ctx, &core.MessageChange{Message: m, Deliveries: []*core.Delivery{d}})
	if core.ErrorCode(err) != core.CodeInvalid || m.ID != 0 {
		t.Errorf("AppendMessage(NUL in notice) = %v (message id %d), want CodeInvalid and nothing saved", err, m.ID)
	}
}

func TestPoolReusesConnections(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, MaxConns(2))
	for i := range 20 {
		if err := s.CreateSession(ctx, newChange(fmt.Sprintf("4%05d", i))); err != nil {
			t.Fatal(err)
		}
	}
	// Writes that fail, in a batch or a transaction, and a call whose
	// context is done release their connections too.
	if err := s.CreateSession(ctx, newChange("400000")); !errors.Is(err, core.ErrPINInUse) {
		t.Errorf("CreateSession(PIN in use) = %v, want ErrPINInUse", err)
	}
	if err := s.UpdateConversation(ctx, &core.Conversation{ID: "none", Version: 1}); err == nil {
		t.Error("UpdateConversation(missing) succeeded")
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Ping(done); err == nil {
		t.Error("Ping(done context) succeeded")
	}
	st := s.pool.Stat()
	if st.AcquiredConns() != 0 || st.IdleConns() < 1 || st.TotalConns() > 2 || st.NewConnsCount() > 2 {
		t.Errorf("pool: %d in use, %d idle, %d in all, %d opened; want 0, at least 1, at most 2, at most 2",
			st.AcquiredConns(), st.IdleConns(), st.TotalConns(), st.NewConnsCount())
	}

	// Connections the server dropped while they sat idle are replaced,
	// not handed out.
	dropped := map[uint32]bool{}
	for _, c := range s.pool.AcquireAllIdle(ctx) {
		dropped[c.Conn().PgConn().PID()] = true
		c.Release()
	}
	admin := rawConn(t, pgtest.DSN())
	for pid := range dropped {
		if _, err := admin.Exec(ctx, "SELECT pg_terminate_backend($1)", pid); err != nil {
			t.Fatal(err)
		}
	}
	// pgxpool pings a connection idle for over a second before handing it
	// out; before that, it trusts it.
	time.Sleep(1100 * time.Millisecond)
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping after the server dropped the pooled connections: %v", err)
	}
	if err := s.withConn(ctx, func(c *pgxpool.Conn) error {
		if pid := c.Conn().PgConn().PID(); dropped[pid] {
			t.Errorf("the pool handed out connection %d, which the server dropped", pid)
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
	if _, err := s.FindSessions(ctx, core.SessionFilter{}); err != nil {
		t.Errorf("FindSessions after the server dropped the pooled connections: %v", err)
	}
	if n := s.pool.Stat().AcquiredConns(); n != 0 {
		t.Errorf("pool: %d connections in use, want 0", n)
	}
}

// TestServerGone checks that a store whose server stops answering reports
// CodeUnavailable, which callers can answer with "try later".
func TestServerGone(t *testing.T) {
	ctx := context.Background()
	var gone atomic.Bool
	s := openTest(t, func(c *config) error {
		c.pool.BeforeConnect = func(_ context.Context, cc *pgx.ConnConfig) error {
			if gone.Load() {
				cc.Host, cc.Port, cc.Fallbacks = "127.0.0.1", 1, nil // nothing listens there
			}
			return nil
		}
		return nil
	})
	gone.Store(true)
	s.pool.Reset() // closes the idle connections, so that the next call connects
	_, err := s.FindSession(ctx, "any")
	if core.ErrorCode(err) != core.CodeUnavailable || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("FindSession with the server gone = %v, want CodeUnavailable naming the server", err)
	}
	if err := s.Ping(ctx); core.ErrorCode(err) != core.CodeUnavailable {
		t.Errorf("Ping with the server gone = %v, want CodeUnavailable", err)
	}
	gone.Store(false)
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping with the server back: %v", err)
	}
}

// TestBadTextInReads: an id or a filter holding a NUL character or
// invalid UTF-8, which PostgreSQL cannot compare, is the caller's mistake
// (CodeInvalid, a 400 for an API client), not an internal error.
func TestBadTextInReads(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	for _, bad := range []string{"a\x00b", "\xff"} {
		_, err := s.FindSession(ctx, bad)
		if core.ErrorCode(err) != core.CodeInvalid {
			t.Errorf("FindSession(%q) = %v, want invalid", bad, err)
		}
		_, err = s.FindSessions(ctx, core.SessionFilter{Agent: bad})
		if core.ErrorCode(err) != core.CodeInvalid {
			t.Errorf("FindSessions(agent %q) = %v, want invalid", bad, err)
		}
		_, err = s.FindOpenConversation(ctx, core.Endpoint{Channel: core.ChannelWeb, Address: bad})
		if core.ErrorCode(err) != core.CodeInvalid {
			t.Errorf("FindOpenConversation(%q) = %v, want invalid", bad, err)
		}
	}
}
