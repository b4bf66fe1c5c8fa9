// Package rawsql drives SQLite connections through SQLite's own C API, as
// modernc.org/sqlite/lib exposes it, rather than through database/sql and
// the driver. The SQLite store's writer, one goroutine on one connection,
// is the path that limits its throughput, and so is the lookup every
// /remote makes; there, database/sql's pooling and argument conversion,
// and the driver's per-call work (a lock around every SQLite call, a C
// copy of every text argument, the column names of every result), were
// a third of what a statement cost.
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
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// Conn is one SQLite connection. Only one goroutine may use it at a time:
// it is opened without SQLite's own lock on the connection
// (SQLITE_OPEN_NOMUTEX), which every SQLite call would otherwise take.
type Conn struct {
	tls   *libc.TLS
	db    uintptr // sqlite3*
	out   uintptr // C memory for the pointers and integers SQLite hands back
	stmts []*Stmt // prepared on it, which Close finalises
}

// outSize is the size of Conn.out: two pointers or two integers.
const outSize = 16

// Open opens a connection to name, a file: URI. SQLite reads the URI's
// own parameters (mode, cache and so on) and ignores any other.
func Open(name string) (*Conn, error) {
	c := &Conn{tls: libc.NewTLS()}
	c.out = libc.Xmalloc(c.tls, outSize)
	cname, err := libc.CString(name)
	if c.out == 0 || err != nil {
		libc.Xfree(c.tls, cname) // free(0) does nothing
		c.release()
		return nil, errors.New("sqlite: open: out of memory")
	}
	const flags = sqlite3.SQLITE_OPEN_READWRITE | sqlite3.SQLITE_OPEN_CREATE |
		sqlite3.SQLITE_OPEN_URI | sqlite3.SQLITE_OPEN_NOMUTEX
	rc := sqlite3.Xsqlite3_open_v2(c.tls, cname, c.out, flags, 0)
	libc.Xfree(c.tls, cname)
	c.db = c.outPtr(0)
	if rc != sqlite3.SQLITE_OK {
		err := c.errorOf(rc)
		c.release()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	sqlite3.Xsqlite3_extended_result_codes(c.tls, c.db, 1)
	return c, nil
}

// release closes the database handle and frees what c holds in C memory.
func (c *Conn) release() error {
	var err error
	if c.db != 0 {
		if rc := sqlite3.Xsqlite3_close_v2(c.tls, c.db); rc != sqlite3.SQLITE_OK {
			err = c.errorOf(rc)
		}
		c.db = 0
	}
	if c.out != 0 {
		libc.Xfree(c.tls, c.out)
		c.out = 0
	}
	c.tls.Close()
	return err
}

// outPtr reads the i-th pointer of c.out.
func (c *Conn) outPtr(i int) uintptr {
	b := libc.GoBytes(c.out+uintptr(i)*ptrSize, int(ptrSize))
	if ptrSize == 4 {
		return uintptr(binary.NativeEndian.Uint32(b))
	}
	return uintptr(binary.NativeEndian.Uint64(b))
}

// ptrSize is the size of a C pointer.
const ptrSize = unsafe.Sizeof(uintptr(0))

// outInt reads the i-th C int of c.out.
func (c *Conn) outInt(i int) int {
	return int(int32(binary.NativeEndian.Uint32(libc.GoBytes(c.out+uintptr(4*i), 4))))
}

// Error is an error SQLite returned: its (extended) result code and
// message.
type Error struct {
	code int
	msg  string
}

func (e *Error) Error() string { return e.msg }

// Code is SQLite's extended result code, such as
// sqlite3.SQLITE_CONSTRAINT_UNIQUE.
func (e *Error) Code() int { return e.code }

// errorOf turns rc, which a call on c returned, into an Error with the
// connection's message.
func (c *Conn) errorOf(rc int32) error {
	str := libc.GoString(sqlite3.Xsqlite3_errstr(c.tls, rc))
	if c.db == 0 {
		return &Error{code: int(rc), msg: fmt.Sprintf("%s (%d)", str, rc)}
	}
	msg := libc.GoString(sqlite3.Xsqlite3_errmsg(c.tls, c.db))
	if msg == "" || msg == str {
		return &Error{code: int(rc), msg: fmt.Sprintf("%s (%d)", str, rc)}
	}
	return &Error{code: int(rc), msg: fmt.Sprintf("%s: %s (%d)", str, msg, rc)}
}

// writerCacheKiB is the writer's page cache, in KiB: SQLite's default,
// as the readers have. Each cached page (4 KiB and a header) takes an 8
// KiB block of the C heap, so a cache costs about twice its size in
// resident memory: the 32 MiB this once was added some 60 MiB to the
// server's peak under load, for no gain the load test could measure
// (ids are random, so the indexes on them are written all over, and the
// operating system's file cache serves what this one misses).
const writerCacheKiB = 2000

// OpenWriter opens the connection that writes, as Open does, and sets its
// pragmas: busyMillis is its busy_timeout, synchronous its synchronous
// setting. It puts the database in WAL mode, which is the database's and
// lasts; the other settings are the connection's own.
func OpenWriter(ctx context.Context, name string, busyMillis int64, synchronous string) (*Conn, error) {
	c, err := Open(name)
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
		errs = append(errs, s.finalize())
	}
	c.stmts = nil
	errs = append(errs, c.release())
	return errors.Join(errs...)
}

