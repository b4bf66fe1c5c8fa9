package portal

import (
	"net/http"
	"strings"
	"time"

	"github.com/assistbot/assistbot/adapters/web"
	"github.com/assistbot/assistbot/core"
)

const (
	// cookieName holds the secret that Join returned; it authorises the
	// customer's status page (and signaling socket) once the PIN is used.
	cookieName = "assistbot_customer"
	// cookieMaxAge outlives any support session a customer would watch.
	cookieMaxAge = 12 * time.Hour
	// maxFormBytes caps the join form, which holds one short field.
	maxFormBytes = 4 << 10
)

// The reasons Observer.PINFailure is given.
const (
	reasonUnknown     = "unknown"
	reasonRateLimited = "rate_limited"
)

// handleHome shows the entry form, or the landing page of ?code=.
func (p *Portal) handleHome(w http.ResponseWriter, r *http.Request) {
	code := r.URL.Query().Get("code")
	if strings.TrimSpace(code) == "" {
		p.enter(w, r, http.StatusOK, "")
		return
	}
	p.landing(w, r, code, core.DeviceDesktop)
}

// handleMobile shows the landing page of the mobile link.
func (p *Portal) handleMobile(w http.ResponseWriter, r *http.Request) {
	p.landing(w, r, r.PathValue("pin"), core.DeviceMobile)
}

// landing shows what pressing Start will do. It only reads: link scanners
// and chat unfurlers fetch links before people do, so a GET must never
// join. A wrong PIN counts as a guess all the same, or GET would be a free
// oracle. hint is the device the link was meant for, used only when the
// User-Agent says nothing.
func (p *Portal) landing(w http.ResponseWriter, r *http.Request, code string, hint core.Device) {
	key, ok := p.takeGuess(w, r)
	if !ok {
		return
	}
	sess, err := p.engine.SessionByPIN(r.Context(), core.NormalizePIN(code))
	if err != nil {
		p.pinError(w, r, key, err)
		return
	}
	p.guesses.Refund(key)
	device := detectDevice(r.UserAgent())
	if device == core.DeviceUnknown {
		device = hint
	}
	v := p.view(r, sess.Locale)
	v.PIN, v.Mobile = sess.PIN, device == core.DeviceMobile
	p.render(w, r, http.StatusOK, p.pages.landing, v)
}

// handleJoin is the Start button (or the entry form): it consumes the PIN,
// gives the browser its secret and sends it to the status page.
func (p *Portal) handleJoin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		p.enter(w, r, http.StatusBadRequest, "portal.error.missing")
		return
	}
	pin := core.NormalizePIN(r.PostForm.Get("code"))
	if pin == "" {
		p.enter(w, r, http.StatusBadRequest, "portal.error.missing")
		return
	}
	key, ok := p.takeGuess(w, r)
	if !ok {
		return
	}
	sess, secret, err := p.engine.Join(r.Context(), pin, detectDevice(r.UserAgent()))
	if err != nil {
		p.pinError(w, r, key, err)
		return
	}
	p.guesses.Refund(key)
	p.setCustomerCookie(w, secret)
	http.Redirect(w, r, p.StatusPath(sess.ID), http.StatusSeeOther)
}

// takeGuess takes a guess from r's client's allowance, and from
// everyone's, before its PIN is looked up, and returns the client's key.
// When an allowance is spent it refuses the guess unread (429 with
// Retry-After) and reports false. The caller refunds the guess when the
// PIN turns out right, or the lookup fails on the server's side: only
// wrong PINs count.
func (p *Portal) takeGuess(w http.ResponseWriter, r *http.Request) (key string, ok bool) {
	key, addr := web.Client(r, p.proxies)
	no := p.guesses.Take(key)
	if no.Wait == 0 {
		return key, true
	}
	p.pinFailure(reasonRateLimited)
	if no.Warn {
		limit := "client"
		if no.Global {
			limit = "global"
		}
		p.log.Warn("too many wrong pins; refusing guesses without looking them up", "client", addr, "limit", limit)
	}
	w.Header().Set("Retry-After", web.RetryAfter(no.Wait))
	p.enter(w, r, http.StatusTooManyRequests, "portal.error.rate")
	return key, false
}

// pinError answers a PIN the engine refused. Unknown, expired, revoked and
// used PINs all arrive as ErrUnknownPIN and get one identical answer, so
// the page tells a guesser nothing; each keeps the guess it took. Any
// other error is the server's, and gives the guess back.
func (p *Portal) pinError(w http.ResponseWriter, r *http.Request, key string, err error) {
	if core.ErrorCode(err) != core.CodeNotFound {
		p.guesses.Refund(key)
		p.failure(w, r, err)
		return
	}
	p.pinFailure(reasonUnknown)
	p.enter(w, r, http.StatusNotFound, "portal.error.unknown")
}

func (p *Portal) pinFailure(reason string) {
	if p.observer != nil {
		p.observer.PINFailure(reason)
	}
}

// setCustomerCookie gives the browser the secret that authorises it for
// its session.
func (p *Portal) setCustomerCookie(w http.ResponseWriter, secret string) {
	http.SetCookie(w, &http.Cookie{
		Name:     cookieName,
		Value:    secret,
		Path:     "/",
		MaxAge:   int(cookieMaxAge / time.Second),
		HttpOnly: true,
		Secure:   p.secure,
		SameSite: http.SameSiteLaxMode,
	})
}
