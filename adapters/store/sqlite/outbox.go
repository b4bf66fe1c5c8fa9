package sqlite

import (
	"cmp"
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/assistbot/assistbot/core"
)

// deliveryCols are the columns of deliveryFrom, in the order scanDelivery
// reads them.
const deliveryCols = `o.id, coalesce(s.id, ''), coalesce(c.id, ''), o.to_channel,
	o.to_address, o.notice, o.status, o.reason, o.attempts, o.next_attempt_at,
	o.external_id, o.created_at, o.updated_at`

const deliveryFrom = ` FROM outbox o
	LEFT JOIN sessions s ON s.seq = o.session_seq
	LEFT JOIN conversations c ON c.seq = o.conversation_seq`

// insertDeliverySQL stores no session or conversation for an empty id,
// and seq -1, which the foreign keys refuse, for an unknown one.
const insertDeliverySQL = `INSERT INTO outbox (session_seq, conversation_seq, to_channel,
	to_address, notice, status, reason, attempts, next_attempt_at, external_id,
	created_at, updated_at) VALUES (
	CASE WHEN ? = '' THEN NULL ELSE coalesce((SELECT seq FROM sessions WHERE id = ?), -1) END,
	CASE WHEN ? = '' THEN NULL ELSE coalesce((SELECT seq FROM conversations WHERE id = ?), -1) END,
	?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

const updateDeliverySQL = `UPDATE outbox SET status = ?, reason = ?, attempts = ?,
	next_attempt_at = ?, external_id = ?, updated_at = ?
	WHERE id = ? AND status NOT IN ('delivered', 'failed')`

// claimDeliveriesSQL leases the due deliveries in one statement; the order
// of RETURNING is unspecified, so ClaimDeliveries sorts.
const claimDeliveriesSQL = `UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?
	WHERE id IN (SELECT id FROM outbox WHERE status = 'queued' AND next_attempt_at <= ?
		ORDER BY id LIMIT ?)
	RETURNING id, coalesce((SELECT id FROM sessions WHERE seq = session_seq), ''),
		coalesce((SELECT id FROM conversations WHERE seq = conversation_seq), ''),
		to_channel, to_address, notice, status, reason, attempts, next_attempt_at,
		external_id, created_at, updated_at`

const findDeliverySQL = `SELECT ` + deliveryCols + deliveryFrom + ` WHERE o.id = ?`

const findDeliveryByExternalIDSQL = `SELECT ` + deliveryCols + deliveryFrom + `
	WHERE o.to_channel = ? AND o.external_id = ? AND o.external_id <> '' ORDER BY o.id LIMIT 1`

// deliveryArgs returns the arguments of insertDeliverySQL.
func deliveryArgs(d *core.Delivery) ([]driver.NamedValue, error) {
	notice, err := json.Marshal(d.Notice)
	if err != nil {
		return nil, fmt.Errorf("encode notice: %w", err)
	}
	return named(d.SessionID, d.SessionID, d.ConversationID, d.ConversationID, d.To.Channel, d.To.Address,
		string(notice), string(d.Status), d.Reason, int64(d.Attempts), micros(d.NextAttemptAt),
		d.ExternalID, micros(d.CreatedAt), micros(d.UpdatedAt)), nil
}

// insertDelivery runs insertDeliverySQL and returns the new id.
func (c *wconn) insertDelivery(args []driver.NamedValue) (int64, error) {
	res, err := c.insDelivery.run(args)
	if err != nil {
		if constraintOf(err) == missingRef {
			return 0, core.Errorf(core.CodeInvalid, "a delivery names a session or conversation that does not exist")
		}
		return 0, err
	}
	return res.LastInsertId()
}

// ClaimDeliveries returns up to limit queued deliveries due at now, oldest
// (lowest id) first, after counting an attempt and leasing them until
// now+lease. A limit below 1 claims nothing.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]*core.Delivery, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("sqlite: claim deliveries: %w", errClosed())
	}
	if limit < 1 {
		return nil, nil
	}
	args := named(micros(now.Add(lease)), micros(now), int64(limit))
	var out []*core.Delivery
	err := s.w.do(ctx, func(w *wconn) error {
		out = out[:0]
		rows, err := w.claim.query.QueryContext(context.Background(), args)
		if err != nil {
			return err
		}
		defer rows.Close()
		v := make([]driver.Value, len(rows.Columns()))
		for {
			if err := rows.Next(v); errors.Is(err, io.EOF) {
				return nil
			} else if err != nil {
				return err
			}
			d, err := scanDelivery(valueScanner(v))
			if err != nil {
				return err
			}
			out = append(out, d)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim deliveries: %w", err)
	}
	slices.SortFunc(out, func(a, b *core.Delivery) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// UpdateDelivery saves d's status, reason, attempts, schedule, external id
// and update time, unless the stored delivery is already final.
func (s *Store) UpdateDelivery(ctx context.Context, d *core.Delivery) error {
	if d == nil {
		return fmt.Errorf("sqlite: update delivery: %w", core.Errorf(core.CodeInvalid, "no delivery"))
	}
	if s.closed.Load() {
		return fmt.Errorf("sqlite: update delivery: %w", errClosed())
	}
	id := d.ID
	args := named(string(d.Status), d.Reason, int64(d.Attempts), micros(d.NextAttemptAt),
		d.ExternalID, micros(d.UpdatedAt), id)
	err := s.w.do(ctx, func(w *wconn) error {
		res, err := w.updDelivery.run(args)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		if ok, err := w.deliveryStatus.exists(id); err != nil {
			return err
		} else if !ok {
			return notFound("delivery")
		}
		return core.ErrDeliveryFinal
	})
	if err != nil {
		return fmt.Errorf("sqlite: update delivery: %w", err)
	}
	return nil
}

// FindDelivery returns the delivery with id.
func (s *Store) FindDelivery(ctx context.Context, id int64) (*core.Delivery, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("sqlite: find delivery: %w", errClosed())
	}
	d, err := scanDelivery(s.r.findDelivery.QueryRowContext(ctx, id))
	if err != nil {
		return nil, fmt.Errorf("sqlite: find delivery: %w", noRows(err, "delivery"))
	}
	return d, nil
}

// FindDeliveries returns the deliveries matching f, newest first.
func (s *Store) FindDeliveries(ctx context.Context, f core.DeliveryFilter) ([]*core.Delivery, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("sqlite: find deliveries: %w", errClosed())
	}
	var where []string
	var args []any
	for _, c := range []struct{ cond, val string }{
		{"o.session_seq = (SELECT seq FROM sessions WHERE id = ?)", f.SessionID},
		{"o.conversation_seq = (SELECT seq FROM conversations WHERE id = ?)", f.ConversationID},
		{"o.status = ?", string(f.Status)},
	} {
		if c.val != "" {
			where = append(where, c.cond)
			args = append(args, c.val)
		}
	}
	q := "SELECT " + deliveryCols + deliveryFrom
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY o.id DESC LIMIT ?"
	args = append(args, clampLimit(f.Limit))
	rows, err := s.r.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: find deliveries: %w", err)
	}
	defer rows.Close()
	var out []*core.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: find deliveries: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: find deliveries: %w", err)
	}
	return out, nil
}

// FindDeliveryByExternalID returns the delivery a channel knows by
// externalID; the empty id names none.
func (s *Store) FindDeliveryByExternalID(ctx context.Context, channel, externalID string) (*core.Delivery, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("sqlite: find delivery: %w", errClosed())
	}
	if externalID == "" {
		return nil, fmt.Errorf("sqlite: find delivery: %w", notFound("delivery"))
	}
	d, err := scanDelivery(s.r.findDeliveryByExternalID.QueryRowContext(ctx, channel, externalID))
	if err != nil {
		return nil, fmt.Errorf("sqlite: find delivery: %w", noRows(err, "delivery"))
	}
	return d, nil
}

func scanDelivery(sc scanner) (*core.Delivery, error) {
	var d core.Delivery
	var notice, status string
	var next, created, updated int64
	err := sc.Scan(&d.ID, &d.SessionID, &d.ConversationID, &d.To.Channel, &d.To.Address,
		&notice, &status, &d.Reason, &d.Attempts, &next, &d.ExternalID, &created, &updated)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(notice), &d.Notice); err != nil {
		return nil, fmt.Errorf("delivery %d: decode notice: %w", d.ID, err)
	}
	if !d.Notice.ExpiresAt.IsZero() {
		d.Notice.ExpiresAt = d.Notice.ExpiresAt.UTC()
	}
	d.Status = core.DeliveryStatus(status)
	d.NextAttemptAt, d.CreatedAt, d.UpdatedAt = fromMicros(next), fromMicros(created), fromMicros(updated)
	return &d, nil
}
