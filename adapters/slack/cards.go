package slack

import (
	"context"
	"time"

	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
)

// A response_url takes five posts within 30 minutes; a card is followed
// while its latest one lasts. Every click brings a fresh one.
const (
	responseURLLife = 30 * time.Minute
	responseURLUses = 5
)

// cardRef is where a card an agent is looking at can be drawn again.
// Ephemeral messages can only be changed through a response_url, which
// assistbot holds in memory (remote.Cards): after a restart, a card comes
// back to life with its next click. The desk thread's alerts, edited with
// chat.update, follow every change on any replica.
type cardRef struct {
	channel string // where the card is, for its buttons' seals
	url     string
	uses    int
}

// drawCard replaces the card at ref with card, for remote.Cards.
func (a *Adapter) drawCard(ctx context.Context, card *remote.Card, conv *core.Conversation, ref *cardRef) error {
	if ref.uses >= responseURLUses {
		return remote.ErrCardGone
	}
	ref.uses++
	return a.respond(ctx, ref.url, replaceOriginal, a.cardView(card, conv, ref.channel).message())
}

// update handles one of the engine's updates: a conversation closed
// anywhere loses its thread header's buttons (rewritten once, by the
// replica that closed it), and a card on screen follows its session.
func (a *Adapter) update(ctx context.Context, u core.Update) {
	if c, closer, ok := remote.Closed(u); ok && c.Desk.Channel == core.ChannelSlack && validID(c.Desk.Address, "CGUW") {
		if !u.Heard {
			a.later(ctx, func(ctx context.Context) { a.closeHeader(ctx, c, closer) })
		}
		return
	}
	a.cards.Update(ctx, u)
}

// catchUp draws every card on screen again: the hub dropped updates.
func (a *Adapter) catchUp(ctx context.Context) {
	a.log.Warn("card updates fell behind, or were missed while the other replicas went unheard; refreshing the cards on screen")
	a.cards.CatchUp(ctx)
}
