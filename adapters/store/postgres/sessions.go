package postgres

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/assistbot/assistbot/core"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

const insertSessionSQL = `INSERT INTO sessions (` + sessionCols + `)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
	$17, $18, $19, $20, $21, $22, $23, $24, 1)`

// updateSessionSQL is the optimistic update: it matches no row when the
// version the caller read is no longer the stored one. Matching, it locks
// the session's row until commit, so the events and deliveries of one
// session are numbered in the order their transactions commit.
const updateSessionSQL = `UPDATE sessions SET conversation_id = $3, provider = $4,
	provider_ref = $5, pin = $6, pin_expires_at = $7, desktop_url = $8, mobile_url = $9,
	manual_url = $10, state = $11, device = $12, mode = $13, agent = $14, technician = $15,
	locale = $16, customer_key = $17, origin = $18, customer_url = $19, technician_url = $20,
	created_at = $21, updated_at = $22, joined_at = $23, started_at = $24, ended_at = $25,
	version = version + 1
	WHERE id = $1 AND version = $2`

const sessionExistsSQL = `SELECT EXISTS (SELECT 1 FROM sessions WHERE id = $1)`

const findSessionSQL = `SELECT ` + sessionCols + ` FROM sessions WHERE id = $1`

// findSessionByPINSQL is spelt as the partial index sessions_live_pin.
const findSessionByPINSQL = `SELECT ` + sessionCols + ` FROM sessions
	WHERE pin = $1 AND state IN ('issued', 'sent')`

// sessionFields returns the session's columns after id and version, in
// the order of both statements above.
func sessionFields(s *core.Session) []any {
	return []any{s.ConversationID, s.Provider, s.ProviderRef, s.PIN, ts(s.PINExpiresAt),
		s.DesktopURL, s.MobileURL, s.ManualURL, string(s.State), string(s.Device),
		string(s.Mode), s.Agent, s.Technician, s.Locale, s.CustomerKey, s.Origin,
		s.CustomerURL, s.TechnicianURL, ts(s.CreatedAt), ts(s.UpdatedAt), ts(s.JoinedAt), ts(s.StartedAt), ts(s.EndedAt)}
}

// CreateSession inserts ch.Session with Version 1, and ch.Conversation,
// ch.Events and ch.Deliveries with it, in one transaction.
func (s *Store) CreateSession(ctx context.Context, ch *core.Change) error {
	log, err := prepareLog(ch)
	if err != nil {
		return fmt.Errorf("postgres: create session: %w", err)
	}
	k := keys{session: ch.Session.ID}
	var first []stmt
	if ch.Conversation != nil {
		k.conversation = ch.Conversation.ID
		first = append(first, stmt{insertConversationSQL, conversationArgs(ch.Conversation)})
	}
	first = append(first, stmt{insertSessionSQL, append([]any{ch.Session.ID}, sessionFields(ch.Session)...)})
	err = s.withBatch(ctx, func(c batcher) error {
		// One round trip and one transaction for the whole change: the
		// statements run in order and the first that fails rolls back
		// those before it.
		return log.run(ctx, c, first...)
	})
	if err != nil {
		return fmt.Errorf("postgres: create session: %w", constraintErr(err, k))
	}
	if ch.Conversation != nil {
		ch.Conversation.Version = 1
	}
	ch.Session.Version = 1
	log.setIDs(ch)
	return nil
}

// UpdateSession saves ch.Session if its Version is the stored one, bumps
// it, and appends ch.Events and ch.Deliveries, in one transaction.
func (s *Store) UpdateSession(ctx context.Context, ch *core.Change) error {
	log, err := prepareLog(ch)
	if err != nil {
		return fmt.Errorf("postgres: update session: %w", err)
	}
	id := ch.Session.ID
	args := append([]any{id, ch.Session.Version}, sessionFields(ch.Session)...)
	err = s.withTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, updateSessionSQL, args...)
		if err != nil {
			return constraintErr(err, keys{session: id})
		}
		if tag.RowsAffected() == 0 {
			return versionErr(ctx, tx, sessionExistsSQL, id, "session")
		}
		return constraintErr(log.run(ctx, tx), keys{session: id})
	})
	if err != nil {
		return fmt.Errorf("postgres: update session: %w", err)
	}
	ch.Session.Version++
	log.setIDs(ch)
	return nil
}

// FindSession returns the session with id.
func (s *Store) FindSession(ctx context.Context, id string) (*core.Session, error) {
	sess, err := s.findSession(ctx, findSessionSQL, id)
	if err != nil {
		return nil, fmt.Errorf("postgres: find session: %w", err)
	}
	return sess, nil
}

// FindSessionByPIN returns the session whose live PIN is pin.
func (s *Store) FindSessionByPIN(ctx context.Context, pin string) (*core.Session, error) {
	sess, err := s.findSession(ctx, findSessionByPINSQL, pin)
	if err != nil {
		return nil, fmt.Errorf("postgres: find session by pin: %w", err)
	}
	return sess, nil
}

func (s *Store) findSession(ctx context.Context, q, arg string) (*core.Session, error) {
	var sess *core.Session
	err := s.withConn(ctx, func(c *pgxpool.Conn) error {
		var err error
		sess, err = scanSession(c.QueryRow(ctx, q, arg))
		return err
	})
	return sess, noRows(err, "session")
}

// listedAt is the time sessions are listed by: their creation, with a
// session that has none (NULL) taken as created before any other, as the
// zero time is in core. Spelt as in the indexes sessions_listed and
// sessions_agent, the order and the bounds on it (Since, Until and the
// cursor) are all ranges of one index.
const listedAt = "COALESCE(created_at, '-infinity'::timestamptz)"

