package sqlite

import (
	"context"
	"database/sql/driver"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/assistbot/assistbot/adapters/store/sqlite/internal/groupcommit"
	"github.com/assistbot/assistbot/adapters/store/sqlite/internal/rawsql"
	"github.com/assistbot/assistbot/core"
)

// sessionCols are the columns of sessionFrom, in the order scanSession
// reads them.
const sessionCols = `s.id, c.id, s.provider, s.provider_ref, s.pin, s.pin_expires_at,
	s.desktop_url, s.mobile_url, s.manual_url, s.state, s.device, s.mode, s.agent,
	s.technician, s.locale, s.customer_key, s.origin, s.customer_url, s.technician_url,
	s.created_at, s.updated_at, s.joined_at, s.started_at, s.ended_at, s.version`

const sessionFrom = ` FROM sessions s` + conversationJoin

const conversationJoin = ` JOIN conversations c ON c.seq = s.conversation_seq`

// convSeq is the seq of the conversation whose id is bound, or NULL,
// which the NOT NULL constraint refuses, for an unknown one.
const convSeq = `(SELECT seq FROM conversations WHERE id = ?)`

// insertSessionSQL takes the conversation's seq, which the writer knows by
// then, rather than looking it up by id once more.
const insertSessionSQL = `INSERT INTO sessions (id, conversation_seq, provider,
	provider_ref, pin, pin_expires_at, desktop_url, mobile_url, manual_url, state,
	device, mode, agent, technician, locale, customer_key, origin, customer_url, technician_url,
	created_at, updated_at, joined_at, started_at, ended_at, version)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`

// updateSessionSQL returns the session's seq, for its events, when the
// version matched, and no row when it did not.
const updateSessionSQL = `UPDATE sessions SET conversation_seq = ` + convSeq + `,
	provider = ?, provider_ref = ?, pin = ?, pin_expires_at = ?, desktop_url = ?,
	mobile_url = ?, manual_url = ?, state = ?, device = ?, mode = ?, agent = ?,
	technician = ?, locale = ?, customer_key = ?, origin = ?, customer_url = ?, technician_url = ?,
	created_at = ?, updated_at = ?,
	joined_at = ?, started_at = ?, ended_at = ?, version = version + 1
	WHERE id = ? AND version = ?
	RETURNING seq`

const findSessionSQL = `SELECT ` + sessionCols + sessionFrom + ` WHERE s.id = ?`

const findSessionByPINSQL = `SELECT ` + sessionCols + sessionFrom + ` WHERE s.live_pin = ?`

// sessionInsertArgs returns the arguments of insertSessionSQL, with the
// conversation's seq left for the writer to fill in.
func sessionInsertArgs(s *core.Session) []driver.NamedValue {
	return rawsql.Named(s.ID, nil, s.Provider, s.ProviderRef, s.PIN, micros(s.PINExpiresAt),
		s.DesktopURL, s.MobileURL, s.ManualURL, string(s.State), string(s.Device),
		string(s.Mode), s.Agent, s.Technician, s.Locale, s.CustomerKey, s.Origin, s.CustomerURL, s.TechnicianURL,
		micros(s.CreatedAt), micros(s.UpdatedAt), micros(s.JoinedAt),
		micros(s.StartedAt), micros(s.EndedAt))
}

// sessionUpdateArgs returns the arguments of updateSessionSQL.
func sessionUpdateArgs(s *core.Session) []driver.NamedValue {
	return rawsql.Named(s.ConversationID, s.Provider, s.ProviderRef, s.PIN, micros(s.PINExpiresAt),
		s.DesktopURL, s.MobileURL, s.ManualURL, string(s.State), string(s.Device),
		string(s.Mode), s.Agent, s.Technician, s.Locale, s.CustomerKey, s.Origin, s.CustomerURL, s.TechnicianURL,
		micros(s.CreatedAt), micros(s.UpdatedAt), micros(s.JoinedAt),
		micros(s.StartedAt), micros(s.EndedAt), s.ID, int64(s.Version))
}

// sessionErr gives the constraint violations of a session write their
// meaning for callers.
func sessionErr(err error, id string) error {
	switch constraintOf(err) {
	case livePIN:
		return core.ErrPINInUse
	case duplicateID:
		return core.Errorf(core.CodeConflict, "session %s already exists", id)
	case missingRef:
		return notFound("conversation")
	}
	return err
}

