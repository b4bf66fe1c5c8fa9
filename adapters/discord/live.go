package discord

import (
	"context"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/assistbot/assistbot/core"
)

// cardTTL is how long an interaction token can edit its message: fifteen
// minutes, less a margin for the clock and the request.
const cardTTL = 14 * time.Minute

// cardRef is what edits an agent's ephemeral card later: the token of
// the interaction that last showed it, and the agent's language.
type cardRef struct {
	appID, token, locale string
	// expires is when the token stops editing the card, by a.now.
	expires time.Time
}

// trackCard remembers that interaction i now shows session id's card, so
// that what happens next (the link delivered or refused, the customer
// waiting) appears on it without a click.
func (a *Adapter) trackCard(id string, i *discordgo.Interaction, locale string) {
	if i.Token == "" {
		return
	}
	appID := i.AppID
	if appID == "" {
		appID = a.appID
	}
	now := a.now()
	a.cards.put(id, cardRef{appID: appID, token: i.Token, locale: locale, expires: now.Add(cardTTL)}, now, cardTTL)
}

// watch follows the engine's updates until ctx ends: it refreshes the
// cards of sessions that changed and tells the desk when a reply written
// in a thread, or a link, could not be delivered. The hub drops a
// subscriber that falls behind; watch then subscribes again.
func (a *Adapter) watch(ctx context.Context) {
	for ctx.Err() == nil {
		updates, stop := a.engine.Subscribe(64)
		a.watchingOnce.Do(func() { close(a.watching) })
		a.follow(ctx, updates)
		stop()
	}
}

func (a *Adapter) follow(ctx context.Context, updates <-chan core.Update) {
	for {
		select {
		case <-ctx.Done():
			return
		case u, ok := <-updates:
			if !ok {
				return
			}
			a.update(ctx, u)
		}
	}
}

// update handles one engine update.
func (a *Adapter) update(ctx context.Context, u core.Update) {
	if d := u.Delivery; d != nil && d.Status == core.DeliveryFailed && d.ConversationID != "" {
		switch {
		case d.Notice.Kind == core.NoticeText && d.SessionID == "":
			a.deliveryFailed(ctx, d, a.t("discord.reply_failed", "reason", d.Reason))
		case d.Notice.Kind == core.NoticeLink:
			a.deliveryFailed(ctx, d, a.t("discord.card.delivery", "status", a.t("delivery.failed", "reason", d.Reason)))
		}
	}
	if c := u.Conversation; c != nil && u.Closer != "" && c.Desk == a.desk && c.DeskThread != "" {
		a.closeHeader(ctx, c, u.Closer)
		return
	}
	if u.Session == nil || !a.cardChanged(u) {
		return
	}
	ref, ok := a.cards.get(u.Session.ID, a.now())
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, restTimeout)
	defer cancel()
	conv, err := a.engine.Conversation(ctx, u.Session.ConversationID)
	if err != nil {
		return
	}
	edit := a.cardMessage(a.bot.Card(ctx, u.Session, conv, ref.locale), ref.locale).webhookEdit()
	// A 429 is retried once while the token still edits the card.
	by := time.Now().Add(ref.expires.Sub(a.now()))
	err = a.retryRateLimited(ctx, by, func() error {
		_, err := a.session.WebhookMessageEdit(ref.appID, ref.token, "@original", edit, discordgo.WithContext(ctx))
		return err
	})
	if err != nil {
		a.log.Warn("refresh card", "session_id", u.Session.ID, "err", a.apiError("edit card", err))
	}
}

// cardChanged reports whether an update changes what a card shows in a
// way the agent's own click did not already show: the link's delivery
// status, or a change made elsewhere (the customer joined, the
// technician started or ended, the PIN expired).
func (a *Adapter) cardChanged(u core.Update) bool {
	if d := u.Delivery; d != nil && u.Event == nil {
		return d.Notice.Kind == core.NoticeLink
	}
	if u.Event == nil {
		return false
	}
	switch u.Event.Action {
	case core.ActionJoin, core.ActionStart, core.ActionEnd, core.ActionExpire:
		return true
	}
	return false
}

// deliveryFailed tells a Discord desk that a reply written in a
// conversation's thread, or a link, did not reach the customer (on
// Discord or any other channel), and why: note is the sentence. The
// card says so too, but only for fifteen minutes and only from the
// process that answered the agent; the thread is there for every agent
// and for good. Before the conversation has a thread, the note goes in
// the desk channel, unless this process is about to show it on the
// agent's card. The update that calls it is published once, by the
// process whose outbox failed the delivery.
func (a *Adapter) deliveryFailed(ctx context.Context, d *core.Delivery, note string) {
	ctx, cancel := context.WithTimeout(ctx, restTimeout)
	defer cancel()
	conv, err := a.engine.Conversation(ctx, d.ConversationID)
	if err != nil || d.To != conv.Customer || conv.Desk != a.desk {
		return
	}
	where := conv.DeskThread
	if where == "" {
		if _, onCard := a.cards.get(d.SessionID, a.now()); onCard {
			return
		}
		where = conv.Desk.Address
		// The desk channel holds every conversation's notes: say whose.
		note = "**" + escapeMarkdown(core.CustomerLabel(conv)) + "**: " + note
	}
	msg := text(note).send()
	err = a.retryRateLimited(ctx, time.Time{}, func() error {
		_, err := a.session.ChannelMessageSendComplex(where, msg, discordgo.WithContext(ctx))
		return err
	})
	if err != nil {
		a.log.Warn("report a failed delivery", "conversation_id", conv.ID, "kind", d.Notice.Kind, "err", a.apiError("post", err))
	}
}

// closeHeader rewrites the header of closed conversation c's desk thread,
// whoever closed it and wherever (the console, the API, a click in
// Discord): no more buttons, and who closed it.
func (a *Adapter) closeHeader(ctx context.Context, c *core.Conversation, closer string) {
	ctx, cancel := context.WithTimeout(ctx, restTimeout)
	defer cancel()
	msg := alertMessage(a.bot.ClosedHeader(c, closer, a.catalog.Default()))
	err := a.retryRateLimited(ctx, time.Time{}, func() error {
		_, err := a.session.ChannelMessageEditComplex(msg.edit(c.Desk.Address, c.DeskThread), discordgo.WithContext(ctx))
		return err
	})
	if err != nil {
		a.log.Warn("update a closed conversation's thread header", "conversation_id", c.ID, "err", a.apiError("edit header", err))
	}
}
