package remote

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/assistbot/assistbot/core"
)

// Shown is what the card of a session on an agent's screen was drawn
// from.
type Shown struct {
	// Version is the session's version.
	Version int
	// Link is the status of the link delivery the card reports, "" when
	// it reports none.
	Link core.DeliveryStatus
}

// CardChanged is the one rule for "this card changed": it reports whether
// update u changes the card of its session drawn from shown, so that the
// card on screen must be drawn again. It does when the session has
// changed since (the customer joined, the technician started or ended,
// the PIN expired, an agent pressed a button somewhere else) or, with the
// session unchanged, when the status of its link's delivery moved (sent,
// delivered, not delivered). An update the card shows already (the answer
// to the agent's own press, the command that issued the session), an
// older one arriving late, a retry of a delivery still queued and the
// delivery of anything but the link change nothing.
func CardChanged(u core.Update, shown Shown) bool {
	switch s := u.Session; {
	case s == nil:
		return false
	case s.Version != shown.Version:
		return s.Version > shown.Version
	}
	d := u.Delivery
	return u.Event == nil && d != nil && d.Notice.Kind == core.NoticeLink && d.Status != shown.Link
}

// ErrCardGone is what a Cards' draw returns when its handle can no longer
// draw the card (Slack's response_url takes five posts). Nothing is
// logged, and the card is drawn with the next handle the agent's press
// brings.
var ErrCardGone = errors.New("remote: the card's handle is spent")

// Defaults of CardsOptions.
const (
	// DefaultMaxCards bounds the cards followed: past it, the least
	// recently shown is forgotten first.
	DefaultMaxCards = 10000
	// drawTimeout bounds the drawing of one card, detached from whatever
	// asked for it.
	drawTimeout = 30 * time.Second
)

// CardsOptions configure Cards. Draw and Life are required.
type CardsOptions[R any] struct {
	// Draw replaces the card on screen at ref with card, of conversation
	// conv. It may change ref (count a use).
	Draw func(ctx context.Context, card *Card, conv *core.Conversation, ref *R) error
	// Life is how long a handle draws its card from when it was handed
	// over: a response_url's 30 minutes, an interaction token's 15.
	Life time.Duration
	// Now tells the time of Life (default time.Now).
	Now func() time.Time
	// Max bounds the cards followed (default DefaultMaxCards).
	Max    int
	Logger *slog.Logger
	// Shared, when set, keeps every handle in the store the replicas
	// share, under Name, so that a change made on any replica draws the
	// card even when the replica that showed it has gone or restarted
	// since. Encode and Decode turn a handle into the text kept and back.
	Shared core.MemoStore
	Name   string
	Encode func(R) string
	Decode func(string) (R, bool)
}

// Cards keeps the cards agents have on screen up to date. R is the
// platform's handle on a card, what it needs to draw it again (Slack's
// response_url, Discord's interaction token), which works for a while
// after the agent's last command or press. The cards are followed in
// memory: a card follows the changes the engine of this process
// publishes (its presses, its outbox, its portal), and after a restart it
// comes back to life with its next press, unless CardsOptions.Shared
// keeps the handles where every replica finds them. It is safe for
// concurrent use.
type Cards[R any] struct {
	bot  *Bot
	o    CardsOptions[R]
	mu   sync.Mutex // orders the first sight of a card
	on   *expirable.LRU[string, *onScreen[R]]
	work sync.WaitGroup
}

// onScreen is one card an agent is looking at.
type onScreen[R any] struct {
	mu     sync.Mutex // one drawing at a time
	ref    R
	locale string
	shown  Shown
	// until is when ref stops drawing, by Now, in Unix nanoseconds: read
	// without waiting for a drawing under way.
	until atomic.Int64
}

// live reports whether e's handle still draws at now.
func (e *onScreen[R]) live(now time.Time) bool { return now.UnixNano() < e.until.Load() }

