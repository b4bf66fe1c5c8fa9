package coretest

import (
	"cmp"
	"context"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/report"
)

var _ report.Store = (*MemStore)(nil)

// Report implements report.Store, the plain way: it reads each
// session's log in Go.
func (m *MemStore) Report(ctx context.Context, q report.Query) ([]report.Row, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, core.Errorf(core.CodeUnavailable, "the store is closed")
	}
	if len(q.Periods) < 2 {
		return nil, core.Errorf(core.CodeInvalid, "a report needs at least one period")
	}
	logs := map[string][]core.Event{}
	for _, e := range m.events {
		logs[e.SessionID] = append(logs[e.SessionID], e)
	}
	type key struct {
		period int
		group  string
	}
	rows := map[key]*report.Row{}
	waits := map[key][2][]time.Duration{}
	for id, log := range logs {
		var issued, joined, started time.Time
		var expire, regenerate int
		counts := map[core.Action]int{}
		for i, e := range log {
			counts[e.Action]++
			switch {
			case e.Action == core.ActionIssue && issued.IsZero():
				issued = e.At
			case e.Action == core.ActionJoin && joined.IsZero():
				joined = e.At
			case e.Action == core.ActionStart && started.IsZero():
				started = e.At
			case e.Action == core.ActionExpire:
				expire = i + 1
			case e.Action == core.ActionRegenerate:
				regenerate = i + 1
			}
		}
		if counts[core.ActionIssue] == 0 || issued.Before(q.Periods[0]) || !issued.Before(q.Periods[len(q.Periods)-1]) {
			continue
		}
		// The period whose start is the last at or before the issue.
		p := sort.Search(len(q.Periods), func(i int) bool { return q.Periods[i].After(issued) }) - 1
		s := m.sessions[id]
		k := key{p, m.reportGroup(s, q.Group)}
		r := rows[k]
		if r == nil {
			r = &report.Row{Period: p, Group: k.group}
			rows[k] = r
		}
		r.Issued++
		r.LinksSent += counts[core.ActionSend]
		r.Joined += min(counts[core.ActionJoin], 1)
		r.Started += min(counts[core.ActionStart], 1)
		r.Ended += min(counts[core.ActionEnd], 1)
		r.Closed += min(counts[core.ActionClose], 1)
		if expire > regenerate {
			r.Expired++
		}
		w := waits[k]
		if counts[core.ActionJoin] > 0 {
			w[0] = append(w[0], joined.Sub(issued))
		}
		if counts[core.ActionJoin] > 0 && counts[core.ActionStart] > 0 {
			w[1] = append(w[1], started.Sub(joined))
		}
		waits[k] = w
	}
	out := make([]report.Row, 0, len(rows))
	for k, r := range rows {
		r.IssueToJoin, r.JoinToStart = Percentiles(waits[k][0]), Percentiles(waits[k][1])
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b report.Row) int {
		return cmp.Or(cmp.Compare(a.Period, b.Period), cmp.Compare(a.Group, b.Group))
	})
	return out, nil
}

func (m *MemStore) reportGroup(s core.Session, g report.Group) string {
	switch g {
	case report.GroupAgent:
		return s.Agent
	case report.GroupTechnician:
		return s.Technician
	case report.GroupProvider:
		return s.Provider
	case report.GroupChannel:
		return m.conversations[s.ConversationID].Customer.Channel
	}
	return ""
}

// Percentiles returns the median and 90th percentile of ds as
// report.Waits defines them: percentile_cont's linear interpolation,
// rounded to the microsecond.
func Percentiles(ds []time.Duration) report.Waits {
	if len(ds) == 0 {
		return report.Waits{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(p float64) time.Duration {
		r := p * float64(len(s)-1)
		lo := int(math.Floor(r))
		hi := min(lo+1, len(s)-1)
		us := float64(s[lo].Microseconds()) + (r-float64(lo))*float64(s[hi].Microseconds()-s[lo].Microseconds())
		return time.Duration(math.Round(us)) * time.Microsecond
	}
	return report.Waits{N: len(s), Median: at(0.5), P90: at(0.9)}
}
