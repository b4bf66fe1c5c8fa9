package console

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/assistbot/assistbot/core"
)

// How many sessions the queue shows in its groups that can grow without
// bound; waiting and active sessions are all shown.
const (
	queuePending  = 50
	queueFinished = 10
	queueOpen     = 500
)

// queueGroup is one group of the queue: the sessions in one situation.
type queueGroup struct {
	Key   string // waiting, active, pending, finished
	Title string
	Empty string
	Rows  []queueRow
}

// queueRow is one session in the queue, with the buttons of its card.
type queueRow struct {
	ID             string
	ConversationID string
	State          core.State
	StateLabel     string
	Customer       string
	Channel        string
	Device         string
	Agent          string
	Technician     string
	Mode           string
	Since          time.Time
	// Escalated is how many escalation thresholds a waiting customer
	// has passed, and Final whether that is all of them.
	Escalated int
	Final     bool
	Notes     []string
	Buttons   []button
	// TechnicianURL and TechnicianLabel: the provider's link to the
	// customer's computer, for the technician who started the session.
	TechnicianURL   string
	TechnicianLabel string
}

// queue builds the queue: customers waiting (newest first, since they
// are the ones to hear about), sessions in progress, links not yet used,
// and the last few that finished.
func (c *Console) queue(ctx context.Context, v *view) ([]queueGroup, error) {
	open, err := c.engine.Sessions(ctx, core.SessionFilter{
		States: []core.State{core.StateIssued, core.StateSent, core.StateWaiting, core.StateActive}, Limit: queueOpen})
	if err != nil {
		return nil, err
	}
	finished, err := c.engine.Sessions(ctx, core.SessionFilter{
		States: []core.State{core.StateEnded, core.StateClosed, core.StateExpired}, Limit: queueFinished})
	if err != nil {
		return nil, err
	}
	groups := []queueGroup{
		{Key: "waiting", Title: v.T("console.queue.waiting"), Empty: v.T("console.queue.waiting_none")},
		{Key: "active", Title: v.T("console.queue.active"), Empty: v.T("console.queue.active_none")},
		{Key: "pending", Title: v.T("console.queue.pending"), Empty: v.T("console.queue.pending_none")},
		{Key: "finished", Title: v.T("console.queue.finished"), Empty: v.T("console.queue.finished_none")},
	}
	convs := map[string]*core.Conversation{}
	for _, s := range append(open, finished...) {
		g := &groups[groupOf(s.State)]
		if g.Key == "pending" && len(g.Rows) >= queuePending {
			continue
		}
		row, err := c.queueRow(ctx, v, s, convs)
		if err != nil {
			return nil, err
		}
		g.Rows = append(g.Rows, row)
	}
	for i := range groups {
		slices.SortStableFunc(groups[i].Rows, func(a, b queueRow) int { return b.Since.Compare(a.Since) })
	}
	return groups, nil
}

// groupOf returns the index of the queue group a session in state st
// belongs to.
func groupOf(st core.State) int {
	switch st {
	case core.StateWaiting:
		return 0
	case core.StateActive:
		return 1
	case core.StateIssued, core.StateSent:
		return 2
	}
	return 3
}

// queueRow describes session s. Waiting and active sessions carry their
// card's buttons and notes (why remote control is missing); the others
// are opened on their own page.
func (c *Console) queueRow(ctx context.Context, v *view, s *core.Session, convs map[string]*core.Conversation) (queueRow, error) {
	conv, err := c.conversation(ctx, s.ConversationID, convs)
	if err != nil {
		return queueRow{}, err
	}
	row := queueRow{
		ID:             s.ID,
		ConversationID: s.ConversationID,
		State:          s.State,
		StateLabel:     v.T("state." + string(s.State)),
		Customer:       customerText(v, conv),
		Channel:        channelText(v, conv.Customer.Channel),
		Device:         v.T("device." + string(cmp.Or(s.Device, core.DeviceUnknown))),
		Agent:          s.Agent,
		Technician:     s.Technician,
		Since:          cmp.Or(s.EndedAt, s.UpdatedAt),
	}
	switch s.State {
	case core.StateWaiting:
		row.Since = s.JoinedAt
		waited := c.clock.Now().Sub(s.JoinedAt)
		for row.Escalated < len(c.escalation) && waited >= c.escalation[row.Escalated] {
			row.Escalated++
		}
		row.Final = row.Escalated > 0 && row.Escalated == len(c.escalation)
	case core.StateActive:
		row.Since = s.StartedAt
		row.Mode = v.T("mode." + string(cmp.Or(s.Mode, core.ModeView)))
	case core.StateIssued, core.StateSent:
		// Nobody has opened the link yet: the device is not known.
		row.Since, row.Device = s.CreatedAt, ""
	}
	if s.State == core.StateWaiting || s.State == core.StateActive {
		card := c.bot.Card(ctx, s, conv, v.Lang)
		row.Notes, row.Buttons = card.Notes, c.buttons(v, s, card.Buttons)
		row.TechnicianURL, row.TechnicianLabel = technicianLink(v, s)
	}
	return row, nil
}

// conversation returns conversation id, through a cache shared by the
// rows of one page.
func (c *Console) conversation(ctx context.Context, id string, cache map[string]*core.Conversation) (*core.Conversation, error) {
	if conv, ok := cache[id]; ok {
		return conv, nil
	}
	conv, err := c.engine.Conversation(ctx, id)
	if err != nil {
		return nil, err
	}
	cache[id] = conv
	return conv, nil
}

// customerText names a conversation's customer for agents: the display
// name or the masked address, never a whole phone number.
func customerText(v *view, conv *core.Conversation) string {
	if label := core.CustomerLabel(conv); label != "" {
		return label
	}
	return v.T("console.no_customer")
}

// channelText names a customer channel ("SMS", "web chat").
func channelText(v *view, channel string) string {
	if channel == "" {
		return v.T("console.channel.none")
	}
	return v.T("channel." + channel)
}
