// Package console is the technician console at /console: the agents'
// sign-in (passwords, sign-ins every replica shares, CSRF), the queue of
// remote-support sessions with its live event stream, the open
// conversations and their transcripts, the remote-session dialog and the
// card's actions, and each session's page with its event log and the
// customer's shared screen. It is also the "console" desk channel: the
// desk of the conversations followed in the console.
package console

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
	"sync"
	"time"
	"unicode"

	"github.com/assistbot/assistbot/adapters/web"
	"github.com/assistbot/assistbot/bots/i18n"
	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/report"
)

// The console's templates, script, stylesheet and screen viewer, compiled
// into the binary.
var (
	//go:embed templates/*.html
	templateFiles embed.FS
	//go:embed assets
	assetFiles embed.FS
)

// DefaultSessionTTL is how long a sign-in lasts when Options leave
// SessionTTL zero; it matches the config package's default.
const DefaultSessionTTL = 12 * time.Hour

const (
	// keepaliveEvery spaces the comments that keep idle event streams
	// open through proxies.
	keepaliveEvery = 20 * time.Second
	// recheckEvery spaces the checks that end this replica's event
	// streams of a sign-in that ended on another replica; expireEvery
	// spaces the deletions of expired sign-ins from the store.
	recheckEvery = 10 * time.Second
	expireEvery  = time.Minute
	// passwordChecks bounds the argon2 checks running at once: each takes
	// up to the hash's memory cost (64 MiB by default).
	passwordChecks = 2
	// wrongPasswords is how many sign-ins a client may try per minute
	// (README: "Ten wrong passwords from one client within a minute make
	// it wait").
	wrongPasswords = 10
)

// Engine is what the console needs of core.Engine.
type Engine interface {
	Session(ctx context.Context, id string) (*core.Session, error)
	Sessions(ctx context.Context, f core.SessionFilter) ([]*core.Session, error)
	Issue(ctx context.Context, req core.Request) (*core.Session, *core.Conversation, error)
	Watch(ctx context.Context, id string, actor core.Actor) (*core.Session, error)
	Events(ctx context.Context, id string) ([]core.Event, error)
	Deliveries(ctx context.Context, id string) ([]*core.Delivery, error)
	Conversation(ctx context.Context, id string) (*core.Conversation, error)
	Conversations(ctx context.Context, f core.ConversationFilter) ([]*core.Conversation, error)
	Transcript(ctx context.Context, convID string) ([]*core.Message, error)
	AgentMessage(ctx context.Context, conversationID string, agent core.Actor, text, source string) (*core.Message, *core.Delivery, error)
	CloseConversation(ctx context.Context, id string, actor core.Actor) (*core.Conversation, error)
	Subscribe(buf int) (<-chan core.Update, func())
}

// Bot is what the console needs of the remote-support bot (bots/remote):
// the card of a session, its actions, and sentences for errors and
// deliveries.
type Bot interface {
	Card(ctx context.Context, s *core.Session, c *core.Conversation, locale string) remote.Card
	Act(ctx context.Context, actor core.Actor, actionID, id string) (remote.Result, error)
	ErrorText(err error, locale string) string
	DeliveryStatus(d *core.Delivery, locale string) string
	Reminder(n core.Notice, locale string) string
}

// Screen is the customer's shared screen that a session's page shows
// (adapters/signaling's Hub, wired by cmd/assistbot).
type Screen interface {
	// Viewable reports whether s's screen is shown in the console (the
	// builtin provider's sessions).
	Viewable(s *core.Session) bool
	// TechnicianSignal returns the path of the technician's signaling
	// socket of session id.
	TechnicianSignal(id string) string
	// TechnicianChanged disconnects the page of the technician who
	// watched session id: someone else watches now.
	TechnicianChanged(id string)
}

