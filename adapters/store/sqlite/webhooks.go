package sqlite

import (
	"cmp"
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/assistbot/assistbot/adapters/store/sqlite/internal/groupcommit"
	"github.com/assistbot/assistbot/adapters/store/sqlite/internal/rawsql"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/webhook"
)

var _ webhook.Store = (*Store)(nil)

const webhookCols = `id, url, secret, events, description, source, disabled_at, disabled_reason,
	failing_since, last_success_at, created_at, updated_at, version`

// claimWebhookSQL claims the claimable prefix of an endpoint's earliest
// queued deliveries (?3 is the endpoint, ?4 now, ?5 the limit): those
// before the first that is not due or is held. SQLite's one writer runs
// one claim at a time.
const claimWebhookSQL = `WITH head AS (SELECT id, next_attempt_at, claim_until FROM outbox
		WHERE to_channel = 'webhook' AND status = 'queued' AND to_address = ?3
		ORDER BY id LIMIT ?5)
	UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?1, claim_until = ?1, claim_token = ?2
	WHERE id IN (SELECT id FROM head WHERE id < coalesce(
		(SELECT min(id) FROM head WHERE next_attempt_at > ?4 OR claim_until > ?4), 9223372036854775807))
	RETURNING ` + claimedCols

// failWebhooksSQL fails the queued deliveries of endpoints disabled or
// gone (?1 the reason, ?2 now).
const failWebhooksSQL = `UPDATE outbox SET status = 'failed', reason = ?1, updated_at = ?2,
	claim_token = '', claim_until = 0
	WHERE to_channel = 'webhook' AND status = 'queued' AND to_address NOT IN
		(SELECT id FROM webhook_endpoints WHERE disabled_at = 0)`

