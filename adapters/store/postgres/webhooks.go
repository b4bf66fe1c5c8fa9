package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/webhook"
)

var _ webhook.Store = (*Store)(nil)

const webhookCols = `id, url, secret, events, description, source, disabled_at, disabled_reason,
	failing_since, last_success_at, created_at, updated_at, version`

// lockWebhookSQL lets one replica at a time claim an endpoint's
// deliveries, until its transaction ends; another finds it taken and
// claims nothing, since the earliest deliveries are the holder's anyway.
const lockWebhookSQL = `SELECT pg_try_advisory_xact_lock(hashtextextended('assistbot webhook ' || $1, 0))`

// claimWebhookSQL claims the claimable prefix of an endpoint's earliest
// queued deliveries ($3 the endpoint, $4 now, $5 the limit): those before
// the first that is not due or is held. Run under lockWebhookSQL, its
// snapshot sees every earlier claim of the endpoint committed. The rows
// are read FOR UPDATE: a row another transaction is changing (a lease
// renewed, an outcome saved, the endpoint deleted) is read again once
// that commits, and dropped if it is no longer queued; without it, the
// UPDATE would wait for the row and then take it as it was read. A zero
// NextAttemptAt or ClaimUntil, stored as NULL, is in the past.
const claimWebhookSQL = `WITH head AS (SELECT id, next_attempt_at, claim_until FROM outbox
		WHERE to_channel = 'webhook' AND status = 'queued' AND to_address = $3
		ORDER BY id LIMIT $5 FOR UPDATE)
	UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1, claim_until = $1, claim_token = $2
	WHERE id = ANY (ARRAY(SELECT id FROM head WHERE id < coalesce(
		(SELECT min(id) FROM head WHERE next_attempt_at > $4 OR claim_until > $4), 9223372036854775807)))
	RETURNING ` + deliveryCols

// failWebhooksSQL fails the queued deliveries of endpoints disabled or
// gone ($1 the reason, $2 now).
const failWebhooksSQL = `UPDATE outbox SET status = 'failed', reason = $1, updated_at = $2,
	claim_token = '', claim_until = NULL
	WHERE to_channel = 'webhook' AND status = 'queued' AND to_address NOT IN
		(SELECT id FROM webhook_endpoints WHERE disabled_at IS NULL)`

func eventsJSON(list []string) string {
	if list == nil {
		list = []string{}
	}
	b, _ := json.Marshal(list)
	return string(b)
}

// CreateWebhook inserts e with Version 1.
func (s *Store) CreateWebhook(ctx context.Context, e *webhook.Endpoint) error {
	err := s.withConn(ctx, func(c *pgxpool.Conn) error {
		_, err := c.Exec(ctx, `INSERT INTO webhook_endpoints (`+webhookCols+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1)`,
			e.ID, e.URL, e.Secret, eventsJSON(e.Events), e.Description, e.Source, ts(e.DisabledAt),
			e.DisabledReason, ts(e.FailingSince), ts(e.LastSuccessAt), ts(e.CreatedAt), ts(e.UpdatedAt))
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == uniqueViolation {
			return core.Errorf(core.CodeConflict, "webhook %s already exists", e.ID)
		}
		return constraintErr(err, keys{})
	})
	if err != nil {
		return fmt.Errorf("postgres: create webhook: %w", err)
	}
	e.Version = 1
	return nil
}

// UpdateWebhook saves e if its Version is the stored one, and bumps it.
func (s *Store) UpdateWebhook(ctx context.Context, e *webhook.Endpoint) error {
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE webhook_endpoints SET url = $3, secret = $4, events = $5,
			description = $6, source = $7, disabled_at = $8, disabled_reason = $9, failing_since = $10,
			last_success_at = $11, created_at = $12, updated_at = $13, version = version + 1
			WHERE id = $1 AND version = $2`,
			e.ID, e.Version, e.URL, e.Secret, eventsJSON(e.Events), e.Description, e.Source, ts(e.DisabledAt),
			e.DisabledReason, ts(e.FailingSince), ts(e.LastSuccessAt), ts(e.CreatedAt), ts(e.UpdatedAt))
		if err != nil || tag.RowsAffected() > 0 {
			return constraintErr(err, keys{})
		}
		return versionErr(ctx, tx, `SELECT EXISTS (SELECT 1 FROM webhook_endpoints WHERE id = $1)`, e.ID, "webhook")
	})
	if err != nil {
		return fmt.Errorf("postgres: update webhook: %w", err)
	}
	e.Version++
	return nil
}