// ICEServer is a STUN or TURN server handed to the screen viewer, in the
// form RTCPeerConnection takes.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// Options configure the console. Engine, Bot and Catalog are required.
type Options struct {
	// Engine runs the sessions and conversations the console shows.
	Engine Engine
	// Bot renders session cards and performs their actions.
	Bot Bot
	// Catalog holds the pages' sentences in every language.
	Catalog *i18n.Catalog
	// Agents may sign in. Their names must be unique and their hashes
	// valid (see Agent).
	Agents []Agent
	// SessionTTL is how long a sign-in lasts; zero means
	// DefaultSessionTTL.
	SessionTTL time.Duration
	// SignIns keeps the agents' sign-ins. With the store every replica
	// shares, a sign-in works on every replica and outlives a restart.
	// Nil keeps them in this process's memory.
	SignIns core.SignInStore
	// Keys keeps the key of the CSRF tokens, the same for every replica
	// that shares it, made on first use and rotatable. Nil makes a key
	// for this process alone.
	Keys core.KeyStore
	// TechnicianLinks says that the provider hands the technician a link
	// to work through when they start a session (MeshCentral): the
	// console opens it in a new tab from the start buttons.
	TechnicianLinks bool
	// PublicURL is the external base URL ("https://support.example.com"):
	// an https URL makes the cookies Secure, and requests whose Origin is
	// this URL are same-site even when a proxy rewrote the Host header.
	PublicURL string
	// TrustedProxies are the peers whose X-Forwarded-For header is
	// believed when finding a client for the sign-in limit.
	TrustedProxies []netip.Prefix
	// Clock tells the time of sign-ins and their limit; it is the
	// engine's clock. Default core.SystemClock.
	Clock core.Clock
	// Escalation lists the waiting times (escalation.after) past which a
	// waiting customer's queue entry stands out; the last, more so.
	Escalation []time.Duration
	// ChatSnippet is the line that puts the web chat on a website, shown
	// on the queue page; empty when the web chat is not served.
	ChatSnippet string
	// Screen, when set, shows the customer's shared screen on the
	// session's page.
	Screen Screen
	// ICEServers returns the STUN and TURN servers handed to the screen
	// viewer each time it opens. Nil hands none.
	ICEServers func() []ICEServer
	// RelayOnly makes the viewer connect through a TURN relay only.
	RelayOnly bool
	// Reports computes the Reports page's reports (the store); nil
	// answers that page with 503.
	Reports report.Store
	Logger  *slog.Logger // default discards
}

// Console serves the technician console; its desk channel must be added
// to the engine, and Run must run while the server serves.
type Console struct {
	engine  Engine
	bot     Bot
	catalog *i18n.Catalog
	clock   core.Clock
	// escalation is Options.Escalation.
	escalation []time.Duration
	log        *slog.Logger
	agents     map[string]Agent
	signIns    *signIns
	keys       *web.Keyring
	logins     *web.Limiter // sign-in attempts per client
	proxies    []netip.Prefix
	secure     bool
	cop        *http.CrossOriginProtection
	pages      *template.Template
	assets     *web.Assets
	snippet    string
	desk       *deskChannel
	checks     chan struct{} // semaphore of password checks
	// verify checks a password against a hash; tests count its calls.
	verify func(hash, password string) (bool, error)

	screen     Screen
	iceServers func() []ICEServer
	relayOnly  bool
	links      bool // the provider hands technicians a link (TechnicianLinks)
	// roleOf returns an agent's console role (see role); nil until
	// roles are configured.
	roleOf func(name string) string
	// reports computes the Reports page (Options.Reports).
	reports report.Store

	// subscribe is the engine's Subscribe; tests replace it to drop a
	// subscriber on purpose.
	subscribe func(buf int) (<-chan core.Update, func())
	keepalive time.Duration
	recheck   time.Duration

	done     chan struct{} // closed by Run's end: event streams stop
	doneOnce sync.Once
	decoyState
}

