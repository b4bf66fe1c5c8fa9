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
)

// deliveryCols are the columns of deliveryFrom, in the order scanDelivery
// reads them.
const deliveryCols = `o.id, coalesce(s.id, ''), coalesce(c.id, ''), o.to_channel,
	o.to_address, o.notice, o.status, o.reason, o.attempts, o.next_attempt_at,
	o.external_id, o.created_at, o.updated_at, o.claim_token, o.claim_until`

// claimedCols are deliveryCols for an UPDATE … RETURNING of outbox rows,
// which cannot join: the ids are read by subquery.
const claimedCols = `id, coalesce((SELECT id FROM sessions WHERE seq = session_seq), ''),
	coalesce((SELECT id FROM conversations WHERE seq = conversation_seq), ''),
	to_channel, to_address, notice, status, reason, attempts, next_attempt_at,
	external_id, created_at, updated_at, claim_token, claim_until`

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

// updateDeliverySQL saves an outcome, unless the delivery is unknown or
// already final, or ?8, the token of the claim saving it, is set and is
// not the delivery's: then it matches no row. A save with a token ends
// the claim; one without (a platform's report) leaves it as it is.
const updateDeliverySQL = `UPDATE outbox SET status = ?1, reason = ?2, attempts = ?3,
	next_attempt_at = ?4, external_id = ?5, updated_at = ?6,
	claim_token = CASE WHEN ?8 = '' THEN claim_token ELSE '' END,
	claim_until = CASE WHEN ?8 = '' THEN claim_until ELSE 0 END
	WHERE id = ?7 AND status NOT IN ('delivered', 'failed') AND (?8 = '' OR claim_token = ?8)`

// deliveryStateSQL tells why updateDeliverySQL matched no row.
const deliveryStateSQL = `SELECT status, claim_token FROM outbox WHERE id = ?`

// claimDeliveriesSQL claims the claimable deliveries (see
// core.OutboxStore) in one statement: queued, due, not held, and with no
// earlier queued delivery of the same recipient and conversation that is
// not due or held; webhook deliveries are claimed by endpoint apart
// (ClaimWebhookDeliveries). SQLite's one writer runs one claim at a time, so the
// rows a claim reads cannot change before it writes them. The order of
// RETURNING is unspecified, so ClaimDeliveries sorts.
const claimDeliveriesSQL = `UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?,
	claim_until = ?, claim_token = ?
	WHERE id IN (SELECT o.id FROM outbox o
		WHERE o.status = 'queued' AND o.next_attempt_at <= ? AND o.claim_until <= ?
		AND o.to_channel <> 'webhook'
		AND NOT EXISTS (SELECT 1 FROM outbox e
			WHERE e.status = 'queued' AND e.to_channel = o.to_channel
			AND e.to_address = o.to_address AND e.conversation_seq IS o.conversation_seq
			AND e.id < o.id AND (e.next_attempt_at > ? OR e.claim_until > ?))
		ORDER BY o.id LIMIT ?)
	RETURNING ` + claimedCols

// renewClaimSQL extends a claim's lease; the deliveries it still holds
// are those that carry its token, whatever their status.
const renewClaimSQL = `UPDATE outbox SET claim_until = ?,
	next_attempt_at = CASE WHEN status = 'queued' THEN ? ELSE next_attempt_at END
	WHERE claim_token = ? AND claim_token <> ''`

// releaseClaimsSQL ends every claim on a queued delivery and makes it
// due at once, unless it already is.
const releaseClaimsSQL = `UPDATE outbox SET next_attempt_at = min(next_attempt_at, ?),
	claim_until = 0, claim_token = ''
	WHERE claim_token <> '' AND status = 'queued'`

const findDeliverySQL = `SELECT ` + deliveryCols + deliveryFrom + ` WHERE o.id = ?`

const findDeliveryByExternalIDSQL = `SELECT ` + deliveryCols + deliveryFrom + `
	WHERE o.to_channel = ? AND o.external_id = ? AND o.external_id <> '' ORDER BY o.id LIMIT 1`

// deliveryArgs returns the arguments of insertDeliverySQL.
func deliveryArgs(d *core.Delivery) ([]driver.NamedValue, error) {
	notice, err := json.Marshal(d.Notice)
	if err != nil {
		return nil, fmt.Errorf("encode notice: %w", err)
	}
	return rawsql.Named(d.SessionID, d.SessionID, d.ConversationID, d.ConversationID, d.To.Channel, d.To.Address,
		string(notice), string(d.Status), d.Reason, int64(d.Attempts), micros(d.NextAttemptAt),
		d.ExternalID, micros(d.CreatedAt), micros(d.UpdatedAt)), nil
}

