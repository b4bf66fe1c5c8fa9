package rawsql

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

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
	sel := prepare(t, c, "SELECT v, typeof(v) FROM t WHERE k = ?")
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
		v, ok, err := sel.Row(id)
		if err != nil || !ok {
			t.Fatalf("select %#v: %v, row %v", tc.in, err, ok)
		}
		if v[1] != tc.typeName {
			t.Errorf("%#v is stored as %v, want %s", tc.in, v[1], tc.typeName)
		}
		want := tc.in
		switch x := tc.in.(type) {
		case bool:
			want = int64(1)
		case []byte:
			if x == nil {
				want = nil
			}
		}
		if got, ok := v[0].([]byte); ok {
			if string(got) != string(want.([]byte)) {
				t.Errorf("%#v reads back as %#v", tc.in, got)
			}
		} else if v[0] != want {
			t.Errorf("%#v reads back as %#v", tc.in, v[0])
		}
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
	err := sel.Each(nil, func(v Values) error {
		var a, b string
		if err := v.Scan(&a, &b); err != nil {
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
	err := sel.Each(Named("wanted"), func(v Values) error {
		rows++
		if v[1] != "wanted" {
			t.Errorf("row %d has tag %v", rows, v[1])
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
	if _, err := c.PrepareStmt(ctx, "SELECT 1; SELECT 2"); err == nil {
		t.Error("PrepareStmt took two statements")
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
