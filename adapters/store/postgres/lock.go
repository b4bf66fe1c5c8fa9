package postgres

import (
	"context"
	"fmt"
	"sync"

	"github.com/assistbot/assistbot/adapters/store/postgres/internal/notify"
	"github.com/assistbot/assistbot/core"
	"github.com/jackc/pgx/v5/pgxpool"
)

// A lock is a session-level advisory lock, which PostgreSQL holds for as
// long as the connection that took it lives, or until it is unlocked: a
// replica that crashes, or loses the database, frees its locks with its
// connection. So a lock keeps its connection out of the pool while held,
// and watches it. (A pooler in transaction mode, such as PgBouncer's,
// would hand the session to others: locks need a direct connection, or
// session pooling.)

// tryLockSQL takes the lock called $2 in schema $1, unless another
// session holds it. A session may take a lock it holds once more (they
// stack), so a connection holding one never goes back to the pool: end
// unlocks it first, or closes it. The key is derived as the migrations'
// is, and returned for unlockSQL.
const tryLockSQL = `SELECT key, pg_try_advisory_lock(key)
	FROM (SELECT hashtextextended('assistbot lock ' || $1 || ' ' || $2, 0) AS key) k`

const unlockSQL = `SELECT pg_advisory_unlock($1)`

// keepAliveSQL makes the server probe a lock holder's connection when it
// has been silent for 10 seconds, and end the session after 3 probes 5
// seconds apart go unanswered (a host gone, a network split): the lock is
// then free within about half a minute, instead of the hours the
// system's defaults take. They last the session; the pool keeps them.
const keepAliveSQL = `SELECT set_config('tcp_keepalives_idle', '10', false),
	set_config('tcp_keepalives_interval', '5', false), set_config('tcp_keepalives_count', '3', false)`

// lock is a lock held.
type lock struct {
	s    *Store
	conn *pgxpool.Conn
	key  int64
	lost chan struct{}
	stop context.CancelFunc // stops watch
	done chan struct{}      // closed when watch returns
	once sync.Once          // ends the hold once: by release, or by Close
}

// TryLock takes the lock called name unless another connection to the
// database, in this process or another, holds it. A lock taken holds a
// connection of the pool until release, which unlocks and returns it; a
// goroutine watches that connection, and when it breaks (the server went
// away, a ping went unanswered) closes it and closes lost. Closing the
// Store loses its locks too.
func (s *Store) TryLock(ctx context.Context, name string) (lost <-chan struct{}, release func(), ok bool, err error) {
	none := func() {}
	if name == "" {
		return nil, none, false, fmt.Errorf("postgres: lock: %w", core.Errorf(core.CodeInvalid, "a lock needs a name"))
	}
	c, err := s.acquire(ctx)
	if err != nil {
		return nil, none, false, fmt.Errorf("postgres: lock %s: %w", name, err)
	}
	var key int64
	if err := c.QueryRow(ctx, tryLockSQL, s.schema, name).Scan(&key, &ok); err != nil || !ok {
		// A query cut short closes its connection, and with it a lock it
		// may have taken; the pool drops a closed connection.
		c.Release()
		if err != nil {
			return nil, none, false, fmt.Errorf("postgres: lock %s: %w", name, err)
		}
		return nil, none, false, nil
	}
	if _, err := c.Exec(ctx, keepAliveSQL); err != nil {
		notify.CloseConn(c.Hijack())
		return nil, none, false, fmt.Errorf("postgres: lock %s: %w", name, err)
	}
	watchCtx, stop := context.WithCancel(context.Background())
	l := &lock{s: s, conn: c, key: key, lost: make(chan struct{}), stop: stop, done: make(chan struct{})}
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		stop()
		notify.CloseConn(c.Hijack())
		return nil, none, false, fmt.Errorf("postgres: lock %s: %w", name, errClosed())
	}
	s.locks[l] = struct{}{}
	s.mu.Unlock()
	go l.watch(watchCtx)
	return l.lost, func() { l.end(true) }, true, nil
}

// watch waits for the lock's connection to break, until end stops it.
func (l *lock) watch(ctx context.Context) {
	defer close(l.done)
	for {
		_, err := notify.Await(ctx, l.conn.Conn())
		if ctx.Err() != nil {
			return // end decides what becomes of the connection
		}
		if err != nil {
			l.drop()
			return
		}
	}
}

// end ends the hold: it stops watch, then unlocks and returns the
// connection to the pool when unlock is set and the connection still
// works, and otherwise closes it, which loses the lock.
func (l *lock) end(unlock bool) {
	l.once.Do(func() {
		l.stop()
		<-l.done
		select {
		case <-l.lost:
			return // watch dropped the connection
		default:
		}
		if unlock && l.unlock() {
			l.s.forget(l)
			l.conn.Release()
			return
		}
		l.drop()
	})
}

// unlock unlocks the lock, and reports whether the connection can go back
// to the pool: a connection holding the lock never may.
func (l *lock) unlock() bool {
	ctx, cancel := context.WithTimeout(context.Background(), notify.CheckInterval)
	defer cancel()
	var unlocked bool
	err := l.conn.QueryRow(ctx, unlockSQL, l.key).Scan(&unlocked)
	return err == nil && unlocked
}

// drop closes the lock's connection, which ends its session and the
// lock with it, and closes lost.
func (l *lock) drop() {
	l.s.forget(l)
	notify.CloseConn(l.conn.Hijack())
	close(l.lost)
}

// forget removes l from the locks that Close ends.
func (s *Store) forget(l *lock) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.locks, l)
}
