package web

import (
	"bytes"
	"crypto/subtle"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/assistbot/assistbot/bots/i18n"
	"github.com/assistbot/assistbot/core"
)

// The portal's templates and stylesheet, compiled into the binary so the
// portal needs no files and loads nothing from elsewhere.
var (
	//go:embed templates/*.html
	templateFiles embed.FS
	//go:embed assets
	assetFiles embed.FS
)

const (
	// cookieName holds the secret that Join returned; it authorises the
	// customer's status page once the PIN is used up.
	cookieName = "assistbot_customer"
	// cookieMaxAge outlives any support session a customer would watch.
	cookieMaxAge = 12 * time.Hour
	// maxFormBytes caps the join form, which holds one short field.
	maxFormBytes = 4 << 10
	// contentSecurityPolicy allows the portal's own stylesheet and forms
	// and nothing else: no scripts, no framing, no foreign form targets.
	contentSecurityPolicy = "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)

// pages holds the parsed portal pages; each is the layout around one
// "content" template.
type pages struct {
	enter, landing, status, handoff *template.Template
}

func mustParsePages() *pages {
	parse := func(name string) *template.Template {
		return template.Must(template.New(name).ParseFS(templateFiles, "templates/layout.html", "templates/"+name))
	}
	return &pages{enter: parse("enter.html"), landing: parse("landing.html"), status: parse("status.html"), handoff: parse("handoff.html")}
}

// view is what a portal template sees. Every sentence comes from the
// catalog through T, in the page's language.
type view struct {
	Lang    string
	Refresh bool   // reload every few seconds while the session may change
	Error   string // enter: why the code was refused
	PIN     string // landing
	Mobile  bool   // landing: promise view only
	State   core.State
	Message string       // status: the catalog key of the state's sentence
	Share   *shareView   // status: the screen share, when the session is viewed
	Handoff *handoffView // status: the link to another device
	Token   string       // handoff: the token of the page's form
	catalog *i18n.Catalog
}

// T returns the catalog's text for key in the page's language.
func (v *view) T(key string, kv ...string) string { return v.catalog.T(v.Lang, key, kv...) }

func (s *Server) portalRoutes() {
	s.Handle("GET /{$}", s.portal(s.handleHome))
	s.Handle("GET /m/{pin}", s.portal(s.handleMobile))
	s.Handle("POST /join", s.portal(s.handleJoin))
	s.Handle("GET /s/{id}", s.portal(s.handleStatus))
	s.Handle("GET /assets/{file}", http.HandlerFunc(handleAsset))
}

// portal sets the headers every portal page needs. Pages are personal and
// the PIN may be in the URL: nothing may cache them, and no Referer may
// carry the URL elsewhere.
func (s *Server) portal(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Cache-Control", "no-store")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Content-Security-Policy", contentSecurityPolicy)
		if err := s.cop.Check(r); err != nil {
			// A form on another site posting here: joining, or taking a
			// session over, happens only from the portal's own pages.
			s.enter(w, r, http.StatusForbidden, "portal.error.cross_site")
			return
		}
		h(w, r)
	})
}

// handleHome shows the entry form, or the landing page of ?code=.
func (s *Server) handleHome(w http.ResponseWriter, r *http.Request) {
	code := r.URL.Query().Get("code")
	if strings.TrimSpace(code) == "" {
		s.enter(w, r, http.StatusOK, "")
		return
	}
	s.landing(w, r, code, core.DeviceDesktop)
}

// handleMobile shows the landing page of the mobile link.
func (s *Server) handleMobile(w http.ResponseWriter, r *http.Request) {
	s.landing(w, r, r.PathValue("pin"), core.DeviceMobile)
}

// landing shows what pressing Start will do. It only reads: link scanners
// and chat unfurlers fetch links before people do, so a GET must never
// join. A wrong PIN counts as a guess all the same, or GET would be a free
// oracle. hint is the device the link was meant for, used only when the
// User-Agent says nothing.
func (s *Server) landing(w http.ResponseWriter, r *http.Request, code string, hint core.Device) {
	key, ip := s.client(r)
	if d := s.guard.wait(key, ip); d > 0 {
		s.tooMany(w, r, d)
		return
	}
	sess, err := s.engine.SessionByPIN(r.Context(), core.NormalizePIN(code))
	if err != nil {
		s.pinError(w, r, key, err)
		return
	}
	device := detectDevice(r.UserAgent())
	if device == core.DeviceUnknown {
		device = hint
	}
	v := s.view(r, sess.Locale)
	v.PIN, v.Mobile = sess.PIN, device == core.DeviceMobile
	s.render(w, r, http.StatusOK, s.pages.landing, v)
}

// handleJoin is the Start button (or the entry form): it consumes the PIN,
// gives the browser its secret and sends it to the status page.
func (s *Server) handleJoin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.enter(w, r, http.StatusBadRequest, "portal.error.missing")
		return
	}
	pin := core.NormalizePIN(r.PostForm.Get("code"))
	if pin == "" {
		s.enter(w, r, http.StatusBadRequest, "portal.error.missing")
		return
	}
	key, ip := s.client(r)
	if d := s.guard.wait(key, ip); d > 0 {
		s.tooMany(w, r, d)
		return
	}
	sess, secret, err := s.engine.Join(r.Context(), pin, detectDevice(r.UserAgent()))
	if err != nil {
		s.pinError(w, r, key, err)
		return
	}
	s.setCustomerCookie(w, secret)
	http.Redirect(w, r, "/s/"+url.PathEscape(sess.ID), http.StatusSeeOther)
}