// CreateSession inserts ch.Session with Version 1, and ch.Conversation,
// ch.Events and ch.Deliveries with it, in one transaction.
func (s *Store) CreateSession(ctx context.Context, ch *core.Change) error {
	if s.closed.Load() {
		return fmt.Errorf("sqlite: create session: %w", errClosed())
	}
	c, err := prepareChange(ch)
	if err != nil {
		return fmt.Errorf("sqlite: create session: %w", err)
	}
	var convID string
	var conv []driver.NamedValue
	if ch.Conversation != nil {
		convID, conv = ch.Conversation.ID, conversationArgs(ch.Conversation)
	}
	id, args := ch.Session.ID, sessionInsertArgs(ch.Session)
	refID := ch.Session.ConversationID
	pin, live := ch.Session.PIN, ch.Session.State.PINLive()
	newConv := ch.Conversation
	err = s.w.Do(ctx, func(w *wconn) error {
		// The constraints are checked before anything is written, so that
		// the usual failures (a PIN collision under load) refuse this
		// request alone instead of spoiling the writes batched with it.
		if live {
			if taken, err := w.pinTaken.Exists(pin, id); err != nil {
				return err
			} else if taken {
				return groupcommit.Refuse(core.ErrPINInUse)
			}
		}
		if newConv != nil && newConv.State == core.ConversationOpen && !newConv.Customer.IsZero() {
			if taken, err := w.openTaken.Exists(newConv.Customer.Channel, newConv.Customer.Address, newConv.ID); err != nil {
				return err
			} else if taken {
				return groupcommit.Refuse(core.ErrOpenConversation)
			}
		}
		var convSeq int64
		var err error
		if conv != nil && convID == refID {
			convSeq, err = w.insertConversation(convID, conv)
		} else {
			if conv != nil {
				if _, err := w.insertConversation(convID, conv); err != nil {
					return err
				}
			}
			convSeq, err = w.conversationSeq(refID)
		}
		if err != nil {
			return err
		}
		args[1].Value = convSeq
		res, err := w.insSession.Run(args)
		if err != nil {
			return sessionErr(err, id)
		}
		seq, err := res.LastInsertId()
		if err != nil {
			return err
		}
		if err := w.addReportRow(seq, ch.Session, convSeq, c); err != nil {
			return err
		}
		return c.appendLog(w, seq, true)
	})
	if err != nil {
		return fmt.Errorf("sqlite: create session: %w", err)
	}
	if ch.Conversation != nil {
		ch.Conversation.Version = 1
	}
	ch.Session.Version = 1
	c.setIDs(ch)
	return nil
}

// UpdateSession saves ch.Session if its Version is the stored one, bumps
// it, and appends ch.Events and ch.Deliveries, in one transaction.
func (s *Store) UpdateSession(ctx context.Context, ch *core.Change) error {
	if s.closed.Load() {
		return fmt.Errorf("sqlite: update session: %w", errClosed())
	}
	c, err := prepareChange(ch)
	if err != nil {
		return fmt.Errorf("sqlite: update session: %w", err)
	}
	id, args := ch.Session.ID, sessionUpdateArgs(ch.Session)
	pin, live := ch.Session.PIN, ch.Session.State.PINLive()
	err = s.w.Do(ctx, func(w *wconn) error {
		if live {
			if taken, err := w.pinTaken.Exists(pin, id); err != nil {
				return err
			} else if taken {
				return groupcommit.Refuse(core.ErrPINInUse)
			}
		}
		seq, ok, err := w.updSession.Returning(args)
		if err != nil {
			return sessionErr(err, id)
		}
		if !ok {
			// The update matched no row, so it wrote nothing.
			if ok, err := w.sessExists.Exists(id); err != nil {
				return err
			} else if !ok {
				return groupcommit.Refuse(notFound("session"))
			}
			return groupcommit.Refuse(core.ErrVersion)
		}
		if err := w.updateReportRow(seq); err != nil {
			return err
		}
		return c.appendLog(w, seq, false)
	})
	if err != nil {
		return fmt.Errorf("sqlite: update session: %w", err)
	}
	ch.Session.Version++
	c.setIDs(ch)
	return nil
}

// FindSession returns the session with id.
func (s *Store) FindSession(ctx context.Context, id string) (*core.Session, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("sqlite: find session: %w", errClosed())
	}
	sess, err := scanSession(s.r.findSession.QueryRowContext(ctx, id))
	if err != nil {
		return nil, fmt.Errorf("sqlite: find session: %w", noRows(err, "session"))
	}
	return sess, nil
}

// FindSessionByPIN returns the session whose live PIN is pin.
func (s *Store) FindSessionByPIN(ctx context.Context, pin string) (*core.Session, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("sqlite: find session by pin: %w", errClosed())
	}
	sess, err := scanSession(s.r.findSessionByPIN.QueryRowContext(ctx, pin))
	if err != nil {
		return nil, fmt.Errorf("sqlite: find session by pin: %w", noRows(err, "session"))
	}
	return sess, nil
}

