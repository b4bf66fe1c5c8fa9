package rawsql

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sqlite3 "modernc.org/sqlite/lib"
)

func openTemp(t *testing.T) *Conn {
	t.Helper()
	c, err := OpenWriter(context.Background(), "file:"+filepath.ToSlash(filepath.Join(t.TempDir(), "t.db")), 1000, "FULL")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	})
	return c
}

func prepare(t *testing.T, c *Conn, query string) *Stmt {
	t.Helper()
	s, err := c.PrepareStmt(context.Background(), query)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Each kind of value comes back as it went in: an empty text stays text
// (not NULL), nil is NULL, and an empty blob stays a blob.
func TestValuesRoundTrip(t *testing.T) {
	ctx := context.Background()
	c := openTemp(t)
	if err := c.Exec(ctx, "CREATE TABLE t (k INTEGER PRIMARY KEY, v ANY) STRICT"); err != nil {
		t.Fatal(err)
	}
	ins := prepare(t, c, "INSERT INTO t (v) VALUES (?)")
	typeOf := prepare(t, c, "SELECT typeof(v), v IS ? FROM t WHERE k = ?")
	sel := prepare(t, c, "SELECT v FROM t WHERE k = ?")
	for _, tc := range []struct {
		in       any
		typeName string
	}{
		{int64(-7), "integer"},
		{true, "integer"},
		{2.5, "real"},
		{"", "text"},
		{"héllo\x00world", "text"},
		{nil, "null"},
		{[]byte(nil), "null"},
		{[]byte{}, "blob"},
		{[]byte{0, 1, 2}, "blob"},
	} {
		res, err := ins.Run(Named(tc.in))
		if err != nil {
			t.Fatalf("insert %#v: %v", tc.in, err)
		}
		id, _ := res.LastInsertId()
		var typ string
		var same int64
		if ok, err := typeOf.First(Named(tc.in, id), func(r Row) error { return r.Scan(&typ, &same) }); err != nil || !ok {
			t.Fatalf("select %#v: %v, row %v", tc.in, err, ok)
		}
		if typ != tc.typeName || same != 1 {
			t.Errorf("%#v is stored as %s (the same value: %d), want %s", tc.in, typ, same, tc.typeName)
		}
	}

	// What Scan reads back, row by row as inserted above.
	scan := func(k int64, dest any) {
		t.Helper()
		if ok, err := sel.First(Named(k), func(r Row) error { return r.Scan(dest) }); err != nil || !ok {
			t.Fatalf("scan row %d: %v, row %v", k, err, ok)
		}
	}
	var n int64
	if scan(1, &n); n != -7 {
		t.Errorf("-7 reads back as %d", n)
	}
	if scan(2, &n); n != 1 {
		t.Errorf("true reads back as %d", n)
	}
	s := "not read"
	if scan(4, &s); s != "" {
		t.Errorf("empty text reads back as %q", s)
	}
	if scan(5, &s); s != "héllo\x00world" {
		t.Errorf("text reads back as %q", s)
	}
	if scan(6, &s); s != "" {
		t.Errorf("NULL reads back into a string as %q", s)
	}
	var b []byte
	if scan(7, &b); b != nil {
		t.Errorf("a nil blob reads back as %#v", b)
	}
	if scan(8, &b); b == nil || len(b) != 0 {
		t.Errorf("an empty blob reads back as %#v", b)
	}
	if scan(9, &b); !bytes.Equal(b, []byte{0, 1, 2}) {
		t.Errorf("a blob reads back as %#v", b)
	}
	if _, err := sel.First(Named(int64(4)), func(r Row) error { return r.Scan(&n) }); err == nil || !strings.Contains(err.Error(), "column 0 is text, not an integer") {
		t.Errorf("text into an integer: %v", err)
	}
}

// A statement run again with longer or shorter text binds what it was
// given this time, and the rows it changed and the rowid it inserted are
// reported.
func TestRunAgainWithOtherText(t *testing.T) {
	ctx := context.Background()
	c := openTemp(t)
	if err := c.Exec(ctx, "CREATE TABLE t (k INTEGER PRIMARY KEY, a TEXT, b TEXT)"); err != nil {
		t.Fatal(err)
	}
	ins := prepare(t, c, "INSERT INTO t (a, b) VALUES (?, ?)")
	texts := []string{"x", strings.Repeat("long ", 4000), "", "y", strings.Repeat("z", 300)}
	for i, a := range texts {
		b := strings.ToUpper(a) + "!"
		res, err := ins.Run(Named(a, b))
		if err != nil {
			t.Fatal(err)
		}
		if id, _ := res.LastInsertId(); id != int64(i+1) {
			t.Errorf("insert %d reports rowid %d", i+1, id)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			t.Errorf("insert %d reports %d rows", i+1, n)
		}
	}
	sel := prepare(t, c, "SELECT a, b FROM t ORDER BY k")
	i := 0
	err := sel.Each(nil, func(r Row) error {
		var a, b string
		if err := r.Scan(&a, &b); err != nil {
			return err
		}
		if a != texts[i] || b != strings.ToUpper(texts[i])+"!" {
			t.Errorf("row %d reads back as %.20q, %.20q", i+1, a, b)
		}
		i++
		return nil
	})
	if err != nil || i != len(texts) {
		t.Fatalf("read %d rows of %d: %v", i, len(texts), err)
	}
}

// While one statement walks its rows, others run on the same connection
// with arguments of their own; the first one's arguments hold to its
// last row.
func TestStatementsInterleave(t *testing.T) {
	ctx := context.Background()
	c := openTemp(t)
	if err := c.Exec(ctx, "CREATE TABLE t (k INTEGER PRIMARY KEY, tag TEXT); CREATE TABLE u (tag TEXT)"); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if err := c.Exec(ctx, "INSERT INTO t (tag) VALUES (?), (?)", "wanted", "other"); err != nil {
			t.Fatal(err)
		}
	}
	sel := prepare(t, c, "SELECT k, tag FROM t WHERE tag = ? ORDER BY k")
	ins := prepare(t, c, "INSERT INTO u (tag) VALUES (?)")
	rows := 0
	err := sel.Each(Named("wanted"), func(r Row) error {
		rows++
		var k int64
		var tag string
		if err := r.Scan(&k, &tag); err != nil {
			return err
		}
		if tag != "wanted" {
			t.Errorf("row %d has tag %q", rows, tag)
		}
		return ins.Do(strings.Repeat("a much longer tag than the one selected ", rows))
	})
	if err != nil || rows != 5 {
		t.Fatalf("walked %d rows, want 5: %v", rows, err)
	}
	if n, err := c.QueryInt(ctx, "SELECT count(*) FROM u"); err != nil || n != 5 {
		t.Errorf("u holds %d rows, want 5: %v", n, err)
	}
}