// setCustomerCookie gives the browser the secret that authorises it for
// its session.
func (s *Server) setCustomerCookie(w http.ResponseWriter, secret string) {
	http.SetCookie(w, &http.Cookie{
		Name:     cookieName,
		Value:    secret,
		Path:     "/",
		MaxAge:   int(cookieMaxAge / time.Second),
		HttpOnly: true,
		Secure:   s.secure,
		SameSite: http.SameSiteLaxMode,
	})
}

// handleStatus shows the customer where their session stands. Only the
// browser that joined may see it: anyone else gets the same answer as a
// wrong PIN.
func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	sess, err := s.customerSession(r)
	if core.ErrorCode(err) == core.CodeNotFound {
		s.enter(w, r, http.StatusNotFound, "portal.error.unknown")
		return
	}
	if err != nil {
		s.failure(w, r, err)
		return
	}
	v := s.view(r, sess.Locale)
	v.State = sess.State
	switch sess.State {
	case core.StateActive:
		v.Message, v.Refresh = "portal.status.active_control", true
		if sess.Mode == core.ModeView {
			v.Message = "portal.status.active_view"
		}
		if s.share != nil && shareable(sess) {
			// The share page keeps itself up to date over its socket; a
			// reload would end the share.
			v.Refresh, v.Share = false, s.share.shareView(v, sess)
			if h, err := s.share.newHandoffView(sess); err == nil {
				v.Handoff = h
			} else {
				s.log.Warn("handoff link", "session_id", sess.ID, "err", err)
			}
		}
	case core.StateEnded:
		v.Message = "portal.status.ended"
	case core.StateClosed:
		v.Message = "portal.status.closed"
	case core.StateExpired:
		v.Message = "portal.status.expired"
	default:
		// Waiting; a joined session cannot be issued or sent again.
		v.Message, v.Refresh = "portal.status.waiting", true
	}
	s.render(w, r, http.StatusOK, s.pages.status, v)
}

// customerSession returns the session of r's path if r carries the
// cookie of the browser that joined it. Anyone else gets ErrUnknownPIN's
// not-found, the same answer as a wrong PIN.
func (s *Server) customerSession(r *http.Request) (*core.Session, error) {
	unknown := core.Errorf(core.CodeNotFound, "no such session")
	c, err := r.Cookie(cookieName)
	if err != nil {
		return nil, unknown
	}
	sess, err := s.engine.Session(r.Context(), r.PathValue("id"))
	if core.ErrorCode(err) == core.CodeNotFound {
		return nil, unknown
	}
	if err != nil {
		return nil, err
	}
	key := core.SecretKey(c.Value)
	if sess.CustomerKey == "" || subtle.ConstantTimeCompare([]byte(key), []byte(sess.CustomerKey)) != 1 {
		return nil, unknown
	}
	return sess, nil
}

// pinError answers a PIN the engine refused. Unknown, expired, revoked and
// used PINs all arrive as ErrUnknownPIN and get one identical answer, so
// the page tells a guesser nothing; each counts against the limits.
func (s *Server) pinError(w http.ResponseWriter, r *http.Request, key string, err error) {
	if core.ErrorCode(err) != core.CodeNotFound {
		s.failure(w, r, err)
		return
	}
	s.guard.fail(key)
	s.enter(w, r, http.StatusNotFound, "portal.error.unknown")
}

// tooMany refuses a guess without looking the PIN up.
func (s *Server) tooMany(w http.ResponseWriter, r *http.Request, wait time.Duration) {
	w.Header().Set("Retry-After", retryAfterSeconds(wait))
	s.enter(w, r, http.StatusTooManyRequests, "portal.error.rate")
}

// failure answers an error that is not the customer's doing. It is logged
// here, at the edge; the customer is told to try again.
func (s *Server) failure(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := http.StatusInternalServerError, "error.internal"
	switch core.ErrorCode(err) {
	case core.CodeUnavailable, core.CodeConflict, core.CodeRateLimited:
		status, msg = http.StatusServiceUnavailable, "error.unavailable"
	}
	s.logError(r, status, err)
	s.enter(w, r, status, msg)
}

// enter shows the entry form with status and, when errKey is set, the
// catalog's sentence for it.
func (s *Server) enter(w http.ResponseWriter, r *http.Request, status int, errKey string) {
	v := s.view(r, "")
	if errKey != "" {
		v.Error = v.T(errKey)
	}
	s.render(w, r, status, s.pages.enter, v)
}

// view starts a page in the language the browser asks for, else the
// session's, else the catalog's default.
func (s *Server) view(r *http.Request, sessionLocale string) *view {
	return &view{Lang: s.catalog.Match(r.Header.Get("Accept-Language"), sessionLocale), catalog: s.catalog}
}

// render executes page into a buffer first, so a template failure becomes
// a clean 500 rather than half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page *template.Template, v *view) {
	var buf bytes.Buffer
	if err := page.ExecuteTemplate(&buf, "layout", v); err != nil {
		s.log.Error("render page", "route", r.Pattern, "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// client returns the rate-limit key of r's client and its address for logs.
func (s *Server) client(r *http.Request) (key, ip string) {
	a, ok := clientAddr(r, s.proxies)
	if !ok {
		return limitKey(a, ok, r.RemoteAddr), r.RemoteAddr
	}
	return limitKey(a, ok, r.RemoteAddr), a.String()
}

// handleAsset serves the embedded stylesheet. The pattern's single
// segment keeps requests inside the assets directory.
func handleAsset(w http.ResponseWriter, r *http.Request) {
	sub, err := fs.Sub(assetFiles, "assets")
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeFileFS(w, r, sub, r.PathValue("file"))
}
