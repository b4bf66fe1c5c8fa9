// Package webchat is the customer web chat at /chat: the chat page, its
// transcript and event stream, the messages customers write (which open
// conversations on the console desk), and /chat/widget.js, the snippet
// that puts a "Chat with support" button on another website. It is also
// the "web" channel, which delivers agents' replies and remote-support
// links to web chat customers, as adapters/twilio's is for SMS.
package webchat

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/assistbot/assistbot/adapters/web"
	"github.com/assistbot/assistbot/bots/i18n"
	"github.com/assistbot/assistbot/core"
)

// The chat's template, script and stylesheet, compiled into the binary.
var (
	//go:embed templates/*.html
	templateFiles embed.FS
	//go:embed assets
	assetFiles embed.FS
)

const (
	// keepaliveEvery spaces the comments that keep idle event streams
	// open through proxies.
	keepaliveEvery = 20 * time.Second
	// messagesPerMinute is how many messages a chat may write a minute.
	messagesPerMinute = 20
	// clientMessagesPerMinute is how many messages all the chats of one
	// client address together may write a minute: enough for several
	// customers behind one address (an office, a carrier's NAT), not for
	// one visitor who makes a new chat for every message.
	clientMessagesPerMinute = 120
)

// Engine is what the web chat needs of core.Engine.
type Engine interface {
	CustomerMessage(ctx context.Context, in core.Inbound) (*core.Conversation, *core.Message, error)
	Conversation(ctx context.Context, id string) (*core.Conversation, error)
	Transcript(ctx context.Context, convID string) ([]*core.Message, error)
	Sessions(ctx context.Context, f core.SessionFilter) ([]*core.Session, error)
	Deliveries(ctx context.Context, id string) ([]*core.Delivery, error)
	ReportDelivery(ctx context.Context, channel, externalID string, status core.DeliveryStatus, reason string) (*core.Delivery, error)
	Subscribe(buf int) (<-chan core.Update, func())
	// Events is a session's log, where the customer's sharing is
	// recorded; Supports tells whether the provider has remote control.
	Events(ctx context.Context, id string) ([]core.Event, error)
	Supports(m core.Mode) bool
}

// Options configure the web chat. Engine and Catalog are required.
type Options struct {
	// Engine records the customers' messages and reads their
	// conversations.
	Engine Engine
	// Catalog holds the page's sentences in every language.
	Catalog *i18n.Catalog
	// PublicURL is the external base URL ("https://support.example.com"):
	// the widget links there, an https URL makes the cookies Secure, and
	// requests whose Origin is this URL are same-site even when a proxy
	// rewrote the Host header.
	PublicURL string
	// TrustedProxies are the peers whose X-Forwarded-For header is
	// believed when finding a client for the limits.
	TrustedProxies []netip.Prefix
	// Keys keep the key that signs the chat ids in the customers'
	// cookies and the CSRF tokens of their pages: the store's KeyName
	// key, the same on every replica, followed through its rotations.
	// Without Keys a random key is made, which lives as long as the
	// process.
	Keys core.KeyStore
	// Clock tells the time of the message limit; it is the engine's
	// clock. Default core.SystemClock.
	Clock core.Clock
	// SharePage returns the page on which the customer shares s's screen
	// with the technician (the portal's status page), or "" when s cannot
	// be shared now. Nil links to none.
	SharePage func(s *core.Session) string
	Logger    *slog.Logger // default discards
}

// Chat serves the web chat; its channel must be added to the engine, and
// Run must run while the server serves.
type Chat struct {
	engine    Engine
	catalog   *i18n.Catalog
	log       *slog.Logger
	publicURL string // without a trailing slash
	secure    bool
	proxies   []netip.Prefix
	tokens    signer
	limit     *web.Limiter // messages per chat
	// clientLimit bounds the messages of all chats of one client address.
	clientLimit *web.Limiter
	cop         *http.CrossOriginProtection
	pages       *template.Template
	assets      *web.Assets
	sharePage   func(s *core.Session) string
	channel     *channel
	streams     *streams // open event streams

	// subscribe is the engine's Subscribe; tests replace it.
	subscribe func(buf int) (<-chan core.Update, func())
	keepalive time.Duration
	done      chan struct{} // closed by Run's end: event streams stop
}