// PrepareStmt prepares query, a single statement, on c. Close finalises
// it.
func (c *Conn) PrepareStmt(ctx context.Context, query string) (*Stmt, error) {
	st, err := c.prepareOne(ctx, query)
	if err != nil {
		return nil, err
	}
	c.stmts = append(c.stmts, st)
	return st, nil
}

// prepareOne prepares query, which must hold one statement; the caller
// finalises it.
func (c *Conn) prepareOne(ctx context.Context, query string) (*Stmt, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	st, rest, err := c.prepare(query)
	if err == nil && st == nil {
		err = errors.New("no statement")
	}
	if err == nil && rest != "" {
		// What follows may be blanks and comments, which prepare as none.
		var next *Stmt
		if next, _, err = c.prepare(rest); err == nil && next != nil {
			next.finalize()
			err = errors.New("more than one statement")
		}
	}
	if err != nil {
		if st != nil {
			st.finalize()
		}
		return nil, fmt.Errorf("prepare %q: %w", query, err)
	}
	return st, nil
}

// prepare compiles the first statement of query and returns it with the
// text after it. A query of blanks and comments gives no statement.
func (c *Conn) prepare(query string) (*Stmt, string, error) {
	z, err := libc.CString(query)
	if err != nil {
		return nil, "", errors.New("out of memory")
	}
	defer libc.Xfree(c.tls, z)
	pStmt, pTail := c.out, c.out+ptrSize
	rc := sqlite3.Xsqlite3_prepare_v3(c.tls, c.db, z, int32(len(query)+1),
		sqlite3.SQLITE_PREPARE_PERSISTENT, pStmt, pTail)
	if rc != sqlite3.SQLITE_OK {
		return nil, "", c.errorOf(rc)
	}
	p, tail := c.outPtr(0), c.outPtr(1)
	rest := ""
	if tail > z && tail-z < uintptr(len(query)) {
		rest = query[tail-z:]
	}
	if p == 0 {
		return nil, rest, nil
	}
	return newStmt(c, p), rest, nil
}

// ExecContext runs query, which may hold several statements (a
// migration), with args bound to each, and returns the last one's
// result.
func (c *Conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (Result, error) {
	var res Result
	for {
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
		st, rest, err := c.prepare(query)
		if err != nil {
			return Result{}, err
		}
		if st == nil {
			return res, nil
		}
		res, err = st.Run(args)
		if ferr := st.finalize(); err == nil {
			err = ferr
		}
		if err != nil {
			return Result{}, err
		}
		query = rest
	}
}

// Exec runs a statement that is not worth preparing.
func (c *Conn) Exec(ctx context.Context, query string, args ...any) error {
	_, err := c.ExecContext(ctx, query, Named(args...))
	return err
}

// once prepares query, a single statement, runs fn with it, and
// finalises it.
func (c *Conn) once(ctx context.Context, query string, fn func(*Stmt) error) error {
	st, err := c.prepareOne(ctx, query)
	if err != nil {
		return err
	}
	return errors.Join(fn(st), st.finalize())
}

// QueryString runs a statement that returns one string.
func (c *Conn) QueryString(ctx context.Context, query string) (string, error) {
	return queryOne[string](ctx, c, query)
}

// QueryInt runs a statement that returns one integer.
func (c *Conn) QueryInt(ctx context.Context, query string) (int64, error) {
	return queryOne[int64](ctx, c, query)
}

// queryOne runs query on c and scans the first column of its first row.
func queryOne[T any](ctx context.Context, c *Conn, query string) (T, error) {
	var v T
	err := c.once(ctx, query, func(st *Stmt) error {
		_, err := st.First(nil, func(r Row) error { return r.Scan(&v) })
		return err
	})
	return v, err
}

// Exists reports whether query, run with args, returns a row.
func (c *Conn) Exists(ctx context.Context, query string, args ...any) (bool, error) {
	var ok bool
	err := c.once(ctx, query, func(st *Stmt) (err error) {
		ok, err = st.Exists(args...)
		return err
	})
	return ok, err
}

// Each runs query with args and calls fn with each row it returns, until
// fn fails.
func (c *Conn) Each(ctx context.Context, query string, args []driver.NamedValue, fn func(Row) error) error {
	return c.once(ctx, query, func(st *Stmt) error { return st.Each(args, fn) })
}

// PagesWritten returns how many pages c wrote to the database (to its
// write-ahead log) since the last call.
func (c *Conn) PagesWritten() int {
	rc := sqlite3.Xsqlite3_db_status(c.tls, c.db, sqlite3.SQLITE_DBSTATUS_CACHE_WRITE, c.out, c.out+4, 1)
	if rc != sqlite3.SQLITE_OK {
		return 0
	}
	return c.outInt(0)
}

// Named turns args into the form statements take. Callers build the
// arguments of the write statements in their own goroutine with it, so
// that the writer only executes.
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
