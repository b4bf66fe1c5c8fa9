package rawsql

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"

	"modernc.org/libc"
	"modernc.org/libc/sys/types"
	sqlite3 "modernc.org/sqlite/lib"
)

// Stmt is a statement prepared once on a Conn (PrepareStmt), and
// finalised when the Conn closes. Its arguments are bound by position
// (?, ?NNN), from the NamedValues' order.
type Stmt struct {
	c       *Conn
	p       uintptr // sqlite3_stmt*
	nParams int
	nCols   int
	// buf is C memory that holds the text and blob arguments bound, so
	// that SQLite reads them in place (SQLITE_STATIC) until the next run
	// binds others.
	buf    uintptr
	bufCap int
}

func newStmt(c *Conn, p uintptr) *Stmt {
	return &Stmt{
		c:       c,
		p:       p,
		nParams: int(sqlite3.Xsqlite3_bind_parameter_count(c.tls, p)),
		nCols:   int(sqlite3.Xsqlite3_column_count(c.tls, p)),
	}
}

// finalize releases s.
func (s *Stmt) finalize() error {
	var err error
	if s.p != 0 {
		if rc := sqlite3.Xsqlite3_finalize(s.c.tls, s.p); rc != sqlite3.SQLITE_OK {
			err = s.c.errorOf(rc)
		}
		s.p = 0
	}
	if s.buf != 0 {
		libc.Xfree(s.c.tls, s.buf)
		s.buf, s.bufCap = 0, 0
	}
	return err
}

// bind binds args to s's parameters by position; arguments past the
// last parameter are ignored. A value is an int64, float64, bool,
// string, []byte or nil.
func (s *Stmt) bind(args []driver.NamedValue) error {
	if len(args) < s.nParams {
		return fmt.Errorf("the statement takes %d arguments, %d given", s.nParams, len(args))
	}
	args = args[:s.nParams]
	size := 1 // never 0, so that an empty text binds as text, not NULL
	for _, a := range args {
		switch v := a.Value.(type) {
		case string:
			size += len(v)
		case []byte:
			size += len(v)
		}
	}
	if size > s.bufCap {
		if s.buf != 0 {
			libc.Xfree(s.c.tls, s.buf)
		}
		c := max(256, 2*s.bufCap)
		for c < size {
			c *= 2
		}
		s.buf, s.bufCap = libc.Xmalloc(s.c.tls, types.Size_t(c)), c
		if s.buf == 0 {
			s.bufCap = 0
			return errors.New("sqlite: bind: out of memory")
		}
	}
	tls, off := s.c.tls, s.buf
	for i, a := range args {
		n := int32(i + 1)
		var rc int32
		switch v := a.Value.(type) {
		case int64:
			rc = sqlite3.Xsqlite3_bind_int64(tls, s.p, n, v)
		case float64:
			rc = sqlite3.Xsqlite3_bind_double(tls, s.p, n, v)
		case bool:
			var b int64
			if v {
				b = 1
			}
			rc = sqlite3.Xsqlite3_bind_int64(tls, s.p, n, b)
		case string:
			copy(libc.GoBytes(off, len(v)), v)
			rc = sqlite3.Xsqlite3_bind_text(tls, s.p, n, off, int32(len(v)), sqlite3.SQLITE_STATIC)
			off += uintptr(len(v))
		case []byte:
			if v == nil {
				rc = sqlite3.Xsqlite3_bind_null(tls, s.p, n)
				break
			}
			copy(libc.GoBytes(off, len(v)), v)
			rc = sqlite3.Xsqlite3_bind_blob(tls, s.p, n, off, int32(len(v)), sqlite3.SQLITE_STATIC)
			off += uintptr(len(v))
		case nil:
			rc = sqlite3.Xsqlite3_bind_null(tls, s.p, n)
		default:
			sqlite3.Xsqlite3_clear_bindings(tls, s.p)
			return fmt.Errorf("sqlite: argument %d is a %T, which SQLite cannot store", i+1, v)
		}
		if rc != sqlite3.SQLITE_OK {
			err := s.c.errorOf(rc)
			sqlite3.Xsqlite3_clear_bindings(tls, s.p)
			return err
		}
	}
	return nil
}

// step advances s: it reports whether a row is ready, and fails with
// SQLite's error, after which s is reset.
func (s *Stmt) step() (bool, error) {
	switch rc := sqlite3.Xsqlite3_step(s.c.tls, s.p); rc {
	case sqlite3.SQLITE_ROW:
		return true, nil
	case sqlite3.SQLITE_DONE:
		return false, nil
	default:
		err := s.c.errorOf(rc)
		s.reset()
		return false, err
	}
}

