package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/assistbot/assistbot/bots/i18n"
	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
)

// DefaultSessionTTL is how long a console sign-in lasts when
// ConsoleOptions leave it zero; it matches the config package's default.
const DefaultSessionTTL = 12 * time.Hour

const (
	// consoleCSP lets console pages load their own script, stylesheet and
	// event stream and nothing else. Strings for the script travel in a
	// JSON data block, which is not executed, so no inline script is
	// needed.
	consoleCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
		"object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
	// keepaliveEvery spaces the comments that keep idle event streams
	// open through proxies, and the checks that their sign-in still holds.
	keepaliveEvery = 20 * time.Second
	// passwordChecks bounds the argon2 checks running at once: each takes
	// up to the hash's memory cost (64 MiB by default).
	passwordChecks = 2
)

// ConsoleOptions configure the technician console and the web chat.
type ConsoleOptions struct {
	// Bot renders session cards and performs their actions. Required.
	Bot *remote.Bot
	// Agents may sign in to the console. Their names must be unique and
	// their hashes valid (see Agent).
	Agents []Agent
	// SessionTTL is how long a sign-in lasts; zero means
	// DefaultSessionTTL.
	SessionTTL time.Duration
	// WebChat serves the customer chat at /chat.
	WebChat bool
	// PublicURL is the external base URL ("https://support.example.com"):
	// the web chat snippet links there, and requests whose Origin is
	// this URL are same-site even when a proxy rewrote the Host header.
	PublicURL string
	// ICEServers returns the STUN and TURN servers handed to the pages
	// of a screen share each time one opens (TURN credentials may be
	// short-lived). Nil hands none: browsers on one network connect
	// directly.
	ICEServers func() []ICEServer
	// RelayOnly makes the share's browsers connect through a TURN relay
	// only, so that neither learns the other's address.
	RelayOnly bool
}

// Console is the technician console at /console, where agents see the
// sessions waiting for them, start them, follow conversations and answer
// them; and the customer web chat at /chat. It mounts its routes on a
// Server; its two channels (web chat and the console desk) must be added
// to the engine, and Run must run while the server serves.
type Console struct {
	s       *Server
	engine  *core.Engine
	bot     *remote.Bot
	catalog *i18n.Catalog
	log     *slog.Logger
	agents  map[string]Agent
	signIns *signIns
	tokens  tokens
	logins  *limiter // wrong passwords per client
	chats   *limiter // chat messages per client
	cop     *http.CrossOriginProtection
	pages   *template.Template
	assets  map[string]string // file name → URL with a content version
	webChat bool
	// publicURL is the base of the chat snippet's link, without a
	// trailing slash.
	publicURL string
	chat      *chatChannel
	streams   *streamCount // open chat event streams
	desk      *deskChannel
	checks    chan struct{} // semaphore of password checks

	// hub relays the signaling of screen shares; origins are the
	// WebSocket origins accepted besides the request's own host.
	hub        *signalHub
	origins    []string
	iceServers func() []ICEServer
	relayOnly  bool
	signalPing time.Duration // tests shorten it

	// subscribe is the hub's Subscribe; tests replace it to drop a
	// subscriber on purpose.
	subscribe func(buf int) (<-chan core.Update, func())
	keepalive time.Duration

	done     chan struct{} // closed by Run's end: event streams stop
	doneOnce sync.Once
	decoyState
}

