package postgres

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/core"
)

// TestListQueriesUseIndexes asks PostgreSQL how it runs the listings the
// API pages through, once sessions number in the tens of thousands and
// the planner has statistics: none may read the whole table, and those
// that an index holds in order (all, an agent's, between two times, after
// a cursor) must come out of it in order, reading only their page.
func TestListQueriesUseIndexes(t *testing.T) {
	st := openTest(t)
	now := core.SystemClock{}.Now()
	// 2000 conversations, nine in ten by SMS, one in a hundred by
	// Discord; 30000 sessions over a month, by 40 agents.
	c := seeded(t, st, now,
		`INSERT INTO conversations (id, customer_channel, customer_address, customer_name, desk_channel,
			desk_address, desk_thread, locale, state, created_at, updated_at, version)
			SELECT 'c' || i, CASE WHEN i % 100 = 0 THEN 'discord' WHEN i % 10 = 0 THEN 'web' ELSE 'sms' END,
				'+1555' || i, '', '', '', '', 'en', 'closed', $1::timestamptz, $1::timestamptz, 1
			FROM generate_series(1, 2000) i`,
		`INSERT INTO sessions (id, conversation_id, provider, provider_ref, pin, pin_expires_at, desktop_url,
			mobile_url, manual_url, state, device, mode, agent, technician, locale, customer_key,
			created_at, updated_at, version)
			SELECT md5(i::text), 'c' || (i % 2000 + 1), 'builtin', '', lpad(i::text, 6, '0'), NULL, '', '', '',
				'ended', 'desktop', 'view', 'agent' || (i % 40), '', 'en', '',
				$1::timestamptz - i * interval '90 seconds', $1::timestamptz, 1
			FROM generate_series(1, 30000) i`,
	)
	week := now.Add(-7 * 24 * time.Hour)
	cursor := func(f core.SessionFilter) core.SessionFilter {
		f.AfterCreatedAt, f.AfterID = now.Add(-3*24*time.Hour), "8f14e45fceea167a5a36dedd4bea2543"
		return f
	}
	for _, q := range []struct {
		name   string
		filter core.SessionFilter
		index  string // the index the page must come out of, in order; "" when a sort may follow
	}{
		{"all", core.SessionFilter{Limit: 100}, "sessions_listed"},
		{"after a cursor", cursor(core.SessionFilter{Limit: 100}), "sessions_listed"},
		{"since and until", core.SessionFilter{Since: week, Until: now, Limit: 100}, "sessions_listed"},
		{"agent", core.SessionFilter{Agent: "agent7", Limit: 100}, "sessions_agent"},
		{"agent after a cursor", cursor(core.SessionFilter{Agent: "agent7", Since: week, Limit: 100}), "sessions_agent"},
		{"a common channel", cursor(core.SessionFilter{Channel: "sms", Limit: 100}), ""},
		{"a rare channel", cursor(core.SessionFilter{Channel: "discord", Limit: 100}), ""},
		{"states", cursor(core.SessionFilter{States: []core.State{core.StateIssued, core.StateSent}, Limit: 100}), ""},
	} {
		sql, args := findSessionsSQL(q.filter)
		text := explain(t, c, q.name, sql, args...)
		t.Logf("%s:\n%s", q.name, text)
		if strings.Contains(text, "Seq Scan on sessions") {
			t.Errorf("%s reads every session:\n%s", q.name, text)
		}
		if q.index != "" && (!strings.Contains(text, "Index Scan using "+q.index) || strings.Contains(text, "Sort")) {
			t.Errorf("%s does not read its page in order from %s:\n%s", q.name, q.index, text)
		}
	}
}

// TestStatesReadPastLiveSessions: the console's last finished sessions
// were read through sessions_listed, newest first, past every newer live
// session; with twenty thousand live, a page cost 44 ms. Now each state is
// a page of sessions_state and the lapsed PINs a range of
// sessions_live_expiry: whatever the statistics say, the rows PostgreSQL
// reads and throws away must not grow with the live sessions in front.
func TestStatesReadPastLiveSessions(t *testing.T) {
	st := openTest(t)
	now := core.SystemClock{}.Now()
	// 6000 finished sessions, then 6000 live ones, newer, their PINs good
	// for an hour; a few of them lapsed.
	c := seeded(t, st, now,
		`INSERT INTO conversations (id, customer_channel, customer_address, customer_name, desk_channel,
			desk_address, desk_thread, locale, state, created_at, updated_at, version)
			VALUES ('c', 'sms', '+15550000', '', '', '', '', 'en', 'open', $1::timestamptz, $1::timestamptz, 1)`,
		`INSERT INTO sessions (id, conversation_id, provider, provider_ref, pin, pin_expires_at, desktop_url,
			mobile_url, manual_url, state, device, mode, agent, technician, locale, customer_key,
			created_at, updated_at, version)
			SELECT 's' || i, 'c', 'builtin', '', lpad(i::text, 6, '0'),
				CASE WHEN i <= 6000 THEN NULL WHEN i % 1000 = 0 THEN $1::timestamptz - interval '1 minute'
					ELSE $1::timestamptz + interval '1 hour' END, '', '', '',
				CASE WHEN i > 6000 THEN 'issued' WHEN i % 3 = 0 THEN 'closed' WHEN i % 3 = 1 THEN 'expired' ELSE 'ended' END,
				'desktop', 'view', 'agent', '', 'en', '',
				$1::timestamptz - (12000 - i) * interval '1 second', $1::timestamptz, 1
			FROM generate_series(1, 12000) i`,
	)
	for name, f := range map[string]core.SessionFilter{
		"finished as of now":     {States: core.FinishedStates, AsOf: now, Limit: 10},
		"ended":                  {States: []core.State{core.StateEnded}, Limit: 50},
		"an agent's two states":  {States: []core.State{core.StateEnded, core.StateClosed}, Agent: "agent", Limit: 50},
		"the sweeper's due PINs": {States: []core.State{core.StateIssued, core.StateSent}, ExpiresBefore: now, Limit: 6},
	} {
		sql, args := findSessionsSQL(f)
		text := explain(t, c, "EXPLAIN ANALYZE", "(ANALYZE, COSTS OFF) "+sql, args...)
		removed := 0
		for _, line := range strings.Split(text, "\n") {
			if _, n, ok := strings.Cut(line, "Rows Removed by Filter: "); ok {
				var k int
				fmt.Sscan(n, &k)
				removed += k
			}
		}
		t.Logf("%s:\n%s", name, text)
		if removed > 200 || strings.Contains(text, "Seq Scan") {
			t.Errorf("%s: read and threw away %d rows:\n%s", name, removed, text)
		}
		got, err := st.FindSessions(t.Context(), f)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range got {
			if f.ExpiresBefore.IsZero() && !slices.Contains(f.States, s.Current(now)) || !f.ExpiresBefore.IsZero() && !s.PINExpiresAt.Before(now) {
				t.Errorf("%s: got %s, %s", name, s.ID, s.Current(now))
			}
		}
		if len(got) != f.Limit {
			t.Errorf("%s: %d sessions, want %d", name, len(got), f.Limit)
		}
	}
}