// SQLite's errors carry its extended code and a message that names the
// constraint, which the store reads to tell a PIN collision apart.
func TestErrorsCarrySQLiteCode(t *testing.T) {
	ctx := context.Background()
	c := openTemp(t)
	if err := c.Exec(ctx, "CREATE TABLE t (pin TEXT UNIQUE)"); err != nil {
		t.Fatal(err)
	}
	ins := prepare(t, c, "INSERT INTO t (pin) VALUES (?)")
	if err := ins.Do("123456"); err != nil {
		t.Fatal(err)
	}
	err := ins.Do("123456")
	var e *Error
	if !errors.As(err, &e) || e.Code() != sqlite3.SQLITE_CONSTRAINT_UNIQUE || !strings.Contains(e.Error(), "t.pin") {
		t.Fatalf("second insert: %v, want a UNIQUE constraint error naming t.pin", err)
	}
	// The statement failed cleanly and runs again.
	if err := ins.Do("654321"); err != nil {
		t.Fatalf("after the failure: %v", err)
	}
	if _, err := c.PrepareStmt(ctx, "SELECT x FROM nowhere"); err == nil || !strings.Contains(err.Error(), "no such table: nowhere") {
		t.Errorf("preparing a bad statement: %v", err)
	}
}

// Arguments that cannot be bound are refused with a message that says
// why, and the statement still works afterwards.
func TestBadArguments(t *testing.T) {
	ctx := context.Background()
	c := openTemp(t)
	if err := c.Exec(ctx, "CREATE TABLE t (a, b)"); err != nil {
		t.Fatal(err)
	}
	ins := prepare(t, c, "INSERT INTO t VALUES (?, ?)")
	if err := ins.Do("only one"); err == nil || !strings.Contains(err.Error(), "takes 2 arguments, 1 given") {
		t.Errorf("one argument of two: %v", err)
	}
	if err := ins.Do("a", 7); err == nil || !strings.Contains(err.Error(), "argument 2 is a int") {
		t.Errorf("a Go int: %v", err)
	}
	if err := ins.Do("a", int64(7)); err != nil {
		t.Fatal(err)
	}
	if n, err := c.QueryInt(ctx, "SELECT count(*) FROM t"); err != nil || n != 1 {
		t.Errorf("t holds %d rows, want 1: %v", n, err)
	}
}

