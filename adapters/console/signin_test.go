package console

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/web/webtest"
	"github.com/assistbot/assistbot/core"
)

// TestSignIn covers the sign-in form's answers: who gets in, who gets a
// message, and a form that did not come from the console.
func TestSignIn(t *testing.T) {
	r := newRig(t)
	for _, tc := range []struct {
		name, agent, password string
		token                 func(c *webtest.Visitor) string
		status                int
		body                  string
	}{
		{"right password", "alice", alicePW, nil, http.StatusSeeOther, ""},
		{"wrong password", "alice", "alice-password-2", nil, http.StatusUnauthorized, "The name or password is not correct."},
		{"unknown agent", "mallory", alicePW, nil, http.StatusUnauthorized, "The name or password is not correct."},
		{"empty password", "alice", "", nil, http.StatusUnauthorized, "The name or password is not correct."},
		{"another agent's password", "bob", alicePW, nil, http.StatusUnauthorized, "The name or password is not correct."},
		{"no token", "alice", alicePW, func(*webtest.Visitor) string { return "" }, http.StatusForbidden, "The sign-in form expired."},
		{"forged token", "alice", alicePW, func(*webtest.Visitor) string { return "AAAA" }, http.StatusForbidden, "The sign-in form expired."},
		{"another browser's token", "alice", alicePW, func(*webtest.Visitor) string {
			other := r.Visitor()
			other.Get("/console/login")
			return other.CSRF
		}, http.StatusForbidden, "The sign-in form expired."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := r.Visitor()
			c.Get("/console/login")
			tok := c.CSRF
			if tc.token != nil {
				tok = tc.token(c)
			}
			resp, body := c.Post("/console/login", url.Values{"csrf": {tok}, "name": {tc.agent}, "password": {tc.password}})
			webtest.WantStatus(t, resp, body, tc.status)
			webtest.WantContains(t, body, esc(tc.body))
			signedIn := c.Cookie("/console", consoleCookie) != ""
			if signedIn != (tc.status == http.StatusSeeOther) {
				t.Errorf("console cookie set: %v", signedIn)
			}
			if tc.status == http.StatusUnauthorized && tc.agent == "alice" {
				webtest.WantContains(t, body, `value="alice"`) // the name stays typed
			}
			if tc.password != "" {
				webtest.WantNotContains(t, body, `value="`+tc.password+`"`)
			}
		})
	}
}

// TestSignInCookies checks the console cookie: HttpOnly, SameSite, kept
// to /console, and Secure when the public URL is https.
func TestSignInCookies(t *testing.T) {
	for _, tc := range []struct {
		publicURL string
		secure    bool
	}{
		{"http://support.test", false},
		{"https://support.example.com", true},
	} {
		t.Run(tc.publicURL, func(t *testing.T) {
			r := newRig(t, func(o *Options) { o.PublicURL = tc.publicURL })
			c := r.Visitor()
			resp, _ := c.Get("/console/login")
			login := webtest.FindCookie(resp, loginCookie)
			if login == nil || !login.HttpOnly || login.SameSite != http.SameSiteStrictMode || login.Secure != tc.secure {
				t.Errorf("sign-in form cookie = %+v", login)
			}
			resp, body := c.Post("/console/login", url.Values{"csrf": {c.CSRF}, "name": {"alice"}, "password": {alicePW}})
			webtest.WantStatus(t, resp, body, http.StatusSeeOther)
			ck := webtest.FindCookie(resp, consoleCookie)
			if ck == nil {
				t.Fatalf("no console cookie in %v", resp.Header["Set-Cookie"])
			}
			if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/console" || ck.Secure != tc.secure || ck.MaxAge != int(DefaultSessionTTL/time.Second) {
				t.Errorf("console cookie = %+v", ck)
			}
			if len(ck.Value) < 26 {
				t.Errorf("token %q is short", ck.Value)
			}
		})
	}
}

