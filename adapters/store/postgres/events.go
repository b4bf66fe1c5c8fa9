package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/assistbot/assistbot/core"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

const insertEventSQL = `INSERT INTO events (session_id, at, actor, action, from_state, to_state, detail)
	VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`

const findEventsSQL = `SELECT id, at, actor, action, from_state, to_state, detail
	FROM events WHERE session_id = $1 ORDER BY id`

// stmt is a statement and its arguments, to be sent in a batch.
type stmt struct {
	sql  string
	args []any
}

// batcher is a connection or a transaction.
type batcher interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// sendBatch sends stmts in one round trip. The last len(ids) statements
// each return an id, which it stores in ids; it returns the first
// failure, after which the server has run nothing more. Sent on a
// connection rather than in a transaction, the batch is a transaction of
// its own: the server commits it when the last statement succeeds and
// rolls all of it back when one fails.
func sendBatch(ctx context.Context, on batcher, stmts []stmt, ids []int64) error {
	if len(stmts) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, s := range stmts {
		b.Queue(s.sql, s.args...)
	}
	br := on.SendBatch(ctx, b)
	plain := len(stmts) - len(ids)
	for i := range stmts {
		var err error
		if i < plain {
			_, err = br.Exec()
		} else {
			err = br.QueryRow().Scan(&ids[i-plain])
		}
		if err != nil {
			br.Close()
			return err
		}
	}
	return br.Close()
}

// logWrite is the events and deliveries of a core.Change turned into
// statements, and the ids they get.
type logWrite struct {
	stmts []stmt
	ids   []int64 // of the events, then the deliveries, once inserted
}

// prepareLog checks ch and builds the statements of its events and
// deliveries, before any connection is taken.
func prepareLog(ch *core.Change) (*logWrite, error) {
	if ch == nil || ch.Session == nil {
		return nil, core.Errorf(core.CodeInvalid, "no session to save")
	}
	l := &logWrite{ids: make([]int64, len(ch.Events)+len(ch.Deliveries))}
	for i := range ch.Events {
		e := &ch.Events[i]
		// The contract files every event of a change under its session;
		// one naming another session would land in the wrong log.
		if e.SessionID != ch.Session.ID {
			return nil, core.Errorf(core.CodeInvalid, "event %d is for session %q, not %q", i, e.SessionID, ch.Session.ID)
		}
		l.stmts = append(l.stmts, stmt{insertEventSQL, []any{e.SessionID, ts(e.At), e.Actor,
			string(e.Action), string(e.From), string(e.To), e.Detail}})
	}
	for i, d := range ch.Deliveries {
		if d == nil {
			return nil, core.Errorf(core.CodeInvalid, "delivery %d is missing", i)
		}
		args, err := deliveryArgs(d)
		if err != nil {
			return nil, err
		}
		l.stmts = append(l.stmts, stmt{insertDeliverySQL, args})
	}
	return l, nil
}

// run sends first, then the events and deliveries, in one batch, and
// notes the ids these get.
func (l *logWrite) run(ctx context.Context, on batcher, first ...stmt) error {
	return sendBatch(ctx, on, append(append([]stmt(nil), first...), l.stmts...), l.ids)
}

// setIDs hands the ids the log got to the caller's change, once committed.
func (l *logWrite) setIDs(ch *core.Change) {
	for i := range ch.Events {
		ch.Events[i].ID = l.ids[i]
	}
	for i, d := range ch.Deliveries {
		d.ID = l.ids[len(ch.Events)+i]
	}
}

// FindEvents returns a session's event log, oldest first; an unknown
// session has an empty log.
func (s *Store) FindEvents(ctx context.Context, sessionID string) ([]core.Event, error) {
	var out []core.Event
	err := s.withConn(ctx, func(c *pgxpool.Conn) error {
		rows, err := c.Query(ctx, findEventsSQL, sessionID)
		if err != nil {
			return err
		}
		out, err = collect(rows, func(row pgx.Row) (core.Event, error) {
			e := core.Event{SessionID: sessionID}
			var at *time.Time
			var action, from, to string
			if err := row.Scan(&e.ID, &at, &e.Actor, &action, &from, &to, &e.Detail); err != nil {
				return e, err
			}
			e.At, e.Action, e.From, e.To = fromTS(at), core.Action(action), core.State(from), core.State(to)
			return e, nil
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: find events: %w", err)
	}
	return out, nil
}