// New returns the console for o. It fails on a duplicate agent name or a
// hash it cannot verify, naming the agent.
func New(o Options) (*Console, error) {
	if o.Engine == nil || o.Bot == nil || o.Catalog == nil {
		return nil, errors.New("console: Options.Engine, Options.Bot and Options.Catalog are required")
	}
	ttl := o.SessionTTL
	if ttl <= 0 {
		ttl = DefaultSessionTTL
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	clock := o.Clock
	if clock == nil {
		clock = core.SystemClock{}
	}
	keys := web.NewKeyring(o.Keys, KeyName, KeySize, clock.Now)
	c := &Console{
		engine:     o.Engine,
		bot:        o.Bot,
		catalog:    o.Catalog,
		clock:      clock,
		escalation: o.Escalation,
		log:        log.With("component", "console"),
		agents:     make(map[string]Agent, len(o.Agents)),
		signIns:    newSignIns(o.SignIns, keys, clock.Now, ttl),
		keys:       keys,
		// The limit reads the engine's clock, like the PIN limit, so
		// tests move one clock.
		logins:     web.NewLimiter(web.LimiterOptions{PerClient: wrongPasswords, Period: time.Minute, Clock: clock}),
		proxies:    o.TrustedProxies,
		secure:     web.SecureCookies(o.PublicURL),
		snippet:    o.ChatSnippet,
		desk:       &deskChannel{},
		checks:     make(chan struct{}, passwordChecks),
		verify:     verifyPassword,
		screen:     o.Screen,
		iceServers: o.ICEServers,
		relayOnly:  o.RelayOnly,
		links:      o.TechnicianLinks,
		reports:    o.Reports,
		subscribe:  o.Engine.Subscribe,
		keepalive:  keepaliveEvery,
		recheck:    recheckEvery,
		done:       make(chan struct{}),
	}
	for i, a := range o.Agents {
		if a.Name == "" || strings.ContainsFunc(a.Name, unicode.IsSpace) {
			return nil, fmt.Errorf("console.agents[%d].name: %q must be a name without spaces", i, a.Name)
		}
		if _, dup := c.agents[a.Name]; dup {
			return nil, fmt.Errorf("console.agents[%d].name: %q is already used", i, a.Name)
		}
		if err := checkHash(a.PasswordHash); err != nil {
			return nil, fmt.Errorf("console.agents[%d].password_hash (agent %s): %w", i, a.Name, err)
		}
		c.agents[a.Name] = a
	}
	c.roleOf = c.configuredRole
	var err error
	if c.cop, err = web.CrossOrigin(o.PublicURL); err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	if c.assets, err = web.NewAssets(assetFiles, "assets"); err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	if c.pages, err = c.parsePages(); err != nil {
		return nil, err
	}
	return c, nil
}

// Channels returns the channel the console delivers through: the console
// desk ("console").
func (c *Console) Channels() []core.Channel { return []core.Channel{c.desk} }

// Run ends the event streams of sign-ins that expired or ended on another
// replica, and deletes expired sign-ins from the store, until ctx ends;
// then it ends every event stream, so that the server's shutdown does not
// wait for them.
func (c *Console) Run(ctx context.Context) error {
	t := time.NewTicker(c.recheck)
	defer t.Stop()
	var expired time.Time
	for {
		select {
		case <-ctx.Done():
			c.doneOnce.Do(func() { close(c.done) })
			return nil
		case <-t.C:
			now := c.clock.Now()
			expire := now.Sub(expired) >= expireEvery || now.Before(expired)
			if err := c.signIns.sweep(ctx, expire); err != nil && ctx.Err() == nil {
				c.log.Warn("console sign-ins", "err", err)
			} else if expire {
				expired = now
			}
		}
	}
}

// Mount mounts the console's routes and assets on mux.
func (c *Console) Mount(mux web.Mux) {
	page, api := pageRoute, apiRoute
	h := func(pattern string, handler http.Handler) { mux.Handle(pattern, pageHeaders(handler)) }
	h("GET /console", c.signedIn(page, c.handleHome))
	mux.Handle("GET /console/{$}", http.RedirectHandler("/console", http.StatusMovedPermanently))
	h("GET /console/login", http.HandlerFunc(c.handleLoginPage))
	h("POST /console/login", http.HandlerFunc(c.handleLogin))
	h("POST /console/logout", c.signedIn(page, c.handleLogout))
	h("GET /console/events", c.signedIn(api, c.handleEvents))
	h("GET /console/queue", c.signedIn(api, c.handleQueue))
	h("GET /console/conversations", c.signedIn(api, c.handleConversations))
	h("GET /console/conversations/{id}", c.signedIn(page, c.handleConversation))
	h("GET /console/conversations/{id}/transcript", c.signedIn(api, c.handleTranscript))
	h("POST /console/conversations/{id}/remote", c.signedIn(page, c.handleRemote))
	h("POST /console/conversations/{id}/reply", c.signedIn(page, c.handleReply))
	h("POST /console/conversations/{id}/close", c.signedIn(page, c.handleCloseConversation))
	h("GET /console/sessions/{id}", c.signedIn(page, c.handleSession))
	h("GET /console/sessions/{id}/card", c.signedIn(api, c.handleCard))
	h("GET /console/sessions/{id}/log", c.signedIn(api, c.handleLog))
	h("POST /console/sessions/{id}/act", c.signedIn(page, c.handleAct))
	h("POST /console/sessions/{id}/watch", c.signedIn(page, c.handleWatch))
	h("POST /console/sessions/{id}/handoff", c.signedIn(page, c.handleHandoff))
	h("POST /console/conversations/{id}/handoff", c.signedIn(page, c.handleHandoffConversation))
	h("GET /console/reports", c.signedIn(page, c.handleReports))
	h("GET /console/reports.csv", c.signedIn(page, c.handleReportsCSV))
	c.assets.Mount(mux)
}

// SignedIn returns the agent signed in on r's browser and a channel that
// is closed when that sign-in ends (sign-out or expiry); ok is false when
// r carries no live sign-in. It is how the technician's signaling socket
// is authenticated.
func (c *Console) SignedIn(r *http.Request) (agent string, signedOut <-chan struct{}, ok bool) {
	si, err := c.current(r)
	if err != nil {
		c.log.Error("console sign-in check", "route", r.Pattern, "err", err)
	}
	if si == nil {
		return "", nil, false
	}
	return si.agent, si.ended(), true
}

// pageHeaders sets what every console answer needs: nothing is cached,
// nothing is framed, no Referer carries a URL elsewhere, and the page
// loads only its own script and stylesheet.
func pageHeaders(h http.Handler) http.Handler {
	return web.Private(web.ScriptPageCSP, web.Unframed(h))
}

// viewable reports whether the session page shows s's screen.
func (c *Console) viewable(s *core.Session) bool {
	return c.screen != nil && c.screen.Viewable(s)
}
