package portal

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/web/webtest"
	"github.com/assistbot/assistbot/core"
)

func TestEntryForm(t *testing.T) {
	r := newRig(t)
	for _, path := range []string{"/", "/?code=", "/?code=%20%20"} {
		t.Run(path, func(t *testing.T) {
			resp, body := r.get(path)
			webtest.WantStatus(t, resp, body, http.StatusOK)
			webtest.WantContains(t, body,
				`<html lang="en">`,
				`<meta name="viewport" content="width=device-width, initial-scale=1">`,
				`<meta name="robots" content="noindex`,
				`<link rel="stylesheet" href="/assets/portal.css">`,
				`<form method="post" action="/join">`,
				`name="code"`, `inputmode="numeric"`, `autocomplete="one-time-code"`,
				esc(r.Catalog.T("en", "portal.enter.heading")),
				esc(r.Catalog.T("en", "portal.enter.submit")),
			)
			webtest.WantNotContains(t, body, "<script", `class="error"`, "http-equiv")
			for name, want := range map[string]string{
				"Cache-Control":           "no-store",
				"Referrer-Policy":         "no-referrer",
				"X-Content-Type-Options":  "nosniff",
				"Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
				"Content-Type":            "text/html; charset=utf-8",
			} {
				if got := resp.Header.Get(name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
		})
	}
}

func TestAssetsAndRobots(t *testing.T) {
	r := newRig(t)
	tests := []struct {
		path, wantType, wantBody string
		status                   int
	}{
		{"/assets/portal.css", "text/css; charset=utf-8", "input[name=\"code\"]", http.StatusOK},
		{"/assets/missing.css", "", "", http.StatusNotFound},
		{"/robots.txt", "text/plain; charset=utf-8", "User-agent: *\nDisallow: /\n", http.StatusOK},
		{"/favicon.ico", "", "", http.StatusNoContent},
		{"/assets/share.js", "text/javascript; charset=utf-8", "getDisplayMedia", http.StatusOK},
		{"/assets/viewer.js", "", "", http.StatusNotFound}, // the console's
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := r.get(tt.path)
			webtest.WantStatus(t, resp, body, tt.status)
			if tt.wantType != "" && resp.Header.Get("Content-Type") != tt.wantType {
				t.Errorf("Content-Type = %q, want %q", resp.Header.Get("Content-Type"), tt.wantType)
			}
			webtest.WantContains(t, body, tt.wantBody)
		})
	}
}

// A GET must never change a session: link scanners fetch links first.
func TestLandingChangesNothing(t *testing.T) {
	r := newRig(t)
	s := r.Issue("en")
	tests := []struct {
		name, path, ua string
		mobileText     bool
	}{
		{"desktop link on a desktop", "/?code=" + s.PIN, uaDesktop, false},
		{"mobile link on a phone", "/m/" + s.PIN, uaIPhone, true},
		{"desktop link on a phone", "/?code=" + s.PIN, uaIPhone, true},
		{"mobile link on a desktop", "/m/" + s.PIN, uaDesktop, false},
		{"mobile link without user agent", "/m/" + s.PIN, "", true},
		{"desktop link without user agent", "/?code=" + s.PIN, "", false},
		{"typed with spaces", "/?code=" + url.QueryEscape(s.PIN[:3]+" "+s.PIN[3:]), uaDesktop, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := r.get(tt.path, "User-Agent", tt.ua)
			webtest.WantStatus(t, resp, body, http.StatusOK)
			webtest.WantContains(t, body,
				esc(r.Catalog.T("en", "portal.landing.heading")),
				esc(r.Catalog.T("en", "portal.landing.code", "pin", s.PIN)),
				`<form method="post" action="/join">`,
				`<input type="hidden" name="code" value="`+s.PIN+`">`,
				`<button type="submit">`+esc(r.Catalog.T("en", "portal.landing.start"))+`</button>`,
				esc(r.Catalog.T("en", "portal.landing.safe")),
			)
			mobile, desktop := esc(r.Catalog.T("en", "portal.landing.next_mobile")), esc(r.Catalog.T("en", "portal.landing.next_desktop"))
			if tt.mobileText {
				webtest.WantContains(t, body, mobile)
				webtest.WantNotContains(t, body, desktop)
			} else {
				webtest.WantContains(t, body, desktop)
				webtest.WantNotContains(t, body, mobile)
			}
			if got := r.Session(s.ID); got.State != core.StateIssued || got.Device != core.DeviceUnknown || got.CustomerKey != "" {
				t.Errorf("after GET: state %s, device %s, key set %t; want issued, unknown, no key", got.State, got.Device, got.CustomerKey != "")
			}
			if got := r.Actions(s.ID); !slices.Equal(got, []string{"issue"}) {
				t.Errorf("events after GET = %v, want only issue", got)
			}
			if c := resp.Header.Get("Set-Cookie"); c != "" {
				t.Errorf("GET set a cookie: %s", c)
			}
		})
	}
}

