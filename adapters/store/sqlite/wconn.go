package sqlite

import (
	"context"
	"errors"

	"github.com/assistbot/assistbot/adapters/store/sqlite/internal/rawsql"
	"github.com/assistbot/assistbot/core"
)

// wconn is the writer's connection and the statements prepared on it.
// Only the writer's goroutine uses it (see rawsql for why it bypasses
// database/sql).
type wconn struct {
	conn *rawsql.Conn
	tx   *rawsql.Tx

	insConv, updConv, convExists        *rawsql.Stmt
	convSeq, openConvSeq                *rawsql.Stmt
	insSession, updSession, sessExists  *rawsql.Stmt
	pinTaken, openTaken                 *rawsql.Stmt
	insMessage, msgSource, touchConv    *rawsql.Stmt
	setOptOut, clearOptOut              *rawsql.Stmt
	insEvent                            *rawsql.Stmt
	insReport, updReport                *rawsql.Stmt
	reportEvents                        map[core.Action]*rawsql.Stmt
	insDelivery, updDelivery            *rawsql.Stmt
	deliveryState, claim                *rawsql.Stmt
	renewClaim, releaseClaims           *rawsql.Stmt
	insKey, findKey, rotateKey          *rawsql.Stmt
	insSignIn, endSignIn                *rawsql.Stmt
	expireSignIns, putMemo, expireMemos *rawsql.Stmt
}

// openWriter opens the writer's connection, sets it up, migrates the
// schema and prepares the statements.
func openWriter(ctx context.Context, name string, busyMillis int64, synchronous string) (*wconn, error) {
	conn, err := rawsql.OpenWriter(ctx, name, busyMillis, synchronous)
	if err != nil {
		return nil, err
	}
	c := &wconn{conn: conn}
	if err := rawsql.Migrate(ctx, conn, migrationFiles, "migrations"); err != nil {
		conn.Close()
		return nil, err
	}
	if err := c.prepareAll(ctx); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

// The checks made before a write, so that a refused write writes nothing
// (groupcommit.Refuse). Each repeats the WHERE of the partial index it
// relies on: without it SQLite cannot use the index and scans the table.
const (
	pinTakenSQL  = "SELECT 1 FROM sessions WHERE live_pin = ? AND id <> ?"
	openTakenSQL = `SELECT 1 FROM conversations WHERE state = 'open' AND customer_channel = ?
		AND customer_address = ? AND id <> ? AND (customer_channel <> '' OR customer_address <> '')`
	msgSourceSQL = "SELECT 1 FROM messages WHERE source = ? AND source <> ''"
)

func (c *wconn) prepareAll(ctx context.Context) error {
	tx, err := c.conn.PrepareTx(ctx)
	if err != nil {
		return err
	}
	c.tx = tx
	for _, p := range []struct {
		dst **rawsql.Stmt
		sql string
	}{
		{&c.insConv, insertConversationSQL},
		{&c.updConv, updateConversationSQL},
		{&c.convExists, "SELECT 1 FROM conversations WHERE id = ?"},
		{&c.convSeq, "SELECT seq FROM conversations WHERE id = ?"},
		{&c.openConvSeq, "SELECT seq FROM conversations WHERE id = ? AND state = 'open'"},
		{&c.insSession, insertSessionSQL},
		{&c.updSession, updateSessionSQL},
		{&c.sessExists, "SELECT 1 FROM sessions WHERE id = ?"},
		{&c.pinTaken, pinTakenSQL},
		{&c.openTaken, openTakenSQL},
		{&c.insEvent, insertEventSQL},
		{&c.insReport, insertReportRowSQL},
		{&c.updReport, updateReportRowSQL},
		{&c.insMessage, insertMessageSQL},
		{&c.msgSource, msgSourceSQL},
		{&c.touchConv, touchConversationSQL},
		{&c.setOptOut, setOptOutSQL},
		{&c.clearOptOut, clearOptOutSQL},
		{&c.insDelivery, insertDeliverySQL},
		{&c.updDelivery, updateDeliverySQL},
		{&c.deliveryState, deliveryStateSQL},
		{&c.claim, claimDeliveriesSQL},
		{&c.renewClaim, renewClaimSQL},
		{&c.releaseClaims, releaseClaimsSQL},
		{&c.insKey, insertKeySQL},
		{&c.findKey, findKeySQL},
		{&c.rotateKey, rotateKeySQL},
		{&c.insSignIn, insertSignInSQL},
		{&c.endSignIn, endSignInSQL},
		{&c.expireSignIns, expireSignInsSQL},
		{&c.putMemo, putMemoSQL},
		{&c.expireMemos, expireMemosSQL},
	} {
		s, err := c.conn.PrepareStmt(ctx, p.sql)
		if err != nil {
			return err
		}
		*p.dst = s
	}
	c.reportEvents = make(map[core.Action]*rawsql.Stmt, len(reportEventSQL))
	for action, q := range reportEventSQL {
		s, err := c.conn.PrepareStmt(ctx, q)
		if err != nil {
			return err
		}
		c.reportEvents[action] = s
	}
	return nil
}

// close finalises the statements and closes the connection. Optimize
// first, as SQLite advises before closing a connection that wrote: it
// refreshes the planner's statistics where they have drifted.
func (c *wconn) close() error {
	return errors.Join(c.conn.Exec(context.Background(), "PRAGMA optimize"), c.conn.Close())
}
