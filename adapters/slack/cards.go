package slack

import (
	"context"
	"hash/maphash"
	"sync"
	"time"

	"github.com/assistbot/assistbot/core"
)

// A response_url takes five posts within 30 minutes; a card is followed
// while its latest one lasts. Every click brings a fresh one.
const (
	responseURLLife = 30 * time.Minute
	responseURLUses = 5
	// hubBuffer is how many updates may wait for the card loop before the
	// hub drops it (it then subscribes again and catches up).
	hubBuffer = 1024
)

// cardRef is a card an agent is looking at: where to post its next
// version, and what was posted last.
type cardRef struct {
	mu      sync.Mutex // serialises the card's updates
	id      string
	conv    *core.Conversation
	channel string
	url     string
	expires time.Time
	uses    int
	version int    // the session version shown last
	last    uint64 // fingerprint of the blocks posted last
}

// cardBook keeps the cards agents have on screen up to date. Ephemeral
// messages can only be changed through a response_url, which assistbot
// holds in memory: after a restart, a card comes back to life with its
// next click. Updates come from the engine's hub, so a card follows
// changes made on this replica (its clicks, its outbox, its portal); the
// desk thread's alerts, edited with chat.update, follow every change.
type cardBook struct {
	a     *Adapter
	mu    sync.Mutex
	m     map[string]*cardRef
	order []string // ring of tracked IDs, oldest evicted first
	next  int
	now   func() time.Time
}

func newCardBook(a *Adapter, max int) *cardBook {
	return &cardBook{a: a, m: make(map[string]*cardRef, max), order: make([]string, max), now: time.Now}
}

// track follows session s's card, shown in channel, through url, a
// response_url just received. It is on the slash command's path: no I/O.
func (b *cardBook) track(s *core.Session, conv *core.Conversation, channel, url string) {
	if url == "" {
		return
	}
	now := b.now()
	b.mu.Lock()
	ref := b.m[s.ID]
	if ref == nil {
		if old := b.order[b.next]; old != "" {
			delete(b.m, old)
		}
		b.order[b.next] = s.ID
		b.next = (b.next + 1) % len(b.order)
		ref = &cardRef{id: s.ID, version: s.Version}
		b.m[s.ID] = ref
	}
	b.mu.Unlock()
	ref.mu.Lock()
	ref.conv, ref.channel, ref.url, ref.expires, ref.uses = conv, channel, url, now.Add(responseURLLife), 0
	ref.mu.Unlock()
}

// shown notes that the card of session id on screen now has blocks, as
// answered to a slash command: an update that would render the same card
// (the engine's hub catching up with the command's own change) is then
// not posted again.
func (b *cardBook) shown(id string, blocks []byte) {
	ref := b.get(id)
	if ref == nil {
		return
	}
	ref.mu.Lock()
	ref.last = fingerprint(blocks)
	ref.mu.Unlock()
}

// fingerprintSeed keys the fingerprints of the process's cards.
var fingerprintSeed = maphash.MakeSeed()

// fingerprint identifies a card's blocks. maphash, not a byte-at-a-time
// hash: it runs on every slash command's answer.
func fingerprint(blocks []byte) uint64 { return maphash.Bytes(fingerprintSeed, blocks) }

// forget stops following session id's card (it was deleted).
func (b *cardBook) forget(id string) {
	b.mu.Lock()
	delete(b.m, id)
	b.mu.Unlock()
}

func (b *cardBook) get(id string) *cardRef {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.m[id]
}

// refresh renders session id's card (s, when the caller has it fresh)
// and posts it in place of the one on screen, unless it looks the same.
func (b *cardBook) refresh(ctx context.Context, id string, s *core.Session) {
	ref := b.get(id)
	if ref == nil {
		return
	}
	ref.mu.Lock()
	defer ref.mu.Unlock()
	if ref.url == "" || ref.uses >= responseURLUses || b.now().After(ref.expires) {
		return
	}
	if s == nil {
		var err error
		if s, err = b.a.engine.Session(ctx, id); err != nil {
			return
		}
	}
	if s.Version < ref.version {
		return // a newer version is on screen already
	}
	msg := b.a.cardMessage(ctx, nil, s, ref.conv, ref.channel)
	sum := fingerprint(msg.blocks)
	if sum == ref.last {
		return
	}
	ref.uses++
	if err := b.a.respond(ctx, ref.url, replaceOriginal, msg.text, msg.blocks); err != nil {
		b.a.log.Warn("update a card", "session_id", id, "err", err)
		return
	}
	ref.version, ref.last = s.Version, sum
}

// run follows the engine's updates until ctx ends.
func (b *cardBook) run(ctx context.Context) {
	for ctx.Err() == nil {
		updates, stop := b.a.engine.Subscribe(hubBuffer)
		b.follow(ctx, updates)
		stop()
		if ctx.Err() == nil {
			// The hub dropped us: catch up on every card followed.
			b.a.log.Warn("card updates fell behind; refreshing the cards on screen")
			b.mu.Lock()
			ids := make([]string, 0, len(b.m))
			for id := range b.m {
				ids = append(ids, id)
			}
			b.mu.Unlock()
			for _, id := range ids {
				b.refresh(ctx, id, nil)
			}
		}
	}
}

// follow refreshes the cards of the sessions that updates concern, until
// ctx ends or the hub drops the subscription.
func (b *cardBook) follow(ctx context.Context, updates <-chan core.Update) {
	for {
		select {
		case <-ctx.Done():
			return
		case u, ok := <-updates:
			if !ok {
				return
			}
			if c := u.Conversation; c != nil && u.Closer != "" && c.Desk.Channel == core.ChannelSlack && c.DeskThread != "" && validID(c.Desk.Address, "CG") {
				b.a.later(ctx, func(ctx context.Context) { b.a.closeHeader(ctx, c, u.Closer) })
				continue
			}
			if u.Session == nil || (u.Event != nil && u.Event.Action == core.ActionIssue) {
				continue // a new session's card is the command's answer
			}
			ref := b.get(u.Session.ID)
			if ref == nil {
				continue
			}
			ref.mu.Lock()
			stale := u.Delivery == nil && u.Session.Version <= ref.version
			ref.mu.Unlock()
			if stale {
				continue
			}
			id := u.Session.ID
			b.a.later(ctx, func(ctx context.Context) { b.refresh(ctx, id, nil) })
		}
	}
}