// CreateWebhook inserts e with Version 1.
func (s *Store) CreateWebhook(ctx context.Context, e *webhook.Endpoint) error {
	if s.closed.Load() {
		return fmt.Errorf("sqlite: create webhook: %w", errClosed())
	}
	events, _ := json.Marshal(nonNil(e.Events))
	args := rawsql.Named(e.ID, e.URL, e.Secret, string(events), e.Description, e.Source, micros(e.DisabledAt),
		e.DisabledReason, micros(e.FailingSince), micros(e.LastSuccessAt), micros(e.CreatedAt), micros(e.UpdatedAt))
	err := s.w.Do(ctx, func(w *wconn) error {
		if ok, err := w.conn.Exists(ctx, "SELECT 1 FROM webhook_endpoints WHERE id = ?", e.ID); err != nil {
			return err
		} else if ok {
			return groupcommit.Refuse(core.Errorf(core.CodeConflict, "webhook %s already exists", e.ID))
		}
		_, err := w.conn.ExecContext(ctx, `INSERT INTO webhook_endpoints (`+webhookCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`, args)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: create webhook: %w", err)
	}
	e.Version = 1
	return nil
}

// UpdateWebhook saves e if its Version is the stored one, and bumps it.
func (s *Store) UpdateWebhook(ctx context.Context, e *webhook.Endpoint) error {
	if s.closed.Load() {
		return fmt.Errorf("sqlite: update webhook: %w", errClosed())
	}
	events, _ := json.Marshal(nonNil(e.Events))
	args := rawsql.Named(e.URL, e.Secret, string(events), e.Description, e.Source, micros(e.DisabledAt),
		e.DisabledReason, micros(e.FailingSince), micros(e.LastSuccessAt), micros(e.CreatedAt), micros(e.UpdatedAt),
		e.ID, int64(e.Version))
	err := s.w.Do(ctx, func(w *wconn) error {
		res, err := w.conn.ExecContext(ctx, `UPDATE webhook_endpoints SET url = ?, secret = ?, events = ?,
			description = ?, source = ?, disabled_at = ?, disabled_reason = ?, failing_since = ?,
			last_success_at = ?, created_at = ?, updated_at = ?, version = version + 1
			WHERE id = ? AND version = ?`, args)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		if ok, err := w.conn.Exists(ctx, "SELECT 1 FROM webhook_endpoints WHERE id = ?", e.ID); err != nil {
			return err
		} else if !ok {
			return groupcommit.Refuse(notFound("webhook"))
		}
		return groupcommit.Refuse(core.ErrVersion)
	})
	if err != nil {
		return fmt.Errorf("sqlite: update webhook: %w", err)
	}
	e.Version++
	return nil
}

// DeleteWebhook deletes the endpoint with id and its attempts, and fails
// its queued deliveries.
func (s *Store) DeleteWebhook(ctx context.Context, id string, now time.Time) error {
	if s.closed.Load() {
		return fmt.Errorf("sqlite: delete webhook: %w", errClosed())
	}
	err := s.w.Do(ctx, func(w *wconn) error {
		res, err := w.conn.ExecContext(ctx, "DELETE FROM webhook_endpoints WHERE id = ?", rawsql.Named(id))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return groupcommit.Refuse(notFound("webhook"))
		}
		if err := w.conn.Exec(ctx, "DELETE FROM webhook_attempts WHERE endpoint_id = ?", id); err != nil {
			return err
		}
		return w.conn.Exec(ctx, `UPDATE outbox SET status = 'failed', reason = ?, updated_at = ?,
			claim_token = '', claim_until = 0
			WHERE to_channel = 'webhook' AND status = 'queued' AND to_address = ?`, webhook.ReasonGone, micros(now), id)
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete webhook: %w", err)
	}
	return nil
}

// FindWebhook returns the endpoint with id.
func (s *Store) FindWebhook(ctx context.Context, id string) (*webhook.Endpoint, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("sqlite: find webhook: %w", errClosed())
	}
	e, err := scanWebhook(s.r.db.QueryRowContext(ctx, "SELECT "+webhookCols+" FROM webhook_endpoints WHERE id = ?", id))
	if err != nil {
		return nil, fmt.Errorf("sqlite: find webhook: %w", noRows(err, "webhook"))
	}
	return e, nil
}

// FindWebhooks returns every endpoint, in id order.
func (s *Store) FindWebhooks(ctx context.Context) ([]*webhook.Endpoint, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("sqlite: find webhooks: %w", errClosed())
	}
	rows, err := s.r.db.QueryContext(ctx, "SELECT "+webhookCols+" FROM webhook_endpoints ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("sqlite: find webhooks: %w", err)
	}
	defer rows.Close()
	var out []*webhook.Endpoint
	for rows.Next() {
		e, err := scanWebhook(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: find webhooks: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: find webhooks: %w", err)
	}
	return out, nil
}

func scanWebhook(sc scanner) (*webhook.Endpoint, error) {
	var e webhook.Endpoint
	var events string
	var disabled, failing, success, created, updated int64
	err := sc.Scan(&e.ID, &e.URL, &e.Secret, &events, &e.Description, &e.Source, &disabled, &e.DisabledReason,
		&failing, &success, &created, &updated, &e.Version)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(events), &e.Events); err != nil {
		return nil, fmt.Errorf("webhook %s: decode events: %w", e.ID, err)
	}
	if len(e.Events) == 0 {
		e.Events = nil
	}
	e.DisabledAt, e.FailingSince, e.LastSuccessAt = fromMicros(disabled), fromMicros(failing), fromMicros(success)
	e.CreatedAt, e.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &e, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// UpdateConversationQueue saves c as UpdateConversation does and queues
// ds in the same transaction.
func (s *Store) UpdateConversationQueue(ctx context.Context, c *core.Conversation, ds []*core.Delivery) error {
	if c == nil {
		return fmt.Errorf("sqlite: update conversation: %w", core.Errorf(core.CodeInvalid, "no conversation"))
	}
	if s.closed.Load() {
		return fmt.Errorf("sqlite: update conversation: %w", errClosed())
	}
	dargs := make([][]driver.NamedValue, len(ds))
	for i, d := range ds {
		a, err := deliveryArgs(d)
		if err != nil {
			return fmt.Errorf("sqlite: update conversation: %w", err)
		}
		dargs[i] = a
	}
	id := c.ID
	args := rawsql.Named(c.Customer.Channel, c.Customer.Address, c.CustomerName,
		c.Desk.Channel, c.Desk.Address, c.DeskThread, c.Locale, string(c.State),
		micros(c.CreatedAt), micros(c.UpdatedAt), id, int64(c.Version))
	ids := make([]int64, len(ds))
	err := s.w.Do(ctx, func(w *wconn) error {
		res, err := w.updConv.Run(args)
		if constraintOf(err) == openCustomer {
			return groupcommit.Refuse(core.ErrOpenConversation)
		}
		if err != nil {
			return err
		}
		if err := versionCheck(res, w.convExists, id, "conversation"); err != nil {
			return groupcommit.Refuse(err)
		}
		for i, a := range dargs {
			if ids[i], err = w.insertDelivery(a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: update conversation: %w", err)
	}
	c.Version++
	for i, d := range ds {
		d.ID = ids[i]
	}
	return nil
}

// ClaimWebhookDeliveries claims up to limit of the earliest queued
// deliveries to endpoint id that are due and not held.
func (s *Store) ClaimWebhookDeliveries(ctx context.Context, id string, now time.Time, limit int, lease time.Duration) ([]*core.Delivery, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("sqlite: claim webhook deliveries: %w", errClosed())
	}
	if limit < 1 {
		return nil, nil
	}
	args := rawsql.Named(micros(now.Add(lease)), core.NewID(), id, micros(now), int64(limit))
	var out []*core.Delivery
	err := s.w.Do(ctx, func(w *wconn) error {
		out = out[:0]
		return w.conn.Each(ctx, claimWebhookSQL, args, func(r rawsql.Row) error {
			d, err := scanDelivery(r)
			if err != nil {
				return err
			}
			out = append(out, d)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim webhook deliveries: %w", err)
	}
	slices.SortFunc(out, func(a, b *core.Delivery) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// RecordWebhookAttempt saves a and its endpoint's health.
func (s *Store) RecordWebhookAttempt(ctx context.Context, a *webhook.Attempt, disableAfter time.Duration) (bool, error) {
	if s.closed.Load() {
		return false, fmt.Errorf("sqlite: record webhook attempt: %w", errClosed())
	}
	at := micros(a.At)
	ins := rawsql.Named(a.DeliveryID, a.EndpointID, int64(a.N), at, a.Duration.Microseconds(), int64(a.Status), a.Error, a.Outcome)
	var disabled bool
	var newID int64
	err := s.w.Do(ctx, func(w *wconn) error {
		disabled = false
		var res rawsql.Result
		var err error
		if a.OK() {
			res, err = w.conn.ExecContext(ctx, `UPDATE webhook_endpoints SET last_success_at = ?, failing_since = 0
				WHERE id = ?`, rawsql.Named(at, a.EndpointID))
		} else {
			res, err = w.conn.ExecContext(ctx, `UPDATE webhook_endpoints
				SET failing_since = CASE WHEN failing_since = 0 THEN ?1 ELSE failing_since END WHERE id = ?2`,
				rawsql.Named(at, a.EndpointID))
		}
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return groupcommit.Refuse(notFound("webhook"))
		}
		if !a.OK() && disableAfter > 0 {
			res, err := w.conn.ExecContext(ctx, `UPDATE webhook_endpoints SET disabled_at = ?1,
				disabled_reason = ?2, updated_at = ?1, version = version + 1
				WHERE id = ?3 AND disabled_at = 0 AND failing_since <> 0 AND failing_since <= ?4`,
				rawsql.Named(at, disableReason(disableAfter, a.Error), a.EndpointID, micros(a.At.Add(-disableAfter))))
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			disabled = n > 0
		}
		res, err = w.conn.ExecContext(ctx, `INSERT INTO webhook_attempts (delivery_id, endpoint_id, attempt, at,
			duration_us, response_status, error, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, ins)
		if err != nil {
			return err
		}
		newID, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("sqlite: record webhook attempt: %w", err)
	}
	a.ID = newID
	return disabled, nil
}

// disableReason says why an endpoint was disabled.
func disableReason(after time.Duration, last string) string {
	return fmt.Sprintf("no successful delivery for %s; last error: %s", after, last)
}

// FindWebhookDeliveries returns the deliveries to endpoint id, newest first.
func (s *Store) FindWebhookDeliveries(ctx context.Context, id string, before int64, limit int) ([]*core.Delivery, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("sqlite: find webhook deliveries: %w", errClosed())
	}
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := s.r.db.QueryContext(ctx, "SELECT "+deliveryCols+deliveryFrom+`
		WHERE o.to_channel = 'webhook' AND o.to_address = ? AND o.id < ? ORDER BY o.id DESC LIMIT ?`,
		id, before, clampLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("sqlite: find webhook deliveries: %w", err)
	}
	defer rows.Close()
	var out []*core.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: find webhook deliveries: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: find webhook deliveries: %w", err)
	}
	return out, nil
}

