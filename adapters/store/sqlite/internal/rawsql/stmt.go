package rawsql

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
)

// Stmt is a statement prepared once on a Conn (PrepareStmt), and
// finalised when the Conn closes. It runs with a background context: the
// writer that runs it has already taken its request, whose caller waits
// for the outcome whatever its own context does.
type Stmt struct {
	s     driver.Stmt
	exec  driver.StmtExecContext
	query driver.StmtQueryContext
}

// Run executes s with args bound.
func (s *Stmt) Run(args []driver.NamedValue) (driver.Result, error) {
	return s.exec.ExecContext(context.Background(), args)
}

// Each runs s with args bound and calls fn with each row it returns,
// until fn fails. The values are the driver's, good only until the next
// row.
func (s *Stmt) Each(args []driver.NamedValue, fn func(Values) error) error {
	rows, err := s.query.QueryContext(context.Background(), args)
	if err != nil {
		return err
	}
	return each(rows, fn)
}

// Do executes s, for statements whose result does not matter.
func (s *Stmt) Do(args ...any) error {
	_, err := s.exec.ExecContext(context.Background(), Named(args...))
	return err
}

// Returning runs s, which returns at most one row of one integer, and
// returns that integer and whether there was a row.
func (s *Stmt) Returning(args []driver.NamedValue) (int64, bool, error) {
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

// TwoStrings runs s, which returns at most one row of two text columns,
// and returns them and whether there was a row.
func (s *Stmt) TwoStrings(args ...any) (a, b string, ok bool, err error) {
	rows, err := s.query.QueryContext(context.Background(), Named(args...))
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

// Row runs s, which returns at most one row, and returns its values and
// whether there was one. The values are the driver's: a []byte among
// them is only good until s runs again.
func (s *Stmt) Row(args ...any) ([]driver.Value, bool, error) {
	rows, err := s.query.QueryContext(context.Background(), Named(args...))
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

// Exists reports whether s, run with args, returns a row.
func (s *Stmt) Exists(args ...any) (bool, error) {
	rows, err := s.query.QueryContext(context.Background(), Named(args...))
	if err != nil {
		return false, err
	}
	return hasRow(rows)
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
