// Package postgres is a core.Store kept in a PostgreSQL database, which
// several assistbot replicas can share.
//
// Every method is one transaction on a connection of the store's pool
// (pgx's pgxpool), and the database, not the process, enforces the
// store's rules: partial unique indexes keep a live PIN, a customer's
// open conversation and a platform message's source unique; an
// optimistic version check guards every update of a session or
// conversation; ClaimDeliveries locks the rows it leases with FOR UPDATE
// SKIP LOCKED, so that replicas polling the same outbox never take the
// same delivery. Nothing is cached in the process, so whatever one
// replica writes, the others read at once.
//
// Times are timestamptz, which keeps the microseconds core's clock keeps,
// and come back in UTC; the zero time is stored as NULL. Notices are
// jsonb. The schema is applied by Open from the scripts in migrations/,
// under an advisory lock, and recorded in schema_migrations.
//
// The machinery is in internal packages: conninfo reads the DSN and keeps
// its password out of messages, migrations applies the schema's scripts,
// and notify carries the announcements the replicas send each other over
// LISTEN/NOTIFY and watches a connection held outside the pool.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/assistbot/assistbot/adapters/store/postgres/internal/conninfo"
	"github.com/assistbot/assistbot/core"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Store is a core.Store in a PostgreSQL database. It is safe for
// concurrent use, and any number of Stores, in one process or many, may
// share a database.
type Store struct {
	target  string   // user@host:port/database, for messages
	secrets []string // what may be the DSN's password, masked in errors
	pool    *pgxpool.Pool
	closed  atomic.Bool

	// schema is the schema the store's tables are in: locks and
	// announcements are an installation's, and installations may share
	// a database, each in a schema of its own.
	schema string
	// replica tells this Store's announcements from the other replicas'.
	replica string
	// listen is how Listen connects, outside the pool.
	listen *pgx.ConnConfig
	// done is closed by Close, which ends the Listen calls.
	done      chan struct{}
	closeOnce sync.Once
	mu        sync.Mutex
	locks     map[*lock]struct{} // the locks held, which Close ends
	// expireBatch is how many expired sign-ins or memos one statement
	// deletes (expireBatch, but tests make it small).
	expireBatch int
}

var (
	_ core.Store       = (*Store)(nil)
	_ core.KeyStore    = (*Store)(nil)
	_ core.SignInStore = (*Store)(nil)
	_ core.MemoStore   = (*Store)(nil)
	_ core.Locker      = (*Store)(nil)
	// Replicas share a PostgreSQL database, and hear each other through
	// it.
	_ core.Broadcaster = (*Store)(nil)
)

// config is what Open hands pgxpool: the DSN's settings, pool_ ones
// included, then the Options.
type config struct {
	pool *pgxpool.Config
}

// Option configures Open. Options override the DSN's pool_ settings.
type Option func(*config) error

// MaxConns caps the connections the store opens (default the greater of 4
// and the number of CPUs; pool_max_conns in the DSN). Every replica opens
// up to this many, and one more while it listens to the other replicas
// (Listen), and together they must stay under the server's
// max_connections. A lock held (TryLock) keeps one of the MaxConns to
// itself.
func MaxConns(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("max connections must be at least 1, not %d", n)
		}
		if n > math.MaxInt32 {
			return fmt.Errorf("max connections must be at most %d, not %d", math.MaxInt32, n)
		}
		c.pool.MaxConns = int32(n)
		return nil
	}
}

// MaxConnLifetime closes connections older than d (default 1 hour;
// pool_max_conn_lifetime in the DSN) when they are next released or
// handed out, or at the pool's periodic check of idle connections, so
// that a load balancer or a failover spreads them again.
func MaxConnLifetime(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("connection lifetime must be positive, not %s", d)
		}
		c.pool.MaxConnLifetime = d
		return nil
	}
}

// CheckDSN says what is wrong with dsn as a connection string, without
// connecting (config check's word on store.dsn); its message never holds
// the password.
func CheckDSN(dsn string) error {
	if strings.TrimSpace(dsn) == "" {
		return errors.New("the DSN is empty")
	}
	_, err := conninfo.Parse(dsn)
	return err
}

// Open connects to the database that dsn names (a postgres:// URL or
// key=value pairs, as libpq reads them), brings its schema up to date and
// returns the store. ctx bounds the opening only. Errors name the server
// and the database, never the password.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	if strings.TrimSpace(dsn) == "" {
		// libpq would read an empty DSN as "the local default server",
		// which is never what an empty setting meant.
		return nil, errors.New("postgres: open: the DSN is empty")
	}
	secrets := conninfo.Secrets(dsn)
	pc, err := conninfo.Parse(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	name := conninfo.Target(pc.ConnConfig)
	cfg := config{pool: pc}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, fmt.Errorf("postgres: open %s: %w", name, err)
		}
	}
	// The pool connects lazily, when a connection is first acquired:
	// migrate's is the first.
	pool, err := pgxpool.NewWithConfig(ctx, cfg.pool)
	if err != nil {
		return nil, fmt.Errorf("postgres: open %s: %w", name, conninfo.ScrubErr(err, secrets))
	}
	s := &Store{target: name, secrets: secrets, pool: pool, replica: core.NewID(),
		listen: pool.Config().ConnConfig, done: make(chan struct{}),
		locks: map[*lock]struct{}{}, expireBatch: expireBatch}
	if err := migrate(ctx, s); err != nil {
		s.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", name, conninfo.ScrubErr(err, secrets))
	}
	return s, nil
}

