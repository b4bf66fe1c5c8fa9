// Package portal is the customer portal: the form for typing a PIN
// (GET /), the landing pages of the desktop and mobile links (/?code=PIN,
// /m/PIN), Start (POST /join), which gives the browser the customer cookie
// that authorises it for its session, and the session's status page
// (/s/{id}), which follows the session live and offers screen sharing
// while the technician views. For a provider whose own page connects the
// customer's device (MeshCentral), the landing explains what will happen
// and leads there instead. It also moves a session to another device
// (/s/{id}/handoff, /h/{token}) and guards against PIN guessing, per
// client and globally, without ever refusing a customer who follows the
// link they were sent (see proof.go).
package portal

import (
	"bytes"
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

// The portal's templates, stylesheet and share script, compiled into the
// binary so the portal needs no files and loads nothing from elsewhere.
var (
	//go:embed templates/*.html
	templateFiles embed.FS
	//go:embed assets
	assetFiles embed.FS
)

// Defaults for the PIN guessing limits, used when Options leave them zero;
// they match the config package's defaults.
const (
	DefaultClientGuessesPerMinute = 10
	DefaultGlobalGuessesPerMinute = 300
)

// contentSecurityPolicy allows the portal's own stylesheet, script and
// forms and nothing else: no inline script, no framing, no foreign form
// targets.
const contentSecurityPolicy = "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

// Engine is what the portal needs of core.Engine.
type Engine interface {
	SessionByPIN(ctx context.Context, pin string) (*core.Session, error)
	Join(ctx context.Context, pin string, device core.Device) (*core.Session, string, error)
	Session(ctx context.Context, id string) (*core.Session, error)
	Handoff(ctx context.Context, id, key string, device core.Device) (*core.Session, string, error)
	// Supports reports whether the provider lets a technician start in
	// mode m: a provider with remote control has an agent of its own on
	// the customer's computer, which the customer accepts.
	Supports(m core.Mode) bool
}

// Observer is told of the PINs the portal refuses, by reason: "unknown"
// (a wrong, expired or used PIN) or "rate_limited" (refused unread).
type Observer interface {
	PINFailure(reason string)
}

// Share is the screen share that the status page offers while the
// technician views a session (adapters/signaling's Hub, wired by
// cmd/assistbot).
type Share interface {
	// Shareable reports whether the customer can share s's screen with
	// the technician now.
	Shareable(s *core.Session) bool
	// CustomerSignal returns the path of the customer's signaling socket
	// of session id.
	CustomerSignal(id string) string
	// CustomerMoved disconnects the page of session id's customer, who
	// has moved to another device.
	CustomerMoved(id string)
}

// ICEServer is a STUN or TURN server handed to the share page, in the
// form RTCPeerConnection takes.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// Options configure the portal. Engine and Catalog are required.
type Options struct {
	// Engine looks PINs up, joins and moves sessions.
	Engine Engine
	// Catalog holds the pages' sentences in every language.
	Catalog *i18n.Catalog
	// PublicURL is the portal's external base URL without a trailing
	// slash ("https://support.example.com"): handoff links point there,
	// an https URL makes the customer cookie Secure, and a form from its
	// origin is the portal's own even behind a proxy that rewrites Host.
	PublicURL string
	// TrustedProxies are the peers whose X-Forwarded-For header is
	// believed when finding a client for the guessing limits.
	TrustedProxies []netip.Prefix
	// ClientGuessesPerMinute and GlobalGuessesPerMinute limit wrong PINs
	// from one client and from everyone together; zero selects the
	// defaults above.
	ClientGuessesPerMinute int
	GlobalGuessesPerMinute int
	// LinkKeys keep the key the links' proofs are made with: the
	// store's LinkKeyName key, the same on every replica and in the
	// provider that builds the links, followed through its rotations
	// (the one before the last rotation is still accepted). Without
	// LinkKeys every code counts as typed.
	LinkKeys core.KeyStore
	// Clock tells the time for the guessing limits and handoff links; it
	// is the engine's clock. Default core.SystemClock.
	Clock core.Clock
	// Share, when set, offers screen sharing on the status page and the
	// move to another device; nil offers neither.
	Share Share
	// ICEServers returns the STUN and TURN servers handed to the share
	// page each time it opens (TURN credentials may be short-lived). Nil
	// hands none: browsers on one network connect directly.
	ICEServers func() []ICEServer
	// RelayOnly makes the share's browsers connect through a TURN relay
	// only, so that neither learns the other's address.
	RelayOnly bool
	// Observer, when set, is told of refused PINs.
	Observer Observer
	Logger   *slog.Logger // default discards
}

// Portal serves the customer portal.
type Portal struct {
	engine    Engine
	catalog   *i18n.Catalog
	clock     core.Clock
	log       *slog.Logger
	observer  Observer
	publicURL string
	secure    bool
	proxies   []netip.Prefix
	guesses   *web.Limiter // PIN guesses, per client and globally
	// links verify the links' proofs; nil without LinkKeys.
	links *web.Keyring
	// cop refuses cross-site POSTs: a page elsewhere must not join a
	// session or take one over in a visitor's browser.
	cop        *http.CrossOriginProtection
	pages      *pages
	assets     *web.Assets
	share      Share
	iceServers func() []ICEServer
	relayOnly  bool
}

// pages holds the parsed portal pages; each is the layout around one
// "content" template.
type pages struct {
	enter, landing, program, status, handoff *template.Template
}

// New returns the portal for o.
func New(o Options) (*Portal, error) {
	if o.Engine == nil || o.Catalog == nil {
		return nil, errors.New("portal: Options.Engine and Options.Catalog are required")
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Portal{
		engine:     o.Engine,
		catalog:    o.Catalog,
		clock:      o.Clock,
		log:        log.With("component", "portal"),
		observer:   o.Observer,
		publicURL:  strings.TrimRight(o.PublicURL, "/"),
		secure:     web.SecureCookies(o.PublicURL),
		proxies:    o.TrustedProxies,
		share:      o.Share,
		iceServers: o.ICEServers,
		relayOnly:  o.RelayOnly,
	}
	if p.clock == nil {
		p.clock = core.SystemClock{}
	}
	if o.LinkKeys != nil {
		p.links = web.NewKeyring(o.LinkKeys, LinkKeyName, LinkKeySize, p.clock.Now)
	}
	// The limits read the engine's clock: one notion of time for PIN
	// lifetimes and guessing windows, and tests move both together.
	p.guesses = web.NewLimiter(web.LimiterOptions{
		PerClient: cmpOr(o.ClientGuessesPerMinute, DefaultClientGuessesPerMinute),
		Global:    cmpOr(o.GlobalGuessesPerMinute, DefaultGlobalGuessesPerMinute),
		Clock:     p.clock,
	})
	var err error
	if p.cop, err = web.CrossOrigin(o.PublicURL); err != nil {
		return nil, fmt.Errorf("portal: %w", err)
	}
	if p.pages, err = parsePages(); err != nil {
		return nil, err
	}
	if p.assets, err = web.NewAssets(assetFiles, "assets"); err != nil {
		return nil, fmt.Errorf("portal: %w", err)
	}
	return p, nil
}

// Mount mounts the portal's routes and assets on mux.
func (p *Portal) Mount(mux web.Mux) {
	mux.Handle("GET /{$}", p.page(p.handleHome))
	mux.Handle("GET /m/{pin}", p.page(p.handleMobile))
	mux.Handle("GET /m/{pin}/{proof}", p.page(p.handleMobile))
	mux.Handle("POST /join", p.page(p.handleJoin))
	mux.Handle("GET /s/{id}", p.page(p.handleStatus))
	mux.Handle("GET /s/{id}/state", p.page(p.handleState))
	if p.share != nil {
		mux.Handle("GET /s/{id}/handoff", p.page(p.handleHandoffPart))
		mux.Handle("GET /h/{token}", p.page(p.handleHandoffLanding))
		mux.Handle("POST /h/{token}", p.page(p.handleHandoff))
	}
	p.assets.Mount(mux)
}

func parsePages() (*pages, error) {
	var err error
	parse := func(name string) *template.Template {
		t, perr := template.New(name).ParseFS(templateFiles, "templates/layout.html", "templates/"+name)
		if perr != nil && err == nil {
			err = fmt.Errorf("portal: templates: %w", perr)
		}
		return t
	}
	ps := &pages{enter: parse("enter.html"), landing: parse("landing.html"), program: parse("program.html"),
		status: parse("status.html"), handoff: parse("handoff.html")}
	return ps, err
}

// view is what a portal template sees. Every sentence comes from the
// catalog through T, in the page's language.
type view struct {
	Lang string
	// Refresh reloads the page every few seconds in a browser without
	// script, while the session may change; Follow does it with script.
	Refresh bool
	Follow  *followView
	Error   string // enter: why the code was refused
	PIN     string // landing
	Proof   string // landing: the proof the link carried, for the form
	Next    string // landing: the catalog key of what Start will do
	Mobile  bool   // handoff: the device is a phone or tablet
	State   core.State
	Phase   string       // status: what is true for the customer now (see phase)
	Message string       // status: the catalog key of the phase's sentence
	Program *programView // program: the provider's page for the customer's device
	Share   *shareView   // status: the screen share, when the session is viewed
	Handoff *handoffView // status: the link to another device
	Token   string       // handoff: the token of the page's form
	catalog *i18n.Catalog
}

// T returns the catalog's text for key in the page's language.
func (v *view) T(key string, kv ...string) string { return v.catalog.T(v.Lang, key, kv...) }

// page sets the headers every portal page needs (the PIN may be in the
// URL: nothing may cache the page or carry its URL elsewhere) and refuses
// forms posted from other sites.
func (p *Portal) page(h http.HandlerFunc) http.Handler {
	return web.Private(contentSecurityPolicy, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := p.cop.Check(r); err != nil {
			// A form on another site posting here: joining, or taking a
			// session over, happens only from the portal's own pages.
			p.enter(w, r, http.StatusForbidden, "portal.error.cross_site")
			return
		}
		h(w, r)
	}))
}