// Exec runs every statement of a script, as a migration is; PrepareStmt
// takes one statement only.
func TestScripts(t *testing.T) {
	ctx := context.Background()
	c := openTemp(t)
	script := `
		CREATE TABLE a (x);
		-- a comment between statements
		INSERT INTO a VALUES (1);
		INSERT INTO a VALUES (2);
		/* and one at the end */`
	if err := c.Exec(ctx, script); err != nil {
		t.Fatal(err)
	}
	if n, err := c.QueryInt(ctx, "SELECT sum(x) FROM a"); err != nil || n != 3 {
		t.Errorf("sum is %d, want 3: %v", n, err)
	}
	if _, err := c.PrepareStmt(ctx, "SELECT 1; SELECT 2"); err == nil || !strings.Contains(err.Error(), "more than one statement") {
		t.Errorf("PrepareStmt with two statements: %v", err)
	}
	if _, err := c.PrepareStmt(ctx, "SELECT 1; -- and a comment"); err != nil {
		t.Errorf("PrepareStmt with a comment after its statement: %v", err)
	}
	if _, err := c.PrepareStmt(ctx, "-- a comment alone"); err == nil || !strings.Contains(err.Error(), "no statement") {
		t.Errorf("PrepareStmt with no statement: %v", err)
	}
	if err := c.Exec(ctx, "INSERT INTO a VALUES (3); INSERT INTO missing VALUES (4)"); err == nil {
		t.Error("a script with a bad statement ran")
	}
}

// PagesWritten counts what was written since it was last asked, which
// is when the checkpointer decides to run.
func TestPagesWritten(t *testing.T) {
	ctx := context.Background()
	c := openTemp(t)
	c.PagesWritten()
	if err := c.Exec(ctx, "CREATE TABLE t (v TEXT)"); err != nil {
		t.Fatal(err)
	}
	tx, err := c.PrepareTx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Begin(); err != nil {
		t.Fatal(err)
	}
	for range 100 {
		if err := c.Exec(ctx, "INSERT INTO t VALUES (?)", strings.Repeat("p", 1000)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if n := c.PagesWritten(); n < 25 {
		t.Errorf("100 KB written as %d pages", n)
	}
	if n := c.PagesWritten(); n != 0 {
		t.Errorf("asked again, %d pages", n)
	}
}

// A connection waits up to its busy_timeout for another's write lock,
// then goes on; past the timeout it gives up with SQLITE_BUSY.
func TestBusyTimeout(t *testing.T) {
	ctx := context.Background()
	name := "file:" + filepath.ToSlash(filepath.Join(t.TempDir(), "t.db"))
	open := func(busyMillis int64) *Conn {
		c, err := OpenWriter(ctx, name, busyMillis, "FULL")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	patient, hasty, holder := open(10_000), open(50), open(0)
	if err := holder.Exec(ctx, "CREATE TABLE t (v INTEGER)"); err != nil {
		t.Fatal(err)
	}
	if err := holder.Exec(ctx, "BEGIN IMMEDIATE; INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	err := hasty.Exec(ctx, "INSERT INTO t VALUES (3)")
	var e *Error
	if !errors.As(err, &e) || e.Code()&0xff != sqlite3.SQLITE_BUSY {
		t.Fatalf("with the lock held past its timeout: %v, want SQLITE_BUSY", err)
	}
	done := make(chan error, 1)
	go func() { done <- patient.Exec(ctx, "INSERT INTO t VALUES (2)") }()
	select {
	case err := <-done:
		t.Fatalf("the insert did not wait for the lock: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	if err := holder.Exec(ctx, "COMMIT"); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the insert that waited: %v", err)
	}
	if n, err := patient.QueryInt(ctx, "SELECT sum(v) FROM t"); err != nil || n != 3 {
		t.Errorf("sum %d, want 3 (1 and 2): %v", n, err)
	}
}

// Returning reads the first row of an UPDATE … RETURNING, and the update
// has changed every row it matches, not only the one read.
func TestReturning(t *testing.T) {
	ctx := context.Background()
	c := openTemp(t)
	if err := c.Exec(ctx, "CREATE TABLE t (k INTEGER PRIMARY KEY, v INTEGER); INSERT INTO t VALUES (1, 0), (2, 0), (3, 0)"); err != nil {
		t.Fatal(err)
	}
	upd := prepare(t, c, "UPDATE t SET v = v + 1 WHERE k >= ? RETURNING k")
	if k, ok, err := upd.Returning(Named(int64(2))); err != nil || !ok || (k != 2 && k != 3) {
		t.Fatalf("Returning = %d, %v, %v", k, ok, err)
	}
	if n, err := c.QueryInt(ctx, "SELECT sum(v) FROM t"); err != nil || n != 2 {
		t.Errorf("the update changed %d rows, want 2: %v", n, err)
	}
	if _, ok, err := upd.Returning(Named(int64(9))); err != nil || ok {
		t.Errorf("no row matched: ok %v, %v", ok, err)
	}
}
