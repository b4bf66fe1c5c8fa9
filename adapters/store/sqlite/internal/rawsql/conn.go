// Package rawsql drives connections of the modernc.org/sqlite driver
// through the driver's own interfaces rather than database/sql. The SQLite
// store's writer, one goroutine on one connection, is the path that limits
// its throughput, and database/sql's pooling, locking and argument
// conversion would be pure cost there.
//
// It holds the connection (Conn, and OpenWriter, which sets up the one
// that writes), the statements prepared on it (Stmt, and Tx for the
// transactions), the rows they return (Values), the schema's migrations
// (Migrate), and the checkpointer that copies the write-ahead log back
// into the database file on a connection of its own (Checkpointer).
package rawsql

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"

	msqlite "modernc.org/sqlite"
)

// DriverConn is what this package needs of a connection of the driver.
type DriverConn interface {
	driver.Conn
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	msqlite.DBStatus
}

// Conn is a connection of the driver, outside database/sql. Its driver
// methods (ExecContext, QueryContext, Status) are the driver's own; its
// other methods run the statements that are not worth preparing, and
// prepare those that are. Only one goroutine may use it at a time.
type Conn struct {
	DriverConn
	stmts []*Stmt // prepared on it, which Close finalises
}

// Open opens a connection of drv to name, outside database/sql.
func Open(drv driver.Driver, name string) (*Conn, error) {
	conn, err := drv.Open(name)
	if err != nil {
		return nil, err
	}
	dc, ok := conn.(DriverConn)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("the sqlite driver's connection (%T) lacks methods this store needs", conn)
	}
	return &Conn{DriverConn: dc}, nil
}

// writerCacheKiB is the writer's page cache, in KiB: SQLite's default,
// as the readers have. The driver allocates each cached page (4 KiB and a
// header) in an 8 KiB block, so a cache costs about twice its size in
// resident memory: the 32 MiB this once was added some 60 MiB to the
// server's peak under load, for no gain the load test could measure
// (ids are random, so the indexes on them are written all over, and the
// operating system's file cache serves what this one misses).
const writerCacheKiB = 2000

// OpenWriter opens the connection that writes, as Open does, and sets its
// pragmas: busyMillis is its busy_timeout, synchronous its synchronous
// setting. It puts the database in WAL mode, which is the database's and
// lasts; the other settings are the connection's own.
func OpenWriter(ctx context.Context, drv driver.Driver, name string, busyMillis int64, synchronous string) (*Conn, error) {
	c, err := Open(drv, name)
	if err != nil {
		return nil, err
	}
	if err := c.setUpWriter(ctx, busyMillis, synchronous); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (c *Conn) setUpWriter(ctx context.Context, busyMillis int64, synchronous string) error {
	// busy_timeout comes first so that the others wait for a lock another
	// process holds instead of failing.
	if err := c.Exec(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", busyMillis)); err != nil {
		return err
	}
	mode, err := c.QueryString(ctx, "PRAGMA journal_mode = WAL")
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
		fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", AutocheckpointPages),
	} {
		if err := c.Exec(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// Close finalises the statements prepared on c, then closes it.
func (c *Conn) Close() error {
	var errs []error
	for _, s := range c.stmts {
		errs = append(errs, s.s.Close())
	}
	c.stmts = nil
	errs = append(errs, c.DriverConn.Close())
	return errors.Join(errs...)
}

// PrepareStmt prepares query on c. Close finalises it.
func (c *Conn) PrepareStmt(ctx context.Context, query string) (*Stmt, error) {
	s, err := c.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare %q: %w", query, err)
	}
	st := &Stmt{s: s}
	var ok1, ok2 bool
	st.exec, ok1 = s.(driver.StmtExecContext)
	st.query, ok2 = s.(driver.StmtQueryContext)
	if !ok1 || !ok2 {
		s.Close()
		return nil, errors.New("the sqlite driver lacks context-aware statements")
	}
	c.stmts = append(c.stmts, st)
	return st, nil
}

// Exec runs a statement that is not worth preparing.
func (c *Conn) Exec(ctx context.Context, query string, args ...any) error {
	_, err := c.ExecContext(ctx, query, Named(args...))
	return err
}

// QueryString runs a statement that returns one string.
func (c *Conn) QueryString(ctx context.Context, query string) (string, error) {
	rows, err := c.QueryContext(ctx, query, nil)
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

// QueryInt runs a statement that returns one integer.
func (c *Conn) QueryInt(ctx context.Context, query string) (int64, error) {
	rows, err := c.QueryContext(ctx, query, nil)
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

// Exists reports whether query, run with args, returns a row.
func (c *Conn) Exists(ctx context.Context, query string, args ...any) (bool, error) {
	rows, err := c.QueryContext(ctx, query, Named(args...))
	if err != nil {
		return false, err
	}
	return hasRow(rows)
}

// Each runs query with args and calls fn with each row it returns, until
// fn fails. The values are the driver's, good only until the next row.
func (c *Conn) Each(ctx context.Context, query string, args []driver.NamedValue, fn func(Values) error) error {
	rows, err := c.QueryContext(ctx, query, args)
	if err != nil {
		return err
	}
	return each(rows, fn)
}

// each calls fn with each row of rows, until fn fails, and closes rows.
func each(rows driver.Rows, fn func(Values) error) error {
	defer rows.Close()
	v := make(Values, len(rows.Columns()))
	for {
		if err := rows.Next(v); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
		if err := fn(v); err != nil {
			return err
		}
	}
}

// hasRow reports whether rows holds a row, and closes them.
func hasRow(rows driver.Rows) (bool, error) {
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

// Named turns args into the driver's form. Callers build the arguments of
// the write statements in their own goroutine with it, so that the writer
// only executes.
func Named(args ...any) []driver.NamedValue {
	if len(args) == 0 {
		return nil
	}
	nv := make([]driver.NamedValue, len(args))
	for i, a := range args {
		nv[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	return nv
}
