// Package discord connects assistbot to Discord: the /remote application
// command and the card's buttons (received over the gateway or at the
// HTTP interactions endpoint, through one handler), the "discord" channel
// that DMs customers and keeps a thread per conversation in the agents'
// desk channel, and the relay of customer DMs and agent thread replies.
//
// Every REST call goes through discordgo, whose endpoint variables are
// fixed at start-up; a transport on the session's HTTP client sends them
// to the configured api_url instead, which is also how tests reach a fake
// Discord.
package discord

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/assistbot/assistbot/bots/i18n"
	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
)

// CommandName is the application command agents type: /remote.
const CommandName = "remote"

// RouteInteractions is the route of the Interactions Endpoint URL, part
// of the external contract; Mount adds it when a public key is set.
const RouteInteractions = "POST /discord/interactions"

// maxCached bounds each of the adapter's memories (where a customer was
// named, DM channels, threads being started): past it, the least recently
// used entry goes first, so a flood of interactions cannot grow memory
// without limit.
const maxCached = 10000

// Defaults for Options.
const (
	// DefaultDeferAfter leaves a second of Discord's three for the answer
	// to travel: an interaction not answered by then gets a deferred
	// response, and the card follows as an edit.
	DefaultDeferAfter = 2 * time.Second
	// MaxSignatureAge is how old an X-Signature-Timestamp may be. Discord
	// signs each request as it sends it; discordgo checks the signature but
	// not the age, so without this a captured request could be replayed.
	MaxSignatureAge = 5 * time.Minute
)

// Options configure an Adapter.
type Options struct {
	// Token is the bot token, without the "Bot " prefix.
	Token string
	// ApplicationID is the application's numeric ID; interactions for
	// another application are refused.
	ApplicationID string
	// PublicKey is the application's hex Ed25519 key. Without it Mount
	// adds no interactions endpoint (and it would refuse every request).
	PublicKey string
	// GuildID, when set, is the only guild whose members may act.
	GuildID string
	// DeskChannel is the channel where each conversation gets a thread.
	DeskChannel string
	// AgentRoles are the role IDs that make a member an agent; empty
	// makes every member of an accepted guild one.
	AgentRoles []string
	// Gateway makes Run connect to the gateway websocket.
	Gateway bool
	// Locker, when set, lets one replica at a time hold the gateway (the
	// store's lock, shared by the replicas); nil connects at once.
	Locker core.Locker
	// LockRetry is how often a replica without the gateway asks for it
	// again; default DefaultLockRetry.
	LockRetry time.Duration
	// EscalationRole is the role ID the last escalation of a waiting
	// customer mentions; without it, the channel (@here).
	EscalationRole string
	// Memo, when set, keeps the interaction tokens that edit agents'
	// cards in the store the replicas share, so that any replica can
	// edit a card, not only the one that answered the agent.
	Memo core.MemoStore
	// APIURL is the REST base URL, ending with "/"
	// ("https://discord.com/api/v10/").
	APIURL string

	Engine Engine
	Bot    *remote.Bot
	Logger *slog.Logger
	// Transport carries REST requests once they are pointed at APIURL;
	// default http.DefaultTransport.
	Transport http.RoundTripper
	// Now replaces time.Now for the signature age check and the life of
	// interaction tokens.
	Now func() time.Time
	// DeferAfter is how long an interaction may take before it is
	// answered with a deferred response; default DefaultDeferAfter.
	DeferAfter time.Duration
}

// Engine is what the adapter asks of core.Engine besides what its Bot
// does (remote.DeskEngine).
type Engine = remote.DeskEngine

// Adapter is assistbot on Discord: the interactions endpoint, the
// "discord" channel, and the gateway connection (Run).
type Adapter struct {
	engine  Engine
	bot     *remote.Bot
	catalog *i18n.Catalog
	log     *slog.Logger
	session *discordgo.Session
	appID   string
	key     ed25519.PublicKey
	guild   string
	desk    core.Endpoint
	roles   map[string]bool
	gateway bool
	locker  core.Locker
	// lockRetry is how often this replica asks for the gateway lock.
	lockRetry time.Duration
	// escalationRole is Options.EscalationRole.
	escalationRole string
	// gatewayLogs adds the gateway's log handlers once, however often
	// the gateway is taken over.
	gatewayLogs sync.Once
	now         func() time.Time
	deferAfter  time.Duration

	halted chan struct{}
	// watching is closed once Run follows the engine's updates: an
	// update published before that is not seen (tests wait for it).
	watching     chan struct{}
	watchingOnce sync.Once
	haltOnce     sync.Once
	// contentOnce logs the missing Message Content intent once.
	contentOnce sync.Once

	// cards are the agents' ephemeral cards still editable through their
	// interaction token.
	cards *remote.Cards[cardRef]
	// origins are the channels where an agent ran /remote or pressed
	// its card's buttons, by conversation id: where the customer is
	// mentioned when DMs fail (see rememberOrigin).
	origins *expirable.LRU[string, string]
	// dms caches DM channel ids by user id; threads remembers threads
	// started for conversations whose first desk message then failed, so
	// that a retry does not start another; headers remembers the headers
	// posted for conversations whose thread then failed to start, so that
	// a retry starts it from that header rather than posting another.
	dms, threads, headers *expirable.LRU[string, string]

	// work tracks goroutines that outlive a request: deferred answers.
	work sync.WaitGroup
}

