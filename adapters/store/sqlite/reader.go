package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// reader is the pool of read-only connections and the statements prepared
// on it. WAL mode lets these read the last commit while the writer is
// writing the next one.
type reader struct {
	db    *sql.DB
	stmts []*sql.Stmt

	ping, stats                            *sql.Stmt
	findConversation                       *sql.Stmt
	findSession, findSessionByPIN          *sql.Stmt
	findEvents                             *sql.Stmt
	findDelivery, findDeliveryByExternalID *sql.Stmt
	findMessages, findConversations        *sql.Stmt
	findNewestMessages                     *sql.Stmt
	findOpenConversations                  *sql.Stmt
	findConversationByThread, optedOut     *sql.Stmt
	findKey, findSignIn, findMemo          *sql.Stmt

	// built holds the statements of the queries built from a filter
	// (see query), by their text.
	mu    sync.Mutex
	built map[string]*sql.Stmt
}

// maxBuilt bounds how many built queries the reader keeps prepared. The
// filters of the console and the API make a few dozen shapes; any beyond
// this are prepared for their one query.
const maxBuilt = 256

// query runs a query built from a filter, such as FindSessions', through
// a statement prepared once per shape. Preparing is most of what a short
// query costs in SQLite: a page of the console's queue took a third of a
// millisecond to prepare, and some microseconds to run.
func (r *reader) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	r.mu.Lock()
	st, ok := r.built[q]
	r.mu.Unlock()
	if !ok {
		var err error
		if st, err = r.db.PrepareContext(ctx, q); err != nil {
			return nil, err
		}
		r.mu.Lock()
		switch prev, raced := r.built[q]; {
		case raced:
			st.Close()
			st = prev
		case r.built == nil:
			st.Close()
			r.mu.Unlock()
			return nil, errClosed()
		case len(r.built) < maxBuilt:
			r.built[q] = st
		default:
			r.mu.Unlock()
			defer st.Close()
			return st.QueryContext(ctx, args...)
		}
		r.mu.Unlock()
	}
	return st.QueryContext(ctx, args...)
}

func newReader(ctx context.Context, db *sql.DB) (*reader, error) {
	r := &reader{db: db, built: map[string]*sql.Stmt{}}
	for _, p := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&r.ping, "PRAGMA user_version"},
		{&r.stats, statsSQL},
		{&r.findConversation, findConversationSQL},
		{&r.findSession, findSessionSQL},
		{&r.findSessionByPIN, findSessionByPINSQL},
		{&r.findEvents, findEventsSQL},
		{&r.findDelivery, findDeliverySQL},
		{&r.findDeliveryByExternalID, findDeliveryByExternalIDSQL},
		{&r.findMessages, findMessagesSQL},
		{&r.findNewestMessages, findNewestMessagesSQL},
		{&r.findConversations, findConversationsSQL},
		{&r.findOpenConversations, findOpenConversationsSQL},
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
	r.mu.Lock()
	for _, s := range r.built {
		errs = append(errs, s.Close())
	}
	r.built = nil
	r.mu.Unlock()
	return errors.Join(errs...)
}
