package postgres

import (
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/assistbot/assistbot/core"
)

// TestHotQueriesUseIndexes asks PostgreSQL how it runs the reads on the
// path of every /remote (the customer's open conversation, a PIN, a
// session, its log) and the retention's picks, once the tables hold tens
// of thousands of rows and the planner has statistics: none may read a
// whole table, or a command's cost would grow with the database.
func TestHotQueriesUseIndexes(t *testing.T) {
	st := openTest(t)
	now := core.SystemClock{}.Now()
	// 20000 conversations, one in ten still open; 40000 sessions, one in
	// twenty live, each with two events.
	c := seeded(t, st, now,
		`INSERT INTO conversations (id, customer_channel, customer_address, customer_name, desk_channel,
			desk_address, desk_thread, locale, state, created_at, updated_at, version)
			SELECT 'c' || i, 'sms', '+1555' || i, '', '', '', '', 'en',
				CASE WHEN i % 10 = 0 THEN 'open' ELSE 'closed' END,
				$1::timestamptz - i * interval '1 minute', $1::timestamptz - i * interval '1 minute', 1
			FROM generate_series(1, 20000) i`,
		`INSERT INTO sessions (id, conversation_id, provider, provider_ref, pin, pin_expires_at, desktop_url,
			mobile_url, manual_url, state, device, mode, agent, technician, locale, customer_key,
			created_at, updated_at, version)
			SELECT 's' || i, 'c' || (i % 20000 + 1), 'builtin', '', lpad(i::text, 6, '0'), NULL, '', '', '',
				CASE WHEN i % 20 = 0 THEN 'issued' ELSE 'ended' END, 'desktop', 'view', 'agent' || (i % 40), '', 'en', '',
				$1::timestamptz - i * interval '30 seconds', $1::timestamptz, 1
			FROM generate_series(1, 40000) i`,
		`INSERT INTO events (session_id, at, actor, action, from_state, to_state, detail)
			SELECT 's' || (i / 2 + 1), $1::timestamptz, 'agent', 'issue', '', 'issued', ''
			FROM generate_series(0, 79999) i`,
	)
	openList, openArgs := findConversationsSQL(core.ConversationFilter{State: core.ConversationOpen, Limit: 50})
	finishedList, finishedArgs := findSessionsSQL(core.SessionFilter{States: core.FinishedStates, AsOf: now, Limit: 10})
	for _, q := range []struct {
		name, sql string
		args      []any
		index     string // the index the rows must come out of, in order, when not ""
	}{
		{"find open conversation", findOpenConversationSQL, []any{"sms", "+15551230"}, ""},
		{"conversation exists", conversationExistsSQL, []any{"c77"}, ""},
		{"find session by pin", findSessionByPINSQL, []any{"001230"}, ""},
		{"find session", findSessionSQL, []any{"s77"}, ""},
		{"session exists", sessionExistsSQL, []any{"s77"}, ""},
		{"find events", findEventsSQL, []any{"s77"}, ""},
		{"find newest messages", findNewestMessagesSQL, []any{"c77", 0, 500}, ""}, // then sorts at most a page
		{"prune sessions", pruneSessionsSQL, []any{now.Add(-90 * 24 * time.Hour), 500}, "sessions_finished"},
		{"prune conversations", pruneConversationsSQL, []any{now.Add(-90 * 24 * time.Hour), 500}, "conversations_closed"},
		// Once the console's list walked every closed conversation newer
		// than the oldest open one: a second a page with a million.
		{"open conversations", openList, openArgs, "conversations_open_updated"},
		// The console's last finished sessions, as of now: a page of each
		// state (see TestStatesReadPastLiveSessions).
		{"finished sessions as of now", finishedList, finishedArgs, ""},
	} {
		text := explain(t, c, q.name, q.sql, q.args...)
		t.Logf("%s:\n%s", q.name, text)
		if strings.Contains(text, "Seq Scan") {
			t.Errorf("%s reads a whole table:\n%s", q.name, text)
		}
		if q.index != "" && (!strings.Contains(text, "Scan using "+q.index) && !strings.Contains(text, "Scan Backward using "+q.index) || strings.Contains(text, "Sort")) {
			t.Errorf("%s does not read its rows in order from %s:\n%s", q.name, q.index, text)
		}
	}
}

// seeded acquires a connection to st's database, runs each statement on
// it with now as $1, and gathers the planner's statistics of the tables
// they fill. The connection goes back to the pool when the test ends.
func seeded(t *testing.T, st *Store, now time.Time, stmts ...string) *pgxpool.Conn {
	t.Helper()
	ctx := t.Context()
	c, err := st.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Release)
	for _, q := range stmts {
		if _, err := c.Exec(ctx, q, now); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
	if _, err := c.Exec(ctx, "ANALYZE conversations, sessions, events"); err != nil {
		t.Fatal(err)
	}
	return c
}

// explain returns PostgreSQL's plan for the query called name, with args
// bound, a line a step.
func explain(t *testing.T, c *pgxpool.Conn, name, sql string, args ...any) string {
	t.Helper()
	rows, err := c.Query(t.Context(), "EXPLAIN "+sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return strings.Join(plan, "\n")
}
