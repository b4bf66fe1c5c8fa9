// Package escalation tells the desk about customers left waiting: a
// core.DuePolicy that escalates a customer waiting past each of a list of
// thresholds, and reminds the desk of a link the customer has not opened.
package escalation

import (
	"fmt"
	"time"

	"github.com/assistbot/assistbot/core"
)

// Policy says when the desk hears about a customer left waiting. After
// lists increasing thresholds on the time since the customer joined;
// Unopened, when set, is how long after a link was sent the desk is
// reminded that the customer has not opened it.
type Policy struct {
	After    []time.Duration
	Unopened time.Duration
}

// States implements core.DuePolicy: waiting customers, and links sent.
func (x Policy) States() []core.State {
	return []core.State{core.StateWaiting, core.StateSent}
}

// Due implements core.DuePolicy: the highest threshold the customer of s
// has passed, when no escalation as high was recorded yet, or the
// reminder of a link sent Unopened ago and not opened, once per link
// sent.
func (x Policy) Due(s *core.Session, c *core.Conversation, log []core.Event, now time.Time) (core.Due, bool) {
	var since time.Time
	done := 0
	for _, ev := range log {
		switch ev.Action {
		case core.ActionEscalate:
			// An escalation is of the thresholds passed when it was
			// recorded: a sweep that finds several passed records the
			// highest alone, and the levels below it are done too.
			done = max(done, x.passed(ev.At.Sub(s.JoinedAt)))
		case core.ActionSend:
			since = ev.At
		case core.ActionRemind:
			since = time.Time{} // this link's reminder is out
		}
	}
	n := core.Notice{Kind: core.NoticeReminder, State: s.State, Device: s.Device, Actor: s.Agent, Customer: core.CustomerLabel(c)}
	switch cur := s.Current(now); {
	case cur == core.StateWaiting:
		level := x.passed(now.Sub(s.JoinedAt))
		if level <= done {
			return core.Due{}, false
		}
		n.Level, n.Final, n.Waited = level, level == len(x.After), now.Sub(s.JoinedAt).Truncate(time.Second)
		return core.Due{Action: core.ActionEscalate, Notice: n,
			Detail: fmt.Sprintf("level %d of %d, waited %s", level, len(x.After), n.Waited)}, true
	case cur == core.StateSent && x.Unopened > 0 && !since.IsZero() && now.Sub(since) >= x.Unopened:
		n.Waited = now.Sub(since).Truncate(time.Second)
		return core.Due{Action: core.ActionRemind, Notice: n, Detail: fmt.Sprintf("waited %s", n.Waited)}, true
	}
	return core.Due{}, false
}

// passed is how many of the thresholds a customer waiting for waited has
// passed.
func (x Policy) passed(waited time.Duration) int {
	n := 0
	for n < len(x.After) && waited >= x.After[n] {
		n++
	}
	return n
}
