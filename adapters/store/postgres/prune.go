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
		picked, err := pruneStep(ctx, tx, pruneSessionsSQL, before, limit, []deletion{
			{`DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM outbox WHERE session_id = ANY($1))`, nil},
			{`DELETE FROM outbox WHERE session_id = ANY($1)`, &n.Deliveries},
			{`DELETE FROM events WHERE session_id = ANY($1)`, &n.Events},
			{`DELETE FROM report_sessions WHERE session_id = ANY($1)`, nil},
			{`DELETE FROM sessions WHERE id = ANY($1)`, &n.Sessions},
		})
		if err != nil || picked >= limit {
			// With sessions left to prune, the conversations wait until
			// they are gone, or each batch would walk past every
			// conversation that still has one.
			return err
		}
		_, err = pruneStep(ctx, tx, pruneConversationsSQL, before, limit, []deletion{
			{`DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM outbox WHERE conversation_id = ANY($1))`, nil},
			{`DELETE FROM outbox WHERE conversation_id = ANY($1)`, &n.Deliveries},
			{`DELETE FROM messages WHERE conversation_id = ANY($1)`, &n.Messages},
			{`DELETE FROM conversations WHERE id = ANY($1)`, &n.Conversations},
		})
		return err
	})
	if err != nil {
		return retention.Pruned{}, fmt.Errorf("postgres: prune: %w", err)
	}
	return n, nil
}

// pruneStep picks the ids pick selects with before and limit, runs
// deletes on them in order, and returns how many it picked.
func pruneStep(ctx context.Context, tx pgx.Tx, pick string, before time.Time, limit int, deletes []deletion) (int, error) {
	rows, err := tx.Query(ctx, pick, before, limit)
	if err != nil {
		return 0, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	for _, d := range deletes {
		tag, err := tx.Exec(ctx, d.sql, ids)
		if err != nil {
			return 0, err
		}
		if d.n != nil {
			*d.n += int(tag.RowsAffected())
		}
	}
	return len(ids), nil
}

// deletion is one DELETE of a prune, of the rows of the ids picked ($1),
// and where it adds the rows it deleted (nil when they are not counted).
type deletion struct {
	sql string
	n   *int
}
