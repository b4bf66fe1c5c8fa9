package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"

	msqlite "modernc.org/sqlite"
)

// wconn is the writer's connection. It is driven through the driver
// interfaces rather than database/sql: only the writer goroutine uses it,
// so database/sql's pooling, locking and argument conversion would be pure
// cost on the one path that limits throughput.
type wconn struct {
	conn  rawConn
	stmts []*wstmt

	begin, commit, rollback             *wstmt
	savepoint, release, rollbackTo      *wstmt
	insConv, updConv, convExists        *wstmt
	convSeq                             *wstmt
	insSession, updSession, sessExists  *wstmt
	pinTaken, openTaken                 *wstmt
	insMessage, msgSource, touchConv    *wstmt
	setOptOut, clearOptOut              *wstmt
	insEvent                            *wstmt
	insDelivery, updDelivery            *wstmt
	deliveryState, claim                *wstmt
	renewClaim, releaseClaims           *wstmt
	insKey, findKey, rotateKey          *wstmt
	insSignIn, endSignIn                *wstmt
	expireSignIns, putMemo, expireMemos *wstmt
}

// rawConn is what this package needs of a connection of the driver.
type rawConn interface {
	driver.Conn
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	msqlite.DBStatus
}

// openRaw opens a connection of drv to name, outside database/sql.
func openRaw(drv driver.Driver, name string) (rawConn, error) {
	conn, err := drv.Open(name)
	if err != nil {
		return nil, err
	}
	rc, ok := conn.(rawConn)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("the sqlite driver's connection (%T) lacks methods this store needs", conn)
	}
	return rc, nil
}

// wstmt is a statement prepared once on the writer's connection.
type wstmt struct {
	s     driver.Stmt
	exec  driver.StmtExecContext
	query driver.StmtQueryContext
}