// FindWebhookAttempts returns the attempts at the deliveries ids, oldest
// first.
func (s *Store) FindWebhookAttempts(ctx context.Context, ids []int64) ([]webhook.Attempt, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("sqlite: find webhook attempts: %w", errClosed())
	}
	if len(ids) == 0 {
		return nil, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := s.r.db.QueryContext(ctx, `SELECT id, delivery_id, endpoint_id, attempt, at, duration_us,
		response_status, error, outcome FROM webhook_attempts
		WHERE delivery_id IN (?`+strings.Repeat(", ?", len(ids)-1)+`) ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: find webhook attempts: %w", err)
	}
	defer rows.Close()
	var out []webhook.Attempt
	for rows.Next() {
		var a webhook.Attempt
		var at, dur int64
		if err := rows.Scan(&a.ID, &a.DeliveryID, &a.EndpointID, &a.N, &at, &dur, &a.Status, &a.Error, &a.Outcome); err != nil {
			return nil, fmt.Errorf("sqlite: find webhook attempts: %w", err)
		}
		a.At, a.Duration = fromMicros(at), time.Duration(dur)*time.Microsecond
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: find webhook attempts: %w", err)
	}
	return out, nil
}

// FailWebhookDeliveries fails the queued deliveries to endpoints disabled
// or gone.
func (s *Store) FailWebhookDeliveries(ctx context.Context, now time.Time) (int, error) {
	if s.closed.Load() {
		return 0, fmt.Errorf("sqlite: fail webhook deliveries: %w", errClosed())
	}
	var n int64
	err := s.w.Do(ctx, func(w *wconn) error {
		res, err := w.conn.ExecContext(ctx, failWebhooksSQL, rawsql.Named(webhook.ReasonGone, micros(now)))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: fail webhook deliveries: %w", err)
	}
	return int(n), nil
}
