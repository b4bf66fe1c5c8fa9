package console

import (
	"context"
	"crypto/rand"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/assistbot/assistbot/adapters/web"
)

const (
	// consoleCookie holds a signed-in agent's token. Its path keeps it
	// away from the portal and the web chat.
	consoleCookie = "assistbot_console"
	// loginCookie holds the random value the sign-in form's CSRF token is
	// derived from, so that no other site can sign a browser in.
	loginCookie = "assistbot_console_login"
	// maxConsoleForm caps a console form: a reply of 4000 characters
	// (core.MaxMessageRunes), each up to four bytes and each byte sent as
	// %XX, is 48,000 bytes; plus the id and the token.
	maxConsoleForm = 64 << 10
	// maxLoginForm caps the sign-in form: a name and a password.
	maxLoginForm = 4 << 10
	loginMaxAge  = time.Hour
	maxNameRunes = 64
)

// routeKind says how a console route answers a browser that is not
// signed in: a page sends it to the sign-in form, anything else answers
// 401 with a message for the script.
type routeKind int

const (
	pageRoute routeKind = iota
	apiRoute
)

// consoleHandler is a console endpoint for a signed-in agent.
type consoleHandler func(w http.ResponseWriter, r *http.Request, si *signIn)

// signedIn admits requests from a signed-in browser. Requests that change
// something must also come from the console itself: from the same origin,
// carrying the sign-in's CSRF token in the X-CSRF-Token header (fetches)
// or the csrf field (forms). The sign-in is checked before any body is
// read.
func (c *Console) signedIn(kind routeKind, h consoleHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		si, err := c.current(r)
		if err != nil {
			c.log.Error("console sign-in check", "route", r.Pattern, "err", err)
			c.fail(w, r, http.StatusServiceUnavailable, "error.unavailable")
			return
		}
		if si == nil {
			if kind == pageRoute && r.Method == http.MethodGet {
				http.Redirect(w, r, "/console/login", http.StatusSeeOther)
				return
			}
			c.fail(w, r, http.StatusUnauthorized, "console.error.signed_out")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if err := c.cop.Check(r); err != nil {
				c.fail(w, r, http.StatusForbidden, "console.error.csrf")
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, maxConsoleForm)
			tok := r.Header.Get(web.CSRFHeader)
			if tok == "" {
				if err := r.ParseForm(); err != nil {
					c.fail(w, r, http.StatusBadRequest, "console.error.form")
					return
				}
				tok = r.PostForm.Get("csrf")
			}
			ok, err := c.signIns.validCSRF(r.Context(), si, tok)
			if err != nil {
				c.log.Error("console csrf check", "route", r.Pattern, "err", err)
				c.fail(w, r, http.StatusServiceUnavailable, "error.unavailable")
				return
			}
			if !ok {
				c.fail(w, r, http.StatusForbidden, "console.error.csrf")
				return
			}
		}
		h(w, r, si)
	})
}

// current returns the sign-in of r's cookie, or nil when it carries no
// live one. An error means the store could not tell: nobody is signed in
// on a guess.
func (c *Console) current(r *http.Request) (*signIn, error) {
	ck, err := r.Cookie(consoleCookie)
	if err != nil {
		return nil, nil
	}
	return c.signIns.find(r.Context(), ck.Value, c.agents)
}

// handleLoginPage shows the sign-in form.
func (c *Console) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	if si, _ := c.current(r); si != nil {
		http.Redirect(w, r, "/console", http.StatusSeeOther)
		return
	}
	c.loginForm(w, r, http.StatusOK, "", "")
}

// loginForm renders the sign-in form with a fresh CSRF token, the name
// typed so far and, when errKey is set, why the last try failed.
func (c *Console) loginForm(w http.ResponseWriter, r *http.Request, status int, name, errKey string) {
	value := rand.Text()
	http.SetCookie(w, &http.Cookie{
		Name: loginCookie, Value: value, Path: "/console/login", MaxAge: int(loginMaxAge / time.Second),
		HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteStrictMode,
	})
	v := c.view(r, nil)
	csrf, err := c.keys.Sign(r.Context(), "login", value)
	if err != nil {
		c.log.Error("console sign-in form", "err", err)
		c.fail(w, r, http.StatusServiceUnavailable, "error.unavailable")
		return
	}
	v.Title = v.T("console.login.title")
	v.CSRF = csrf
	v.Name = name
	if errKey != "" {
		v.Error = v.T(errKey)
	}
	c.render(w, r, status, "console_login", v)
}

