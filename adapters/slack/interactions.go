package slack

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
)

// parseInteraction reads an interaction request's body: a form whose
// "payload" field is the JSON of slack-go's InteractionCallback.
func parseInteraction(body []byte) (*slackapi.InteractionCallback, error) {
	payload, ok, err := formField(body, "payload")
	if err != nil || !ok || payload == "" {
		return nil, errMalformed
	}
	return decodeInteraction([]byte(payload))
}

// decodeInteraction reads an interaction payload (over HTTP, or a Socket
// Mode envelope's payload).
func decodeInteraction(payload []byte) (*slackapi.InteractionCallback, error) {
	var ic slackapi.InteractionCallback
	if err := json.Unmarshal(payload, &ic); err != nil {
		return nil, errMalformed
	}
	if ic.Type == "" || ic.User.ID == "" {
		return nil, errMalformed
	}
	return &ic, nil
}

// interaction handles a verified interaction: a card or alert button, or
// the message shortcut. Slack wants its acknowledgement within 3 seconds:
// ack is called when the work is done, or earlier, from another
// goroutine, when it takes longer; the outcome reaches the user through
// response_url.
func (a *Adapter) interaction(ctx context.Context, ic *slackapi.InteractionCallback, ack func()) {
	var work func(ctx context.Context)
	switch {
	case ic.Type == slackapi.InteractionTypeBlockActions && len(ic.ActionCallback.BlockActions) > 0:
		act := ic.ActionCallback.BlockActions[0]
		if act.ActionID == remote.ActionHandoff {
			work = func(ctx context.Context) { a.handoff(ctx, ic, act) }
			break
		}
		if !strings.HasPrefix(act.ActionID, "remote.") {
			ack()
			return
		}
		work = func(ctx context.Context) { a.blockAction(ctx, ic, act) }
	case ic.Type == slackapi.InteractionTypeMessageAction && ic.CallbackID == ShortcutID:
		work = func(ctx context.Context) { a.shortcut(ctx, ic) }
	default:
		ack()
		return
	}
	ctx = context.WithoutCancel(ctx)
	if !a.ackBy(time.Now(), ack, func() { work(ctx) }) {
		ack()
	}
}

// teamOf is the workspace an interaction came from (an org-wide app can
// get no team, only the user's).
func teamOf(ic *slackapi.InteractionCallback) string {
	if ic.Team.ID != "" {
		return ic.Team.ID
	}
	return ic.User.TeamID
}

// channelOf is the channel a click happened in.
func channelOf(ic *slackapi.InteractionCallback) string {
	if ic.Channel.ID != "" {
		return ic.Channel.ID
	}
	return ic.Container.ChannelID
}

// openValue opens a button's sealed value clicked in ic, and returns the
// address it was sealed for: the channel it was clicked in or, in a
// direct message with the app, the clicker's own user ID. That is how a
// desk of direct messages is named (an agent's alerts without
// slack.desk_channel are posted to their user ID), while Slack reports
// clicks there with the direct message's own ID.
func (a *Adapter) openValue(ic *slackapi.InteractionCallback, value string) (id, channel string, ok bool) {
	channel = channelOf(ic)
	if id, ok = a.render.keys.open(value, channel); ok {
		return id, channel, true
	}
	if strings.HasPrefix(channel, "D") && ic.User.ID != "" {
		if id, ok = a.render.keys.open(value, ic.User.ID); ok {
			return id, ic.User.ID, true
		}
	}
	return "", channel, false
}

// authorize checks that the user of ic may act and otherwise tells them
// why not; nothing else happens.
func (a *Adapter) authorize(ctx context.Context, ic *slackapi.InteractionCallback) (core.Actor, bool) {
	ok, err := a.agents.allowed(ctx, teamOf(ic), ic.User.ID)
	if ok {
		return core.Actor{Kind: core.ActorAgent, Name: agentName(ic.User.Name, ic.User.ID)}, true
	}
	msg := a.t("error.not_agent")
	switch {
	case err != nil:
		msg = a.t("slack.agents_unknown")
	case !a.agents.team(teamOf(ic)):
		a.log.Warn("interaction from a workspace not in slack.allowed_teams", "team", teamOf(ic))
		msg = a.t("slack.team_refused")
	default:
		a.log.Info("refused a click from someone who is not an agent", "user", ic.User.ID)
	}
	a.tell(ctx, ic, msg)
	return core.Actor{}, false
}

