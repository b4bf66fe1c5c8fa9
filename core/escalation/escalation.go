// Package escalation tells the desk about customers left waiting: a
// core.DuePolicy that escalates a customer waiting past each of a list of
// thresholds, and reminds the desk of a link the customer has not opened.
package escalation

import (
	"fmt"
	"strings"
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
	level, done := 0, 0
	for _, ev := range log {
		switch ev.Action {
		case core.ActionEscalate:
			// A sweep that finds several thresholds passed records the
			// highest alone: the levels below it are done too.
			done = max(done, recordedLevel(ev, done))
		case core.ActionSend:
			since = ev.At
		case core.ActionRemind:
			since = time.Time{} // this link's reminder is out
		}
	}
	n := core.Notice{Kind: core.NoticeReminder, State: s.State, Device: s.Device, Actor: s.Agent, Customer: core.CustomerLabel(c)}
	switch cur := s.Current(now); {
	case cur == core.StateWaiting:
		for level < len(x.After) && now.Sub(s.JoinedAt) >= x.After[level] {
			level++
		}
		if level <= done {
			return core.Due{}, false
		}
		n.Level, n.Final, n.Waited = level, level == len(x.After), now.Sub(s.JoinedAt).Truncate(time.Second)
		return core.Due{Action: core.ActionEscalate, Notice: n,
			Detail: fmt.Sprintf(levelDetail+", waited %s", level, len(x.After), n.Waited)}, true
	case cur == core.StateSent && x.Unopened > 0 && !since.IsZero() && now.Sub(since) >= x.Unopened:
		n.Waited = now.Sub(since).Truncate(time.Second)
		return core.Due{Action: core.ActionRemind, Notice: n, Detail: fmt.Sprintf("waited %s", n.Waited)}, true
	}
	return core.Due{}, false
}

// levelDetail starts an escalation event's detail: its level, of how many.
const levelDetail = "level %d of %d"

// recordedLevel is the level an escalation event records; one whose
// detail does not say is taken as the level after done.
func recordedLevel(ev core.Event, done int) int {
	var level, of int
	if _, err := fmt.Sscanf(strings.SplitN(ev.Detail, ",", 2)[0], levelDetail, &level, &of); err != nil || level < 1 {
		return done + 1
	}
	return level
}