// FindSessions returns the sessions matching f, newest first.
func (s *Store) FindSessions(ctx context.Context, f core.SessionFilter) ([]*core.Session, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("sqlite: find sessions: %w", errClosed())
	}
	q, args := findSessionsSQL(f)
	rows, err := s.r.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: find sessions: %w", err)
	}
	defer rows.Close()
	var out []*core.Session
	for rows.Next() {
		sess, err := scanSession(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: find sessions: %w", err)
		}
		out = append(out, sess)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: find sessions: %w", err)
	}
	return out, nil
}

// findSessionsSQL returns the query of FindSessions for f, and its
// arguments. A time is stored in microseconds and the zero time as 0, so
// a session without a creation time comes last, as in core.
//
// Several states (core.StateParts) are read as a page of each, newest
// first from sessions_state, and the page is the newest of those: read
// through sessions_created instead, the console's last finished sessions
// walked past every newer live one.
func findSessionsSQL(f core.SessionFilter) (string, []any) {
	var where []string
	var args []any
	if f.ConversationID != "" {
		where = append(where, "s.conversation_seq = "+convSeq)
		args = append(args, f.ConversationID)
	}
	if !f.ExpiresBefore.IsZero() {
		// Spelt as in the partial index sessions_live_expiry, which the
		// query reads (below).
		where = append(where, "s.live_pin IS NOT NULL AND s.pin_expires_at < ?")
		args = append(args, micros(f.ExpiresBefore))
	}
	if f.Agent != "" {
		where = append(where, "s.agent = ?")
		args = append(args, f.Agent)
	}
	join := ""
	if f.Channel != "" {
		join = conversationJoin
		where = append(where, "c.customer_channel = ?")
		args = append(args, f.Channel)
	}
	if !f.Since.IsZero() {
		where = append(where, "s.created_at >= ?")
		args = append(args, micros(f.Since))
	}
	if !f.Until.IsZero() {
		where = append(where, "s.created_at < ?")
		args = append(args, micros(f.Until))
	}
	if f.AfterID != "" {
		// A row value: the index (created_at, id) serves it as a range.
		where = append(where, "(s.created_at, s.id) < (?, ?)")
		args = append(args, micros(f.AfterCreatedAt), f.AfterID)
	}
	const order = " ORDER BY s.created_at DESC, s.id DESC LIMIT ?"
	limit := clampLimit(f.Limit)
	parts := core.StateParts(f)
	switch {
	case !f.ExpiresBefore.IsZero() && len(parts) > 0:
		// The sweeper's question, read from sessions_live_expiry (see
		// below) whatever the states.
		var conds []string
		for _, p := range parts {
			cond, cargs := statePartSQL(p, f.AsOf)
			conds, args = append(conds, cond), append(args, cargs...)
		}
		where = append(where, "("+strings.Join(conds, " OR ")+")")
	case len(parts) == 1:
		cond, cargs := statePartSQL(parts[0], f.AsOf)
		where, args = append(where, cond), append(args, cargs...)
	case len(parts) > 1:
		var pages []string
		var pageArgs []any
		for _, p := range parts {
			cond, cargs := statePartSQL(p, f.AsOf)
			table := " FROM sessions s"
			if p.Lapsed {
				// Few, and in no order: sessions_created would walk
				// every session to find them.
				table += " INDEXED BY sessions_live_expiry"
			}
			pages = append(pages, "SELECT * FROM (SELECT s.seq, s.created_at, s.id"+table+join+" WHERE "+
				strings.Join(append(slices.Clip(where), cond), " AND ")+order+")")
			pageArgs = append(append(append(pageArgs, args...), cargs...), limit)
		}
		// The newest of the pages, by what sessions_state holds, before
		// any whole row is read.
		where = []string{"s.seq IN (SELECT seq FROM (" + strings.Join(pages, " UNION ALL ") +
			") ORDER BY created_at DESC, id DESC LIMIT ?)"}
		args = append(pageArgs, limit)
	}
	from := sessionFrom
	if !f.ExpiresBefore.IsZero() {
		// The due PINs are few; sessions_created would walk every
		// session, newest first, to find them.
		from = " FROM sessions s INDEXED BY sessions_live_expiry" + conversationJoin
	}
	q := "SELECT " + sessionCols + from
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	return q + order, append(args, limit)
}

// statePartSQL is the condition of one part of the states asked for,
// and its arguments. Each is spelt so that an index serves it: a stored
// state by sessions_state, in creation order; the lapsed PINs as in the
// partial index sessions_live_expiry.
func statePartSQL(p core.StatePart, asOf time.Time) (string, []any) {
	switch {
	case p.Lapsed:
		return "s.live_pin IS NOT NULL AND s.pin_expires_at <= ?", []any{micros(asOf)}
	case p.InLifetime:
		return "s.state = ? AND s.pin_expires_at > ?", []any{string(p.State), micros(asOf)}
	}
	return "s.state = ?", []any{string(p.State)}
}

