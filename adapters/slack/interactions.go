package slack

import (
	"context"
	"encoding/json"
	"strings"

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
	if !a.ackBy(ack, func() { work(ctx) }) {
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
	if err := a.respond(ctx, ic.ResponseURL, newEphemeral, escape(text), nil); err != nil {
		a.log.Warn("answer a click", "err", err)
	}
}

// blockAction handles a click on a card, a desk alert or a thread's
// "Remote support" button. The button's value names a session (or a
// conversation) sealed for the channel it was shown in; the clicker must
// be an agent, and what the session allows is the engine's to say.
func (a *Adapter) blockAction(ctx context.Context, ic *slackapi.InteractionCallback, act *slackapi.BlockAction) {
	actor, ok := a.authorize(ctx, ic)
	if !ok {
		return
	}
	channel := channelOf(ic)
	id, ok := a.render.keys.open(act.Value, channel)
	if !ok {
		a.log.Warn("refused a button whose value was not made for this channel", "user", ic.User.ID, "slack_channel", channel, "action", act.ActionID)
		a.tell(ctx, ic, a.t("slack.bad_button", "command", a.cmdName))
		return
	}
	switch act.ActionID {
	case remote.ActionIssue:
		a.issueFromThread(ctx, ic, id, actor)
		return
	case remote.ActionCloseConversation:
		a.closeFromThread(ctx, ic, id, actor)
		return
	}
	s, err := a.engine.Session(ctx, id)
	var conv *core.Conversation
	if err == nil {
		conv, err = a.engine.Conversation(ctx, s.ConversationID)
	}
	if err != nil {
		a.tell(ctx, ic, a.bot.ErrorText(err, a.locale))
		return
	}
	onCard := ic.Container.IsEphemeral || act.BlockID == blockCard
	if !onCard && conv.Desk != (core.Endpoint{Channel: core.ChannelSlack, Address: channel}) {
		// A desk alert of this session is only ever in its desk.
		a.log.Warn("refused an alert button outside the session's desk", "session_id", id, "slack_channel", channel)
		a.tell(ctx, ic, a.t("slack.bad_button", "command", a.cmdName))
		return
	}
	res, err := a.bot.Act(ctx, actor, act.ActionID, id)
	if err != nil {
		if c := core.ErrorCode(err); c == core.CodeInternal || c == core.CodeUnavailable {
			a.log.Error("card action", "session_id", id, "action", act.ActionID, "err", err)
		}
		a.tell(ctx, ic, a.bot.ErrorText(err, a.locale))
		if onCard {
			a.cards.track(s, conv, channel, ic.ResponseURL)
			a.cards.refresh(ctx, id, nil)
		}
		return
	}
	if !onCard {
		return // the outbox edits the alert with the session's next state
	}
	if res.Dismissed || res.Session.State == core.StateClosed {
		a.cards.forget(id)
		if err := a.respond(ctx, ic.ResponseURL, deleteOriginal, "", nil); err != nil {
			a.log.Warn("delete a card", "session_id", id, "err", err)
		}
		return
	}
	a.cards.track(res.Session, conv, channel, ic.ResponseURL)
	a.cards.refresh(ctx, id, res.Session)
}

// issueFromThread handles "Remote support" on a desk thread's root: a PIN
// for that thread's conversation, shown to the clicker in the thread.
func (a *Adapter) issueFromThread(ctx context.Context, ic *slackapi.InteractionCallback, convID string, actor core.Actor) {
	channel := channelOf(ic)
	_, root, ok := a.threadRoot(ctx, ic, convID)
	if !ok {
		return
	}
	res := a.issue(ctx, core.Request{ConversationID: convID, Agent: actor.Name}, "")
	if res.s == nil {
		a.tell(ctx, ic, a.issueError(res.err, false, ""))
		return
	}
	msg := a.freshCard(nil, res.s, res.conv, channel)
	if err := a.ephemeral(ctx, channel, ic.User.ID, root, msg.text, msg.blocks); err != nil {
		// Not a member of the channel any more, say: the response_url
		// still reaches the agent.
		a.log.Warn("show a card in a desk thread", "session_id", res.s.ID, "err", err)
		if err := a.respond(ctx, ic.ResponseURL, newEphemeral, msg.text, msg.blocks); err != nil {
			a.log.Error("show a card", "session_id", res.s.ID, "err", err)
		}
	}
}

// threadRoot checks that a thread button of conversation convID was
// clicked on that conversation's own thread, and returns the conversation
// and the thread's root. Otherwise it tells the clicker why not.
func (a *Adapter) threadRoot(ctx context.Context, ic *slackapi.InteractionCallback, convID string) (*core.Conversation, string, bool) {
	channel := channelOf(ic)
	conv, err := a.engine.Conversation(ctx, convID)
	if err != nil {
		a.tell(ctx, ic, a.bot.ErrorText(err, a.locale))
		return nil, "", false
	}
	root := ic.Container.MessageTs
	if root == "" {
		root = ic.Message.Timestamp
	}
	if conv.Desk != (core.Endpoint{Channel: core.ChannelSlack, Address: channel}) || (conv.DeskThread != "" && conv.DeskThread != root) {
		a.log.Warn("refused a thread button outside its conversation's thread", "conversation_id", convID, "slack_channel", channel)
		a.tell(ctx, ic, a.t("slack.bad_button", "command", a.cmdName))
		return nil, "", false
	}
	return conv, root, true
}

// closeFromThread handles "Close conversation" on a desk thread's root:
// the conversation ends, and the customer's next message opens a new
// one. The root is rewritten by the engine's update of the closing, as
// for a close from anywhere (cards.follow); a conversation found closed
// already, which makes no update, just loses its buttons here.
func (a *Adapter) closeFromThread(ctx context.Context, ic *slackapi.InteractionCallback, convID string, actor core.Actor) {
	conv, _, ok := a.threadRoot(ctx, ic, convID)
	if !ok {
		return
	}
	if conv.State == core.ConversationClosed {
		a.closeHeader(ctx, conv, "")
		return
	}
	if _, err := a.engine.CloseConversation(ctx, convID, actor); err != nil {
		a.log.Error("close a conversation", "conversation_id", convID, "err", err)
		a.tell(ctx, ic, a.bot.ErrorText(err, a.locale))
	}
}

// closeHeader rewrites the first message of closed conversation c's desk
// thread, whoever closed it and wherever (the console, the API, a click
// in Slack): no more buttons, and who closed it.
func (a *Adapter) closeHeader(ctx context.Context, c *core.Conversation, closer string) {
	h := a.bot.ClosedHeader(c, closer, a.locale)
	bs, err := sdkBlocks(a.render.thread(nil, h, remote.HeaderNotice(c), c, a.locale, c.Desk.Address))
	if err == nil {
		_, _, _, err = a.api.UpdateMessageContext(ctx, c.Desk.Address, c.DeskThread,
			slackapi.MsgOptionText(escape(h.Text), false), slackapi.MsgOptionBlocks(bs...))
	}
	if err != nil {
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
	res := a.issue(ctx, req, "")
	if res.s == nil {
		a.tell(ctx, ic, a.issueError(res.err, false, ""))
		return
	}
	msg := a.freshCard(nil, res.s, res.conv, channel)
	if err := a.respond(ctx, ic.ResponseURL, newEphemeral, msg.text, msg.blocks); err != nil {
		a.log.Error("show a card", "session_id", res.s.ID, "err", err)
	}
}
