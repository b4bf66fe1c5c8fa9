package sqlite

import (
	"context"
	"database/sql/driver"
	"fmt"

	"github.com/assistbot/assistbot/adapters/store/sqlite/internal/rawsql"
	"github.com/assistbot/assistbot/core"
)

const insertEventSQL = `INSERT INTO events (session_seq, at, actor, action, from_state, to_state, detail)
	VALUES (?, ?, ?, ?, ?, ?, ?)`

const findEventsSQL = `SELECT id, at, actor, action, from_state, to_state, detail
	FROM events WHERE session_seq = (SELECT seq FROM sessions WHERE id = ?) ORDER BY id`

// eventArgs returns the arguments of insertEventSQL, with the session's
// seq left for the writer to fill in.
func eventArgs(e *core.Event) []driver.NamedValue {
	return rawsql.Named(nil, micros(e.At), e.Actor, string(e.Action),
		string(e.From), string(e.To), e.Detail)
}

// FindEvents returns a session's event log, oldest first; an unknown
// session has an empty log.
func (s *Store) FindEvents(ctx context.Context, sessionID string) ([]core.Event, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("sqlite: find events: %w", errClosed())
	}
	rows, err := s.r.findEvents.QueryContext(ctx, sessionID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: find events: %w", err)
	}
	defer rows.Close()
	var out []core.Event
	for rows.Next() {
		e := core.Event{SessionID: sessionID}
		var at int64
		var action, from, to string
		if err := rows.Scan(&e.ID, &at, &e.Actor, &action, &from, &to, &e.Detail); err != nil {
			return nil, fmt.Errorf("sqlite: find events: %w", err)
		}
		e.At, e.Action, e.From, e.To = fromMicros(at), core.Action(action), core.State(from), core.State(to)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: find events: %w", err)
	}
	return out, nil
}