// New returns an Adapter for o. It makes no request.
func New(o Options) (*Adapter, error) {
	if o.Engine == nil || o.Bot == nil {
		return nil, errors.New("discord: an engine and a bot are required")
	}
	if o.Token == "" {
		return nil, errors.New("discord: the bot token is required")
	}
	if o.DeskChannel == "" {
		return nil, errors.New("discord: the desk channel is required")
	}
	a := &Adapter{
		engine:         o.Engine,
		bot:            o.Bot,
		catalog:        o.Bot.Catalog(),
		log:            o.Logger,
		appID:          o.ApplicationID,
		guild:          o.GuildID,
		desk:           core.Endpoint{Channel: core.ChannelDiscord, Address: o.DeskChannel},
		roles:          map[string]bool{},
		gateway:        o.Gateway,
		locker:         o.Locker,
		lockRetry:      o.LockRetry,
		escalationRole: o.EscalationRole,
		now:            o.Now,
		deferAfter:     o.DeferAfter,
		halted:         make(chan struct{}),
		watching:       make(chan struct{}),
		origins:        expirable.NewLRU[string, string](maxCached, nil, originTTL),
		dms:            expirable.NewLRU[string, string](maxCached, nil, dmTTL),
		threads:        expirable.NewLRU[string, string](maxCached, nil, threadTTL),
		headers:        expirable.NewLRU[string, string](maxCached, nil, threadTTL),
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	a.log = a.log.With("platform", core.ChannelDiscord)
	if a.now == nil {
		a.now = time.Now
	}
	a.cards = remote.NewCards(o.Bot, remote.CardsOptions[cardRef]{Draw: a.drawCard, Life: cardTTL, Now: a.now, Logger: a.log,
		Shared: o.Memo, Name: core.ChannelDiscord, Encode: cardRef.encode, Decode: decodeCardRef})
	if a.lockRetry <= 0 {
		a.lockRetry = DefaultLockRetry
	}
	if a.deferAfter <= 0 {
		a.deferAfter = DefaultDeferAfter
	}
	for _, r := range o.AgentRoles {
		a.roles[r] = true
	}
	if o.PublicKey != "" {
		k, err := hex.DecodeString(o.PublicKey)
		if err != nil || len(k) != ed25519.PublicKeySize {
			return nil, errors.New("discord: the public key must be 64 hexadecimal characters")
		}
		a.key = ed25519.PublicKey(k)
	}
	s, err := newSession(o.Token, o.APIURL, o.Transport, a.halt, a.isHalted)
	if err != nil {
		return nil, err
	}
	a.session = s
	s.AddHandler(a.onInteractionCreate)
	s.AddHandler(a.onMessageCreate)
	return a, nil
}

// Channels returns the adapter's outbound channel, named "discord", for
// the engine's outbox.
func (a *Adapter) Channels() []core.Channel { return []core.Channel{(*channel)(a)} }

// Mount adds the interactions endpoint to mux when a public key is set;
// without one nothing could be verified, and interactions come over the
// gateway.
func (a *Adapter) Mount(mux interface{ Handle(string, http.Handler) }) {
	if a.key == nil {
		return
	}
	mux.Handle(RouteInteractions, http.HandlerFunc(a.serveInteraction))
}

// Desk returns the endpoint of the desk channel, where conversations
// opened on Discord are followed.
func (a *Adapter) Desk() core.Endpoint { return a.desk }

// halt stops every request to Discord after it refused the bot token:
// Discord bans an IP that makes too many invalid requests, so retrying
// with the same token only makes things worse.
func (a *Adapter) halt() {
	a.haltOnce.Do(func() {
		a.log.Error("Discord refused the bot token (HTTP 401); the Discord adapter stops making requests instead of retrying, since Discord bans addresses that keep sending invalid ones. Set a valid discord.token and restart assistbot.")
		close(a.halted)
	})
}

// isHalted reports whether halt was called.
func (a *Adapter) isHalted() bool {
	select {
	case <-a.halted:
		return true
	default:
		return false
	}
}

// t translates key for the desk and for delivery reasons, which are
// stored once and read by every agent: the configured default language.
func (a *Adapter) t(key string, kv ...string) string {
	return a.catalog.T(a.catalog.Default(), key, kv...)
}

// errHalted is the error of every request made after halt.
func (a *Adapter) errHalted() error {
	return &core.Error{Code: core.CodeUnauthorized, Message: a.t("discord.reason.token_refused"),
		Err: fmt.Errorf("discord: the bot token was refused earlier")}
}