// reset makes s ready to run again. Its error repeats the last step's,
// which step has already returned.
func (s *Stmt) reset() { sqlite3.Xsqlite3_reset(s.c.tls, s.p) }

// Result is what a statement that ran reports: the rowid it inserted
// last and the rows it changed. Its methods are database/sql's (as in
// driver.Result), and it is returned as a value, with no allocation.
type Result struct{ lastID, changes int64 }

// LastInsertId is the rowid the statement inserted last.
func (r Result) LastInsertId() (int64, error) { return r.lastID, nil }

// RowsAffected is the number of rows the statement changed.
func (r Result) RowsAffected() (int64, error) { return r.changes, nil }

// Run executes s with args bound, through any rows it returns.
func (s *Stmt) Run(args []driver.NamedValue) (Result, error) {
	if err := s.bind(args); err != nil {
		return Result{}, err
	}
	for {
		more, err := s.step()
		if err != nil {
			return Result{}, err
		}
		if !more {
			break
		}
	}
	res := Result{
		lastID:  sqlite3.Xsqlite3_last_insert_rowid(s.c.tls, s.c.db),
		changes: sqlite3.Xsqlite3_changes64(s.c.tls, s.c.db),
	}
	s.reset()
	return res, nil
}

// Each runs s with args bound and calls fn with each row it returns,
// until fn fails.
func (s *Stmt) Each(args []driver.NamedValue, fn func(Row) error) error {
	if err := s.bind(args); err != nil {
		return err
	}
	defer s.reset()
	for {
		more, err := s.step()
		if err != nil || !more {
			return err
		}
		if err := fn(Row{s}); err != nil {
			return err
		}
	}
}

// First runs s with args bound and calls fn with the first row it
// returns, if any; it reports whether there was one.
func (s *Stmt) First(args []driver.NamedValue, fn func(Row) error) (bool, error) {
	if err := s.bind(args); err != nil {
		return false, err
	}
	defer s.reset()
	more, err := s.step()
	if err != nil || !more {
		return false, err
	}
	return true, fn(Row{s})
}

// Do executes s, for statements whose result does not matter.
func (s *Stmt) Do(args ...any) error {
	_, err := s.Run(Named(args...))
	return err
}

// Returning runs s, which returns at most one row of one integer, and
// returns that integer and whether there was a row. A statement with a
// RETURNING clause makes all its changes on its first step, so the one
// row First reads is enough.
func (s *Stmt) Returning(args []driver.NamedValue) (int64, bool, error) {
	var n int64
	ok, err := s.First(args, func(r Row) error { return r.Scan(&n) })
	return n, ok, err
}

// Exists reports whether s, run with args, returns a row.
func (s *Stmt) Exists(args ...any) (bool, error) {
	if err := s.bind(Named(args...)); err != nil {
		return false, err
	}
	defer s.reset()
	return s.step()
}

// Tx holds the statements that begin and end the transactions of a Conn,
// and the savepoint within one that the group-commit writer puts each
// request in when it must isolate them (groupcommit.Tx).
type Tx struct {
	begin, commit, rollback        *Stmt
	savepoint, release, rollbackTo *Stmt
}

// PrepareTx prepares the statements of a Tx on c.
func (c *Conn) PrepareTx(ctx context.Context) (*Tx, error) {
	t := &Tx{}
	for _, p := range []struct {
		dst **Stmt
		sql string
	}{
		{&t.begin, "BEGIN IMMEDIATE"},
		{&t.commit, "COMMIT"},
		{&t.rollback, "ROLLBACK"},
		{&t.savepoint, "SAVEPOINT request"},
		{&t.release, "RELEASE request"},
		{&t.rollbackTo, "ROLLBACK TO request"},
	} {
		s, err := c.PrepareStmt(ctx, p.sql)
		if err != nil {
			return nil, err
		}
		*p.dst = s
	}
	return t, nil
}

// Begin begins a transaction that takes the write lock at once.
func (t *Tx) Begin() error { return t.begin.Do() }

// Commit commits the transaction.
func (t *Tx) Commit() error { return t.commit.Do() }

// Rollback rolls the transaction back.
func (t *Tx) Rollback() error { return t.rollback.Do() }

// Savepoint opens the savepoint.
func (t *Tx) Savepoint() error { return t.savepoint.Do() }

// Release keeps what was written since the savepoint opened, and closes
// it.
func (t *Tx) Release() error { return t.release.Do() }

// RollbackTo undoes what was written since the savepoint opened, which
// stays open.
func (t *Tx) RollbackTo() error { return t.rollbackTo.Do() }