// insertDelivery runs insertDeliverySQL and returns the new id.
func (c *wconn) insertDelivery(args []driver.NamedValue) (int64, error) {
	res, err := c.insDelivery.Run(args)
	if err != nil {
		if constraintOf(err) == missingRef {
			return 0, core.Errorf(core.CodeInvalid, "a delivery names a session or conversation that does not exist")
		}
		return 0, err
	}
	return res.LastInsertId()
}

// ClaimDeliveries claims up to limit of the deliveries claimable at now,
// in id order, under a new token, counting an attempt and holding them
// until now+lease. A limit below 1 claims nothing.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]*core.Delivery, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("sqlite: claim deliveries: %w", errClosed())
	}
	if limit < 1 {
		return nil, nil
	}
	until, at := micros(now.Add(lease)), micros(now)
	args := rawsql.Named(until, until, core.NewID(), at, at, at, at, int64(limit))
	var out []*core.Delivery
	err := s.w.Do(ctx, func(w *wconn) error {
		out = out[:0]
		return w.claim.Each(args, func(r rawsql.Row) error {
			d, err := scanDelivery(r)
			if err != nil {
				return err
			}
			out = append(out, d)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim deliveries: %w", err)
	}
	slices.SortFunc(out, func(a, b *core.Delivery) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// RenewClaim holds the deliveries that carry token until until, and
// returns how many there are.
func (s *Store) RenewClaim(ctx context.Context, token string, until time.Time) (int, error) {
	if s.closed.Load() {
		return 0, fmt.Errorf("sqlite: renew claim: %w", errClosed())
	}
	if token == "" {
		return 0, nil
	}
	args := rawsql.Named(micros(until), micros(until), token)
	var n int64
	err := s.w.Do(ctx, func(w *wconn) error {
		res, err := w.renewClaim.Run(args)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: renew claim: %w", err)
	}
	return int(n), nil
}

// ReleaseOrphanedClaims implements core.OrphanReleaser: a SQLite database
// has one process running its outbox, so when that process starts, every
// claim in the file was left by an earlier run of it that is gone.
func (s *Store) ReleaseOrphanedClaims(ctx context.Context, now time.Time) (int, error) {
	if s.closed.Load() {
		return 0, fmt.Errorf("sqlite: release claims: %w", errClosed())
	}
	args := rawsql.Named(micros(now))
	var n int64
	err := s.w.Do(ctx, func(w *wconn) error {
		res, err := w.releaseClaims.Run(args)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: release claims: %w", err)
	}
	return int(n), nil
}

// UpdateDelivery saves d's status, reason, attempts, schedule, external id
// and update time, unless the stored delivery is already final, or d
// carries the token of a claim that the delivery no longer has.
func (s *Store) UpdateDelivery(ctx context.Context, d *core.Delivery) error {
	if d == nil {
		return fmt.Errorf("sqlite: update delivery: %w", core.Errorf(core.CodeInvalid, "no delivery"))
	}
	if s.closed.Load() {
		return fmt.Errorf("sqlite: update delivery: %w", errClosed())
	}
	id, token := d.ID, d.ClaimToken
	args := rawsql.Named(string(d.Status), d.Reason, int64(d.Attempts), micros(d.NextAttemptAt),
		d.ExternalID, micros(d.UpdatedAt), id, token)
	err := s.w.Do(ctx, func(w *wconn) error {
		res, err := w.updDelivery.Run(args)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		// Nothing was written: the request is refused alone.
		var status, stored string
		ok, err := w.deliveryState.First(rawsql.Named(id), func(r rawsql.Row) error { return r.Scan(&status, &stored) })
		switch {
		case err != nil:
			return err
		case !ok:
			return groupcommit.Refuse(notFound("delivery"))
		case token != "" && stored != token:
			return groupcommit.Refuse(core.ErrClaimLost)
		case status == string(core.DeliveryDelivered) || status == string(core.DeliveryFailed):
			return groupcommit.Refuse(core.ErrDeliveryFinal)
		}
		return fmt.Errorf("delivery %d: saved nothing, for no known reason", id)
	})
	if err != nil {
		return fmt.Errorf("sqlite: update delivery: %w", err)
	}
	if token != "" {
		d.ClaimToken, d.ClaimUntil = "", time.Time{}
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
	rows, err := s.r.query(ctx, q, args...)
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
	var next, created, updated, claimUntil int64
	err := sc.Scan(&d.ID, &d.SessionID, &d.ConversationID, &d.To.Channel, &d.To.Address,
		&notice, &status, &d.Reason, &d.Attempts, &next, &d.ExternalID, &created, &updated,
		&d.ClaimToken, &claimUntil)
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
	d.ClaimUntil = fromMicros(claimUntil)
	return &d, nil
}
