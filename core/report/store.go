package report

import (
	"context"
	"time"
)

// Group is what a report's rows are grouped by, within a period.
type Group string

// The groups. GroupNone puts all of a period's sessions in one row.
const (
	GroupNone       Group = ""
	GroupAgent      Group = "agent"      // Session.Agent
	GroupTechnician Group = "technician" // Session.Technician, "" before a start
	GroupChannel    Group = "channel"    // the customer's channel, "" for none
	GroupProvider   Group = "provider"   // Session.Provider
)

// Query asks for what became of the sessions issued in consecutive
// periods: period i holds the sessions whose issue event is at or after
// Periods[i] and before Periods[i+1].
type Query struct {
	Periods []time.Time // ascending, at least two
	Group   Group
}

// Row is what the event log says of the sessions of one period
// and group. Issued counts the sessions; LinksSent their send events;
// Joined, Started, Ended and Closed the sessions with such an event;
// Expired those whose last expiry no new code followed.
type Row struct {
	Period int // the index of the period's start in Query.Periods
	Group  string

	Issued, LinksSent, Joined, Started, Ended, Closed, Expired int

	// IssueToJoin spans the issue and join events of the joined sessions,
	// JoinToStart the join and start events of the started ones.
	IssueToJoin, JoinToStart Waits
}

// Waits are N durations' median and 90th percentile, interpolated
// between the two nearest as PostgreSQL's percentile_cont does and
// rounded to the microsecond; both zero when N is 0.
type Waits struct {
	N           int
	Median, P90 time.Duration
}

// Store is a store that computes reports from the event log.
// Report returns a row for each period and group with at least one
// session issued, by period and then group (bytewise).
type Store interface {
	Report(ctx context.Context, q Query) ([]Row, error)
}