// TestSignOut checks that signing out ends the sign-in on the server: the
// same cookie, replayed, no longer opens anything, while another agent's
// sign-in goes on.
func TestSignOut(t *testing.T) {
	r := newRig(t)
	alice, bob := r.Visitor(), r.Visitor()
	signInAs(alice, "alice", alicePW)
	signInAs(bob, "bob", bobPW)
	token := bob.Cookie("/console", consoleCookie)

	// Signing out is a POST with the token, like every change.
	resp, body := bob.Post("/console/logout", url.Values{})
	webtest.WantStatus(t, resp, body, http.StatusForbidden)
	resp, _ = bob.Post("/console/logout", url.Values{"csrf": {bob.CSRF}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/login" {
		t.Fatalf("sign out: %d to %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if bob.Cookie("/console", consoleCookie) != "" {
		t.Error("the browser kept the cookie")
	}

	replay := r.Visitor()
	u, _ := url.Parse(r.URL() + "/console")
	replay.HC.Jar.SetCookies(u, []*http.Cookie{{Name: consoleCookie, Value: token, Path: "/console"}})
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/console", http.StatusSeeOther},
		{"GET", "/console/queue", http.StatusUnauthorized},
		{"GET", "/console/events", http.StatusUnauthorized},
		{"POST", "/console/logout", http.StatusUnauthorized},
	} {
		resp, body := replay.Do(tc.method, tc.path, nil, csrfHeader, bob.CSRF)
		webtest.WantStatus(t, resp, body, tc.status)
		if tc.status == http.StatusSeeOther && resp.Header.Get("Location") != "/console/login" {
			t.Errorf("%s %s sends to %s", tc.method, tc.path, resp.Header.Get("Location"))
		}
	}
	if resp, body := alice.Get("/console/queue", csrfHeader, alice.CSRF); resp.StatusCode != http.StatusOK {
		t.Errorf("alice after bob signed out: %d %s", resp.StatusCode, body)
	}
}

// TestSignInExpires moves the clock past the sign-in's lifetime.
func TestSignInExpires(t *testing.T) {
	r := newRig(t, func(co *Options) { co.SessionTTL = time.Hour })
	c := r.Visitor()
	signInAs(c, "alice", alicePW)
	r.Clock.Add(59 * time.Minute)
	if resp, _ := c.Get("/console/queue"); resp.StatusCode != http.StatusOK {
		t.Fatalf("within the hour: %d", resp.StatusCode)
	}
	r.Clock.Add(time.Minute)
	resp, body := c.Get("/console/queue", "Accept", "application/json")
	webtest.WantStatus(t, resp, body, http.StatusUnauthorized)
	webtest.WantContains(t, body, `"signin":"/console/login"`, "You are signed out.")
	hash := core.SecretKey(strings.SplitN(c.Cookie("/console", consoleCookie), ".", 2)[0])
	if _, err := r.Store.FindSignIn(ctx, hash, webtest.T0); err != nil {
		t.Fatalf("the expired sign-in is gone before the sweep: %v", err)
	}
	r.Clock.Add(time.Second)
	if err := r.console.signIns.sweep(ctx, true); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Store.FindSignIn(ctx, hash, webtest.T0); core.ErrorCode(err) != core.CodeNotFound {
		t.Errorf("the sweep kept the expired sign-in in the store: %v", err)
	}
}

// TestSignInRateLimit refuses a client's eleventh wrong password within a
// minute without checking it, and lets it try again a minute later.
func TestSignInRateLimit(t *testing.T) {
	r := newRig(t)
	c := r.Visitor()
	try := func(pw string) (*http.Response, string) {
		c.Get("/console/login")
		return c.Post("/console/login", url.Values{"csrf": {c.CSRF}, "name": {"alice"}, "password": {pw}})
	}
	for i := 0; i < 10; i++ {
		if resp, body := try("wrong"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("try %d: %d %s", i, resp.StatusCode, body)
		}
	}
	resp, body := try(alicePW)
	webtest.WantStatus(t, resp, body, http.StatusTooManyRequests)
	webtest.WantContains(t, body, "Too many failed sign-ins.")
	if resp.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	r.Clock.Add(time.Minute)
	if resp, body := try(alicePW); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a minute later: %d %s", resp.StatusCode, body)
	}
}