// failure answers an error that is not the customer's doing. It is logged
// here, at the edge; the customer is told to try again.
func (p *Portal) failure(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := http.StatusInternalServerError, "error.internal"
	switch core.ErrorCode(err) {
	case core.CodeRateLimited:
		// A limit behind the portal: like the portal's own, it asks the
		// customer to wait, and is no failure of the server's.
		wait, ok := core.RetryAfter(err)
		if !ok {
			wait = time.Minute
		}
		w.Header().Set("Retry-After", web.RetryAfter(wait))
		status, msg = http.StatusTooManyRequests, "error.unavailable"
	case core.CodeUnavailable, core.CodeConflict:
		status, msg = http.StatusServiceUnavailable, "error.unavailable"
	}
	web.LogFailure(p.log, r, status, err)
	p.enter(w, r, status, msg)
}

// enter shows the entry form with status and, when errKey is set, the
// catalog's sentence for it, filled with kv.
func (p *Portal) enter(w http.ResponseWriter, r *http.Request, status int, errKey string, kv ...string) {
	v := p.view(r, "")
	if errKey != "" {
		v.Error = v.T(errKey, kv...)
	}
	p.render(w, r, status, p.pages.enter, v)
}

// view starts a page in the language the browser asks for, else the
// session's, else the catalog's default.
func (p *Portal) view(r *http.Request, sessionLocale string) *view {
	return &view{Lang: p.catalog.Match(r.Header.Get("Accept-Language"), sessionLocale), catalog: p.catalog}
}

// render executes page into a buffer first, so a template failure becomes
// a clean 500 rather than half a page.
func (p *Portal) render(w http.ResponseWriter, r *http.Request, status int, page *template.Template, v *view) {
	var buf bytes.Buffer
	if err := page.ExecuteTemplate(&buf, "layout", v); err != nil {
		p.log.Error("render page", "route", r.Pattern, "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func cmpOr(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}
