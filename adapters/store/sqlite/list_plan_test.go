package sqlite

import (
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
