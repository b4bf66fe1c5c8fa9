package slack

import (
	"context"
	"errors"
	"strings"

	slackapi "github.com/slack-go/slack"

	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
)

// issued is the outcome of issuing a PIN for a command or a button.
type issued struct {
	s    *core.Session
	conv *core.Conversation
	err  error
	// fresh means the session was just issued and nothing was sent yet.
	fresh bool
}

// command handles a verified slash command and returns the message to
// answer it with (always ephemeral), appended to dst. The card is the
// answer itself: no Web API call is made before answering, and the
// customer is read from the command's text (Slack escapes a mention as
// <@U123|name>). If issuing takes longer than Slack waits, interim is
// called with a holding answer, answered is true, and the card follows
// through the command's response_url.
func (a *Adapter) command(ctx context.Context, c *slackapi.SlashCommand, dst []byte, interim func(message)) (msg message, answered bool) {
	name := c.Command
	if name == "" {
		name = a.cmdName
	}
	ok, err := a.agents.allowed(ctx, c.TeamID, c.UserID)
	switch {
	case err != nil:
		a.log.Warn("slash command: agents unknown", "err", err)
		return a.ephemeralText(dst, a.t("slack.agents_unknown")), false
	case !a.agents.team(c.TeamID):
		a.log.Warn("slash command from a workspace not in slack.allowed_teams", "team", c.TeamID)
		return a.ephemeralText(dst, a.t("slack.team_refused")), false
	case !ok:
		return a.ephemeralText(dst, a.t("error.not_agent")), false
	}
	cmd, ok := remote.ParseCommand(c.Text)
	switch {
	case !ok:
		return a.ephemeralText(dst, a.t("command.usage", "command", name)), false
	case cmd.Help:
		return a.ephemeralText(dst, a.t("command.help", "command", name)+"\n"+a.t("command.usage", "command", name)), false
	}
	req, refusal, here := a.commandRequest(c, cmd, name)
	if refusal != "" {
		return a.ephemeralText(dst, refusal), false
	}
	// The work outlives the request when Slack has been answered first.
	ctx = context.WithoutCancel(ctx)
	var res issued
	late := a.ackBy(func() { interim(a.ephemeralText(nil, a.t("slack.issuing"))) },
		func() {
			if here {
				// Only then does the command cost a Web API call.
				if refusal = a.channelCustomer(ctx, c, &req, name); refusal != "" {
					return
				}
			}
			res = a.issue(ctx, req, core.LinkKind(cmd.Device))
		})
	switch {
	case refusal != "" && late:
		if err := a.respond(ctx, c.ResponseURL, replaceOriginal, escape(refusal), nil); err != nil {
			a.log.Error("slash command: answer late", "err", err)
		}
		return message{}, true
	case refusal != "":
		return a.ephemeralText(dst, refusal), false
	case late:
		// Slack was told "getting a PIN…": the card replaces that.
		msg := a.issuedMessage(ctx, nil, res, c.ChannelID, c.ResponseURL, cmd.Phone, cmd.Target)
		if err := a.respond(ctx, c.ResponseURL, replaceOriginal, msg.text, msg.blocks); err != nil {
			a.log.Error("slash command: deliver the card late", "err", err)
		}
		return message{}, true
	}
	return a.issuedMessage(ctx, dst, res, c.ChannelID, c.ResponseURL, cmd.Phone, cmd.Target), false
}

// commandRequest reads who the customer is from a command's text. A
// non-empty refusal is the answer instead. here means the command named
// nobody, in a channel that may be the customer's: channelCustomer says.
func (a *Adapter) commandRequest(c *slackapi.SlashCommand, cmd remote.Command, name string) (req core.Request, refusal string, here bool) {
	req = core.Request{Desk: a.deskFor(c.ChannelID, c.UserID), Agent: agentName(c.UserName, c.UserID)}
	switch {
	case cmd.Phone:
		if !a.sms {
			return req, a.t("slack.sms_disabled", "number", cmd.Target, "command", name), false
		}
		req.Customer = core.Endpoint{Channel: core.ChannelSMS, Address: cmd.Target}
	case cmd.Target != "":
		id, who, ok := mention(cmd.Target)
		if !ok {
			return req, a.t("slack.mention_hint", "name", cmd.Target, "command", name), false
		}
		req.Customer, req.CustomerName = core.Endpoint{Channel: core.ChannelSlack, Address: id}, who
	case c.ChannelID == a.desk:
		return req, a.t("slack.use_thread_button", "command", name), false
	case strings.HasPrefix(c.ChannelID, "D"):
		// A direct message does not say who the other person is, and the
		// app cannot read it: Slack shows an app only the DMs it is in
		// (im:read), and a DM between an agent and a customer is not one.
		return req, a.t("slack.dm_needs_mention", "command", name), false
	default:
		return req, "", true
	}
	return req, "", false
}

