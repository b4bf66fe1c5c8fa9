package sqlite

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	"github.com/assistbot/assistbot/adapters/store/sqlite/internal/rawsql"
	"github.com/assistbot/assistbot/core"
)

// hotReads holds the lookup every /remote makes, the customer's open
// conversation, prepared on read-only connections of rawsql's, outside
// database/sql: through database/sql's statement, rows and scan machinery
// the lookup took 14 µs, through the driver alone 9 µs, and through
// SQLite's C API (rawsql) 5 µs. The other reads keep database/sql's pool
// (reader), where this saving would not show.
type hotReads struct {
	// free holds the connections not in use; closing it (close) makes
	// every later take fail.
	free   chan *hotConn
	opened int
}

// hotConn is one connection of hotReads and its statement.
type hotConn struct {
	c                *rawsql.Conn
	openConversation *rawsql.Stmt
}

// maxHotConns bounds hotReads' connections: one per CPU the process may
// use, as more could not run at once, and no more than this.
const maxHotConns = 4

// openHotReads opens hotReads' connections to name, the database's URI,
// read-only (query_only), waiting up to busyMillis for a lock.
func openHotReads(ctx context.Context, name string, busyMillis int64) (*hotReads, error) {
	n := min(runtime.GOMAXPROCS(0), maxHotConns)
	h := &hotReads{free: make(chan *hotConn, n)}
	for range n {
		hc, err := openHotConn(ctx, name, busyMillis)
		if err != nil {
			return nil, errors.Join(err, h.close())
		}
		h.free <- hc
		h.opened++
	}
	return h, nil
}

func openHotConn(ctx context.Context, name string, busyMillis int64) (*hotConn, error) {
	c, err := rawsql.Open(name)
	if err != nil {
		return nil, err
	}
	for _, p := range []string{fmt.Sprintf("PRAGMA busy_timeout = %d", busyMillis), "PRAGMA query_only = 1"} {
		if err := c.Exec(ctx, p); err != nil {
			return nil, errors.Join(err, c.Close())
		}
	}
	st, err := c.PrepareStmt(ctx, findOpenConversationSQL)
	if err != nil {
		return nil, errors.Join(err, c.Close())
	}
	return &hotConn{c: c, openConversation: st}, nil
}

// findOpenConversation returns the open conversation of customer, or a
// CodeNotFound error when there is none.
func (h *hotReads) findOpenConversation(ctx context.Context, customer core.Endpoint) (*core.Conversation, error) {
	var hc *hotConn
	select {
	case c, ok := <-h.free:
		if !ok {
			return nil, errClosed()
		}
		hc = c
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { h.free <- hc }()
	var conv *core.Conversation
	err := hc.openConversation.Each(rawsql.Named(customer.Channel, customer.Address), func(r rawsql.Row) error {
		var err error
		conv, err = scanConversation(r)
		return err
	})
	if err != nil {
		return nil, err
	}
	if conv == nil {
		return nil, notFound("conversation")
	}
	return conv, nil
}

// close waits for the connections in use, closes them all, and makes
// later lookups fail.
func (h *hotReads) close() error {
	var errs []error
	for range h.opened {
		hc := <-h.free
		errs = append(errs, hc.c.Close())
	}
	close(h.free)
	return errors.Join(errs...)
}
