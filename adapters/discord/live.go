package discord

import (
	"context"
	"encoding/json"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
)

// cardTTL is how long an interaction token can edit its message: fifteen
// minutes, less a margin for the clock and the request.
const cardTTL = 14 * time.Minute

// cardRef is what edits an agent's ephemeral card later: the token of the
// interaction that last showed it, and the agent's language.
type cardRef struct {
	appID, token, locale string
	// expires is when the token stops editing the card, by a.now.
	expires time.Time
}

// keptRef is a cardRef as the replicas keep it.
type keptRef struct {
	AppID   string    `json:"a"`
	Token   string    `json:"t"`
	Locale  string    `json:"l"`
	Expires time.Time `json:"e"`
}

// encode writes ref for the store the replicas share.
func (ref cardRef) encode() string {
	b, _ := json.Marshal(keptRef{ref.appID, ref.token, ref.locale, ref.expires}) // cannot fail: strings and a time
	return string(b)
}

// decodeCardRef reads what encode wrote.
func decodeCardRef(s string) (cardRef, bool) {
	var k keptRef
	if err := json.Unmarshal([]byte(s), &k); err != nil || k.Token == "" {
		return cardRef{}, false
	}
	return cardRef{appID: k.AppID, token: k.Token, locale: k.Locale, expires: k.Expires}, true
}

// trackCard notes that interaction i now shows card, in locale, so that
// what happens next (the link delivered or refused, the customer waiting)
// appears on it without a click.
func (a *Adapter) trackCard(card *remote.Card, i *discordgo.Interaction, locale string) {
	if ref, ok := a.cardRef(i, locale); ok {
		a.cards.Track(card, locale, ref)
	}
}

// cardRef is how interaction i's answer can be edited later, if it can.
func (a *Adapter) cardRef(i *discordgo.Interaction, locale string) (cardRef, bool) {
	if i.Token == "" {
		return cardRef{}, false
	}
	appID := i.AppID
	if appID == "" {
		appID = a.appID
	}
	return cardRef{appID: appID, token: i.Token, locale: locale, expires: a.now().Add(cardTTL)}, true
}

// drawCard edits the card at ref into card, for remote.Cards. A 429 is
// retried once while the token still edits the card.
func (a *Adapter) drawCard(ctx context.Context, card *remote.Card, _ *core.Conversation, ref *cardRef) error {
	ctx, cancel := context.WithTimeout(ctx, restTimeout)
	defer cancel()
	edit := a.cardMessage(*card, ref.locale).webhookEdit()
	by := time.Now().Add(ref.expires.Sub(a.now()))
	err := a.retryRateLimited(ctx, by, func() error {
		_, err := a.session.WebhookMessageEdit(ref.appID, ref.token, "@original", edit, discordgo.WithContext(ctx))
		return err
	})
	return a.apiError("edit card", err)
}

// watch follows the engine's updates until ctx ends: it refreshes the
// cards of sessions that changed, rewrites the headers of conversations
// closed anywhere, and tells the desk when a reply written in a thread,
// or a link, could not be delivered.
func (a *Adapter) watch(ctx context.Context) {
	remote.Follower{
		Buffer:     64,
		Update:     a.update,
		CatchUp:    a.cards.CatchUp,
		Subscribed: func() { a.watchingOnce.Do(func() { close(a.watching) }) },
	}.Run(ctx, a.engine)
}

// update handles one engine update. The notes and headers a change
// calls for are written by the replica that made it, once; every replica
// follows the cards it shows.
func (a *Adapter) update(ctx context.Context, u core.Update) {
	if d := u.Delivery; d != nil && d.Status == core.DeliveryFailed && d.ConversationID != "" && !u.Heard {
		a.deliveryFailed(ctx, d)
	}
	if c, closer, ok := remote.Closed(u); ok && c.Desk == a.desk {
		if !u.Heard {
			a.closeHeader(ctx, c, closer)
		}
		return
	}
	a.cards.Update(ctx, u)
}

// deliveryFailed tells a Discord desk that a reply written in a
// conversation's thread, or a link, did not reach the customer (on
// Discord or any other channel), and why. The card says so too, but only
// for fifteen minutes and only from the process that answered the agent;
// the thread is there for every agent and for good. Before the
// conversation has a thread, the note goes in the desk channel, unless
// this process is about to show it on the agent's card. The update that
// calls it is published once, by the process whose outbox failed the
// delivery.
func (a *Adapter) deliveryFailed(ctx context.Context, d *core.Delivery) {
	ctx, cancel := context.WithTimeout(ctx, restTimeout)
	defer cancel()
	conv, err := a.engine.Conversation(ctx, d.ConversationID)
	if err != nil || conv.Desk != a.desk {
		return
	}
	note, ok := a.bot.Undelivered(d, conv, a.catalog.Default())
	if !ok {
		return
	}
	where := conv.DeskThread
	if where == "" {
		if a.cards.OnScreen(d.SessionID) {
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
