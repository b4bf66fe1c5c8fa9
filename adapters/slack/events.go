package slack

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/slack-go/slack/slackevents"

	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
)

// envelope is the outside of an Events API request; the inner event is
// read according to its type.
type envelope struct {
	Type      string          `json:"type"`
	Challenge string          `json:"challenge"`
	TeamID    string          `json:"team_id"`
	EventID   string          `json:"event_id"`
	Event     json.RawMessage `json:"event"`
	inner     string
}

// parseEvent reads an Events API body (over HTTP, or a Socket Mode
// envelope's payload).
func parseEvent(body []byte) (*envelope, error) {
	var ev envelope
	if err := json.Unmarshal(body, &ev); err != nil {
		return nil, errMalformed
	}
	switch ev.Type {
	case "url_verification":
		if ev.Challenge == "" {
			return nil, errMalformed
		}
	case "event_callback":
		var inner struct {
			Type string `json:"type"`
		}
		if len(ev.Event) == 0 || json.Unmarshal(ev.Event, &inner) != nil || inner.Type == "" {
			return nil, errMalformed
		}
		ev.inner = inner.Type
	case "":
		return nil, errMalformed
	}
	return &ev, nil
}

// errRetry asks Slack to deliver an event again: handling it failed in a
// way that may pass.
var errRetry = errors.New("slack: event not handled; Slack will retry")

// event handles a verified event callback. It returns errRetry when Slack
// should deliver the event again; retry is X-Slack-Retry-Num, for the log.
func (a *Adapter) event(ctx context.Context, ev *envelope, retry string) error {
	if ev.Type != "event_callback" {
		return nil
	}
	if !a.agents.team(ev.TeamID) {
		a.log.Warn("event from a workspace not in slack.allowed_teams", "team", ev.TeamID)
		return nil
	}
	if !a.seen.first(ev.EventID) {
		a.log.Debug("event seen before", "event_id", ev.EventID, "retry", retry)
		return nil
	}
	var err error
	switch ev.inner {
	case "message":
		err = a.message(ctx, ev)
	case "member_joined_channel", "member_left_channel":
		var m struct {
			User    string `json:"user"`
			Channel string `json:"channel"`
		}
		if json.Unmarshal(ev.Event, &m) == nil {
			if ev.inner == "member_joined_channel" {
				a.agents.joined(m.Channel, m.User)
			} else {
				a.agents.left(m.Channel, m.User)
			}
		}
	case "subteam_members_changed", "subteam_updated":
		a.agents.refreshSoon()
	}
	if err != nil {
		a.seen.forget(ev.EventID)
		a.log.Error("event", "event_id", ev.EventID, "retry", retry, "err", err)
		return errRetry
	}
	return nil
}

// message relays a message: an agent's reply in a conversation's desk
// thread goes to the customer, and a customer's DM to the app goes to the
// desk. Messages from bots (assistbot's own among them) and edits are not
// relayed.
func (a *Adapter) message(ctx context.Context, ev *envelope) error {
	var m slackevents.MessageEvent
	if err := json.Unmarshal(ev.Event, &m); err != nil {
		return nil
	}
	switch m.SubType {
	case "", "thread_broadcast", "file_share":
	default:
		return nil
	}
	if m.BotID != "" || m.User == "" || m.Channel == "" {
		return nil
	}
	text := strings.TrimSpace(plainText(m.Text))
	if text == "" {
		return nil
	}
	source := "slack:" + m.Channel + ":" + m.TimeStamp
	switch {
	case m.ChannelType == "im":
		return a.customerMessage(ctx, ev.TeamID, &m, text, source)
	case m.ThreadTimeStamp != "" && m.ThreadTimeStamp != m.TimeStamp:
		return a.agentReply(ctx, ev.TeamID, &m, text, source)
	}
	return nil
}

// agentReply relays an agent's reply in a desk thread to the customer.
// Threads that are not a relayed conversation's are ordinary chatter.
func (a *Adapter) agentReply(ctx context.Context, team string, m *slackevents.MessageEvent, text, source string) error {
	conv, err := a.engine.ConversationByThread(ctx, core.Endpoint{Channel: core.ChannelSlack, Address: m.Channel}, m.ThreadTimeStamp)
	switch core.ErrorCode(err) {
	case "":
	case core.CodeNotFound:
		return nil
	default:
		return err
	}
	ok, err := a.agents.allowed(ctx, team, m.User)
	if err != nil {
		return err
	}
	if !ok {
		a.log.Info("not relaying a thread reply from someone who is not an agent", "conversation_id", conv.ID, "user", m.User)
		return nil
	}
	name := a.people.get(ctx, m.User).name
	if name == "" {
		name = m.User
	}
	_, _, err = a.engine.AgentMessage(ctx, conv.ID, core.Actor{Kind: core.ActorAgent, Name: name}, text, source)
	switch remote.RelayOutcome(core.FromAgent, err) {
	case remote.RelayRetry:
		return err
	case remote.RelayRefused:
		// The customer cannot be reached (conversation closed, opted
		// out, channel off): the agent must know the reply went nowhere.
		msg := textView(a.bot.RelayRefusal(err, a.locale)).message()
		if err := a.ephemeral(ctx, m.Channel, m.User, m.ThreadTimeStamp, msg); err != nil {
			a.log.Warn("tell an agent a reply was not relayed", "conversation_id", conv.ID, "err", err)
		}
	}
	return nil
}

// customerMessage relays a Slack user's DM to the app into the desk, as a
// customer's message; agents writing to the app are not customers.
func (a *Adapter) customerMessage(ctx context.Context, team string, m *slackevents.MessageEvent, text, source string) error {
	if a.desk == "" || a.agents.open() {
		return nil
	}
	agent, err := a.agents.allowed(ctx, team, m.User)
	if err != nil {
		return err
	}
	if agent {
		return nil
	}
	p := a.people.get(ctx, m.User)
	_, _, err = a.engine.CustomerMessage(ctx, core.Inbound{
		Customer: core.Endpoint{Channel: core.ChannelSlack, Address: m.User},
		Name:     p.name,
		Text:     text,
		Source:   source,
		Locale:   p.locale,
		Desk:     core.Endpoint{Channel: core.ChannelSlack, Address: a.desk},
	})
	switch remote.RelayOutcome(core.FromCustomer, err) {
	case remote.RelayRetry:
		return err
	case remote.RelayRefused:
		a.log.Warn("relay a customer's message", "err", err)
	}
	return nil
}