// tell shows the user of ic a short ephemeral message.
func (a *Adapter) tell(ctx context.Context, ic *slackapi.InteractionCallback, text string) {
	if err := a.respond(ctx, ic.ResponseURL, newEphemeral, textView(text).message()); err != nil {
		a.log.Warn("answer a click", "err", err)
	}
}

// refuseElsewhere tells the user of ic that the button they pressed does
// not work where they pressed it.
func (a *Adapter) refuseElsewhere(ctx context.Context, ic *slackapi.InteractionCallback, what string, args ...any) {
	a.log.Warn(what, append(args, "user", ic.User.ID, "slack_channel", channelOf(ic))...)
	a.tell(ctx, ic, a.t("slack.bad_button", "command", a.cmdName))
}

// tellFailure tells the user of ic why what they pressed failed, and logs
// the failures that are the operator's to look at.
func (a *Adapter) tellFailure(ctx context.Context, ic *slackapi.InteractionCallback, err error, op string, args ...any) {
	if c := core.ErrorCode(err); c == core.CodeInternal || c == core.CodeUnavailable {
		a.log.Error(op, append(args, "err", err)...)
	}
	a.tell(ctx, ic, a.bot.ErrorText(err, a.locale))
}

// blockAction handles a click on a card, a desk alert or a thread's
// buttons. The button's value names a session (or a conversation) sealed
// for the channel it was shown in; the clicker must be an agent, and what
// the session allows is the engine's to say.
func (a *Adapter) blockAction(ctx context.Context, ic *slackapi.InteractionCallback, act *slackapi.BlockAction) {
	actor, ok := a.authorize(ctx, ic)
	if !ok {
		return
	}
	id, channel, ok := a.openValue(ic, act.Value)
	if !ok {
		a.refuseElsewhere(ctx, ic, "refused a button whose value was not made for this channel", "action", act.ActionID)
		return
	}
	if act.ActionID == remote.ActionIssue || act.ActionID == remote.ActionCloseConversation {
		a.threadButton(ctx, ic, actor, act.ActionID, id, channel)
		return
	}
	// A card is only ever where it was shown (the seal says so); a desk
	// alert of the session only ever in its desk.
	onCard := ic.Container.IsEphemeral || act.BlockID == blockCard
	p, err := a.bot.Press(ctx, actor, act.ActionID, id, func(_ *core.Session, conv *core.Conversation) bool {
		return onCard || conv.Desk == core.Endpoint{Channel: core.ChannelSlack, Address: channel}
	})
	ref := cardRef{channel: channel, url: ic.ResponseURL}
	switch {
	case errors.Is(err, remote.ErrElsewhere):
		a.refuseElsewhere(ctx, ic, "refused an alert button outside the session's desk", "session_id", id)
	case err != nil:
		a.tellFailure(ctx, ic, err, "card action", "session_id", id, "action", act.ActionID)
		if onCard && p.Session != nil {
			a.cards.Show(ctx, p.Session, a.locale, ref)
		}
	case !onCard:
		// The outbox edits the alert with the session's next state.
		a.handLink(ctx, ic, p.Session)
	case p.Dismissed || p.Session.State == core.StateClosed:
		a.cards.Forget(id)
		if err := a.respond(ctx, ic.ResponseURL, deleteOriginal, message{}); err != nil {
			a.log.Warn("delete a card", "session_id", id, "err", err)
		}
	default:
		a.cards.Show(ctx, p.Session, a.locale, ref)
		a.handLink(ctx, ic, p.Session)
	}
}

// handLink shows the technician who just started s, and only them, the
// provider's link to the customer's computer, when it has one.
func (a *Adapter) handLink(ctx context.Context, ic *slackapi.InteractionCallback, s *core.Session) {
	if link := a.bot.TechnicianLink(s, a.locale); link != "" {
		a.tell(ctx, ic, link)
	}
}