// New returns the web chat for o.
func New(o Options) (*Chat, error) {
	if o.Engine == nil || o.Catalog == nil {
		return nil, errors.New("webchat: Options.Engine and Options.Catalog are required")
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	clock := o.Clock
	if clock == nil {
		clock = core.SystemClock{}
	}
	c := &Chat{
		engine:      o.Engine,
		catalog:     o.Catalog,
		log:         log.With("component", "webchat"),
		publicURL:   strings.TrimRight(o.PublicURL, "/"),
		secure:      web.SecureCookies(o.PublicURL),
		proxies:     o.TrustedProxies,
		tokens:      signer{web.NewKeyring(o.Keys, KeyName, keySize, clock.Now)},
		limit:       web.NewLimiter(web.LimiterOptions{PerClient: messagesPerMinute, Period: time.Minute, Clock: clock}),
		clientLimit: web.NewLimiter(web.LimiterOptions{PerClient: clientMessagesPerMinute, Period: time.Minute, Clock: clock}),
		sharePage:   o.SharePage,
		channel:     newChannel(),
		streams:     newStreams(maxStreams, maxClientStreams),
		subscribe:   o.Engine.Subscribe,
		keepalive:   keepaliveEvery,
		done:        make(chan struct{}),
	}
	// Read once now: a store that cannot give the key fails the start,
	// not a customer's request; later reads fall back on this one.
	if _, _, err := c.tokens.k.Keys(context.Background()); err != nil {
		return nil, fmt.Errorf("webchat: %w", err)
	}
	var err error
	if c.cop, err = web.CrossOrigin(o.PublicURL); err != nil {
		return nil, fmt.Errorf("webchat: %w", err)
	}
	if c.assets, err = web.NewAssets(assetFiles, "assets"); err != nil {
		return nil, fmt.Errorf("webchat: %w", err)
	}
	if c.pages, err = c.parsePages(); err != nil {
		return nil, err
	}
	return c, nil
}

// Channels returns the channel the chat delivers through: "web".
func (c *Chat) Channels() []core.Channel { return []core.Channel{c.channel} }

// Run waits for ctx to end, then ends every event stream, so that the
// server's shutdown does not wait for them.
func (c *Chat) Run(ctx context.Context) error {
	<-ctx.Done()
	close(c.done)
	return nil
}

// Mount mounts the chat's routes and assets on mux.
func (c *Chat) Mount(mux web.Mux) {
	mux.Handle("GET /chat", pageHeaders(http.HandlerFunc(c.handlePage)))
	mux.Handle("GET /chat/{$}", http.RedirectHandler("/chat", http.StatusMovedPermanently))
	mux.Handle("GET /chat/transcript", pageHeaders(http.HandlerFunc(c.handleTranscript)))
	mux.Handle("POST /chat/messages", pageHeaders(http.HandlerFunc(c.handleMessage)))
	mux.Handle("GET /chat/events", pageHeaders(http.HandlerFunc(c.handleEvents)))
	mux.Handle("GET /chat/widget.js", http.HandlerFunc(c.handleWidget))
	c.assets.Mount(mux)
}

// Snippet returns the line that puts the chat on a website: a script
// element loading /chat/widget.js from the public URL.
func (c *Chat) Snippet() string {
	return `<script src="` + c.publicURL + `/chat/widget.js" async></script>`
}

// pageHeaders sets what every chat answer needs: nothing is cached,
// nothing is framed, no Referer carries a URL elsewhere, and the page
// loads only its own script and stylesheet.
func pageHeaders(h http.Handler) http.Handler {
	return web.Private(web.ScriptPageCSP, web.Unframed(h))
}
