package slack

import (
	"context"
	"strings"

	slackapi "github.com/slack-go/slack"

	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
)

// blockHandoff heads the block_id of a card's colleague picker (a
// users_select, whose payload carries no value): the session id follows,
// sealed for the channel the card was shown in.
const blockHandoff = "remote.handoff"

// picker is a card's colleague picker.
type picker struct{ blockID, placeholder string }

// pickerOf returns the picker of card, shown in channel, or nil when its
// session can no longer be handed over.
func (a *Adapter) pickerOf(card *remote.Card, channel string) *picker {
	p := a.bot.Picker(card, a.locale)
	if p == "" {
		return nil
	}
	return &picker{blockID: blockHandoff + ":" + a.render.keys.seal(card.SessionID, channel), placeholder: truncate(p, maxHeader)}
}

// block is p for the Web API.
func (p *picker) block() slackapi.Block {
	return slackapi.NewActionBlock(p.blockID,
		slackapi.NewOptionsSelectBlockElement(slackapi.OptTypeUser, plainObject(p.placeholder), remote.ActionHandoff))
}

// picker writes p into a slash command's answer.
func (w *blockWriter) picker(p *picker) {
	w.open(`{"type":"actions","block_id":`)
	w.b = appendString(w.b, p.blockID)
	w.b = append(w.b, `,"elements":[{"type":"users_select","action_id":`...)
	w.b = appendString(w.b, remote.ActionHandoff)
	w.b = append(w.b, `,"placeholder":`...)
	w.plain(p.placeholder)
	w.b = append(w.b, "}]"...)
}

// handoff hands the card's session to the colleague picked, an agent of
// this desk, and tells the picker; the desk thread gets a notice that
// mentions the colleague. Anything refused is told to the picker alone
// and changes nothing.
func (a *Adapter) handoff(ctx context.Context, ic *slackapi.InteractionCallback, act *slackapi.BlockAction) {
	actor, ok := a.authorize(ctx, ic)
	if !ok {
		return
	}
	sealed, ok := strings.CutPrefix(act.BlockID, blockHandoff+":")
	id, channel, opened := a.openValue(ic, sealed)
	if !ok || !opened || act.SelectedUser == "" {
		a.refuseElsewhere(ctx, ic, "refused a colleague picker whose block was not made for this channel")
		return
	}
	to := act.SelectedUser
	name := a.people.get(ctx, to).name
	if name == "" {
		name = to
	}
	switch allowed, err := a.agents.allowed(ctx, teamOf(ic), to); {
	case err != nil:
		a.tell(ctx, ic, a.t("slack.agents_unknown"))
		return
	case !allowed:
		a.tell(ctx, ic, a.bot.ErrorText(remote.HandoffRefusal(name, true), a.locale))
		return
	}
	by := remote.Asker{Actor: actor, Names: []string{actor.Name, ic.User.ID}}
	s, err := a.bot.HandOffSession(ctx, by, id, to, "")
	if err != nil {
		a.tellFailure(ctx, ic, err, "hand-off", "session_id", id)
		return
	}
	a.log.Info("handed a session over", "session_id", id, "by", ic.User.ID, "to", to)
	a.cards.Show(ctx, s, a.locale, cardRef{channel: channel, url: ic.ResponseURL})
	a.tell(ctx, ic, a.bot.HandedText(name, a.locale))
}

// handoffText is a hand-off notice for the desk thread, in mrkdwn: a
// colleague who is a Slack user is mentioned, which notifies them.
func (a *Adapter) handoffText(n core.Notice) string {
	to := escape(n.Assignee)
	if validID(n.Assignee, "UW") {
		to = "<@" + n.Assignee + ">"
	}
	text, note := a.bot.HandoffText(n, a.locale, slot)
	out := fill(text, to)
	if note != "" {
		out += "\n" + escape(note)
	}
	return out
}

// Colleague reports whether id is a Slack user id (known) of an agent of
// this desk (allowed), for the API's hand-offs.
func (a *Adapter) Colleague(ctx context.Context, id string) (known, allowed bool) {
	if !validID(id, "UW") {
		return false, false
	}
	team := ""
	for t := range a.agents.teams {
		team = t
		break
	}
	ok, err := a.agents.allowed(ctx, team, id)
	return true, ok && err == nil
}