// threadButton handles the buttons of a desk thread's first message:
// "Remote support" shows the clicker, in the thread, a card for that
// conversation's customer; "Close conversation" ends the conversation,
// and the customer's next message opens a new one. Either works only on
// its conversation's own thread, in channel (see openValue).
func (a *Adapter) threadButton(ctx context.Context, ic *slackapi.InteractionCallback, actor core.Actor, actionID, convID, channel string) {
	root := ic.Container.MessageTs
	if root == "" {
		root = ic.Message.Timestamp
	}
	th, err := a.bot.ThreadAct(ctx, actor, actionID, convID, a.locale, func(c *core.Conversation) bool {
		return c.Desk == core.Endpoint{Channel: core.ChannelSlack, Address: channel} && (c.DeskThread == "" || c.DeskThread == root)
	})
	switch {
	case errors.Is(err, remote.ErrElsewhere):
		a.refuseElsewhere(ctx, ic, "refused a thread button outside its conversation's thread", "conversation_id", convID)
	case err != nil && actionID == remote.ActionIssue && th.Conversation != nil:
		a.tell(ctx, ic, a.issueError(err, remote.Command{}))
	case err != nil:
		a.tellFailure(ctx, ic, err, "thread button", "conversation_id", convID, "action", actionID)
	case th.Header != nil:
		// Closed elsewhere before this click, which makes no update.
		a.updateHeader(ctx, th.Conversation, *th.Header)
	case th.Issued.Session != nil:
		a.showInThread(ctx, ic, th.Issued, root)
	}
	// A conversation closed by this click: the engine's update of the
	// closing rewrites the header (update), as for a close from anywhere.
}

// showInThread shows the clicker of a thread's "Remote support" the card
// of the session it issued, in the thread.
func (a *Adapter) showInThread(ctx context.Context, ic *slackapi.InteractionCallback, is remote.Issued, root string) {
	channel := channelOf(ic)
	card := a.bot.IssuedCard(is, a.locale)
	v := a.cardView(&card, is.Conversation, channel)
	if err := a.ephemeral(ctx, channel, ic.User.ID, root, v.message()); err != nil {
		// Not a member of the channel any more, say: the response_url
		// still reaches the agent.
		a.log.Warn("show a card in a desk thread", "session_id", is.Session.ID, "err", err)
		if err := a.respond(ctx, ic.ResponseURL, newEphemeral, v.message()); err != nil {
			a.log.Error("show a card", "session_id", is.Session.ID, "err", err)
		}
	}
}

// closeHeader rewrites the first message of closed conversation c's desk
// thread, whoever closed it and wherever (the console, the API, a click
// in Slack): no more buttons, and who closed it.
func (a *Adapter) closeHeader(ctx context.Context, c *core.Conversation, closer string) {
	a.updateHeader(ctx, c, a.bot.ClosedHeader(c, closer, a.locale))
}

// updateHeader replaces the first message of c's desk thread with h.
func (a *Adapter) updateHeader(ctx context.Context, c *core.Conversation, h remote.Alert) {
	msg := a.render.thread(h, remote.HeaderNotice(c), c, c.Desk.Address)
	in, err := a.dms.channel(ctx, c.Desk.Address)
	if err != nil {
		a.log.Warn("update a closed conversation's thread", "conversation_id", c.ID, "err", a.classify("conversations.open", err))
		return
	}
	if _, _, _, err := a.api.UpdateMessageContext(ctx, in, c.DeskThread, msg.options()...); err != nil {
		a.log.Warn("update a closed conversation's thread", "conversation_id", c.ID, "err", a.classify("chat.update", err))
	}
}

// shortcut handles the "Start remote support" message shortcut: the
// message's author is the customer, or, on a relayed conversation's desk
// thread, that conversation's customer.
func (a *Adapter) shortcut(ctx context.Context, ic *slackapi.InteractionCallback) {
	actor, ok := a.authorize(ctx, ic)
	if !ok {
		return
	}
	channel := channelOf(ic)
	req := core.Request{Agent: actor.Name}
	if a.desk != "" && channel == a.desk {
		thread := ic.Message.ThreadTimestamp
		if thread == "" {
			thread = ic.Message.Timestamp
		}
		if conv, err := a.engine.ConversationByThread(ctx, core.Endpoint{Channel: core.ChannelSlack, Address: a.desk}, thread); err == nil {
			req.ConversationID = conv.ID
		}
	}
	if req.ConversationID == "" {
		author := ic.Message.User
		if author == "" || ic.Message.BotID != "" || ic.Message.SubType == "bot_message" || !validID(author, "UW") {
			a.tell(ctx, ic, a.t("slack.shortcut_not_customer"))
			return
		}
		req.Customer = core.Endpoint{Channel: core.ChannelSlack, Address: author}
		req.Desk = a.deskFor(channel, ic.User.ID)
	}
	is, err := a.bot.Issue(ctx, req, "")
	if err != nil {
		a.tell(ctx, ic, a.issueError(err, remote.Command{}))
		return
	}
	card := a.bot.IssuedCard(is, a.locale)
	v := a.cardView(&card, is.Conversation, channel)
	if err := a.respond(ctx, ic.ResponseURL, newEphemeral, v.message()); err != nil {
		a.log.Error("show a card", "session_id", is.Session.ID, "err", err)
	}
}