// openWriter opens the writer's connection, sets it up and migrates the
// schema.
func openWriter(ctx context.Context, drv driver.Driver, name string, busyMillis int64, synchronous string) (*wconn, error) {
	conn, err := openRaw(drv, name)
	if err != nil {
		return nil, err
	}
	c := &wconn{conn: conn}
	if err := c.setup(ctx, busyMillis, synchronous); err != nil {
		conn.Close()
		return nil, err
	}
	if err := migrate(ctx, c); err != nil {
		conn.Close()
		return nil, err
	}
	if err := c.prepareAll(ctx); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

// writerCacheKiB is the writer's page cache, in KiB: SQLite's default,
// as the readers have. The driver allocates each cached page (4 KiB and a
// header) in an 8 KiB block, so a cache costs about twice its size in
// resident memory: the 32 MiB this once was added some 60 MiB to the
// server's peak under load, for no gain the load test could measure
// (ids are random, so the indexes on them are written all over, and the
// operating system's file cache serves what this one misses).
const writerCacheKiB = 2000

// setup sets the connection's pragmas. WAL mode is the database's and
// lasts; the others are the connection's own.
func (c *wconn) setup(ctx context.Context, busyMillis int64, synchronous string) error {
	// busy_timeout comes first so that the others wait for a lock another
	// process holds instead of failing.
	if err := c.execSQL(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", busyMillis)); err != nil {
		return err
	}
	mode, err := c.queryString(ctx, "PRAGMA journal_mode = WAL")
	if err != nil {
		return err
	}
	if mode != "wal" {
		return fmt.Errorf("cannot use WAL mode (journal mode is %q); is the file on a network file system?", mode)
	}
	for _, p := range []string{
		"PRAGMA synchronous = " + synchronous,
		"PRAGMA foreign_keys = ON",
		fmt.Sprintf("PRAGMA cache_size = -%d", writerCacheKiB),
		"PRAGMA temp_store = MEMORY",
		fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", autocheckpointPages),
	} {
		if err := c.execSQL(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// The checks made before a write, so that a refused write writes nothing
// (see refusal). Each repeats the WHERE of the partial index it relies on:
// without it SQLite cannot use the index and scans the table.
const (
	pinTakenSQL  = "SELECT 1 FROM sessions WHERE live_pin = ? AND id <> ?"
	openTakenSQL = `SELECT 1 FROM conversations WHERE state = 'open' AND customer_channel = ?
		AND customer_address = ? AND id <> ? AND (customer_channel <> '' OR customer_address <> '')`
	msgSourceSQL = "SELECT 1 FROM messages WHERE source = ? AND source <> ''"
)

func (c *wconn) prepareAll(ctx context.Context) error {
	for _, p := range []struct {
		dst **wstmt
		sql string
	}{
		{&c.begin, "BEGIN IMMEDIATE"},
		{&c.commit, "COMMIT"},
		{&c.rollback, "ROLLBACK"},
		{&c.savepoint, "SAVEPOINT request"},
		{&c.release, "RELEASE request"},
		{&c.rollbackTo, "ROLLBACK TO request"},
		{&c.insConv, insertConversationSQL},
		{&c.updConv, updateConversationSQL},
		{&c.convExists, "SELECT 1 FROM conversations WHERE id = ?"},
		{&c.convSeq, "SELECT seq FROM conversations WHERE id = ?"},
		{&c.insSession, insertSessionSQL},
		{&c.updSession, updateSessionSQL},
		{&c.sessExists, "SELECT 1 FROM sessions WHERE id = ?"},
		{&c.pinTaken, pinTakenSQL},
		{&c.openTaken, openTakenSQL},
		{&c.insEvent, insertEventSQL},
		{&c.insMessage, insertMessageSQL},
		{&c.msgSource, msgSourceSQL},
		{&c.touchConv, touchConversationSQL},
		{&c.setOptOut, setOptOutSQL},
		{&c.clearOptOut, clearOptOutSQL},
		{&c.insDelivery, insertDeliverySQL},
		{&c.updDelivery, updateDeliverySQL},
		{&c.deliveryState, deliveryStateSQL},
		{&c.claim, claimDeliveriesSQL},
		{&c.renewClaim, renewClaimSQL},
		{&c.releaseClaims, releaseClaimsSQL},
		{&c.insKey, insertKeySQL},
		{&c.findKey, findKeySQL},
		{&c.rotateKey, rotateKeySQL},
		{&c.insSignIn, insertSignInSQL},
		{&c.endSignIn, endSignInSQL},
		{&c.expireSignIns, expireSignInsSQL},
		{&c.putMemo, putMemoSQL},
		{&c.expireMemos, expireMemosSQL},
	} {
		s, err := c.conn.PrepareContext(ctx, p.sql)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", p.sql, err)
		}
		ws := &wstmt{s: s}
		var ok1, ok2 bool
		ws.exec, ok1 = s.(driver.StmtExecContext)
		ws.query, ok2 = s.(driver.StmtQueryContext)
		if !ok1 || !ok2 {
			s.Close()
			return errors.New("the sqlite driver lacks context-aware statements")
		}
		*p.dst = ws
		c.stmts = append(c.stmts, ws)
	}
	return nil
}

// close finalises the statements and closes the connection. Optimize
// first, as SQLite advises before closing a connection that wrote: it
// refreshes the planner's statistics where they have drifted.
func (c *wconn) close() error {
	var errs []error
	errs = append(errs, c.execSQL(context.Background(), "PRAGMA optimize"))
	for _, s := range c.stmts {
		errs = append(errs, s.s.Close())
	}
	c.stmts = nil
	errs = append(errs, c.conn.Close())
	return errors.Join(errs...)
}

// execSQL runs a statement that is not worth preparing.
func (c *wconn) execSQL(ctx context.Context, query string, args ...any) error {
	_, err := c.conn.ExecContext(ctx, query, named(args...))
	return err
}

// queryString runs a statement that returns one string.
func (c *wconn) queryString(ctx context.Context, query string) (string, error) {
	rows, err := c.conn.QueryContext(ctx, query, nil)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	v := make([]driver.Value, len(rows.Columns()))
	if err := rows.Next(v); err != nil {
		return "", err
	}
	s, _ := v[0].(string)
	return s, nil
}

// queryInt runs a statement that returns one integer.
func (c *wconn) queryInt(ctx context.Context, query string) (int64, error) {
	rows, err := c.conn.QueryContext(ctx, query, nil)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	v := make([]driver.Value, len(rows.Columns()))
	if err := rows.Next(v); err != nil {
		return 0, err
	}
	n, _ := v[0].(int64)
	return n, nil
}

// run executes s with args bound.
func (s *wstmt) run(args []driver.NamedValue) (driver.Result, error) {
	return s.exec.ExecContext(context.Background(), args)
}

// do executes s, for statements whose result does not matter.
func (s *wstmt) do(args ...any) error {
	_, err := s.exec.ExecContext(context.Background(), named(args...))
	return err
}

// returning runs s, which returns at most one row of one integer, and
// returns that integer and whether there was a row.
func (s *wstmt) returning(args []driver.NamedValue) (int64, bool, error) {
	rows, err := s.query.QueryContext(context.Background(), args)
	if err != nil {
		return 0, false, err
	}
	var v [1]driver.Value
	nerr := rows.Next(v[:])
	cerr := rows.Close()
	switch {
	case errors.Is(nerr, io.EOF):
		return 0, false, cerr
	case nerr != nil:
		return 0, false, nerr
	case cerr != nil:
		return 0, false, cerr
	}
	n, _ := v[0].(int64)
	return n, true, nil
}

// twoStrings runs s, which returns at most one row of two text columns,
// and returns them and whether there was a row.
func (s *wstmt) twoStrings(args ...any) (a, b string, ok bool, err error) {
	rows, err := s.query.QueryContext(context.Background(), named(args...))
	if err != nil {
		return "", "", false, err
	}
	defer rows.Close()
	var v [2]driver.Value
	switch err := rows.Next(v[:]); {
	case errors.Is(err, io.EOF):
		return "", "", false, nil
	case err != nil:
		return "", "", false, err
	}
	a, _ = v[0].(string)
	b, _ = v[1].(string)
	return a, b, true, nil
}

// row runs s, which returns at most one row, and returns its values and
// whether there was one. The values are the driver's: a []byte among
// them is only good until s runs again.
func (s *wstmt) row(args ...any) ([]driver.Value, bool, error) {
	rows, err := s.query.QueryContext(context.Background(), named(args...))
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	v := make([]driver.Value, len(rows.Columns()))
	switch err := rows.Next(v); {
	case errors.Is(err, io.EOF):
		return nil, false, nil
	case err != nil:
		return nil, false, err
	}
	return v, true, nil
}

// exists reports whether s, run with args, returns a row.
func (s *wstmt) exists(args ...any) (bool, error) {
	rows, err := s.query.QueryContext(context.Background(), named(args...))
	if err != nil {
		return false, err
	}
	defer rows.Close()
	v := make([]driver.Value, len(rows.Columns()))
	switch err := rows.Next(v); {
	case err == nil:
		return true, nil
	case errors.Is(err, io.EOF):
		return false, nil
	default:
		return false, err
	}
}

// named turns args into the driver's form. Callers build the arguments of
// the write statements in their own goroutine with it, so that the writer
// only executes.
func named(args ...any) []driver.NamedValue {
	if len(args) == 0 {
		return nil
	}
	nv := make([]driver.NamedValue, len(args))
	for i, a := range args {
		nv[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	return nv
}
