package portal

import (
	"context"
	"net/http"
	"net/url"
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
	// maxFormBytes caps the join form, which holds two short fields.
	maxFormBytes = 4 << 10
)

// The reasons Observer.PINFailure is given.
const (
	reasonUnknown     = "unknown"
	reasonRateLimited = "rate_limited"
)

// handleHome shows the entry form, or the landing page of ?code= (and
// the proof of the link, &k=).
func (p *Portal) handleHome(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	code := q.Get("code")
	if strings.TrimSpace(code) == "" {
		p.enter(w, r, http.StatusOK, "")
		return
	}
	p.landing(w, r, code, q.Get("k"), core.DeviceDesktop)
}

// handleMobile shows the landing page of the mobile link, /m/PIN or
// /m/PIN/PROOF.
func (p *Portal) handleMobile(w http.ResponseWriter, r *http.Request) {
	p.landing(w, r, r.PathValue("pin"), r.PathValue("proof"), core.DeviceMobile)
}

// landing shows what pressing Start will do. It only reads: link scanners
// and chat unfurlers fetch links before people do, so a GET must never
// join. A wrong PIN counts as a guess all the same, or GET would be a free
// oracle. hint is the device the link was meant for, used only when the
// User-Agent says nothing.
//
// A session whose provider connects the customer's device on a page of
// its own (CustomerURL) has no Start: its page explains what will happen
// and leads there.
func (p *Portal) landing(w http.ResponseWriter, r *http.Request, code, proof string, hint core.Device) {
	sess, linked, ok := p.admit(w, r, core.NormalizePIN(code), proof)
	if !ok {
		return
	}
	if sess.CustomerURL != "" {
		p.toProgram(w, r, sess)
		return
	}
	device := detectDevice(r.UserAgent())
	if device == core.DeviceUnknown {
		device = hint
	}
	v := p.view(r, sess.Locale)
	v.PIN, v.Next = sess.PIN, p.nextKey(device)
	if linked {
		// The form carries the proof on, so that Start is no guess.
		v.Proof = proof
	}
	p.render(w, r, http.StatusOK, p.pages.landing, v)
}

// nextKey is the catalog key of what pressing Start will do on device:
// with a provider that can only show what the customer shares (builtin),
// they will be asked to share; with one that has its own agent, the
// technician connects once they accept.
func (p *Portal) nextKey(device core.Device) string {
	control := p.engine.Supports(core.ModeControl)
	switch {
	case control && device == core.DeviceMobile:
		return "portal.landing.next_mobile"
	case control:
		return "portal.landing.next_desktop"
	case device == core.DeviceMobile:
		return "portal.landing.next_share_mobile"
	}
	return "portal.landing.next_share"
}

// handleJoin is the Start button (or the entry form): it consumes the PIN,
// gives the browser its secret and sends it to the status page. A typed
// code of a session whose provider connects the customer on its own page
// leads to that session's page instead: there is nothing to start here.
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
	sess, _, ok := p.admit(w, r, pin, r.PostForm.Get("k"))
	if !ok {
		return
	}
	if sess.CustomerURL != "" {
		p.toProgram(w, r, sess)
		return
	}
	joined, secret, err := p.engine.Join(r.Context(), sess.PIN, detectDevice(r.UserAgent()))
	if core.ErrorCode(err) == core.CodeNotFound {
		// Used or replaced since it was looked up: the code was admitted,
		// so this is no guess, but the answer is the same.
		p.pinFailure(reasonUnknown)
		p.enter(w, r, http.StatusNotFound, "portal.error.unknown")
		return
	}
	if err != nil {
		p.failure(w, r, err)
		return
	}
	p.setCustomerCookie(w, secret)
	http.Redirect(w, r, p.StatusPath(joined.ID), http.StatusSeeOther)
}

// admit finds the live session of pin for r. A request that carries the
// proof of that session's links follows a link the support team sent: it
// is neither counted nor refused by the guessing limits. Anything else —
// a typed code, a link whose proof is wrong — is a guess: it takes from
// the client's allowance and everyone's, and a right PIN gives it back.
//
// A typed code is refused before it is looked up when an allowance is
// spent. A request with a proof has to be looked up first (the proof is
// of the session's id), and is then counted like a typed code if the
// proof is wrong; the answer is the same whether its PIN exists or not.
//
// linked reports that the request carried the session's proof. admit
// answers the request itself and reports ok false when it refuses it
// (429), the PIN is not live (404) or the lookup failed.
func (p *Portal) admit(w http.ResponseWriter, r *http.Request, pin, proof string) (sess *core.Session, linked, ok bool) {
	if proof != "" && p.links != nil {
		sess, err := p.engine.SessionByPIN(r.Context(), pin)
		switch {
		case err == nil && p.proven(r.Context(), sess, proof):
			return sess, true, true
		case err != nil && core.ErrorCode(err) != core.CodeNotFound:
			p.failure(w, r, err)
			return nil, false, false
		}
		key, ok := p.takeGuess(w, r)
		if !ok {
			return nil, false, false
		}
		if err != nil {
			p.pinFailure(reasonUnknown)
			p.enter(w, r, http.StatusNotFound, "portal.error.unknown")
			return nil, false, false
		}
		p.guesses.Refund(key)
		return sess, false, true
	}
	key, ok := p.takeGuess(w, r)
	if !ok {
		return nil, false, false
	}
	sess, err := p.engine.SessionByPIN(r.Context(), pin)
	if err != nil {
		p.pinError(w, r, key, err)
		return nil, false, false
	}
	p.guesses.Refund(key)
	return sess, false, true
}

// toProgram sends the customer to the page of a session whose provider
// connects their device on its own page: the page that explains it, and
// then follows the session. Its address carries the links' proof rather
// than the PIN, so it keeps working once the PIN is used. Without a link
// key there is no such address, and the page is shown in place.
func (p *Portal) toProgram(w http.ResponseWriter, r *http.Request, sess *core.Session) {
	if p.links == nil {
		if r.Method == http.MethodPost {
			http.Redirect(w, r, "/?code="+url.QueryEscape(sess.PIN), http.StatusSeeOther)
			return
		}
		p.render(w, r, http.StatusOK, p.pages.program, p.statusView(r, sess, ""))
		return
	}
	http.Redirect(w, r, p.linkStatusPath(r.Context(), sess), http.StatusSeeOther)
}

// linkStatusPath is the address of the page of a session without a
// customer cookie: its status path with the links' proof.
func (p *Portal) linkStatusPath(ctx context.Context, s *core.Session) string {
	return p.StatusPath(s.ID) + "?k=" + url.QueryEscape(p.proofOf(ctx, s))
}

// takeGuess takes a guess from r's client's allowance, and from
// everyone's, and returns the client's key. When an allowance is spent it
// refuses the guess (429 with Retry-After and what to do instead) and
// reports false. The caller refunds the guess when the PIN turns out
// right, or the lookup fails on the server's side: only wrong PINs count.
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
	wait := web.RetryAfter(no.Wait)
	w.Header().Set("Retry-After", wait)
	if no.Global {
		// Everyone's allowance is spent, by someone else: the customer
		// did nothing wrong, and the link they were sent still works.
		p.enter(w, r, http.StatusTooManyRequests, "portal.error.rate_global", "seconds", wait)
		return key, false
	}
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
