package sqlite

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/core"
)

// TestListQueriesUseIndexes asks SQLite how it runs the listings the API
// pages through: none may scan a whole table.
func TestListQueriesUseIndexes(t *testing.T) {
	db := planDB(t)
	now := core.SystemClock{}.Now()
	after := func(f core.SessionFilter) core.SessionFilter {
		f.AfterCreatedAt, f.AfterID = now, "coudqvtw23gercrujm3kcxaip2"
		return f
	}
	for name, f := range map[string]core.SessionFilter{
		"all":                  {},
		"after a cursor":       after(core.SessionFilter{}),
		"since and until":      {Since: now.Add(-time.Hour), Until: now},
		"agent":                after(core.SessionFilter{Agent: "alice"}),
		"channel":              after(core.SessionFilter{Channel: "sms"}),
		"states after":         after(core.SessionFilter{States: []core.State{core.StateIssued, core.StateSent}}),
		"agent, channel, time": after(core.SessionFilter{Agent: "alice", Channel: "web", Since: now.Add(-time.Hour)}),
	} {
		q, _ := findSessionsSQL(f)
		wantIndexed(t, db, "find sessions: "+name, q)
	}
}

// TestStatesReadByState: a list of several states, as the console's last
// finished sessions are, once walked sessions_created past every newer
// session in another state: with thousands of live sessions, the page of
// finished ones cost as much as reading them all. Each state must be read
// from sessions_state, and the PINs lapsed as of now from
// sessions_live_expiry.
func TestStatesReadByState(t *testing.T) {
	db := planDB(t)
	now := core.SystemClock{}.Now()
	for name, f := range map[string]core.SessionFilter{
		"finished as of now": {States: core.FinishedStates, AsOf: now, Limit: 10},
		"live as of now":     {States: []core.State{core.StateIssued, core.StateSent, core.StateWaiting}, AsOf: now},
		"two states, paged":  {States: []core.State{core.StateEnded, core.StateClosed}, AfterCreatedAt: now, AfterID: "x"},
	} {
		q, _ := findSessionsSQL(f)
		wantIndexed(t, db, name, q)
		plan := queryPlan(t, db, q, make([]any, strings.Count(q, "?"))...)
		if strings.Contains(plan, "sessions_created") {
			t.Errorf("%s walks sessions_created:\n%s", name, plan)
		}
		parts := core.StateParts(f)
		byState, lapsed := 0, 0
		for _, p := range parts {
			if p.Lapsed {
				lapsed++
			} else {
				byState++
			}
		}
		if n := strings.Count(plan, "INDEX sessions_state (state=?"); n != byState {
			t.Errorf("%s reads %d states from sessions_state, want %d:\n%s", name, n, byState, plan)
		}
		if n := strings.Count(plan, "USING INDEX sessions_live_expiry"); n != lapsed {
			t.Errorf("%s reads sessions_live_expiry %d times, want %d:\n%s", name, n, lapsed, plan)
		}
	}
}

// TestSweeperReadsDuePINs: the sweeper asks for the live sessions whose
// PIN is due; sessions_live_expiry holds the live PINs alone, by expiry,
// and must be what it reads, not every issued session.
func TestSweeperReadsDuePINs(t *testing.T) {
	db := planDB(t)
	q, _ := findSessionsSQL(core.SessionFilter{States: []core.State{core.StateIssued, core.StateSent},
		ExpiresBefore: core.SystemClock{}.Now(), Limit: 100})
	wantIndexed(t, db, "due PINs", q)
	if plan := queryPlan(t, db, q, make([]any, strings.Count(q, "?"))...); !strings.Contains(plan, "sessions_live_expiry") || strings.Contains(plan, "sessions_state") {
		t.Errorf("the due PINs are not read from sessions_live_expiry:\n%s", plan)
	}
}

// TestOneStateReadByState: a list of one state is left to the planner,
// which must pick sessions_state once it has statistics, not walk
// sessions_created past the newer sessions in other states, however
// common the state.
func TestOneStateReadByState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plan.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	seedReport(t, path, 5000) // finished sessions over 2025
	db := rawDB(t, path)
	for _, q := range []string{
		// 5000 live sessions, newer than all of those.
		`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
		INSERT INTO sessions (id, conversation_seq, provider, provider_ref, pin, pin_expires_at, desktop_url,
			mobile_url, manual_url, state, device, mode, agent, technician, locale, customer_key, created_at,
			updated_at, joined_at, started_at, ended_at, version)
		SELECT 'live-' || i, 1, 'builtin', '', printf('%010d', i), 9000000000000000, '', '', '', 'issued', '', '',
			'agent1', '', 'en', '', 2000000000000000 + i, 2000000000000000 + i, 0, 0, 0, 1
		FROM n`,
		`ANALYZE`,
	} {
		if _, err := db.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
	for name, f := range map[string]core.SessionFilter{
		"ended":            {States: []core.State{core.StateEnded}, Limit: 50},
		"ended, paged":     {States: []core.State{core.StateEnded}, AfterCreatedAt: time.Now(), AfterID: "x", Limit: 50},
		"issued as of now": {States: []core.State{core.StateIssued}, AsOf: time.Now(), Limit: 50},
	} {
		q, args := findSessionsSQL(f)
		if plan := queryPlan(t, db, q, args...); !strings.Contains(plan, "INDEX sessions_state (state=?") {
			t.Errorf("%s is not read from sessions_state:\n%s", name, plan)
		}
	}
}
