package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/assistbot/assistbot/core"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// insertDeliverySQL stores no session or conversation for an empty id;
// the foreign keys refuse an unknown one.
const insertDeliverySQL = `INSERT INTO outbox (session_id, conversation_id, to_channel,
	to_address, notice, status, reason, attempts, next_attempt_at, external_id,
	created_at, updated_at)
	VALUES (nullif($1, ''), nullif($2, ''), $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
	RETURNING id`

// claimDeliveriesSQL leases the due deliveries in one statement. FOR
// UPDATE SKIP LOCKED passes over rows another replica is claiming at this
// moment instead of waiting for them, and a row that replica has already
// leased is re-read after its commit and no longer due: no delivery is
// claimed twice. A zero NextAttemptAt, stored as NULL, is due at once.
// RETURNING gives rows in no set order, so ClaimDeliveries sorts. (due
// names its column due_id so that deliveryCols stay unambiguous.)
const claimDeliveriesSQL = `WITH due AS (
		SELECT id AS due_id FROM outbox
		WHERE status = 'queued' AND (next_attempt_at IS NULL OR next_attempt_at <= $1)
		ORDER BY id LIMIT $2
		FOR UPDATE SKIP LOCKED
	)
	UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $3
	FROM due WHERE id = due_id
	RETURNING ` + deliveryCols

// updateDeliverySQL matches no row when the delivery is unknown or
// already final: a late report must not undo a final status.
const updateDeliverySQL = `UPDATE outbox SET status = $2, reason = $3, attempts = $4,
	next_attempt_at = $5, external_id = $6, updated_at = $7
	WHERE id = $1 AND status NOT IN ('delivered', 'failed')`

const deliveryExistsSQL = `SELECT EXISTS (SELECT 1 FROM outbox WHERE id = $1)`

const findDeliverySQL = `SELECT ` + deliveryCols + ` FROM outbox WHERE id = $1`

const findDeliveryByExternalIDSQL = `SELECT ` + deliveryCols + ` FROM outbox
	WHERE to_channel = $1 AND external_id = $2 AND external_id <> '' ORDER BY id LIMIT 1`

// deliveryArgs returns the arguments of insertDeliverySQL.
func deliveryArgs(d *core.Delivery) ([]any, error) {
	notice, err := json.Marshal(d.Notice)
	if err != nil {
		return nil, fmt.Errorf("encode notice: %w", err)
	}
	// As text, which every query execution mode sends as JSON; raw bytes
	// would go as bytea in the modes without a statement description
	// (default_query_exec_mode=exec or simple_protocol, for PgBouncer).
	return []any{d.SessionID, d.ConversationID, d.To.Channel, d.To.Address, string(notice),
		string(d.Status), d.Reason, d.Attempts, ts(d.NextAttemptAt), d.ExternalID,
		ts(d.CreatedAt), ts(d.UpdatedAt)}, nil
}

// ClaimDeliveries returns up to limit queued deliveries due at now,
// oldest (lowest id) first, after counting an attempt and leasing them
// until now+lease. A limit below 1 claims nothing.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]*core.Delivery, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("postgres: claim deliveries: %w", errClosed())
	}
	if limit < 1 {
		return nil, nil
	}
	var out []*core.Delivery
	err := s.withConn(ctx, func(c *pgxpool.Conn) error {
		rows, err := c.Query(ctx, claimDeliveriesSQL, now, limit, now.Add(lease))
		if err != nil {
			return err
		}
		out, err = collect(rows, scanDelivery)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: claim deliveries: %w", err)
	}
	slices.SortFunc(out, func(a, b *core.Delivery) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// UpdateDelivery saves d's status, reason, attempts, schedule, external id
// and update time, unless the stored delivery is already final.
func (s *Store) UpdateDelivery(ctx context.Context, d *core.Delivery) error {
	if d == nil {
		return fmt.Errorf("postgres: update delivery: %w", core.Errorf(core.CodeInvalid, "no delivery"))
	}
	args := []any{d.ID, string(d.Status), d.Reason, d.Attempts, ts(d.NextAttemptAt),
		d.ExternalID, ts(d.UpdatedAt)}
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, updateDeliverySQL, args...)
		if err != nil || tag.RowsAffected() > 0 {
			return constraintErr(err, keys{})
		}
		var ok bool
		if err := tx.QueryRow(ctx, deliveryExistsSQL, d.ID).Scan(&ok); err != nil {
			return err
		}
		if !ok {
			return notFound("delivery")
		}
		return core.ErrDeliveryFinal
	})
	if err != nil {
		return fmt.Errorf("postgres: update delivery: %w", err)
	}
	return nil
}

// FindDelivery returns the delivery with id.
func (s *Store) FindDelivery(ctx context.Context, id int64) (*core.Delivery, error) {
	d, err := s.findDelivery(ctx, findDeliverySQL, id)
	if err != nil {
		return nil, fmt.Errorf("postgres: find delivery: %w", err)
	}
	return d, nil
}

// FindDeliveryByExternalID returns the delivery a channel knows by
// externalID; the empty id names none.
func (s *Store) FindDeliveryByExternalID(ctx context.Context, channel, externalID string) (*core.Delivery, error) {
	d, err := s.findDelivery(ctx, findDeliveryByExternalIDSQL, channel, externalID)
	if err != nil {
		return nil, fmt.Errorf("postgres: find delivery by external id: %w", err)
	}
	return d, nil
}

func (s *Store) findDelivery(ctx context.Context, q string, args ...any) (*core.Delivery, error) {
	var d *core.Delivery
	err := s.withConn(ctx, func(c *pgxpool.Conn) error {
		var err error
		d, err = scanDelivery(c.QueryRow(ctx, q, args...))
		return err
	})
	return d, noRows(err, "delivery")
}

// FindDeliveries returns the deliveries matching f, newest first.
func (s *Store) FindDeliveries(ctx context.Context, f core.DeliveryFilter) ([]*core.Delivery, error) {
	var where []string
	var args []any
	for _, c := range []struct{ col, val string }{
		{"session_id", f.SessionID},
		{"conversation_id", f.ConversationID},
		{"status", string(f.Status)},
	} {
		if c.val != "" {
			args = append(args, c.val)
			where = append(where, c.col+" = $"+strconv.Itoa(len(args)))
		}
	}
	q := "SELECT " + deliveryCols + " FROM outbox"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, clampLimit(f.Limit))
	q += " ORDER BY id DESC LIMIT $" + strconv.Itoa(len(args))
	var out []*core.Delivery
	err := s.withConn(ctx, func(c *pgxpool.Conn) error {
		rows, err := c.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		out, err = collect(rows, scanDelivery)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: find deliveries: %w", err)
	}
	return out, nil
}
