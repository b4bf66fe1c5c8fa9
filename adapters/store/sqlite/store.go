// Package sqlite is a core.Store kept in one SQLite database file.
//
// Writes go through a single writer goroutine that commits the requests
// pending at any moment together, in one transaction (group commit): one
// fsync serves many callers, and a request that fails is rolled back
// alone, to a savepoint. Reads run beside it on a small pool of read-only
// connections, which WAL mode lets see the last commit without waiting for
// the writer, and a third connection copies the WAL back into the database
// file in the background.
//
// The machinery is in internal packages, so that this one reads as the
// store's statements: rawsql drives the writer's and the checkpointer's
// connections, and those of the lookup every /remote makes (hotReads),
// through SQLite's C API rather than database/sql, groupcommit is
// the batching writer, tally sums a report's sessions, and locks holds
// the Store's named locks.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/assistbot/assistbot/adapters/store/sqlite/internal/groupcommit"
	"github.com/assistbot/assistbot/adapters/store/sqlite/internal/locks"
	"github.com/assistbot/assistbot/adapters/store/sqlite/internal/rawsql"
	"github.com/assistbot/assistbot/core"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Store is a core.Store in a SQLite database. It is safe for concurrent
// use.
type Store struct {
	path   string
	c      *wconn // the writer's connection, which only w uses
	w      *groupcommit.Writer[*wconn]
	ckpt   *rawsql.Checkpointer
	r      *reader
	hot    *hotReads
	locks  locks.Table
	closed atomic.Bool
	once   sync.Once
	err    error // the result of Close
	// expireBatch is how many expired sign-ins or memos one write
	// deletes (expireBatch, but tests make it small).
	expireBatch int
}

var (
	_ core.Store       = (*Store)(nil)
	_ core.KeyStore    = (*Store)(nil)
	_ core.SignInStore = (*Store)(nil)
	_ core.MemoStore   = (*Store)(nil)
	// One process uses a database file, so a lock within the process is
	// the installation's.
	_ core.Locker = (*Store)(nil)
	// One process uses a database file: when its outbox starts, the
	// claims left in the file are a stopped run's.
	_ core.OrphanReleaser = (*Store)(nil)
)

// config is what the Options set.
type config struct {
	synchronous string
	busyTimeout time.Duration
	readConns   int
	maxBatch    int
}

// Option configures Open.
type Option func(*config) error

// Synchronous sets PRAGMA synchronous on the writer: "FULL" (the default)
// makes every commit durable across a power loss; "NORMAL" only across a
// crash of the process, which is faster and meant for benchmarks; "EXTRA"
// and "OFF" are accepted too.
func Synchronous(mode string) Option {
	return func(c *config) error {
		m := strings.ToUpper(strings.TrimSpace(mode))
		switch m {
		case "OFF", "NORMAL", "FULL", "EXTRA":
			c.synchronous = m
			return nil
		}
		return fmt.Errorf("synchronous must be OFF, NORMAL, FULL or EXTRA, not %q", mode)
	}
}

// BusyTimeout sets how long a connection waits for a lock held by another
// process before failing (default 5 seconds).
func BusyTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("busy timeout must not be negative, not %s", d)
		}
		c.busyTimeout = d
		return nil
	}
}

// ReadConns sets the number of read-only connections (default the number
// of CPUs, at least 4).
func ReadConns(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("read connections must be at least 1, not %d", n)
		}
		c.readConns = n
		return nil
	}
}

// MaxBatch caps how many write requests share one transaction (default
// 256).
func MaxBatch(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("batch size must be at least 1, not %d", n)
		}
		c.maxBatch = n
		return nil
	}
}

