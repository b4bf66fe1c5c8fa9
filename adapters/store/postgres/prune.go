package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/assistbot/assistbot/core/retention"
)

// pruneSessionsSQL picks the finished sessions that last changed before
// $1 and wait for no delivery, oldest first, skipping any another
// transaction holds, by sessions_finished (whose condition it repeats).
const pruneSessionsSQL = `SELECT id FROM sessions s
	WHERE state IN ('ended', 'closed', 'expired') AND updated_at < $1
	AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.session_id = s.id AND o.status = 'queued')
	ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED`

// pruneConversationsSQL picks the oldest closed conversations last
// active before $1 that no session belongs to any more, by
// conversations_closed (whose condition it repeats).
const pruneConversationsSQL = `SELECT c.id FROM conversations c
	WHERE c.state = 'closed' AND c.updated_at < $1
	AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.conversation_id = c.id)
	ORDER BY c.updated_at LIMIT $2 FOR UPDATE SKIP LOCKED`

// Prune deletes what is past the retention, a batch in one transaction
// (see retention.Store).
func (s *Store) Prune(ctx context.Context, before time.Time, limit int) (retention.Pruned, error) {
	var n retention.Pruned
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		n = retention.Pruned{}
		sessions, err := pick(ctx, tx, pruneSessionsSQL, before, limit)
		if err != nil {
			return err
		}
		if len(sessions) > 0 {
			for _, d := range []struct {
				sql string
				n   *int
			}{
				{`DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM outbox WHERE session_id = ANY($1))`, nil},
				{`DELETE FROM outbox WHERE session_id = ANY($1)`, &n.Deliveries},
				{`DELETE FROM events WHERE session_id = ANY($1)`, &n.Events},
				{`DELETE FROM report_sessions WHERE session_id = ANY($1)`, nil},
				{`DELETE FROM sessions WHERE id = ANY($1)`, &n.Sessions},
			} {
				if err := deleteRows(ctx, tx, d.sql, sessions, d.n); err != nil {
					return err
				}
			}
		}
		if len(sessions) >= limit {
			// Sessions are left to prune: the conversations wait until
			// they are gone, or each batch would walk past every
			// conversation that still has one.
			return nil
		}
		conversations, err := pick(ctx, tx, pruneConversationsSQL, before, limit)
		if err != nil || len(conversations) == 0 {
			return err
		}
		var deliveries int
		for _, d := range []struct {
			sql string
			n   *int
		}{
			{`DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM outbox WHERE conversation_id = ANY($1))`, nil},
			{`DELETE FROM outbox WHERE conversation_id = ANY($1)`, &deliveries},
			{`DELETE FROM messages WHERE conversation_id = ANY($1)`, &n.Messages},
			{`DELETE FROM conversations WHERE id = ANY($1)`, &n.Conversations},
		} {
			if err := deleteRows(ctx, tx, d.sql, conversations, d.n); err != nil {
				return err
			}
		}
		n.Deliveries += deliveries
		return nil
	})
	if err != nil {
		return retention.Pruned{}, fmt.Errorf("postgres: prune: %w", err)
	}
	return n, nil
}

// pick returns the ids query selects with before and limit.
func pick(ctx context.Context, tx pgx.Tx, query string, before time.Time, limit int) ([]string, error) {
	rows, err := tx.Query(ctx, query, before, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// deleteRows runs a DELETE of the rows of ids and adds how many it
// deleted to n, when n is not nil.
func deleteRows(ctx context.Context, tx pgx.Tx, query string, ids []string, n *int) error {
	tag, err := tx.Exec(ctx, query, ids)
	if err != nil {
		return err
	}
	if n != nil {
		*n += int(tag.RowsAffected())
	}
	return nil
}
