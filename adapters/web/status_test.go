package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
)

func TestStatusPage(t *testing.T) {
	r := newRig(t)
	s := r.issue("en")
	resp, body := r.join(s.PIN, "User-Agent", uaDesktop)
	wantStatus(t, resp, body, http.StatusSeeOther)
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
				req := request{path: tt.path}
				if tt.cookie != "" {
					req.header = headers("Cookie", cookieName+"="+tt.cookie)
				}
				resp, body := r.serve(req)
				wantStatus(t, resp, body, tt.status)
				if tt.status == http.StatusNotFound && body != unknownPage {
					t.Errorf("404 differs from the unknown-pin page:\n%s", body)
				}
			})
		}
	})

	view := func(t *testing.T) string {
		t.Helper()
		resp, body := r.serve(request{path: "/s/" + s.ID, header: headers("Cookie", cookieName+"="+secret)})
		wantStatus(t, resp, body, http.StatusOK)
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
		{"active in view mode", func() error { _, err := r.engine.Start(ctx, s.ID, tech, core.ModeView); return err }, "portal.status.active_view", true},
		{"ended", func() error { _, err := r.engine.End(ctx, s.ID, tech); return err }, "portal.status.ended", false},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := st.act(); err != nil {
				t.Fatal(err)
			}
			body := view(t)
			wantContains(t, body, esc(r.catalog.T("en", st.key)))
			if has := strings.Contains(body, refresh); has != st.refresh {
				t.Errorf("refresh meta present = %t, want %t", has, st.refresh)
			}
			if has := strings.Contains(body, esc(r.catalog.T("en", "portal.status.auto_refresh"))); has != st.refresh {
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
			s := r.issue("en")
			resp, body := r.join(s.PIN)
			wantStatus(t, resp, body, http.StatusSeeOther)
			secret := resp.Cookies()[0].Value
			stored, err := r.store.FindSession(ctx, s.ID)
			if err != nil {
				t.Fatal(err)
			}
			stored.State, stored.Mode = tt.state, tt.mode
			if err := r.store.UpdateSession(ctx, &core.Change{Session: stored}); err != nil {
				t.Fatal(err)
			}
			resp, body = r.serve(request{path: "/s/" + s.ID, header: headers("Cookie", cookieName+"="+secret)})
			wantStatus(t, resp, body, http.StatusOK)
			wantContains(t, body, esc(r.catalog.T("en", tt.key)))
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
		for _, req := range []request{
			{path: "/?code=123456"},
			{path: "/m/123456"},
			{method: http.MethodPost, path: "/join", form: url.Values{"code": {"123456"}}},
			{path: "/s/someid", header: headers("Cookie", cookieName+"=secret")},
		} {
			t.Run(tt.name+" "+req.method+req.path, func(t *testing.T) {
				r := newRig(t)
				engine := core.NewEngine(core.Options{Store: brokenStore{r.store, tt.err}, Provider: r.provider, Clock: r.clock})
				r.server = New(Options{Engine: engine, Catalog: r.catalog, Clock: r.clock, Logger: slog.New(slog.NewTextHandler(r.logs, nil))})
				resp, body := r.serve(req)
				wantStatus(t, resp, body, tt.status)
				wantContains(t, body, esc(r.catalog.T("en", tt.key)), `<form method="post" action="/join">`)
				wantNotContains(t, body, "disk on fire", "database is locked")
				wantContains(t, r.logs.String(), tt.err.Error(), "route=")
				wantNotContains(t, r.logs.String(), "123456")
				if n := r.server.guard.size(); n != 0 {
					t.Errorf("%d clients charged a guess for the server's failure", n)
				}
			})
		}
	}
}