// The whole customer journey through a real HTTP client: the link, Start,
// the redirect, the status page.
func TestJoinFlow(t *testing.T) {
	tests := []struct {
		name       string
		ua         string
		link       func(*core.Session) string
		wantDevice core.Device
	}{
		{"desktop", uaDesktop, func(s *core.Session) string { return s.DesktopURL }, core.DeviceDesktop},
		{"mobile", uaIPhone, func(s *core.Session) string { return s.MobileURL }, core.DeviceMobile},
		{"no user agent", "", func(s *core.Session) string { return s.DesktopURL }, core.DeviceUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			s := r.Issue("en")
			jar, _ := cookiejar.New(nil)
			c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			send := func(req *http.Request) (*http.Response, string) {
				t.Helper()
				req.Header.Set("User-Agent", tt.ua)
				resp, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				if err != nil {
					t.Fatal(err)
				}
				return resp, string(b)
			}

			get, _ := http.NewRequest(http.MethodGet, tt.link(s), nil)
			resp, body := send(get)
			webtest.WantStatus(t, resp, body, http.StatusOK)

			post, _ := http.NewRequest(http.MethodPost, r.URL()+"/join", strings.NewReader(url.Values{"code": {s.PIN}}.Encode()))
			post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, body = send(post)
			webtest.WantStatus(t, resp, body, http.StatusSeeOther)
			if loc := resp.Header.Get("Location"); loc != "/s/"+s.ID {
				t.Errorf("Location = %q, want /s/%s", loc, s.ID)
			}
			cookies := resp.Cookies()
			if len(cookies) != 1 {
				t.Fatalf("Set-Cookie: %v, want one cookie", cookies)
			}
			ck := cookies[0]
			if ck.Name != cookieName || !ck.HttpOnly || ck.Secure || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.MaxAge != 12*60*60 {
				t.Errorf("cookie = %+v; want %s, HttpOnly, not Secure over http, SameSite=Lax, Path=/, Max-Age 12h", ck, cookieName)
			}

			status, _ := http.NewRequest(http.MethodGet, r.URL()+"/s/"+s.ID, nil)
			resp, body = send(status)
			webtest.WantStatus(t, resp, body, http.StatusOK)
			webtest.WantContains(t, body,
				esc(r.Catalog.T("en", "portal.status.waiting")),
				esc(r.Catalog.T("en", "portal.status.auto_refresh")),
				`<meta http-equiv="refresh" content="5">`,
			)

			got := r.Session(s.ID)
			if got.State != core.StateWaiting || got.Device != tt.wantDevice {
				t.Errorf("session: state %s device %s, want waiting %s", got.State, got.Device, tt.wantDevice)
			}
			if got.CustomerKey != core.SecretKey(ck.Value) {
				t.Error("the cookie does not hold the session's customer secret")
			}
			if acts := r.Actions(s.ID); !slices.Equal(acts, []string{"issue", "join"}) {
				t.Errorf("events = %v, want issue, join", acts)
			}
		})
	}
}

func TestJoinTypedPIN(t *testing.T) {
	r := newRig(t)
	s := r.Issue("en")
	resp, body := r.join(" " + s.PIN[:3] + "-" + s.PIN[3:] + " ")
	webtest.WantStatus(t, resp, body, http.StatusSeeOther)
	if got := r.Session(s.ID).State; got != core.StateWaiting {
		t.Errorf("state = %s, want waiting", got)
	}
}

func TestSecureCookie(t *testing.T) {
	r := newRig(t, func(o *Options) { o.PublicURL = "https://support.example.com" })
	s := r.Issue("en")
	resp, body := r.join(s.PIN)
	webtest.WantStatus(t, resp, body, http.StatusSeeOther)
	if c := resp.Cookies(); len(c) != 1 || !c[0].Secure {
		t.Errorf("cookies = %v, want one Secure cookie under an https public URL", c)
	}
}