// DeleteWebhook deletes the endpoint with id and its attempts, and fails
// its queued deliveries.
func (s *Store) DeleteWebhook(ctx context.Context, id string, now time.Time) error {
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM webhook_endpoints WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return notFound("webhook")
		}
		if _, err := tx.Exec(ctx, `DELETE FROM webhook_attempts WHERE endpoint_id = $1`, id); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE outbox SET status = 'failed', reason = $1, updated_at = $2,
			claim_token = '', claim_until = NULL
			WHERE to_channel = 'webhook' AND status = 'queued' AND to_address = $3`, webhook.ReasonGone, now, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: delete webhook: %w", err)
	}
	return nil
}

// FindWebhook returns the endpoint with id.
func (s *Store) FindWebhook(ctx context.Context, id string) (*webhook.Endpoint, error) {
	var e *webhook.Endpoint
	err := s.withConn(ctx, func(c *pgxpool.Conn) error {
		var err error
		e, err = scanWebhook(c.QueryRow(ctx, `SELECT `+webhookCols+` FROM webhook_endpoints WHERE id = $1`, id))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: find webhook: %w", noRows(err, "webhook"))
	}
	return e, nil
}

// FindWebhooks returns every endpoint, in id order.
func (s *Store) FindWebhooks(ctx context.Context) ([]*webhook.Endpoint, error) {
	var out []*webhook.Endpoint
	err := s.withConn(ctx, func(c *pgxpool.Conn) error {
		rows, err := c.Query(ctx, `SELECT `+webhookCols+` FROM webhook_endpoints ORDER BY id`)
		if err != nil {
			return err
		}
		out, err = collect(rows, scanWebhook)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: find webhooks: %w", err)
	}
	return out, nil
}

func scanWebhook(row pgx.Row) (*webhook.Endpoint, error) {
	var e webhook.Endpoint
	var events []byte
	var disabled, failing, success, created, updated *time.Time
	err := row.Scan(&e.ID, &e.URL, &e.Secret, &events, &e.Description, &e.Source, &disabled, &e.DisabledReason,
		&failing, &success, &created, &updated, &e.Version)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(events, &e.Events); err != nil {
		return nil, fmt.Errorf("webhook %s: decode events: %w", e.ID, err)
	}
	if len(e.Events) == 0 {
		e.Events = nil
	}
	e.DisabledAt, e.FailingSince, e.LastSuccessAt = fromTS(disabled), fromTS(failing), fromTS(success)
	e.CreatedAt, e.UpdatedAt = fromTS(created), fromTS(updated)
	return &e, nil
}

// UpdateConversationQueue saves c as UpdateConversation does and queues
// ds in the same transaction.
func (s *Store) UpdateConversationQueue(ctx context.Context, c *core.Conversation, ds []*core.Delivery) error {
	if c == nil {
		return fmt.Errorf("postgres: update conversation: %w", core.Errorf(core.CodeInvalid, "no conversation"))
	}
	dargs := make([][]any, len(ds))
	for i, d := range ds {
		a, err := deliveryArgs(d)
		if err != nil {
			return fmt.Errorf("postgres: update conversation: %w", err)
		}
		dargs[i] = a
	}
	args := []any{c.ID, c.Version, c.Customer.Channel, c.Customer.Address, c.CustomerName,
		c.Desk.Channel, c.Desk.Address, c.DeskThread, c.Locale, string(c.State),
		ts(c.CreatedAt), ts(c.UpdatedAt)}
	ids := make([]int64, len(ds))
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, updateConversationSQL, args...)
		if err != nil {
			return constraintErr(err, keys{conversation: c.ID})
		}
		if tag.RowsAffected() == 0 {
			return versionErr(ctx, tx, conversationExistsSQL, c.ID, "conversation")
		}
		for i, a := range dargs {
			if err := tx.QueryRow(ctx, insertDeliverySQL, a...).Scan(&ids[i]); err != nil {
				return constraintErr(err, keys{conversation: c.ID})
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: update conversation: %w", err)
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
	if limit < 1 {
		return nil, nil
	}
	token := core.NewID()
	var out []*core.Delivery
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		out = nil
		var locked bool
		if err := tx.QueryRow(ctx, lockWebhookSQL, id).Scan(&locked); err != nil || !locked {
			return err
		}
		rows, err := tx.Query(ctx, claimWebhookSQL, now.Add(lease), token, id, now, limit)
		if err != nil {
			return err
		}
		out, err = collect(rows, scanDelivery)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: claim webhook deliveries: %w", err)
	}
	slices.SortFunc(out, func(a, b *core.Delivery) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// RecordWebhookAttempt saves a and its endpoint's health.
func (s *Store) RecordWebhookAttempt(ctx context.Context, a *webhook.Attempt, disableAfter time.Duration) (bool, error) {
	var disabled bool
	var newID int64
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		disabled = false
		var tag pgconn.CommandTag
		var err error
		if a.OK() {
			tag, err = tx.Exec(ctx, `UPDATE webhook_endpoints SET last_success_at = $1, failing_since = NULL
				WHERE id = $2`, a.At, a.EndpointID)
		} else {
			tag, err = tx.Exec(ctx, `UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, $1)
				WHERE id = $2`, a.At, a.EndpointID)
		}
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return notFound("webhook")
		}
		if !a.OK() && disableAfter > 0 {
			tag, err := tx.Exec(ctx, `UPDATE webhook_endpoints SET disabled_at = $1, disabled_reason = $2,
				updated_at = $1, version = version + 1
				WHERE id = $3 AND disabled_at IS NULL AND failing_since <= $4`,
				a.At, disableReason(disableAfter, a.Error), a.EndpointID, a.At.Add(-disableAfter))
			if err != nil {
				return err
			}
			disabled = tag.RowsAffected() > 0
		}
		return tx.QueryRow(ctx, `INSERT INTO webhook_attempts (delivery_id, endpoint_id, attempt, at,
			duration_us, response_status, error, outcome) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			a.DeliveryID, a.EndpointID, a.N, a.At, a.Duration.Microseconds(), a.Status, a.Error, a.Outcome).Scan(&newID)
	})
	if err != nil {
		return false, fmt.Errorf("postgres: record webhook attempt: %w", err)
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
	if before <= 0 {
		before = 1<<63 - 1
	}
	var out []*core.Delivery
	err := s.withConn(ctx, func(c *pgxpool.Conn) error {
		rows, err := c.Query(ctx, `SELECT `+deliveryCols+` FROM outbox
			WHERE to_channel = 'webhook' AND to_address = $1 AND id < $2 ORDER BY id DESC LIMIT $3`,
			id, before, clampLimit(limit))
		if err != nil {
			return err
		}
		out, err = collect(rows, scanDelivery)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: find webhook deliveries: %w", err)
	}
	return out, nil
}

// FindWebhookAttempts returns the attempts at the deliveries ids, oldest
// first.
func (s *Store) FindWebhookAttempts(ctx context.Context, ids []int64) ([]webhook.Attempt, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var out []webhook.Attempt
	err := s.withConn(ctx, func(c *pgxpool.Conn) error {
		rows, err := c.Query(ctx, `SELECT id, delivery_id, endpoint_id, attempt, at, duration_us,
			response_status, error, outcome FROM webhook_attempts WHERE delivery_id = ANY ($1) ORDER BY id`, ids)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a webhook.Attempt
			var at time.Time
			var dur int64
			if err := rows.Scan(&a.ID, &a.DeliveryID, &a.EndpointID, &a.N, &at, &dur, &a.Status, &a.Error, &a.Outcome); err != nil {
				return err
			}
			a.At, a.Duration = fromTS(&at), time.Duration(dur)*time.Microsecond
			out = append(out, a)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: find webhook attempts: %w", err)
	}
	return out, nil
}

// FailWebhookDeliveries fails the queued deliveries to endpoints disabled
// or gone.
func (s *Store) FailWebhookDeliveries(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := s.withConn(ctx, func(c *pgxpool.Conn) error {
		tag, err := c.Exec(ctx, failWebhooksSQL, webhook.ReasonGone, now)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: fail webhook deliveries: %w", err)
	}
	return int(n), nil
}
