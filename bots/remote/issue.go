package remote

import (
	"context"

	"github.com/assistbot/assistbot/core"
)

// Issued is a session just issued for an agent, with its conversation.
type Issued struct {
	Session      *core.Session
	Conversation *core.Conversation
	// Delivery is the link sent at once, when the agent named one and it
	// was queued.
	Delivery *core.Delivery
	// SendErr is why the link the agent named was not sent. The session
	// exists all the same, and its card is shown: ErrorText explains
	// SendErr beside it.
	SendErr error
}

// Issue issues a PIN for req and, when send names a link (desktop or
// mobile, as in "/remote @pat mobile"), sends it to the customer at once,
// for req.Agent. It fails only when there is no session; a link that
// could not be sent is Issued.SendErr.
func (b *Bot) Issue(ctx context.Context, req core.Request, send core.LinkKind) (Issued, error) {
	s, conv, err := b.engine.Issue(ctx, req)
	if err != nil {
		return Issued{}, err
	}
	is := Issued{Session: s, Conversation: conv}
	if !send.Valid() {
		return is, nil
	}
	sent, d, err := b.engine.Send(ctx, s.ID, core.Actor{Kind: core.ActorAgent, Name: req.Agent}, send)
	if err != nil {
		is.SendErr = err
		return is, nil
	}
	is.Session, is.Delivery = sent, d
	return is, nil
}

// IssuedCard returns the card of what Issue made, in locale. Its last
// delivery is the one Issue queued, if any: the card needs no look-up of
// deliveries, which on a slash command's path was 40% of the request's
// CPU.
func (b *Bot) IssuedCard(is Issued, locale string) Card {
	return b.sentCard(is.Session, is.Conversation, is.Delivery, locale)
}

// PressedCard returns the card after press p, in locale, to answer the
// press with. A press that sent the link shows that delivery as it was
// queued: its status moving on (sent, delivered) is news the card then
// follows (CardChanged), whether it comes before the answer or after.
func (b *Bot) PressedCard(ctx context.Context, p Pressed, locale string) Card {
	if p.Delivery != nil {
		return b.sentCard(p.Session, p.Conversation, p.Delivery, locale)
	}
	return b.Card(ctx, p.Session, p.Conversation, locale)
}

// sentCard is the card of s, whose last link delivery is d (nil: none).
func (b *Bot) sentCard(s *core.Session, c *core.Conversation, d *core.Delivery, locale string) Card {
	card := b.card(s, c, locale)
	if d != nil {
		card.Delivery = b.DeliveryStatus(d, locale)
		card.shown.Link = d.Status
	}
	return card
}
