// Package remote is the remote-support flow every desk shares,
// independent of any platform: the grammar of the /remote command, the
// card an agent sees for a session (as data that Slack, Discord and the
// console each render), its actions and the buttons of a conversation's
// desk thread, issuing a PIN and sending the link at once, following the
// engine's updates to keep the cards on screen current (with one rule for
// "this card changed"), what a relay error means for whoever wrote the
// message, the desk alerts and the texts sent to customers.
//
// Platforms keep what is theirs: verifying and parsing requests,
// rendering cards and alerts, and their APIs.
package remote

import (
	"context"

	"github.com/assistbot/assistbot/bots/i18n"
	"github.com/assistbot/assistbot/core"
)

// Engine is what the bot asks of core.Engine.
type Engine interface {
	Issue(ctx context.Context, req core.Request) (*core.Session, *core.Conversation, error)
	Send(ctx context.Context, id string, actor core.Actor, kind core.LinkKind) (*core.Session, *core.Delivery, error)
	Regenerate(ctx context.Context, id string, actor core.Actor) (*core.Session, error)
	Close(ctx context.Context, id string, actor core.Actor) (*core.Session, error)
	Start(ctx context.Context, id string, actor core.Actor, mode core.Mode) (*core.Session, error)
	End(ctx context.Context, id string, actor core.Actor) (*core.Session, error)
	Session(ctx context.Context, id string) (*core.Session, error)
	Deliveries(ctx context.Context, id string) ([]*core.Delivery, error)
	Conversation(ctx context.Context, id string) (*core.Conversation, error)
	CloseConversation(ctx context.Context, id string, actor core.Actor) (*core.Conversation, error)
	Supports(m core.Mode) bool
}

var _ Engine = (*core.Engine)(nil)

// builtinProvider names the provider whose shared screens the console
// shows.
const builtinProvider = "builtin"

// Bot turns sessions into cards and card actions into engine operations.
type Bot struct {
	engine  Engine
	catalog *i18n.Catalog
	// watch is the console's base URL when it shows shared screens; an
	// active view-only session's card then links to where to watch it.
	watch string
}

// New returns a Bot.
func New(e Engine, c *i18n.Catalog) *Bot { return &Bot{engine: e, catalog: c} }

// WatchAt makes the cards of active view-only sessions of the builtin
// provider link to the console at base (the public URL, without a
// trailing slash), where the customer's shared screen is shown. Call it
// before the bot is used.
func (b *Bot) WatchAt(base string) { b.watch = base }

// Catalog returns the bot's message catalog.
func (b *Bot) Catalog() *i18n.Catalog { return b.catalog }