func TestJoinMissingCode(t *testing.T) {
	r := newRig(t, func(o *Options) { o.ClientGuessesPerMinute = 1 })
	missing := esc(r.Catalog.T("en", "portal.error.missing"))
	for i, code := range []string{"", " ", " - ", "", "", ""} {
		resp, body := r.join(code)
		webtest.WantStatus(t, resp, body, http.StatusBadRequest)
		webtest.WantContains(t, body, missing, `<form method="post" action="/join">`)
		if i == 0 {
			webtest.WantNotContains(t, body, esc(r.Catalog.T("en", "portal.error.rate")))
		}
	}
	// Not a single guess was spent.
	s := r.Issue("en")
	resp, body := r.join(s.PIN)
	webtest.WantStatus(t, resp, body, http.StatusSeeOther)

	t.Run("oversized form", func(t *testing.T) {
		resp, body := r.Serve(webtest.Request{Method: http.MethodPost, Path: "/join", Form: url.Values{"code": {strings.Repeat("1", maxFormBytes)}}})
		webtest.WantStatus(t, resp, body, http.StatusBadRequest)
	})
}

// Unknown, expired, revoked, closed and used PINs must be
// indistinguishable: same status, same page.
func TestUnknownPINsLookAlike(t *testing.T) {
	r := newRig(t)
	expired := r.Issue("en")
	r.Clock.Add(core.DefaultPINTTL + time.Second)

	revoked := r.Issue("en")
	if _, err := r.Engine.Regenerate(ctx, revoked.ID, core.Actor{Kind: core.ActorAgent, Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	closed := r.Issue("en")
	if _, err := r.Engine.Close(ctx, closed.ID, core.Actor{Kind: core.ActorAgent, Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	used := r.Issue("en")
	if resp, body := r.join(used.PIN); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("join: %d\n%s", resp.StatusCode, body)
	}
	unknown := "000000"
	for _, s := range []*core.Session{expired, revoked, closed, used} {
		if s.PIN == unknown {
			t.Skip("a random pin happened to be 000000")
		}
	}

	_, want := r.get("/?code=" + unknown)
	webtest.WantContains(t, want, esc(r.Catalog.T("en", "portal.error.unknown")), `<form method="post" action="/join">`)
	pins := map[string]string{
		"unknown":   unknown,
		"expired":   expired.PIN,
		"revoked":   revoked.PIN,
		"closed":    closed.PIN,
		"used":      used.PIN,
		"too short": "12345",
		"too long":  "12345678901",
		"letters":   "12ab56",
	}
	for name, pin := range pins {
		for _, how := range []string{"desktop link", "mobile link", "join"} {
			t.Run(name+"/"+how, func(t *testing.T) {
				var resp *http.Response
				var body string
				switch how {
				case "desktop link":
					resp, body = r.get("/?code=" + url.QueryEscape(pin))
				case "mobile link":
					resp, body = r.get("/m/" + url.PathEscape(pin))
				default:
					resp, body = r.join(pin)
				}
				webtest.WantStatus(t, resp, body, http.StatusNotFound)
				if body != want {
					t.Errorf("body differs from the unknown-pin page:\n%s", body)
				}
				if resp.Header.Get("Location") != "" || resp.Header.Get("Set-Cookie") != "" {
					t.Errorf("answer redirects or sets a cookie: %v", resp.Header)
				}
			})
		}
	}
	if got := r.Session(used.ID).State; got != core.StateWaiting {
		t.Errorf("used session state = %s, want waiting", got)
	}
}

func TestLocale(t *testing.T) {
	r := newRig(t)
	ja := r.Issue("ja")
	tests := []struct {
		name, path, acceptLanguage, want string
	}{
		{"korean browser on the entry form", "/", "ko-KR,ko;q=0.9,en;q=0.5", "ko"},
		{"no preference on the entry form", "/", "", "en"},
		{"korean browser on a japanese session", "/?code=" + ja.PIN, "ko-KR,ko;q=0.9", "ko"},
		{"no preference on a japanese session", "/m/" + ja.PIN, "", "ja"},
		{"unsupported preference on a japanese session", "/m/" + ja.PIN, "ru-RU,ru;q=0.9", "ja"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := r.get(tt.path, "Accept-Language", tt.acceptLanguage)
			webtest.WantStatus(t, resp, body, http.StatusOK)
			webtest.WantContains(t, body, `<html lang="`+tt.want+`">`, esc(r.Catalog.T(tt.want, "portal.title")))
			if strings.Contains(tt.path, "code") || strings.Contains(tt.path, "/m/") {
				webtest.WantContains(t, body, esc(r.Catalog.T(tt.want, "portal.landing.start")))
			}
		})
	}
	t.Run("korean text is korean", func(t *testing.T) {
		_, body := r.get("/", "Accept-Language", "ko")
		webtest.WantContains(t, body, "지원 코드")
	})
}