// Open opens the database file at path, creating it when missing, brings
// its schema up to date and starts the writer. ctx bounds the opening only.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	cfg := config{
		synchronous: "FULL",
		busyTimeout: 5 * time.Second,
		readConns:   max(4, runtime.GOMAXPROCS(0)),
		maxBatch:    256,
	}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
		}
	}
	if err := checkPath(path); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// A URI, so that no character of the path (a "?") can be taken for
	// part of the driver's parameters.
	uriPath := filepath.ToSlash(abs)
	if !strings.HasPrefix(uriPath, "/") {
		uriPath = "/" + uriPath // a Windows drive letter
	}
	name := "file:" + (&url.URL{Path: uriPath}).EscapedPath()
	busy := cfg.busyTimeout.Milliseconds()

	// sql.Open only validates its arguments; nothing connects before the
	// writer below has set WAL mode and migrated the schema.
	q := url.Values{"_pragma": {fmt.Sprintf("busy_timeout(%d)", busy), "query_only(1)"}}
	db, err := sql.Open("sqlite", name+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(cfg.readConns)
	db.SetMaxIdleConns(cfg.readConns)

	c, err := openWriter(ctx, name, busy, cfg.synchronous)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	ckpt, err := rawsql.OpenCheckpointer(name, cfg.synchronous)
	if err != nil {
		c.close()
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	r, err := newReader(ctx, db)
	if err != nil {
		ckpt.Close()
		c.close()
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	hot, err := openHotReads(ctx, name, busy)
	if err != nil {
		r.close()
		ckpt.Close()
		c.close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w := groupcommit.New(c, groupcommit.Options{
		Tx:        c.tx,
		MaxBatch:  cfg.maxBatch,
		Closed:    errClosed,
		Committed: func() { ckpt.Committed(c.conn) },
	})
	s := &Store{path: path, c: c, w: w, ckpt: ckpt, r: r, hot: hot, expireBatch: expireBatch}
	go w.Run()
	return s, nil
}

// checkPath refuses what SQLite would only refuse with a vague message
// later, and creates the file with permissions for its owner alone: it
// holds customers' addresses.
func checkPath(path string) error {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return fmt.Errorf("sqlite: open %q: the database must be a file path", path)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("sqlite: open %s: is a directory", path)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("sqlite: open database: %w", err)
	}
	return f.Close()
}

// Close finishes the writes already queued, then closes the database.
// Calls made after Close fail with CodeUnavailable.
func (s *Store) Close() error {
	s.once.Do(func() {
		s.closed.Store(true)
		s.locks.Close()
		s.w.Stop()
		// The writer's connection goes last: the last connection to close
		// copies the WAL into the database file and removes it.
		s.err = errors.Join(s.hot.close(), s.r.close(), s.ckpt.Close(), s.c.close())
		if s.err != nil {
			s.err = fmt.Errorf("sqlite: close %s: %w", s.path, s.err)
		}
	})
	return s.err
}

// errClosed is the error of every call after Close.
func errClosed() error { return core.Errorf(core.CodeUnavailable, "the store is closed") }

// Ping reports whether the database file can still be read.
func (s *Store) Ping(ctx context.Context) error {
	if s.closed.Load() {
		return fmt.Errorf("sqlite: ping: %w", errClosed())
	}
	var v int64
	if err := s.r.ping.QueryRowContext(ctx).Scan(&v); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// Stats counts sessions by state and queued deliveries. One statement
// reads both, so they come from the same snapshot.
func (s *Store) Stats(ctx context.Context) (core.Stats, error) {
	st := core.Stats{Sessions: map[core.State]int{}}
	if s.closed.Load() {
		return st, fmt.Errorf("sqlite: stats: %w", errClosed())
	}
	rows, err := s.r.stats.QueryContext(ctx)
	if err != nil {
		return st, fmt.Errorf("sqlite: stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind, state string
		var n int
		if err := rows.Scan(&kind, &state, &n); err != nil {
			return st, fmt.Errorf("sqlite: stats: %w", err)
		}
		if kind == "q" {
			st.QueuedDeliveries = n
		} else {
			st.Sessions[core.State(state)] = n
		}
	}
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("sqlite: stats: %w", err)
	}
	return st, nil
}

const statsSQL = `
SELECT 's', state, count(*) FROM sessions GROUP BY state
UNION ALL
SELECT 'q', '', count(*) FROM outbox WHERE status = 'queued'`
