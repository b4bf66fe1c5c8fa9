package portal

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/assistbot/assistbot/adapters/web"
	"github.com/assistbot/assistbot/adapters/web/webtest"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
	"github.com/assistbot/assistbot/core/outbox"
)

func TestStatusPage(t *testing.T) {
	r := newRig(t)
	s := r.Issue("en")
	resp, body := r.join(s.PIN, "User-Agent", uaDesktop)
	webtest.WantStatus(t, resp, body, http.StatusSeeOther)
	secret := resp.Cookies()[0].Value
	_, unknownPage := r.get("/?code=000000")

	t.Run("access", func(t *testing.T) {
		tests := []struct {
			name, path, cookie string
			status             int
		}{
			{"no cookie", "/s/" + s.ID, "", http.StatusNotFound},
			{"wrong cookie", "/s/" + s.ID, "not-the-secret", http.StatusNotFound},
			{"another session's cookie", "/s/" + s.ID, "AAAAAAAAAAAAAAAAAAAAAAAAAA", http.StatusNotFound},
			{"unknown session", "/s/nosuchsession", secret, http.StatusNotFound},
			{"right cookie", "/s/" + s.ID, secret, http.StatusOK},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				req := webtest.Request{Path: tt.path}
				if tt.cookie != "" {
					req.Header = webtest.Headers("Cookie", cookieName+"="+tt.cookie)
				}
				resp, body := r.Serve(req)
				webtest.WantStatus(t, resp, body, tt.status)
				if tt.status == http.StatusNotFound && body != unknownPage {
					t.Errorf("404 differs from the unknown-pin page:\n%s", body)
				}
			})
		}
	})

	view := func(t *testing.T) string {
		t.Helper()
		resp, body := r.Serve(webtest.Request{Path: "/s/" + s.ID, Header: webtest.Headers("Cookie", cookieName+"="+secret)})
		webtest.WantStatus(t, resp, body, http.StatusOK)
		return body
	}
	refresh := `<meta http-equiv="refresh" content="5">`
	tech := core.Actor{Kind: core.ActorTechnician, Name: "tom"}
	steps := []struct {
		name    string
		act     func() error
		key     string
		refresh bool
	}{
		{"waiting", func() error { return nil }, "portal.status.waiting", true},
		{"active in view mode", func() error { _, err := r.Engine.Start(ctx, s.ID, tech, core.ModeView); return err }, "portal.status.active_view", true},
		{"ended", func() error { _, err := r.Engine.End(ctx, s.ID, tech); return err }, "portal.status.ended", false},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := st.act(); err != nil {
				t.Fatal(err)
			}
			body := view(t)
			webtest.WantContains(t, body, esc(r.Catalog.T("en", st.key)))
			if has := strings.Contains(body, refresh); has != st.refresh {
				t.Errorf("refresh meta present = %t, want %t", has, st.refresh)
			}
			if has := strings.Contains(body, esc(r.Catalog.T("en", "portal.status.auto_refresh"))); has != st.refresh {
				t.Errorf("auto-refresh note present = %t, want %t", has, st.refresh)
			}
		})
	}
}

// The other final states, reached through the store so that each gets its
// own sentence.
func TestStatusPageStates(t *testing.T) {
	tests := []struct {
		state core.State
		mode  core.Mode
		key   string
	}{
		{core.StateActive, core.ModeControl, "portal.status.active_control"},
		{core.StateClosed, "", "portal.status.closed"},
		{core.StateExpired, "", "portal.status.expired"},
	}
	for _, tt := range tests {
		t.Run(string(tt.state)+"/"+string(tt.mode), func(t *testing.T) {
			r := newRig(t)
			s := r.Issue("en")
			resp, body := r.join(s.PIN)
			webtest.WantStatus(t, resp, body, http.StatusSeeOther)
			secret := resp.Cookies()[0].Value
			stored, err := r.Store.FindSession(ctx, s.ID)
			if err != nil {
				t.Fatal(err)
			}
			stored.State, stored.Mode = tt.state, tt.mode
			if err := r.Store.UpdateSession(ctx, &core.Change{Session: stored}); err != nil {
				t.Fatal(err)
			}
			resp, body = r.Serve(webtest.Request{Path: "/s/" + s.ID, Header: webtest.Headers("Cookie", cookieName+"="+secret)})
			webtest.WantStatus(t, resp, body, http.StatusOK)
			webtest.WantContains(t, body, esc(r.Catalog.T("en", tt.key)))
		})
	}
}

// brokenStore fails every session read.
type brokenStore struct {
	*coretest.MemStore
	err error
}

func (b brokenStore) FindSessionByPIN(context.Context, string) (*core.Session, error) {
	return nil, b.err
}

func (b brokenStore) FindSession(context.Context, string) (*core.Session, error) {
	return nil, b.err
}

// A failing store is the server's fault: the customer is asked to try
// again, the operator gets the detail, and no guess is counted.
func TestPortalFailure(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		key    string
	}{
		{"unavailable", core.Errorf(core.CodeUnavailable, "database is locked"), http.StatusServiceUnavailable, "error.unavailable"},
		{"internal", errors.New("disk on fire"), http.StatusInternalServerError, "error.internal"},
	}
	for _, tt := range tests {
		for _, req := range []webtest.Request{
			{Path: "/?code=123456"},
			{Path: "/m/123456"},
			{Method: http.MethodPost, Path: "/join", Form: url.Values{"code": {"123456"}}},
			{Path: "/s/someid", Header: webtest.Headers("Cookie", cookieName+"=secret")},
		} {
			t.Run(tt.name+" "+req.Method+req.Path, func(t *testing.T) {
				r := newRig(t)
				engine := core.NewEngine(core.Options{Courier: outbox.New(outbox.Options{}), Store: brokenStore{r.Store, tt.err}, Provider: r.Provider, Clock: r.Clock})
				p, err := New(Options{Engine: engine, Catalog: r.Catalog, Clock: r.Clock, Logger: slog.New(slog.NewTextHandler(r.Logs, nil))})
				if err != nil {
					t.Fatal(err)
				}
				r.Server = web.New(web.Options{})
				p.Mount(r.Server)
				resp, body := r.Serve(req)
				webtest.WantStatus(t, resp, body, tt.status)
				webtest.WantContains(t, body, esc(r.Catalog.T("en", tt.key)), `<form method="post" action="/join">`)
				webtest.WantNotContains(t, body, "disk on fire", "database is locked")
				webtest.WantContains(t, r.Logs.String(), tt.err.Error(), "route=")
				webtest.WantNotContains(t, r.Logs.String(), "123456")
				if n := p.guesses.Len(); n != 0 {
					t.Errorf("%d clients charged a guess for the server's failure", n)
				}
			})
		}
	}
}
