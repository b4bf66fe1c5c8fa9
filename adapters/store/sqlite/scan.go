package sqlite

import (
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/assistbot/assistbot/core"
	sqlite3 "modernc.org/sqlite/lib"
)

// micros is how times are stored: unix microseconds, 0 for the zero time.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// fromMicros reverses micros, in UTC.
func fromMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

// scanner is a *sql.Row, a *sql.Rows or a rawsql.Row, a row read from
// one of the store's own connections.
type scanner interface {
	Scan(dest ...any) error
}

// notFound is the error for a missing row.
func notFound(what string) error {
	return core.Errorf(core.CodeNotFound, "%s not found", what)
}

// noRows turns sql.ErrNoRows into notFound(what).
func noRows(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return notFound(what)
	}
	return err
}

// The constraints whose violations mean something to callers.
const (
	livePIN      = "live pin"
	openCustomer = "open customer"
	duplicateID  = "duplicate id"
	missingRef   = "missing reference"
)

// constraintOf names the constraint err violates, or returns "" for nil
// and for other errors. SQLite names a unique index by its columns, so
// the index on live_pin is recognised by that column and the one on open
// conversations by its customer columns. A reference to an unknown row
// breaks either a foreign key or, where the reference is looked up by id
// in the statement and comes out NULL, a NOT NULL constraint.
func constraintOf(err error) string {
	// The writer's errors come from rawsql, the readers' from the driver.
	var e interface {
		error
		Code() int
	}
	if err == nil || !errors.As(err, &e) {
		return ""
	}
	msg := e.Error()
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		switch {
		case strings.Contains(msg, "sessions.live_pin"):
			return livePIN
		case strings.Contains(msg, "conversations.customer_channel"):
			return openCustomer
		case strings.Contains(msg, "sessions.id"), strings.Contains(msg, "conversations.id"):
			return duplicateID
		}
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return missingRef
	case sqlite3.SQLITE_CONSTRAINT_NOTNULL:
		if strings.Contains(msg, "_seq") {
			return missingRef
		}
	}
	return ""
}

// clampLimit applies the default and the ceiling of core's filters.
func clampLimit(n int) int {
	switch {
	case n <= 0:
		return 100
	case n > 1000:
		return 1000
	}
	return n
}
