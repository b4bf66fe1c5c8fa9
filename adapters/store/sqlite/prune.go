package sqlite

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"

	"github.com/assistbot/assistbot/adapters/store/sqlite/internal/rawsql"
	"github.com/assistbot/assistbot/core/retention"
)

// pruneSessionsSQL picks up to ?2 finished sessions that last changed
// before ?1 and wait for no delivery, oldest first, by sessions_finished
// (whose condition it repeats, as a partial index requires). It spares
// the session with the highest seq and the one with the newest event:
// SQLite gives a new row the highest rowid plus one, so deleting those
// would hand their numbers out again.
const pruneSessionsSQL = `SELECT seq FROM sessions s INDEXED BY sessions_finished
	WHERE state IN ('ended', 'closed', 'expired') AND updated_at < ?1
	AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.session_seq = s.seq AND o.status = 'queued')
	AND seq <> (SELECT max(seq) FROM sessions)
	AND seq <> coalesce((SELECT session_seq FROM events WHERE id = (SELECT max(id) FROM events)), 0)
	ORDER BY updated_at LIMIT ?2`

// pruneConversationsSQL picks up to ?2 closed conversations last active
// before ?1 that no session belongs to any more, oldest first, by
// conversations_closed, sparing the highest seqs as above.
const pruneConversationsSQL = `SELECT seq FROM conversations c INDEXED BY conversations_closed
	WHERE state = 'closed' AND updated_at < ?1
	AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.conversation_seq = c.seq)
	AND seq <> (SELECT max(seq) FROM conversations)
	AND seq <> coalesce((SELECT conversation_seq FROM messages WHERE seq = (SELECT max(seq) FROM messages)), 0)
	ORDER BY updated_at LIMIT ?2`

// The deletions of a batch, in an order the foreign keys allow; ?1 is a
// JSON array of the seqs picked.
const (
	pickedSQL = `(SELECT value FROM json_each(?1))`

	pruneSessionAttemptsSQL = `DELETE FROM webhook_attempts WHERE delivery_id IN
		(SELECT id FROM outbox WHERE session_seq IN ` + pickedSQL + `)`
	pruneSessionDeliveriesSQL = `DELETE FROM outbox WHERE session_seq IN ` + pickedSQL
	pruneEventsSQL            = `DELETE FROM events WHERE session_seq IN ` + pickedSQL
	pruneReportRowsSQL        = `DELETE FROM report_sessions WHERE session_seq IN ` + pickedSQL
	pruneSessionRowsSQL       = `DELETE FROM sessions WHERE seq IN ` + pickedSQL

	pruneConversationAttemptsSQL = `DELETE FROM webhook_attempts WHERE delivery_id IN
		(SELECT id FROM outbox WHERE conversation_seq IN ` + pickedSQL + `)`
	pruneConversationDeliveriesSQL = `DELETE FROM outbox WHERE conversation_seq IN ` + pickedSQL
	pruneMessagesSQL               = `DELETE FROM messages WHERE conversation_seq IN ` + pickedSQL
	pruneConversationRowsSQL       = `DELETE FROM conversations WHERE seq IN ` + pickedSQL
)

// Prune deletes what is past the retention, a batch as one write (see
// retention.Store). It runs hourly at most, so its statements are not
// kept prepared.
func (s *Store) Prune(ctx context.Context, before time.Time, limit int) (retention.Pruned, error) {
	if s.closed.Load() {
		return retention.Pruned{}, fmt.Errorf("sqlite: prune: %w", errClosed())
	}
	var n retention.Pruned
	args := rawsql.Named(micros(before), int64(limit))
	err := s.w.Do(ctx, func(w *wconn) error {
		n = retention.Pruned{}
		picked, err := pruneStep(ctx, w.conn, pruneSessionsSQL, args, []deletion{
			{pruneSessionAttemptsSQL, nil},
			{pruneSessionDeliveriesSQL, &n.Deliveries},
			{pruneEventsSQL, &n.Events},
			{pruneReportRowsSQL, nil},
			{pruneSessionRowsSQL, &n.Sessions},
		})
		if err != nil || picked >= limit {
			// With sessions left to prune, the conversations wait until
			// they are gone, or each batch would walk past every
			// conversation that still has one.
			return err
		}
		_, err = pruneStep(ctx, w.conn, pruneConversationsSQL, args, []deletion{
			{pruneConversationAttemptsSQL, nil},
			{pruneConversationDeliveriesSQL, &n.Deliveries},
			{pruneMessagesSQL, &n.Messages},
			{pruneConversationRowsSQL, &n.Conversations},
		})
		return err
	})
	if err != nil {
		return retention.Pruned{}, fmt.Errorf("sqlite: prune: %w", err)
	}
	return n, nil
}

// pruneStep picks the seqs pick selects with args, runs deletes on them
// in order, and returns how many it picked.
func pruneStep(ctx context.Context, c *rawsql.Conn, pick string, args []driver.NamedValue, deletes []deletion) (int, error) {
	var seqs []int64
	err := c.Each(ctx, pick, args, func(r rawsql.Row) error {
		var seq int64
		if err := r.Scan(&seq); err != nil {
			return err
		}
		seqs = append(seqs, seq)
		return nil
	})
	if err != nil || len(seqs) == 0 {
		return 0, err
	}
	picked, _ := json.Marshal(seqs)
	for _, d := range deletes {
		if err := d.run(ctx, c, string(picked)); err != nil {
			return 0, err
		}
	}
	return len(seqs), nil
}

// deletion is one DELETE of a prune, and where it adds the rows it
// deleted (nil when they are not counted).
type deletion struct {
	sql string
	n   *int
}

func (d deletion) run(ctx context.Context, c *rawsql.Conn, picked string) error {
	res, err := c.ExecContext(ctx, d.sql, rawsql.Named(picked))
	if err != nil {
		return err
	}
	if d.n != nil {
		rows, _ := res.RowsAffected()
		*d.n += int(rows)
	}
	return nil
}