// findSessionsSQL returns the query of FindSessions for f, and its
// arguments.
//
// Several states (core.StateParts) are read as a page of each, newest
// first from sessions_state, and the page is the newest of those: read
// through sessions_listed instead, the console's last finished sessions
// walked past every newer live one.
func findSessionsSQL(f core.SessionFilter) (string, []any) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.ConversationID != "" {
		where = append(where, "conversation_id = "+arg(f.ConversationID))
	}
	var ctes []string
	if !f.ExpiresBefore.IsZero() {
		// Only live PINs expire, and a live session without an expiry
		// reads as expired already (core.Session.Current), as the zero
		// time is before any other.
		ctes = append(ctes, livePINsSQL("due", nil, "<", f.ExpiresBefore, arg))
		where = append(where, "id IN (SELECT id FROM due)")
	}
	if f.Agent != "" {
		where = append(where, "agent = "+arg(f.Agent))
	}
	if f.Channel != "" {
		where = append(where, "conversation_id IN (SELECT id FROM conversations WHERE customer_channel = "+arg(f.Channel)+")")
	}
	if !f.Since.IsZero() {
		where = append(where, listedAt+" >= "+arg(f.Since))
	}
	if !f.Until.IsZero() {
		where = append(where, listedAt+" < "+arg(f.Until))
	}
	if f.AfterID != "" {
		where = append(where, "("+listedAt+", id) < (COALESCE("+arg(ts(f.AfterCreatedAt))+"::timestamptz, '-infinity'), "+arg(f.AfterID)+")")
	}
	// The limit is written out, not bound: with it bound, PostgreSQL
	// cannot tell what a generic plan of a list of states costs, and
	// plans the query again on every call (half a millisecond, more
	// than reading the page).
	limit := strconv.Itoa(clampLimit(f.Limit))
	order := " ORDER BY " + listedAt + " DESC, id DESC LIMIT " + limit
	parts := core.StateParts(f)
	switch {
	case len(parts) > 0 && !f.ExpiresBefore.IsZero():
		// The sweeper's question: the due PINs (above) are few, and
		// the states only sift them.
		var conds []string
		for _, p := range parts {
			conds = append(conds, statePartSQL(p, f.AsOf, arg))
		}
		where = append(where, "("+strings.Join(conds, " OR ")+")")
	case len(parts) > 0:
		var pages []string
		for _, p := range parts {
			if p.Lapsed {
				ctes = append(ctes, livePINsSQL("lapsed", where, "<=", f.AsOf, arg))
				pages = append(pages, "(SELECT id, listed_at FROM lapsed ORDER BY listed_at DESC, id DESC LIMIT "+limit+")")
				continue
			}
			// Ordered by the state first, which the condition fixes, so
			// that only sessions_state gives this order: with a common
			// state, the planner would otherwise walk sessions_listed
			// past every newer session in another. A one-element array,
			// not "state = $n", for which the planner drops that key.
			pages = append(pages, "(SELECT id, "+listedAt+" AS listed_at FROM sessions WHERE "+
				strings.Join(append(slices.Clip(where), statePartSQL(p, f.AsOf, arg)), " AND ")+
				" ORDER BY state, "+listedAt+" DESC, id DESC LIMIT "+limit+")")
		}
		// The newest of the pages, by what sessions_state holds, before
		// any whole row is read.
		where = []string{"id IN (SELECT id FROM (" + strings.Join(pages, " UNION ALL ") +
			") p ORDER BY listed_at DESC, id DESC LIMIT " + limit + ")"}
	}
	q := "SELECT " + sessionCols + " FROM sessions"
	if len(ctes) > 0 {
		q = "WITH " + strings.Join(ctes, ", ") + " " + q
	}
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	return q + order, args
}

// statePartSQL is the condition of one part of the states asked for;
// arg binds its arguments. A stored state is read from sessions_state;
// the lapsed PINs, their zero expiry stored as NULL, are spelt as the
// partial index sessions_live_expiry.
func statePartSQL(p core.StatePart, asOf time.Time, arg func(any) string) string {
	switch {
	case p.Lapsed:
		return "state IN ('issued', 'sent') AND (pin_expires_at IS NULL OR pin_expires_at <= " + arg(asOf) + ")"
	case p.InLifetime:
		return "state = ANY(" + arg([]string{string(p.State)}) + "::text[]) AND pin_expires_at > " + arg(asOf)
	}
	return "state = ANY(" + arg([]string{string(p.State)}) + "::text[])"
}

// livePINsSQL is a common table expression, name, of the live PINs
// matching where whose lifetime ends before at (op "<") or by it ("<="),
// with their listing time as listed_at: few, and in no order an index
// keeps. MATERIALIZED keeps the planner from walking sessions_listed to
// find them (every session, when none is due), and each branch is a
// range of sessions_live_expiry, the zero expiry stored as NULL first.
func livePINsSQL(name string, where []string, op string, at time.Time, arg func(any) string) string {
	t := arg(at)
	branch := func(cond string) string {
		return "SELECT id, " + listedAt + " AS listed_at FROM sessions WHERE " +
			strings.Join(append(slices.Clip(where), "state IN ('issued', 'sent')", cond), " AND ")
	}
	return name + " AS MATERIALIZED (" + branch("pin_expires_at IS NULL") + " UNION ALL " +
		branch("pin_expires_at "+op+" "+t) + ")"
}

// FindSessions returns the sessions matching f, newest first.
func (s *Store) FindSessions(ctx context.Context, f core.SessionFilter) ([]*core.Session, error) {
	q, args := findSessionsSQL(f)
	var out []*core.Session
	err := s.withConn(ctx, func(c *pgxpool.Conn) error {
		rows, err := c.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		out, err = collect(rows, scanSession)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: find sessions: %w", err)
	}
	return out, nil
}
