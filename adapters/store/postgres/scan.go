package postgres

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/assistbot/assistbot/core"
	"github.com/jackc/pgx/v5"
)

// ts is how a time is stored: as itself, which timestamptz keeps to the
// microsecond, and the zero time as NULL.
func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// fromTS reverses ts, in UTC: pgx hands timestamptz values back in the
// process's local zone.
func fromTS(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// conversationCols are the columns scanConversation reads, in its order.
const conversationCols = `id, customer_channel, customer_address, customer_name,
	desk_channel, desk_address, desk_thread, locale, state, created_at, updated_at, version`

func scanConversation(row pgx.Row) (*core.Conversation, error) {
	var c core.Conversation
	var state string
	var created, updated *time.Time
	err := row.Scan(&c.ID, &c.Customer.Channel, &c.Customer.Address, &c.CustomerName,
		&c.Desk.Channel, &c.Desk.Address, &c.DeskThread, &c.Locale, &state, &created, &updated, &c.Version)
	if err != nil {
		return nil, err
	}
	c.State = core.ConversationState(state)
	c.CreatedAt, c.UpdatedAt = fromTS(created), fromTS(updated)
	return &c, nil
}

// sessionCols are the columns scanSession reads, in its order.
const sessionCols = `id, conversation_id, provider, provider_ref, pin, pin_expires_at,
	desktop_url, mobile_url, manual_url, state, device, mode, agent, technician, locale,
	customer_key, origin, customer_url, technician_url, created_at, updated_at, joined_at,
	started_at, ended_at, version`

func scanSession(row pgx.Row) (*core.Session, error) {
	var s core.Session
	var state, device, mode string
	var expires, created, updated, joined, started, ended *time.Time
	err := row.Scan(&s.ID, &s.ConversationID, &s.Provider, &s.ProviderRef, &s.PIN, &expires,
		&s.DesktopURL, &s.MobileURL, &s.ManualURL, &state, &device, &mode, &s.Agent,
		&s.Technician, &s.Locale, &s.CustomerKey, &s.Origin, &s.CustomerURL, &s.TechnicianURL,
		&created, &updated, &joined, &started,
		&ended, &s.Version)
	if err != nil {
		return nil, err
	}
	s.State, s.Device, s.Mode = core.State(state), core.Device(device), core.Mode(mode)
	s.PINExpiresAt, s.CreatedAt, s.UpdatedAt = fromTS(expires), fromTS(created), fromTS(updated)
	s.JoinedAt, s.StartedAt, s.EndedAt = fromTS(joined), fromTS(started), fromTS(ended)
	return &s, nil
}

// deliveryCols are the columns scanDelivery reads, in its order.
const deliveryCols = `id, coalesce(session_id, ''), coalesce(conversation_id, ''), to_channel,
	to_address, notice, status, reason, attempts, next_attempt_at, external_id,
	created_at, updated_at, claim_token, claim_until`

func scanDelivery(row pgx.Row) (*core.Delivery, error) {
	var d core.Delivery
	var notice []byte
	var status string
	var next, created, updated, claimUntil *time.Time
	err := row.Scan(&d.ID, &d.SessionID, &d.ConversationID, &d.To.Channel, &d.To.Address,
		&notice, &status, &d.Reason, &d.Attempts, &next, &d.ExternalID, &created, &updated,
		&d.ClaimToken, &claimUntil)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(notice, &d.Notice); err != nil {
		return nil, fmt.Errorf("delivery %d: decode notice: %w", d.ID, err)
	}
	if !d.Notice.ExpiresAt.IsZero() {
		d.Notice.ExpiresAt = d.Notice.ExpiresAt.UTC()
	}
	d.Status = core.DeliveryStatus(status)
	d.NextAttemptAt, d.CreatedAt, d.UpdatedAt = fromTS(next), fromTS(created), fromTS(updated)
	d.ClaimUntil = fromTS(claimUntil)
	return &d, nil
}

// collect scans every row with scan.
func collect[T any](rows pgx.Rows, scan func(pgx.Row) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