// Close ends the locks held, which closes their lost channels, and the
// Listen calls, and closes the connections, after waiting for those in
// use to be released. Calls made after Close fail with CodeUnavailable; a
// second Close does nothing.
func (s *Store) Close() error {
	s.closed.Store(true)
	s.closeOnce.Do(func() { close(s.done) })
	s.mu.Lock()
	held := s.locks
	s.locks = nil
	s.mu.Unlock()
	for l := range held {
		l.end(false)
	}
	s.pool.Close() // waits for the connections in use; once only
	return nil
}

// errClosed is the error of every call after Close.
func errClosed() error { return core.Errorf(core.CodeUnavailable, "the store is closed") }

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	err := s.withConn(ctx, func(c *pgxpool.Conn) error { return c.Ping(ctx) })
	if err != nil {
		return fmt.Errorf("postgres: ping %s: %w", s.target, err)
	}
	return nil
}

// Stats counts sessions by state and queued deliveries. One statement
// reads both, so they come from the same snapshot.
func (s *Store) Stats(ctx context.Context) (core.Stats, error) {
	st := core.Stats{Sessions: map[core.State]int{}}
	err := s.withConn(ctx, func(c *pgxpool.Conn) error {
		rows, err := c.Query(ctx, statsSQL)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var state string
			var n int
			if err := rows.Scan(&state, &n); err != nil {
				return err
			}
			if state == "" {
				st.QueuedDeliveries = n
			} else {
				st.Sessions[core.State(state)] = n
			}
		}
		return rows.Err()
	})
	if err != nil {
		return core.Stats{Sessions: map[core.State]int{}}, fmt.Errorf("postgres: stats: %w", err)
	}
	return st, nil
}

const statsSQL = `
SELECT state, count(*) FROM sessions GROUP BY state
UNION ALL
SELECT '', count(*) FROM outbox WHERE status = 'queued'`

// withConn runs fn on a connection of the pool. A single statement is a
// transaction of its own, so reads that take one need no BEGIN.
//
// The pool hands out an idle connection, pinging it first when it has
// been idle for over a second, so that one the server or a proxy dropped
// is replaced rather than failing fn; or it opens a new one, up to
// MaxConns. Release closes a connection that is broken, still inside a
// transaction, or past its lifetime, instead of keeping it.
func (s *Store) withConn(ctx context.Context, fn func(*pgxpool.Conn) error) error {
	c, err := s.acquire(ctx)
	if err != nil {
		return err
	}
	defer c.Release()
	return badText(fn(c))
}

// acquire takes a connection of the pool, which the caller must release.
func (s *Store) acquire(ctx context.Context) (*pgxpool.Conn, error) {
	if s.closed.Load() {
		return nil, errClosed()
	}
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		if s.closed.Load() {
			return nil, errClosed() // closed while waiting for a connection
		}
		err = conninfo.ScrubErr(err, s.secrets)
		if core.ErrorCode(err) == core.CodeInternal && ctx.Err() == nil {
			// The server is down or refuses connections: callers may
			// answer "try later" rather than "internal error".
			return nil, core.Wrap(core.CodeUnavailable, err, "the database is unavailable")
		}
		return nil, err
	}
	return c, nil
}

// maxTxTries is how many times withTx runs a transaction that the server
// aborted to break a deadlock or a serialization conflict: running it
// again is then the documented remedy.
const maxTxTries = 3

// withTx runs fn in a transaction and commits it, or rolls it back when
// fn fails. fn may run more than once, so it must only collect results
// for its caller, who applies them once withTx succeeded: a refused write
// then changes nothing in the caller's structs either.
func (s *Store) withTx(ctx context.Context, fn func(pgx.Tx) error) error {
	for try := 1; ; try++ {
		err := s.withConn(ctx, func(c *pgxpool.Conn) error {
			tx, err := c.Begin(ctx)
			if err != nil {
				return err
			}
			if err := fn(tx); err != nil {
				rollback(ctx, tx)
				return err
			}
			return tx.Commit(ctx)
		})
		if try < maxTxTries && retryable(err) && ctx.Err() == nil {
			continue
		}
		return err
	}
}

// rollback ends tx, even when ctx is done, so that the connection can be
// reused. A rollback that cannot reach the server leaves the connection
// mid-transaction, and the pool closes it on release.
func rollback(ctx context.Context, tx pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	tx.Rollback(ctx)
}

// withBatch calls run with a connection on which to send one batch of
// statements, which the server runs as one transaction in one round trip
// (see sendBatch); and calls it again, as withTx does, when the server
// aborted that transaction to break a deadlock.
func (s *Store) withBatch(ctx context.Context, run func(batcher) error) error {
	for try := 1; ; try++ {
		err := s.withConn(ctx, func(c *pgxpool.Conn) error { return run(c) })
		if try < maxTxTries && retryable(err) && ctx.Err() == nil {
			continue
		}
		return err
	}
}

// withRetry runs fn on a connection, as withConn does, and again, as
// withTx does, when the server aborted its statement to break a deadlock
// or a serialization conflict: an upsert that meets another's row in
// REPEATABLE READ or SERIALIZABLE, when the server runs statements in
// those by default.
func (s *Store) withRetry(ctx context.Context, fn func(*pgxpool.Conn) error) error {
	for try := 1; ; try++ {
		err := s.withConn(ctx, fn)
		if try < maxTxTries && retryable(err) && ctx.Err() == nil {
			continue
		}
		return err
	}
}

// retryable reports whether err is the server aborting a transaction that
// would succeed if run again.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}
