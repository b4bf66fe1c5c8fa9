package slack

import (
	"context"
	"errors"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
)

// command handles a verified slash command and returns its answer,
// which Slack shows the agent alone. The card is the answer itself: no
// Web API call is made before answering, and the customer is read from
// the command's text (Slack escapes a mention as <@U123|name>). If issuing
// takes longer than Slack waits, interim is called with a holding answer,
// answered is true, and the card follows through the command's
// response_url.
func (a *Adapter) command(ctx context.Context, c *slackapi.SlashCommand, interim func(view)) (answer view, answered bool) {
	// Slack's 3 seconds run from now: the first command after a start
	// may wait here for the list of agents.
	received := time.Now()
	name := c.Command
	if name == "" {
		name = a.cmdName
	}
	ok, err := a.agents.allowed(ctx, c.TeamID, c.UserID)
	switch {
	case err != nil:
		a.log.Warn("slash command: agents unknown", "err", err)
		return textView(a.t("slack.agents_unknown")), false
	case !a.agents.team(c.TeamID):
		a.log.Warn("slash command from a workspace not in slack.allowed_teams", "team", c.TeamID)
		return textView(a.t("slack.team_refused")), false
	case !ok:
		return textView(a.t("error.not_agent")), false
	}
	cmd, ok := remote.ParseCommand(c.Text)
	switch {
	case !ok:
		return textView(a.t("command.usage", "command", name)), false
	case cmd.Help:
		return textView(a.t("command.help", "command", name) + "\n" + a.t("command.usage", "command", name)), false
	}
	req, refusal, here := a.commandRequest(c, cmd, name)
	if refusal != "" {
		return textView(refusal), false
	}
	// The work outlives the request when Slack has been answered first.
	ctx = context.WithoutCancel(ctx)
	var is remote.Issued
	late := a.ackBy(received, func() { interim(textView(a.t("slack.issuing"))) },
		func() {
			if here {
				// Only then does the command cost a Web API call.
				if refusal = a.channelCustomer(ctx, c, &req, name); refusal != "" {
					return
				}
			}
			is, err = a.bot.Issue(ctx, req, core.LinkKind(cmd.Device))
		})
	switch {
	case refusal != "":
		answer = textView(refusal)
	case err != nil:
		answer = textView(a.issueError(err, cmd))
	default:
		answer = a.issuedCard(ctx, is, c.ChannelID, c.ResponseURL)
	}
	if !late {
		return answer, false
	}
	// Slack was told "getting a PIN…": the answer replaces that.
	if err := a.respond(ctx, c.ResponseURL, replaceOriginal, answer.message()); err != nil {
		a.log.Error("slash command: answer late", "err", err)
	}
	return view{}, true
}

// issuedCard lays out the card of a session just issued, shown in
// channel, and follows it from now on through responseURL. A link that
// could not be sent at once is explained in a second message.
func (a *Adapter) issuedCard(ctx context.Context, is remote.Issued, channel, responseURL string) view {
	card := a.bot.IssuedCard(is, a.locale)
	if is.SendErr != nil {
		a.later(ctx, func(ctx context.Context) {
			_ = a.respond(ctx, responseURL, newEphemeral, textView(a.issueError(is.SendErr, remote.Command{})).message())
		})
	}
	if responseURL != "" {
		// channel and responseURL are cut from the command's whole body:
		// copied, the card followed keeps 100 bytes rather than the body.
		a.cards.Track(&card, a.locale, cardRef{channel: strings.Clone(channel), url: strings.Clone(responseURL)})
	}
	return a.cardView(&card, is.Conversation, channel)
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

// issueError explains a failed issue to the agent, who typed cmd.
func (a *Adapter) issueError(err error, cmd remote.Command) string {
	code := core.ErrorCode(err)
	switch {
	case cmd.Phone && code == core.CodeInvalid:
		return a.t("error.bad_number", "number", cmd.Target)
	case code == core.CodeInternal:
		a.log.Error("issue a pin", "err", err)
	case code == core.CodeUnavailable:
		a.log.Warn("issue a pin", "err", err)
	}
	return a.bot.ErrorText(err, a.locale)
}