func scanSession(sc scanner) (*core.Session, error) {
	var s core.Session
	var state, device, mode string
	var expires, created, updated, joined, started, ended int64
	err := sc.Scan(&s.ID, &s.ConversationID, &s.Provider, &s.ProviderRef, &s.PIN, &expires,
		&s.DesktopURL, &s.MobileURL, &s.ManualURL, &state, &device, &mode, &s.Agent,
		&s.Technician, &s.Locale, &s.CustomerKey, &s.Origin, &s.CustomerURL, &s.TechnicianURL, &created, &updated, &joined, &started,
		&ended, &s.Version)
	if err != nil {
		return nil, err
	}
	s.State, s.Device, s.Mode = core.State(state), core.Device(device), core.Mode(mode)
	s.PINExpiresAt, s.CreatedAt, s.UpdatedAt = fromMicros(expires), fromMicros(created), fromMicros(updated)
	s.JoinedAt, s.StartedAt, s.EndedAt = fromMicros(joined), fromMicros(started), fromMicros(ended)
	return &s, nil
}

// change is a core.Change turned into statement arguments, in the caller's
// goroutine, so that the writer only executes.
type change struct {
	conv       []driver.NamedValue // nil when there is no conversation to create
	session    []driver.NamedValue
	events     [][]driver.NamedValue
	actions    []core.Action // of the events, for their report rows
	deliveries [][]driver.NamedValue
	ids        []int64 // of the events, then the deliveries, once inserted
}

// prepareChange checks ch and builds the arguments of its events and
// deliveries.
func prepareChange(ch *core.Change) (*change, error) {
	if ch == nil || ch.Session == nil {
		return nil, core.Errorf(core.CodeInvalid, "no session to save")
	}
	c := &change{
		events:     make([][]driver.NamedValue, len(ch.Events)),
		actions:    make([]core.Action, len(ch.Events)),
		deliveries: make([][]driver.NamedValue, len(ch.Deliveries)),
		ids:        make([]int64, len(ch.Events)+len(ch.Deliveries)),
	}
	for i := range ch.Events {
		e := &ch.Events[i]
		// Events are stored under the session's seq, not the id they
		// carry: one naming another session would end up in the wrong log.
		if e.SessionID != ch.Session.ID {
			return nil, core.Errorf(core.CodeInvalid, "event %d is for session %q, not %q", i, e.SessionID, ch.Session.ID)
		}
		c.events[i], c.actions[i] = eventArgs(e), e.Action
	}
	for i, d := range ch.Deliveries {
		if d == nil {
			return nil, core.Errorf(core.CodeInvalid, "delivery %d is missing", i)
		}
		args, err := deliveryArgs(d)
		if err != nil {
			return nil, err
		}
		c.deliveries[i] = args
	}
	return c, nil
}

// appendLog inserts the change's events, under the session with seq, and
// its deliveries, and notes their ids. issueCounted says the session's
// report row already counts the change's issue events (addReportRow).
func (c *change) appendLog(w *wconn, seq int64, issueCounted bool) error {
	for i, args := range c.events {
		args[0].Value = seq
		res, err := w.insEvent.Run(args)
		if err != nil {
			return err
		}
		if c.ids[i], err = res.LastInsertId(); err != nil {
			return err
		}
		if issueCounted && c.actions[i] == core.ActionIssue {
			continue
		}
		if err := w.reportEvent(seq, c.actions[i], args[1].Value, c.ids[i]); err != nil {
			return err
		}
	}
	for i, args := range c.deliveries {
		id, err := w.insertDelivery(args)
		if err != nil {
			return err
		}
		c.ids[len(c.events)+i] = id
	}
	return nil
}

// issuedAt returns the time (in microseconds) of the change's first issue
// event, as the report row's issued_at, or nil if it logs none.
func (c *change) issuedAt() any {
	var first int64
	found := false
	for i, args := range c.events {
		if at := args[1].Value.(int64); c.actions[i] == core.ActionIssue && (!found || at < first) {
			first, found = at, true
		}
	}
	if !found {
		return nil
	}
	return first
}

// setIDs hands the ids the log got to the caller's change, once committed.
func (c *change) setIDs(ch *core.Change) {
	for i := range ch.Events {
		ch.Events[i].ID = c.ids[i]
	}
	for i, d := range ch.Deliveries {
		d.ID = c.ids[len(ch.Events)+i]
	}
}
