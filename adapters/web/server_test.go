package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/assistbot/assistbot/core"
)

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestHealth(t *testing.T) {
	tests := []struct {
		name    string
		ready   func(context.Context) error
		path    string
		status  int
		content string
	}{
		{"healthz", nil, "/healthz", http.StatusOK, "ok\n"},
		{"readyz without check", nil, "/readyz", http.StatusOK, "ok\n"},
		{"readyz ready", func(context.Context) error { return nil }, "/readyz", http.StatusOK, "ok\n"},
		{"readyz store down", func(context.Context) error { return errors.New("dial unix /run/db.sock: refused") },
			"/readyz", http.StatusServiceUnavailable, `{"error":{"code":"unavailable","message":"not ready"}}`},
		{"readyz store closed", func(context.Context) error { return core.Errorf(core.CodeUnavailable, "store closed") },
			"/readyz", http.StatusServiceUnavailable, `{"error":{"code":"unavailable","message":"not ready: store closed"}}`},
		{"healthz ignores readiness", func(context.Context) error { return errors.New("down") }, "/healthz", http.StatusOK, "ok\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, func(o *Options) { o.Ready = tt.ready })
			resp, body := r.get(tt.path)
			wantStatus(t, resp, body, tt.status)
			if strings.TrimSpace(body) != strings.TrimSpace(tt.content) {
				t.Errorf("body = %q, want %q", body, tt.content)
			}
		})
	}
}

func TestMetrics(t *testing.T) {
	r := newRig(t)
	s := r.issue("en")
	r.get("/m/"+s.PIN, "User-Agent", uaIPhone)
	r.get("/?code=000000")
	r.join(s.PIN, "User-Agent", uaIPhone)
	r.api(http.MethodPost, "/api/v1/sessions/"+s.ID+"/start", `{"mode":"view"}`)
	r.api(http.MethodGet, "/api/v1/nope", "")
	r.serve(request{method: "BREW", path: "/m/" + s.PIN})
	other := r.issue("en")
	if _, _, err := r.engine.Send(ctx, other.ID, core.Actor{Kind: core.ActorAgent}, core.LinkDesktop); err != nil {
		t.Fatal(err)
	}

	resp, body := r.get("/metrics")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body,
		`assistbot_sessions{state="active"} 1`,
		`assistbot_sessions{state="sent"} 1`,
		`assistbot_sessions{state="expired"} 0`,
		`assistbot_outbox_queued 1`, // the sms link only: the sessions have no desk to alert
		`assistbot_session_events_total{action="join"} 1`,
		`assistbot_session_events_total{action="issue"} 2`,
		`assistbot_joins_total{device="mobile"} 1`,
		`assistbot_joins_total{device="desktop"} 0`,
		`assistbot_deliveries_total{channel="sms",status="queued"} 1`,
		`assistbot_pin_failures_total{reason="unknown"} 1`,
		`assistbot_pin_failures_total{reason="rate_limited"} 0`,
		`assistbot_http_request_duration_seconds_count{code="200",method="GET",route="GET /m/{pin}"} 1`,
		`assistbot_http_request_duration_seconds_count{code="303",method="POST",route="POST /join"} 1`,
		`assistbot_http_request_duration_seconds_count{code="200",method="POST",route="POST /api/v1/sessions/{id}/start"} 1`,
		`assistbot_http_request_duration_seconds_count{code="404",method="GET",route="unmatched"} 1`,
		`assistbot_http_request_duration_seconds_count{code="405",method="OTHER",route="unmatched"} 1`,
	)
	routes := regexp.MustCompile(`route="([^"]*)"`).FindAllStringSubmatch(body, -1)
	if len(routes) == 0 {
		t.Fatal("no route labels")
	}
	for _, m := range routes {
		if strings.Contains(m[1], s.PIN) || strings.Contains(m[1], s.ID) || strings.Contains(m[1], "000000") {
			t.Errorf("route label %q holds a pin or an id", m[1])
		}
	}
}

func TestMetricsStatsFailure(t *testing.T) {
	r := newRig(t)
	m := NewMetrics(nil, func(context.Context) (core.Stats, error) { return core.Stats{}, errors.New("db down") })
	m.pinFailure(reasonUnknown)
	s := New(Options{Engine: r.engine, Catalog: r.catalog, Metrics: m, Logger: discard()})
	r.server = s
	resp, body := r.get("/metrics")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `assistbot_pin_failures_total{reason="unknown"} 1`)
	wantNotContains(t, body, "assistbot_sessions{")
}

// Routes mounted by other adapters get the same middleware.
func TestHandle(t *testing.T) {
	r := newRig(t)
	r.server.Handle("POST /slack/events", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusAccepted)
	}))
	r.server.Handle("GET /boom/{x}", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("kaboom")
	}))
	resp, body := r.serve(request{method: http.MethodPost, path: "/slack/events"})
	wantStatus(t, resp, body, http.StatusAccepted)
	resp, body = r.get("/boom/123456")
	wantStatus(t, resp, body, http.StatusInternalServerError)
	wantContains(t, r.logs.String(), "kaboom", `route="GET /boom/{x}"`)

	_, metrics := r.get("/metrics")
	wantContains(t, metrics,
		`assistbot_http_request_duration_seconds_count{code="202",method="POST",route="POST /slack/events"} 1`,
		`assistbot_http_request_duration_seconds_count{code="500",method="GET",route="GET /boom/{x}"} 1`,
	)
}

func TestNoMetrics(t *testing.T) {
	r := newRig(t)
	r.server = New(Options{Engine: r.engine, Catalog: r.catalog})
	resp, body := r.get("/")
	wantStatus(t, resp, body, http.StatusOK)
	resp, body = r.get("/metrics")
	wantStatus(t, resp, body, http.StatusNotFound)
}
