package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
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

// claimDeliveriesSQL claims the claimable deliveries (see
// core.OutboxStore) in one statement.
//
// cand takes the first $2 deliveries that are queued, due, not held, and
// have no earlier queued delivery of the same recipient and conversation
// (ordering key) that is not due or held, locking them; webhook
// deliveries are claimed by endpoint apart (ClaimWebhookDeliveries). FOR UPDATE SKIP
// LOCKED passes over rows that another replica is claiming at this
// moment instead of waiting for them; a row that replica has already
// claimed is re-read after its commit, no longer claimable, and left out:
// no delivery is claimed twice.
//
// Skipping a locked row must not let a later delivery of its key go
// without it, though: the other replica may be claiming it while this
// statement's snapshot still shows it claimable. So due keeps only the
// candidates whose every earlier queued delivery of the same key is a
// candidate too, and the others stay as they are (their locks end with
// the statement). A zero NextAttemptAt or ClaimUntil, stored as NULL, is
// in the past. RETURNING gives rows in no set order, so ClaimDeliveries
// sorts. The rows to update are looked up as an array of ids, which the
// planner always finds through the primary key; joined to due, they were
// found by reading the whole outbox while it was small.
const claimDeliveriesSQL = `WITH cand AS MATERIALIZED (
		SELECT o.id, o.to_channel, o.to_address, coalesce(o.conversation_id, '') AS conv
		FROM outbox o
		WHERE o.status = 'queued'
		AND (o.next_attempt_at IS NULL OR o.next_attempt_at <= $1)
		AND (o.claim_until IS NULL OR o.claim_until <= $1)
		AND o.to_channel <> 'webhook'
		AND NOT EXISTS (SELECT 1 FROM outbox e
			WHERE e.status = 'queued' AND e.to_channel = o.to_channel
			AND e.to_address = o.to_address
			AND coalesce(e.conversation_id, '') = coalesce(o.conversation_id, '')
			AND e.id < o.id AND (e.next_attempt_at > $1 OR e.claim_until > $1))
		ORDER BY o.id LIMIT $2
		FOR UPDATE OF o SKIP LOCKED
	), due AS (
		SELECT c.id AS due_id FROM cand c
		WHERE NOT EXISTS (SELECT 1 FROM outbox e
			WHERE e.status = 'queued' AND e.to_channel = c.to_channel
			AND e.to_address = c.to_address AND coalesce(e.conversation_id, '') = c.conv
			AND e.id < c.id AND e.id NOT IN (SELECT id FROM cand))
	)
	UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $3, claim_until = $3,
		claim_token = $4
	WHERE id = ANY (ARRAY(SELECT due_id FROM due))
	RETURNING ` + deliveryCols

// renewClaimSQL extends a claim's lease; the deliveries it still holds
// are those that carry its token, whatever their status.
const renewClaimSQL = `UPDATE outbox SET claim_until = $2,
	next_attempt_at = CASE WHEN status = 'queued' THEN $2 ELSE next_attempt_at END
	WHERE claim_token = $1 AND claim_token <> ''`

// updateDeliverySQL saves an outcome, unless the delivery is unknown or
// already final (a late report must not undo a final status), or $8, the
// token of the claim saving it, is set and is not the delivery's: then it
// matches no row. A save with a token ends the claim; one without (a
// platform's report) leaves it as it is.
const updateDeliverySQL = `UPDATE outbox SET status = $2, reason = $3, attempts = $4,
	next_attempt_at = $5, external_id = $6, updated_at = $7,
	claim_token = CASE WHEN $8 = '' THEN claim_token ELSE '' END,
	claim_until = CASE WHEN $8 = '' THEN claim_until END
	WHERE id = $1 AND status NOT IN ('delivered', 'failed') AND ($8 = '' OR claim_token = $8)`

// deliveryStateSQL tells why updateDeliverySQL matched no row.
const deliveryStateSQL = `SELECT status, claim_token FROM outbox WHERE id = $1`

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

// ClaimDeliveries claims up to limit of the deliveries claimable at now,
// in id order, under a new token, counting an attempt and holding them
// until now+lease. A limit below 1 claims nothing.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]*core.Delivery, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("postgres: claim deliveries: %w", errClosed())
	}
	if limit < 1 {
		return nil, nil
	}
	token := core.NewID()
	var out []*core.Delivery
	err := s.withConn(ctx, func(c *pgxpool.Conn) error {
		rows, err := c.Query(ctx, claimDeliveriesSQL, now, limit, now.Add(lease), token)
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

// RenewClaim holds the deliveries that carry token until until, and
// returns how many there are.
func (s *Store) RenewClaim(ctx context.Context, token string, until time.Time) (int, error) {
	if token == "" {
		if s.closed.Load() {
			return 0, fmt.Errorf("postgres: renew claim: %w", errClosed())
		}
		return 0, nil
	}
	var n int64
	err := s.withConn(ctx, func(c *pgxpool.Conn) error {
		tag, err := c.Exec(ctx, renewClaimSQL, token, until)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: renew claim: %w", err)
	}
	return int(n), nil
}

// UpdateDelivery saves d's status, reason, attempts, schedule, external id
// and update time, unless the stored delivery is already final, or d
// carries the token of a claim that the delivery no longer has.
func (s *Store) UpdateDelivery(ctx context.Context, d *core.Delivery) error {
	if d == nil {
		return fmt.Errorf("postgres: update delivery: %w", core.Errorf(core.CodeInvalid, "no delivery"))
	}
	token := d.ClaimToken
	args := []any{d.ID, string(d.Status), d.Reason, d.Attempts, ts(d.NextAttemptAt),
		d.ExternalID, ts(d.UpdatedAt), token}
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, updateDeliverySQL, args...)
		if err != nil || tag.RowsAffected() > 0 {
			return constraintErr(err, keys{})
		}
		var status, stored string
		err = tx.QueryRow(ctx, deliveryStateSQL, d.ID).Scan(&status, &stored)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return notFound("delivery")
		case err != nil:
			return err
		case token != "" && stored != token:
			return core.ErrClaimLost
		case status == string(core.DeliveryDelivered) || status == string(core.DeliveryFailed):
			return core.ErrDeliveryFinal
		}
		return fmt.Errorf("delivery %d: saved nothing, for no known reason", d.ID)
	})
	if err != nil {
		return fmt.Errorf("postgres: update delivery: %w", err)
	}
	if token != "" {
		d.ClaimToken, d.ClaimUntil = "", time.Time{}
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