// NewCards returns an empty book of cards of b's sessions.
func NewCards[R any](b *Bot, o CardsOptions[R]) *Cards[R] {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Max <= 0 {
		o.Max = DefaultMaxCards
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	// The LRU's own expiry runs on the wall clock; Now decides whether a
	// handle still draws, so that tests can move time.
	return &Cards[R]{bot: b, o: o, on: expirable.NewLRU[string, *onScreen[R]](o.Max, nil, o.Life)}
}

// Track notes that card, in locale, was just drawn at ref, a handle that
// has just been handed over: the answer to a command or a press showed
// it. It makes no call, for the slash command's path.
func (c *Cards[R]) Track(card *Card, locale string, ref R) {
	e := c.entry(card.SessionID)
	e.mu.Lock()
	e.ref, e.locale, e.shown = ref, locale, card.shown
	e.until.Store(c.o.Now().Add(c.o.Life).UnixNano())
	e.mu.Unlock()
	c.share(card.SessionID, locale, ref)
}

// Show notes that the card of session s, in locale, is on screen at ref,
// a handle that has just been handed over (the agent pressed one of its
// buttons), and draws it there unless it shows s already.
func (c *Cards[R]) Show(ctx context.Context, s *core.Session, locale string, ref R) {
	e := c.entry(s.ID)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ref, e.locale = ref, locale
	e.until.Store(c.o.Now().Add(c.o.Life).UnixNano())
	c.share(s.ID, locale, ref)
	if CardChanged(core.Update{Session: s}, e.shown) {
		c.draw(ctx, s.ID, e)
	}
}

// Hold holds back the drawing of session id's card, if it is followed,
// while a press of one of its buttons is answered with the card itself
// (Discord's answer to a press replaces the card): the press's own
// update, which may arrive first, then does not draw the card again. The
// holder tracks the card its answer shows with Held.Track, and releases
// it in any case.
func (c *Cards[R]) Hold(id string) *Held[R] {
	h := &Held[R]{c: c}
	if e, ok := c.on.Get(id); ok {
		e.mu.Lock()
		h.e = e
	}
	return h
}

// Held is a card held back while a press is answered (Cards.Hold).
type Held[R any] struct {
	c *Cards[R]
	e *onScreen[R] // locked; nil when the card was not followed
}

// Track notes that the answer shows card, as Cards.Track, while the card
// is held.
func (h *Held[R]) Track(card *Card, locale string, ref R) {
	e := h.e
	if e == nil {
		h.c.Track(card, locale, ref)
		return
	}
	e.ref, e.locale, e.shown = ref, locale, card.shown
	e.until.Store(h.c.o.Now().Add(h.c.o.Life).UnixNano())
	h.c.on.Add(card.SessionID, e) // the handle's life starts over
	h.Release()
	h.c.share(card.SessionID, locale, ref)
}

// Release lets the card be drawn again; it may be called more than once.
func (h *Held[R]) Release() {
	if h.e != nil {
		h.e.mu.Unlock()
		h.e = nil
	}
}

// Update draws again, in the background, the card of u's session when u
// changed it (CardChanged). A card this replica does not follow is drawn
// from the shared handle, when there is one and this replica made the
// change: the replica that showed the card, if it still runs, draws it
// too when it hears of the change.
func (c *Cards[R]) Update(ctx context.Context, u core.Update) {
	if u.Session == nil {
		return
	}
	e, ok := c.on.Get(u.Session.ID)
	if !ok || !e.live(c.o.Now()) {
		if c.o.Shared != nil && !u.Heard && CardChanged(u, Shown{}) {
			c.later(ctx, func(ctx context.Context) { c.drawShared(ctx, u.Session.ID) })
		}
		return
	}
	c.later(ctx, func(ctx context.Context) {
		e.mu.Lock()
		defer e.mu.Unlock()
		if CardChanged(u, e.shown) {
			c.draw(ctx, u.Session.ID, e)
		}
	})
}

// CatchUp draws every card again, in the background: updates were
// missed (Follower.CatchUp), so any of them may have changed.
func (c *Cards[R]) CatchUp(ctx context.Context) {
	for _, id := range c.on.Keys() {
		e, ok := c.on.Peek(id)
		if !ok {
			continue
		}
		c.later(ctx, func(ctx context.Context) {
			e.mu.Lock()
			defer e.mu.Unlock()
			c.draw(ctx, id, e)
		})
	}
}

// Forget stops following session id's card: it is gone from the screen.
func (c *Cards[R]) Forget(id string) { c.on.Remove(id) }

// OnScreen reports whether session id's card is followed and its handle
// still draws it.
func (c *Cards[R]) OnScreen(id string) bool {
	e, ok := c.on.Peek(id)
	return ok && e.live(c.o.Now())
}

// Wait waits for the drawings under way.
func (c *Cards[R]) Wait() { c.work.Wait() }

// entry returns session id's card, followed from now on.
func (c *Cards[R]) entry(id string) *onScreen[R] {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.on.Get(id)
	if !ok {
		e = &onScreen[R]{}
	}
	c.on.Add(id, e) // again: the handle's life starts over
	return e
}

// draw draws session id's card as it now stands at e's handle, with e
// locked.
func (c *Cards[R]) draw(ctx context.Context, id string, e *onScreen[R]) {
	if !e.live(c.o.Now()) {
		return
	}
	s, err := c.bot.engine.Session(ctx, id)
	if err != nil {
		return
	}
	conv, err := c.bot.engine.Conversation(ctx, s.ConversationID)
	if err != nil {
		return
	}
	card := c.bot.Card(ctx, s, conv, e.locale)
	switch err := c.o.Draw(ctx, &card, conv, &e.ref); {
	case errors.Is(err, ErrCardGone):
	case err != nil:
		c.o.Logger.Warn("refresh card", "session_id", id, "err", err)
	default:
		e.shown = card.shown
	}
}

// sharedKey is where session id's handle is kept for every replica.
func (c *Cards[R]) sharedKey(id string) string { return "card:" + c.o.Name + ":" + id }

// share keeps ref, in locale, for every replica, in the background.
func (c *Cards[R]) share(id, locale string, ref R) {
	if c.o.Shared == nil {
		return
	}
	until := c.o.Now().Add(c.o.Life)
	c.later(context.Background(), func(ctx context.Context) {
		if err := c.o.Shared.PutMemo(ctx, c.sharedKey(id), locale+"\n"+c.o.Encode(ref), until); err != nil {
			c.o.Logger.Warn("keep a card's handle for the other replicas", "session_id", id, "err", err)
		}
	})
}

// drawShared draws session id's card at the handle the replicas share,
// if one still draws it.
func (c *Cards[R]) drawShared(ctx context.Context, id string) {
	v, err := c.o.Shared.FindMemo(ctx, c.sharedKey(id), c.o.Now())
	if err != nil {
		if core.ErrorCode(err) != core.CodeNotFound {
			c.o.Logger.Warn("read a card's shared handle", "session_id", id, "err", err)
		}
		return
	}
	locale, enc, ok := strings.Cut(v, "\n")
	if !ok {
		return
	}
	ref, ok := c.o.Decode(enc)
	if !ok {
		c.o.Logger.Warn("a card's shared handle could not be read", "session_id", id)
		return
	}
	e := &onScreen[R]{ref: ref, locale: locale}
	e.until.Store(c.o.Now().Add(c.o.Life).UnixNano()) // the memo's expiry bounds it
	e.mu.Lock()
	defer e.mu.Unlock()
	c.draw(ctx, id, e)
}

// later runs fn beyond whatever asked for it, with its own deadline; Wait
// waits for it.
func (c *Cards[R]) later(ctx context.Context, fn func(context.Context)) {
	c.work.Go(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drawTimeout)
		defer cancel()
		fn(ctx)
	})
}