// TestCSRF sends every state-changing console route without its token,
// with a wrong one, and from another site: each is refused before
// anything happens.
func TestCSRF(t *testing.T) {
	r := newRig(t)
	c := r.Visitor()
	signInAs(c, "alice", alicePW)
	s, conv, err := r.Engine.Issue(ctx, issueFor(pat))
	if err != nil {
		t.Fatal(err)
	}
	routes := []struct {
		path string
		form url.Values
	}{
		{"/console/sessions/" + s.ID + "/act", url.Values{"action": {"remote.close"}}},
		{"/console/conversations/" + conv.ID + "/remote", nil},
		{"/console/conversations/" + conv.ID + "/reply", url.Values{"text": {"hello"}}},
		{"/console/conversations/" + conv.ID + "/close", nil},
		{"/console/logout", nil},
	}
	for _, rt := range routes {
		for _, tc := range []struct {
			name   string
			header []string
			field  string
		}{
			{"no token", nil, ""},
			{"wrong token in the header", []string{csrfHeader, "wrong"}, ""},
			{"wrong token in the form", nil, "wrong"},
			{"other site with the token", []string{csrfHeader, c.CSRF, "Sec-Fetch-Site", "cross-site"}, ""},
			{"old browser from another origin", []string{csrfHeader, c.CSRF, "Origin", "https://evil.example"}, ""},
		} {
			t.Run(rt.path+"/"+tc.name, func(t *testing.T) {
				form := url.Values{}
				for k, v := range rt.form {
					form[k] = v
				}
				if tc.field != "" {
					form.Set("csrf", tc.field)
				}
				resp, body := c.Post(rt.path, form, tc.header...)
				webtest.WantStatus(t, resp, body, http.StatusForbidden)
			})
		}
	}
	if got := r.Session(s.ID).State; got != "issued" {
		t.Errorf("the session is %s", got)
	}
	if got := r.Conversation(conv.ID); got.State != "open" {
		t.Errorf("the conversation is %s", got.State)
	}
	if msgs, _ := r.Engine.Messages(ctx, messagesOf(conv.ID)); len(msgs) != 0 {
		t.Errorf("a reply was recorded: %v", msgs)
	}
	// The same requests with the token work.
	resp, out := c.Fetch("/console/conversations/"+conv.ID+"/reply", url.Values{"text": {"hello"}})
	if resp.StatusCode != http.StatusOK {
		t.Errorf("reply with the token: %d %v", resp.StatusCode, out)
	}
	resp, body := c.Post("/console/sessions/"+s.ID+"/act", url.Values{"csrf": {c.CSRF}, "action": {"remote.close"}}, "Sec-Fetch-Site", "same-origin")
	if resp.StatusCode != http.StatusSeeOther || r.Session(s.ID).State != "closed" {
		t.Errorf("form with the token: %d %s", resp.StatusCode, body)
	}
}

// TestCSRFBehindProxy: a proxy that rewrites Host makes an old browser's
// Origin differ from it; the public URL's origin is still the console's
// own.
func TestCSRFBehindProxy(t *testing.T) {
	r := newRig(t, func(co *Options) { co.PublicURL = "https://support.example.com/" })
	c := r.Visitor()
	signInAs(c, "alice", alicePW)
	_, conv, err := r.Engine.Issue(ctx, issueFor(pat))
	if err != nil {
		t.Fatal(err)
	}
	for origin, status := range map[string]int{"https://support.example.com": http.StatusOK, "https://support.example.com.evil.example": http.StatusForbidden} {
		resp, body := c.Do(http.MethodPost, "/console/conversations/"+conv.ID+"/reply", strings.NewReader("text=hi"), csrfHeader, c.CSRF, "Origin", origin)
		if resp.StatusCode != status {
			t.Errorf("Origin %s: %d %s", origin, resp.StatusCode, body)
		}
	}
}

// TestPasswordHashes verifies the hash formats an admin may configure,
// including one made by the reference argon2 command line tool.
func TestPasswordHashes(t *testing.T) {
	made, err := HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(made, "$argon2id$v=19$m=65536,t=3,p=4$") {
		t.Errorf("HashPassword = %s", made)
	}
	bc := bcryptHash(t, "correct horse")
	for _, tc := range []struct {
		name, hash, password string
		ok                   bool
	}{
		{"HashPassword", made, "correct horse", true},
		{"HashPassword, wrong", made, "correct horsE", false},
		// echo -n password | argon2 somesalt -id -t 2 -m 16 -p 4 -l 32 -e
		{"reference tool", "$argon2id$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo", "password", true},
		{"reference tool, wrong", "$argon2id$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo", "Password", false},
		{"bcrypt 2a", bc, "correct horse", true},
		{"bcrypt 2y (htpasswd)", "$2y$" + bc[4:], "correct horse", true},
		{"bcrypt, wrong", bc, "correct", false},
		{"bcrypt, longer than 72 bytes", bc, "correct horse" + strings.Repeat("x", 80), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := checkHash(tc.hash); err != nil {
				t.Fatalf("checkHash: %v", err)
			}
			ok, err := verifyPassword(tc.hash, tc.password)
			if err != nil || ok != tc.ok {
				t.Errorf("verifyPassword = %v, %v; want %v", ok, err, tc.ok)
			}
		})
	}
}

