package console

import (
	"context"
	"time"

	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
)

const (
	// listConversations caps the open conversations the console lists.
	listConversations = 100
)

// convItem is one open conversation in the console's list.
type convItem struct {
	ID       string
	Customer string
	Channel  string
	Language string
	Desk     string // where agents follow it, when that is not the console
	Since    time.Time
}

// convView heads a conversation's page.
type convView struct {
	ID      string
	Heading string
	Open    bool
	// Reachable says whether the customer can be written to: a
	// conversation opened by the API may have no customer.
	Reachable bool
}

// lineView is one line of a transcript: a message either way, or a
// remote-support link sent to the customer.
type lineView struct {
	Kind   string // in, out, link
	Author string
	Text   string
	At     time.Time
	// A link line's URL, its label ("Desktop link"), PIN, delivery
	// status, and whether the customer can still use it.
	Link      string
	LinkLabel string
	PIN       string
	Status    string
	Valid     bool
	SessionID string
	// delivery is a link line's outbox entry.
	delivery *core.Delivery
}

// sessionLine is one session of a conversation.
type sessionLine struct {
	ID         string
	State      core.State
	StateLabel string
	Since      time.Time
}

// conversations lists the open conversations that have a customer, most
// recently active first, whatever channel they came from.
func (c *Console) conversations(ctx context.Context, v *view) ([]convItem, error) {
	list, err := c.engine.Conversations(ctx, core.ConversationFilter{State: core.ConversationOpen, Limit: listConversations})
	if err != nil {
		return nil, err
	}
	out := make([]convItem, 0, len(list))
	for _, conv := range list {
		if conv.Customer.IsZero() {
			continue
		}
		item := convItem{
			ID:       conv.ID,
			Customer: customerText(v, conv),
			Channel:  channelText(v, conv.Customer.Channel),
			Language: v.T("language." + c.catalog.Match(conv.Locale)),
			Since:    conv.UpdatedAt,
		}
		switch conv.Desk.Channel {
		case core.ChannelSlack, core.ChannelDiscord:
			item.Desk = v.T("console.conversations.desk_" + conv.Desk.Channel)
		}
		out = append(out, item)
	}
	return out, nil
}

// convHeader describes a conversation for its page.
func (c *Console) convHeader(v *view, conv *core.Conversation) *convView {
	return &convView{
		ID: conv.ID,
		Heading: v.T("desk.header", "channel", channelText(v, conv.Customer.Channel), "customer", customerText(v, conv),
			"language", v.T("language."+c.catalog.Match(conv.Locale))),
		Open:      conv.State == core.ConversationOpen,
		Reachable: !conv.Customer.IsZero(),
	}
}

// transcript returns a conversation's lines, oldest first: its messages
// and the links sent to its customer, with their sessions newest first.
func (c *Console) transcript(ctx context.Context, v *view, conv *core.Conversation) ([]lineView, []*core.Session, error) {
	tr, sessions, err := remote.Transcript(ctx, c.engine, conv)
	if err != nil {
		return nil, nil, err
	}
	lines := make([]lineView, 0, len(tr))
	for _, t := range tr {
		if m := t.Message; m != nil {
			lines = append(lines, lineView{Kind: t.Kind(), Author: m.Author, Text: m.Text, At: m.At})
			continue
		}
		d := t.Link.Delivery
		lines = append(lines, lineView{
			Kind:      t.Kind(),
			At:        d.CreatedAt,
			Link:      d.Notice.Link,
			LinkLabel: v.T("card." + string(d.Notice.LinkKind) + "_link"),
			PIN:       d.Notice.PIN,
			Status:    c.bot.DeliveryStatus(d, v.Lang),
			Valid:     t.Link.Session.Opens(d),
			SessionID: t.Link.Session.ID,
			delivery:  d,
		})
	}
	return lines, sessions, nil
}

// sessionLines lists a conversation's sessions for its page.
func sessionLines(v *view, sessions []*core.Session) []sessionLine {
	out := make([]sessionLine, 0, len(sessions))
	for _, s := range sessions {
		out = append(out, sessionLine{ID: s.ID, State: s.State, StateLabel: v.T("state." + string(s.State)), Since: s.UpdatedAt})
	}
	return out
}
