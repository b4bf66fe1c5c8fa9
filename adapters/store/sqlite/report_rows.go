package sqlite

import (
	"github.com/assistbot/assistbot/adapters/store/sqlite/internal/rawsql"
	"github.com/assistbot/assistbot/core"
)

// report_sessions holds a summary of each session for reports (see
// report.go). The writer keeps it in the transaction that writes the
// session or appends to its log, with the statements below: each writes
// one table, so SQLite needs no journal of its own for it inside the
// batch's transaction, which the triggers that kept it before did (see
// migration 0014).
const (
	// insertReportRowSQL: ?1 the session's seq, ?2 its agent, ?3 its
	// technician, ?4 its conversation's seq, ?5 its provider, ?6 when it
	// was issued (NULL if its first change logs no issue).
	insertReportRowSQL = `INSERT INTO report_sessions (session_seq, agent, technician, channel, provider, issued_at)
	VALUES (?1, ?2, ?3, (SELECT customer_channel FROM conversations WHERE seq = ?4), ?5, ?6)`

	// updateReportRowSQL copies what reports group by from the session
	// with seq ?1, as it now is, when any of it changed.
	updateReportRowSQL = `WITH now (agent, technician, provider, channel) AS (
		SELECT s.agent, s.technician, s.provider, c.customer_channel
		FROM sessions s JOIN conversations c ON c.seq = s.conversation_seq WHERE s.seq = ?1)
	UPDATE report_sessions SET (agent, technician, provider, channel) =
		(SELECT agent, technician, provider, channel FROM now)
	WHERE session_seq = ?1
		AND (agent, technician, provider, channel) IS NOT (SELECT agent, technician, provider, channel FROM now)`
)

// reportEventSQL is how an event of each action that reports count
// changes its session's row: ?1 is the session's seq, ?2 the event's time
// and ?3 its id. Each sets only its own columns, so that only an issue
// rewrites the entry of report_sessions_issued.
var reportEventSQL = map[core.Action]string{
	core.ActionIssue:      `UPDATE report_sessions SET issued_at = min(coalesce(issued_at, ?2), ?2) WHERE session_seq = ?1`,
	core.ActionSend:       `UPDATE report_sessions SET sent = sent + 1 WHERE session_seq = ?1`,
	core.ActionJoin:       `UPDATE report_sessions SET join_at = min(coalesce(join_at, ?2), ?2) WHERE session_seq = ?1`,
	core.ActionStart:      `UPDATE report_sessions SET start_at = min(coalesce(start_at, ?2), ?2) WHERE session_seq = ?1`,
	core.ActionEnd:        `UPDATE report_sessions SET ended = 1 WHERE session_seq = ?1`,
	core.ActionClose:      `UPDATE report_sessions SET closed = 1 WHERE session_seq = ?1`,
	core.ActionExpire:     `UPDATE report_sessions SET expired = max(expired, ?3) WHERE session_seq = ?1`,
	core.ActionRegenerate: `UPDATE report_sessions SET regenerated = max(regenerated, ?3) WHERE session_seq = ?1`,
}

// addReportRow starts the report row of s, just inserted with seq in the
// conversation with convSeq, by change ch: the row counts ch's issue
// events from the start, so that appendLog need not update it for them
// (appendLog's issueCounted), which would rewrite the row and move its
// entry in report_sessions_issued, on every /remote.
func (c *wconn) addReportRow(seq int64, s *core.Session, convSeq int64, ch *change) error {
	_, err := c.insReport.Run(rawsql.Named(seq, s.Agent, s.Technician, convSeq, s.Provider, ch.issuedAt()))
	return err
}

// updateReportRow brings the report row of the session with seq up to
// date after the session was updated.
func (c *wconn) updateReportRow(seq int64) error {
	_, err := c.updReport.Run(rawsql.Named(seq))
	return err
}

// reportEvent counts the event with id, of action, at at (in
// microseconds), in the report row of the session with seq. Actions that
// reports do not count change nothing.
func (c *wconn) reportEvent(seq int64, action core.Action, at any, id int64) error {
	st := c.reportEvents[action]
	if st == nil {
		return nil
	}
	_, err := st.Run(rawsql.Named(seq, at, id))
	return err
}