// TestBadHashes are refused at start, naming the agent's key.
func TestBadHashes(t *testing.T) {
	for _, tc := range []struct{ name, hash, want string }{
		{"plain password", "hunter22", "must be an argon2id"},
		{"argon2i", "$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", "must be an argon2id"},
		{"old version", "$argon2id$v=16$m=65536,t=2,p=4$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo", "version"},
		{"huge memory", "$argon2id$v=19$m=6553600,t=2,p=4$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo", "m=6553600"},
		{"no time", "$argon2id$v=19$m=65536,p=4$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo", "needs m, t and p"},
		{"bad salt", "$argon2id$v=19$m=65536,t=2,p=4$!!$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo", "salt"},
		{"short bcrypt", "$2y$12$x", "bcrypt"},
		{"bcrypt with a space", "$2a$04000000000000 0000000000000000000000000000000000000000", "53 characters"},
		{"bcrypt too costly", "$2a$20$" + strings.Repeat("a", 53), "cost 20"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			_, err := New(Options{Engine: r.Engine, Catalog: r.Catalog})
			if err == nil {
				t.Fatal("New without a bot")
			}
			_, err = New(Options{Engine: r.Engine, Catalog: r.Catalog, Bot: r.bot, Agents: []Agent{{Name: "alice", PasswordHash: tc.hash}}})
			if err == nil || !strings.Contains(err.Error(), "console.agents[0].password_hash") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New = %v; want %q", err, tc.want)
			}
		})
	}
}

// TestOneTimeAgent checks the first agent serve makes without a
// configuration: a readable password of 100 random bits that verifies.
func TestOneTimeAgent(t *testing.T) {
	a, pw, err := OneTimeAgent("admin")
	if err != nil {
		t.Fatal(err)
	}
	b, pw2, _ := OneTimeAgent("admin")
	if a.Name != "admin" || len(pw) != 23 || strings.Count(pw, "-") != 3 || pw == pw2 || a.PasswordHash == b.PasswordHash {
		t.Errorf("OneTimeAgent = %+v, %q", a, pw)
	}
	if ok, err := verifyPassword(a.PasswordHash, pw); !ok || err != nil {
		t.Errorf("the password does not verify: %v", err)
	}
	if ok, _ := verifyPassword(a.PasswordHash, pw2); ok {
		t.Error("another password verifies")
	}
}

// BenchmarkSignInCheck measures what one sign-in costs the server with
// the hash agent add makes, and with the one-time agent's.
func BenchmarkSignInCheck(b *testing.B) {
	strong, _ := HashPassword("correct horse")
	light, pw, _ := OneTimeAgent("admin")
	for name, tc := range map[string]struct{ hash, pw string }{
		"argon2id 64MiB t=3 p=4": {strong, "correct horse"},
		"one-time 8MiB t=1 p=1":  {light.PasswordHash, pw},
	} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if ok, _ := verifyPassword(tc.hash, tc.pw); !ok {
					b.Fatal("does not verify")
				}
			}
		})
	}
}

// TestSignInConcurrent sends 30 wrong passwords from one address at once:
// each attempt is taken from the client's allowance before its password
// is checked, so at most the ten a minute are ever checked, and the
// others are refused with 429 and a message.
func TestSignInConcurrent(t *testing.T) {
	r := newRig(t)
	var mu sync.Mutex
	checks := 0
	r.console.verify = func(hash, password string) (bool, error) {
		mu.Lock()
		checks++
		mu.Unlock()
		return verifyPassword(hash, password)
	}
	var wg sync.WaitGroup
	statuses := map[int]int{}
	for range 30 {
		c := r.Visitor()
		c.Get("/console/login")
		wg.Go(func() {
			resp, body := c.Post("/console/login", url.Values{"csrf": {c.CSRF}, "name": {"alice"}, "password": {"wrong"}})
			if resp.StatusCode == http.StatusTooManyRequests && !strings.Contains(body, "Too many failed sign-ins.") {
				t.Errorf("a 429 without the message:\n%s", body)
			}
			mu.Lock()
			statuses[resp.StatusCode]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if checks > wrongPasswords {
		t.Errorf("%d passwords were checked; the limit is %d a minute", checks, wrongPasswords)
	}
	if statuses[http.StatusUnauthorized] != checks || statuses[http.StatusTooManyRequests] != 30-checks {
		t.Errorf("answers %v for %d checks", statuses, checks)
	}
}

// TestSignInRefunds: a right password gives its attempt back, so agents
// signing in from one address do not use up its allowance.
func TestSignInRefunds(t *testing.T) {
	r := newRig(t)
	for i := range wrongPasswords + 5 {
		c := r.Visitor()
		c.Get("/console/login")
		if resp, body := c.Post("/console/login", url.Values{"csrf": {c.CSRF}, "name": {"alice"}, "password": {alicePW}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-in %d: %d %s", i, resp.StatusCode, body)
		}
	}
}
