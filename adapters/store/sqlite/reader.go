package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// reader is the pool of read-only connections and the statements prepared
// on it. WAL mode lets these read the last commit while the writer is
// writing the next one.
type reader struct {
	db    *sql.DB
	stmts []*sql.Stmt

	ping, stats                            *sql.Stmt
	findConversation, findOpenConversation *sql.Stmt
	findSession, findSessionByPIN          *sql.Stmt
	findEvents                             *sql.Stmt
	findDelivery, findDeliveryByExternalID *sql.Stmt
	findMessages, findConversations        *sql.Stmt
	findConversationByThread, optedOut     *sql.Stmt
	findKey, findSignIn, findMemo          *sql.Stmt
}

func newReader(ctx context.Context, db *sql.DB) (*reader, error) {
	r := &reader{db: db}
	for _, p := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&r.ping, "PRAGMA user_version"},
		{&r.stats, statsSQL},
		{&r.findConversation, findConversationSQL},
		{&r.findOpenConversation, findOpenConversationSQL},
		{&r.findSession, findSessionSQL},
		{&r.findSessionByPIN, findSessionByPINSQL},
		{&r.findEvents, findEventsSQL},
		{&r.findDelivery, findDeliverySQL},
		{&r.findDeliveryByExternalID, findDeliveryByExternalIDSQL},
		{&r.findMessages, findMessagesSQL},
		{&r.findConversations, findConversationsSQL},
		{&r.findConversationByThread, findConversationByThreadSQL},
		{&r.optedOut, optedOutSQL},
		{&r.findKey, findKeySQL},
		{&r.findSignIn, findSignInSQL},
		{&r.findMemo, findMemoSQL},
	} {
		s, err := db.PrepareContext(ctx, p.sql)
		if err != nil {
			r.closeStmts()
			return nil, fmt.Errorf("prepare %q: %w", p.sql, err)
		}
		*p.dst = s
		r.stmts = append(r.stmts, s)
	}
	return r, nil
}

// close closes the statements and the pool, after the reads in progress.
func (r *reader) close() error {
	return errors.Join(r.closeStmts(), r.db.Close())
}

func (r *reader) closeStmts() error {
	var errs []error
	for _, s := range r.stmts {
		errs = append(errs, s.Close())
	}
	r.stmts = nil
	return errors.Join(errs...)
}