// handleLogin checks a name and password and signs the browser in. The
// attempt is taken from the client's allowance before the password is
// checked, so that however many attempts a client sends at once, at most
// its allowance (ten a minute) are ever checked.
func (c *Console) handleLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginForm)
	if err := r.ParseForm(); err != nil {
		c.loginForm(w, r, http.StatusBadRequest, "", "console.error.form")
		return
	}
	name := strings.TrimSpace(r.PostForm.Get("name"))
	if utf8.RuneCountInString(name) > maxNameRunes || !utf8.ValidString(name) {
		name = ""
	}
	valid := false
	if ck, _ := r.Cookie(loginCookie); ck != nil && c.cop.Check(r) == nil {
		var err error
		if valid, err = c.keys.Valid(r.Context(), "login", ck.Value, r.PostForm.Get("csrf")); err != nil {
			c.log.Error("console sign-in", "err", err)
			c.fail(w, r, http.StatusServiceUnavailable, "error.unavailable")
			return
		}
	}
	if !valid {
		c.loginForm(w, r, http.StatusForbidden, name, "console.login.expired")
		return
	}
	key, ip := web.Client(r, c.proxies)
	if no := c.logins.Take(key); no.Wait > 0 {
		w.Header().Set("Retry-After", web.RetryAfter(no.Wait))
		c.loginForm(w, r, http.StatusTooManyRequests, name, "console.login.too_many")
		return
	}
	ok, err := c.checkAgent(r.Context(), name, r.PostForm.Get("password"))
	if err != nil {
		c.logins.Refund(key) // the server failed, not the password
		c.log.Error("console sign-in", "err", err)
		c.loginForm(w, r, http.StatusServiceUnavailable, name, "error.unavailable")
		return
	}
	if !ok {
		c.log.Info("console sign-in refused", "client", ip)
		c.loginForm(w, r, http.StatusUnauthorized, name, "console.login.wrong")
		return
	}
	// A right password gives its attempt back: the allowance counts wrong
	// passwords, so that agents signing in from one address (an office
	// behind one NAT) never lock each other out.
	c.logins.Refund(key)
	token, _, err := c.signIns.create(r.Context(), c.agents[name])
	if err != nil {
		c.log.Error("console sign-in", "agent", name, "err", err)
		c.loginForm(w, r, http.StatusServiceUnavailable, name, "error.unavailable")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: "", Path: "/console/login", MaxAge: -1, HttpOnly: true, Secure: c.secure})
	http.SetCookie(w, &http.Cookie{
		Name: consoleCookie, Value: token, Path: "/console", MaxAge: int(c.signIns.ttl / time.Second),
		HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteLaxMode,
	})
	c.log.Info("agent signed in", "agent", name, "client", ip)
	http.Redirect(w, r, "/console", http.StatusSeeOther)
}

// handleLogout ends the sign-in on the server, for every replica, so the
// cookie is worthless even if a copy of it survives, and clears it in the
// browser. When the store cannot end it, the browser keeps its cookie and
// the agent is told, so that they can try again.
func (c *Console) handleLogout(w http.ResponseWriter, r *http.Request, si *signIn) {
	if err := c.signIns.end(r.Context(), si); err != nil {
		c.log.Error("console sign-out", "agent", si.agent, "err", err)
		c.fail(w, r, http.StatusServiceUnavailable, "error.unavailable")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: consoleCookie, Value: "", Path: "/console", MaxAge: -1, HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteLaxMode})
	c.log.Info("agent signed out", "agent", si.agent)
	if web.Fetched(r) {
		web.WriteJSON(w, http.StatusOK, map[string]string{"signin": "/console/login"})
		return
	}
	http.Redirect(w, r, "/console/login", http.StatusSeeOther)
}

// checkAgent reports whether password is name's. An unknown name costs
// the same as a known one, so timing does not tell which names exist.
func (c *Console) checkAgent(ctx context.Context, name, password string) (bool, error) {
	select {
	case c.checks <- struct{}{}:
		defer func() { <-c.checks }()
	case <-ctx.Done():
		return false, ctx.Err()
	}
	a, known := c.agents[name]
	hash := a.PasswordHash
	if !known {
		hash = c.decoy()
	}
	ok, err := c.verify(hash, password)
	return ok && known && password != "", err
}

// decoy returns a hash with the default costs that no password matches,
// made once, at the first sign-in with an unknown name.
func (c *Console) decoy() string {
	c.decoyOnce.Do(func() {
		c.decoyHash, _ = HashPassword(rand.Text())
	})
	return c.decoyHash
}

// decoyState is the lazily made decoy hash; it is part of Console.
type decoyState struct {
	decoyOnce sync.Once
	decoyHash string
}