// NewConsole mounts the console (and, with o.WebChat, the web chat) on s
// and returns it. It fails on a duplicate agent name or a hash it cannot
// verify, naming the agent.
func NewConsole(s *Server, o ConsoleOptions) (*Console, error) {
	if o.Bot == nil {
		return nil, errors.New("console: ConsoleOptions.Bot is required")
	}
	ttl := o.SessionTTL
	if ttl <= 0 {
		ttl = DefaultSessionTTL
	}
	c := &Console{
		s:          s,
		engine:     s.engine,
		bot:        o.Bot,
		catalog:    s.catalog,
		log:        s.log,
		agents:     make(map[string]Agent, len(o.Agents)),
		signIns:    newSignIns(s.clock.Now, ttl),
		tokens:     newTokens(),
		logins:     newLimiter(s.clock.Now, 10, time.Minute),
		chats:      newLimiter(s.clock.Now, 20, time.Minute),
		cop:        http.NewCrossOriginProtection(),
		webChat:    o.WebChat,
		checks:     make(chan struct{}, passwordChecks),
		subscribe:  s.engine.Subscribe,
		keepalive:  keepaliveEvery,
		signalPing: SignalPing,
		streams:    &streamCount{max: maxChatStreams},
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
	c.publicURL = strings.TrimRight(o.PublicURL, "/")
	if u, err := url.Parse(c.publicURL); err == nil && u.Scheme != "" && u.Host != "" {
		// Behind a proxy that rewrites Host, an old browser's Origin is
		// the public URL's.
		if err := c.cop.AddTrustedOrigin(u.Scheme + "://" + u.Host); err != nil {
			return nil, fmt.Errorf("console: %w", err)
		}
		c.origins = []string{u.Host}
	}
	c.hub, c.iceServers, c.relayOnly = newSignalHub(s.engine, s.log), o.ICEServers, o.RelayOnly
	s.share = c
	var err error
	if c.assets, err = versionAssets(); err != nil {
		return nil, err
	}
	if c.pages, err = c.parsePages(); err != nil {
		return nil, err
	}
	c.chat = newChatChannel()
	c.desk = &deskChannel{}
	c.routes()
	return c, nil
}

// Channels returns the channels the console delivers through: the web
// chat ("web") and the console desk ("console").
func (c *Console) Channels() []core.Channel { return []core.Channel{c.chat, c.desk} }

// Run ends expired sign-ins as they expire until ctx ends, then ends every
// event stream, so that the server's shutdown does not wait for them.
func (c *Console) Run(ctx context.Context) error {
	hubDone := make(chan struct{})
	go func() {
		defer close(hubDone)
		c.hub.run(ctx)
	}()
	defer func() { <-hubDone }()
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			c.doneOnce.Do(func() { close(c.done) })
			return nil
		case <-t.C:
			c.signIns.sweep()
		}
	}
}

func (c *Console) routes() {
	page, api := pageRoute, apiRoute
	h := c.s.Handle
	h("GET /console", c.headers(c.signedIn(page, c.handleHome)))
	h("GET /console/{$}", http.RedirectHandler("/console", http.StatusMovedPermanently))
	h("GET /console/login", c.headers(http.HandlerFunc(c.handleLoginPage)))
	h("POST /console/login", c.headers(http.HandlerFunc(c.handleLogin)))
	h("POST /console/logout", c.headers(c.signedIn(page, c.handleLogout)))
	h("GET /console/events", c.headers(c.signedIn(api, c.handleEvents)))
	h("GET /console/queue", c.headers(c.signedIn(api, c.handleQueue)))
	h("GET /console/conversations", c.headers(c.signedIn(api, c.handleConversations)))
	h("GET /console/conversations/{id}", c.headers(c.signedIn(page, c.handleConversation)))
	h("GET /console/conversations/{id}/transcript", c.headers(c.signedIn(api, c.handleTranscript)))
	h("POST /console/conversations/{id}/remote", c.headers(c.signedIn(page, c.handleRemote)))
	h("POST /console/conversations/{id}/reply", c.headers(c.signedIn(page, c.handleReply)))
	h("POST /console/conversations/{id}/close", c.headers(c.signedIn(page, c.handleCloseConversation)))
	h("GET /console/sessions/{id}", c.headers(c.signedIn(page, c.handleSession)))
	h("GET /console/sessions/{id}/card", c.headers(c.signedIn(api, c.handleCard)))
	h("GET /console/sessions/{id}/log", c.headers(c.signedIn(api, c.handleLog)))
	h("POST /console/sessions/{id}/act", c.headers(c.signedIn(page, c.handleAct)))
	h("POST /console/sessions/{id}/watch", c.headers(c.signedIn(page, c.handleWatch)))
	h("GET /console/sessions/{id}/signal", c.headers(c.signedIn(api, c.handleTechnicianSignal)))
	h("GET /s/{id}/signal", c.s.portal(c.handleCustomerSignal))
	h("GET /s/{id}/handoff", c.s.portal(c.handleHandoffPart))
	h("GET /h/{token}", c.s.portal(c.handleHandoffLanding))
	h("POST /h/{token}", c.s.portal(c.handleHandoff))
	if c.webChat {
		c.chatRoutes()
	}
}

// headers sets what every console and chat answer needs: nothing is
// cached, nothing is framed, no Referer carries a URL elsewhere.
func (c *Console) headers(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Cache-Control", "no-store")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Content-Security-Policy", consoleCSP)
		h.ServeHTTP(w, r)
	})
}

// versionAssets returns the URL of each embedded asset with a hash of its
// content in the query, so that a new release is never served a cached
// script or stylesheet of the old one.
func versionAssets() (map[string]string, error) {
	out := map[string]string{}
	err := fs.WalkDir(assetFiles, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(assetFiles, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		name := strings.TrimPrefix(p, "assets/")
		out[name] = "/assets/" + url.PathEscape(name) + "?v=" + hex.EncodeToString(sum[:5])
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("console: assets: %w", err)
	}
	return out, nil
}