// channelCustomer makes the channel a command was typed in the customer
// of req, when it can be one: a channel shared with another organisation
// (Slack Connect), where the customer reads what the app posts. Any other
// channel is the agents' own, and the answer (returned) explains how to
// name the customer; so does a channel Slack will not describe.
func (a *Adapter) channelCustomer(ctx context.Context, c *slackapi.SlashCommand, req *core.Request, name string) string {
	r, err := a.rooms.get(ctx, c.ChannelID)
	if err != nil {
		var se slackapi.SlackErrorResponse
		if errors.As(err, &se) && se.Err == "channel_not_found" {
			// A private channel the app is not in: it could not post the
			// links there either.
			return a.t("slack.reason.not_in_channel")
		}
		a.log.Warn("slash command: read the channel from Slack", "slack_channel", c.ChannelID, "err", err)
		return a.t("slack.channel_unknown", "command", name)
	}
	switch {
	case !r.external:
		return a.t("command.usage", "command", name)
	case !r.member:
		return a.t("slack.reason.not_in_channel")
	}
	// The customer is this channel: links are posted in it. The desk
	// alerts are for agents only: without a desk channel they go to the
	// agent's DM, never into a channel the customer's organisation reads.
	req.Customer = core.Endpoint{Channel: core.ChannelSlack, Address: c.ChannelID}
	if a.desk == "" {
		req.Desk = core.Endpoint{Channel: core.ChannelSlack, Address: c.UserID}
	}
	if c.ChannelName != "" && c.ChannelName != "privategroup" {
		req.CustomerName = "#" + c.ChannelName
	}
	return ""
}

// deskFor is where the desk alerts of a new conversation go: the desk
// channel, else the channel the agent is in, else (in a DM) the agent's
// own DM with the app.
func (a *Adapter) deskFor(channel, user string) core.Endpoint {
	switch {
	case a.desk != "":
		return core.Endpoint{Channel: core.ChannelSlack, Address: a.desk}
	case strings.HasPrefix(channel, "D"):
		return core.Endpoint{Channel: core.ChannelSlack, Address: user}
	}
	return core.Endpoint{Channel: core.ChannelSlack, Address: channel}
}

// agentName names an agent in the session's log: the Slack user name,
// else the user ID.
func agentName(name, id string) string {
	if name != "" {
		return name
	}
	return id
}

// issue issues a PIN for req and, when the agent named a link, sends it.
func (a *Adapter) issue(ctx context.Context, req core.Request, send core.LinkKind) issued {
	s, conv, err := a.engine.Issue(ctx, req)
	if err != nil {
		return issued{err: err}
	}
	if send.Valid() {
		actor := core.Actor{Kind: core.ActorAgent, Name: req.Agent}
		sent, _, err := a.engine.Send(ctx, s.ID, actor, send)
		if err != nil {
			return issued{s: s, conv: conv, err: err}
		}
		s = sent
	}
	return issued{s: s, conv: conv, fresh: !send.Valid()}
}

// issuedMessage renders the outcome of issue for the agent, appended to
// dst: the card, or why there is none. A card shown through responseURL
// is followed from now on.
func (a *Adapter) issuedMessage(ctx context.Context, dst []byte, res issued, channel, responseURL string, phone bool, target string) message {
	if res.s == nil {
		return a.ephemeralText(dst, a.issueError(res.err, phone, target))
	}
	var msg message
	if res.fresh {
		msg = a.freshCard(dst, res.s, res.conv, channel)
	} else {
		msg = a.cardMessage(ctx, dst, res.s, res.conv, channel)
	}
	if res.err != nil {
		// The PIN exists but the link could not be sent: the card shows
		// it, and the agent reads why in a second message.
		a.later(ctx, func(ctx context.Context) {
			_ = a.respond(ctx, responseURL, newEphemeral, a.issueError(res.err, false, ""), nil)
		})
	}
	if responseURL != "" {
		a.cards.track(res.s, res.conv, channel, responseURL)
		a.cards.shown(res.s.ID, msg.blocks)
	}
	return msg
}

// issueError explains a failed issue to the agent.
func (a *Adapter) issueError(err error, phone bool, target string) string {
	code := core.ErrorCode(err)
	switch {
	case phone && code == core.CodeInvalid:
		return a.t("error.bad_number", "number", target)
	case code == core.CodeInternal:
		a.log.Error("issue a pin", "err", err)
	case code == core.CodeUnavailable:
		a.log.Warn("issue a pin", "err", err)
	}
	return a.bot.ErrorText(err, a.locale)
}

// cardMessage renders the ephemeral message showing session s's card in
// channel, appended to dst.
func (a *Adapter) cardMessage(ctx context.Context, dst []byte, s *core.Session, conv *core.Conversation, channel string) message {
	card := a.bot.Card(ctx, s, conv, a.locale)
	return a.renderCard(dst, &card, conv, channel)
}

// freshCard renders the card of a session just issued, appended to dst.
// Such a session has sent nothing, so the card skips the look-up of its
// last delivery: on the slash command's path that read was 40% of the
// request's CPU.
func (a *Adapter) freshCard(dst []byte, s *core.Session, conv *core.Conversation, channel string) message {
	card := a.bot.NewCard(s, conv, a.locale)
	return a.renderCard(dst, &card, conv, channel)
}

// renderCard renders card as an ephemeral message, appended to dst.
func (a *Adapter) renderCard(dst []byte, card *remote.Card, conv *core.Conversation, channel string) message {
	start := len(dst)
	text := escape(a.render.cardText(card, a.locale))
	dst = openMessage(dst, slackapi.ResponseTypeEphemeral, text)
	from := len(dst)
	dst = a.render.card(dst, card, conv, a.locale, channel)
	to := len(dst)
	dst = closeMessage(dst)
	return message{json: dst[start:], text: text, blocks: dst[from:to]}
}

// ephemeralText renders a text-only ephemeral message, appended to dst.
func (a *Adapter) ephemeralText(dst []byte, text string) message {
	return textMessage(dst, slackapi.ResponseTypeEphemeral, escape(text))
}
