package postgres

import (
	"errors"

	"github.com/assistbot/assistbot/core"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// SQLSTATE codes the store gives a meaning to.
const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
	notNullViolation    = "23502"
	// badCharacter and untranslatable are what the server answers to text
	// it cannot store: a NUL character, which SQLite takes but no
	// PostgreSQL text or jsonb value can hold, or invalid UTF-8.
	badCharacter   = "22021"
	untranslatable = "22P05"
)

// keys names the rows a write inserts, for the messages of duplicate-key
// errors.
type keys struct {
	conversation string
	session      string
}

// constraintErr gives a constraint violation its meaning for callers: one
// of core's sentinels where the contract names one, CodeConflict for a
// duplicate id, CodeNotFound for a reference to a conversation that does
// not exist. The schema names its constraints (migrations/0001_init.sql);
// a constraint the store does not know passes through as an internal
// error.
func constraintErr(err error, k keys) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	switch pe.Code {
	case uniqueViolation:
		switch pe.ConstraintName {
		case "sessions_live_pin":
			return core.ErrPINInUse
		case "conversations_open_customer":
			return core.ErrOpenConversation
		case "messages_source":
			return core.ErrDuplicate
		case "conversations_pkey":
			return core.Errorf(core.CodeConflict, "conversation %s already exists", k.conversation)
		case "sessions_pkey":
			return core.Errorf(core.CodeConflict, "session %s already exists", k.session)
		}
	case foreignKeyViolation:
		switch pe.ConstraintName {
		case "sessions_conversation_fk", "messages_conversation_fk":
			return notFound("conversation")
		case "events_session_fk":
			return notFound("session")
		case "outbox_session_fk", "outbox_conversation_fk":
			return core.Errorf(core.CodeInvalid, "a delivery names a session or conversation that does not exist")
		}
	case badCharacter, untranslatable:
		return core.Wrap(core.CodeInvalid, err, errNUL().Error())
	}
	return err
}

// isNotNull reports whether err is a NULL refused by a column of table.
func isNotNull(err error, table string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == notNullViolation && pe.TableName == table
}

// badText turns the server refusing text it cannot store or compare (a
// NUL character or invalid UTF-8 in an id, a filter, a message) into the
// caller's mistake, CodeInvalid, rather than an internal error.
func badText(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == badCharacter || pe.Code == untranslatable) && core.ErrorCode(err) == core.CodeInternal {
		return core.Wrap(core.CodeInvalid, err, errNUL().Error())
	}
	return err
}

// errNUL refuses text that PostgreSQL cannot store.
func errNUL() error {
	return core.Errorf(core.CodeInvalid, "the text holds a character the database cannot store (NUL or invalid UTF-8)")
}

// notFound is the error for a missing row.
func notFound(what string) error {
	return core.Errorf(core.CodeNotFound, "%s not found", what)
}

// noRows turns pgx.ErrNoRows into notFound(what).
func noRows(err error, what string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound(what)
	}
	return err
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
