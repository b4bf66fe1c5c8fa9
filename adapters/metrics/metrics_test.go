package metrics

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/assistbot/assistbot/adapters/web"
	"github.com/assistbot/assistbot/adapters/web/webtest"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/retention"
)

var ctx = context.Background()

// newRig returns a rig whose engine and server report to fresh metrics,
// which are mounted on its server.
func newRig(t *testing.T) (*webtest.Rig, *Metrics) {
	t.Helper()
	var m *Metrics
	r := webtest.New(t, webtest.Options{
		Observe: func(u core.Update) { m.Observe(u) },
		Web: func(o *web.Options) {
			o.Observe = func(route, method string, status int, d time.Duration) { m.ObserveRequest(route, method, status, d) }
		},
	})
	var err error
	if m, err = New(Options{Registerer: prometheus.NewRegistry(), Stats: r.Store.Stats, Logger: r.Logger}); err != nil {
		t.Fatal(err)
	}
	m.Mount(r.Server)
	return r, m
}

func TestMetrics(t *testing.T) {
	r, m := newRig(t)
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	r.Server.Handle("GET /m/{pin}", ok)
	r.Server.Handle("POST /join", http.RedirectHandler("/s/x", http.StatusSeeOther))
	r.Server.Handle("POST /api/v1/sessions/{id}/start", ok)

	s := r.Issue("en")
	r.Get("/m/"+s.PIN, "User-Agent", webtest.UAIPhone)
	m.PINFailure("unknown") // the portal's report of /?code=000000
	r.Join(s, core.DeviceMobile)
	r.Serve(webtest.Request{Method: http.MethodPost, Path: "/join"})
	if _, err := r.Engine.Start(ctx, s.ID, core.Actor{Kind: core.ActorTechnician, Name: "tom"}, core.ModeView); err != nil {
		t.Fatal(err)
	}
	r.Serve(webtest.Request{Method: http.MethodPost, Path: "/api/v1/sessions/" + s.ID + "/start"})
	r.Get("/api/v1/nope")
	r.Serve(webtest.Request{Method: "BREW", Path: "/m/" + s.PIN})
	other := r.Issue("en")
	if _, _, err := r.Engine.Send(ctx, other.ID, core.Actor{Kind: core.ActorAgent}, core.LinkDesktop); err != nil {
		t.Fatal(err)
	}

	resp, body := r.Get("/metrics")
	webtest.WantStatus(t, resp, body, http.StatusOK)
	webtest.WantContains(t, body,
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
		`assistbot_share_connections{role="customer"} 0`,
		`assistbot_signal_refusals_total{reason="malformed"} 0`,
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
	for _, rt := range routes {
		if strings.Contains(rt[1], s.PIN) || strings.Contains(rt[1], s.ID) || strings.Contains(rt[1], "000000") {
			t.Errorf("route label %q holds a pin or an id", rt[1])
		}
	}
}

// TestShareMetrics counts what the signaling reports.
func TestShareMetrics(t *testing.T) {
	r, m := newRig(t)
	m.ShareConnection("customer", 1)
	m.ShareConnection("technician", 1)
	m.ShareConnection("technician", -1)
	m.SignalRefused("too_large")
	_, body := r.Get("/metrics")
	webtest.WantContains(t, body,
		`assistbot_share_connections{role="customer"} 1`,
		`assistbot_share_connections{role="technician"} 0`,
		`assistbot_signal_refusals_total{reason="too_large"} 1`,
		`assistbot_signal_refusals_total{reason="binary"} 0`,
	)
}

// TestPrunedMetrics counts what retention runs deleted, kind by kind.
func TestPrunedMetrics(t *testing.T) {
	r, m := newRig(t)
	m.Pruned(retention.Pruned{Sessions: 2, Events: 9, Deliveries: 3})
	m.Pruned(retention.Pruned{Sessions: 1, Conversations: 1, Messages: 4})
	_, body := r.Get("/metrics")
	webtest.WantContains(t, body,
		`assistbot_pruned_rows_total{kind="sessions"} 3`,
		`assistbot_pruned_rows_total{kind="events"} 9`,
		`assistbot_pruned_rows_total{kind="deliveries"} 3`,
		`assistbot_pruned_rows_total{kind="conversations"} 1`,
		`assistbot_pruned_rows_total{kind="messages"} 4`,
	)
}

func TestMetricsStatsFailure(t *testing.T) {
	m, err := New(Options{Stats: func(context.Context) (core.Stats, error) { return core.Stats{}, errors.New("db down") }})
	if err != nil {
		t.Fatal(err)
	}
	m.PINFailure("unknown")
	s := web.New(web.Options{})
	m.Mount(s)
	resp, body := webtest.Serve(s, webtest.Request{Path: "/metrics"})
	webtest.WantStatus(t, resp, body, http.StatusOK)
	webtest.WantContains(t, body, `assistbot_pin_failures_total{reason="unknown"} 1`)
	webtest.WantNotContains(t, body, "assistbot_sessions{")
}

// TestNoMetrics: without a gatherer nothing is mounted, and a nil
// *Metrics records nothing.
func TestNoMetrics(t *testing.T) {
	s := web.New(web.Options{})
	var m *Metrics
	m.Mount(s)
	m.Observe(core.Update{})
	m.PINFailure("unknown")
	resp, body := webtest.Serve(s, webtest.Request{Path: "/metrics"})
	webtest.WantStatus(t, resp, body, http.StatusNotFound)
	if _, err := New(Options{Registerer: prometheus.NewRegistry(), Gatherer: nil}); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	if _, err := New(Options{Registerer: reg}); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{Registerer: reg}); err == nil {
		t.Error("registering twice succeeded")
	}
}

// TestMetricsToken: with metrics.token set, /metrics answers only a
// scrape that sends it as its bearer token; anything else gets 401 with
// a JSON error, and no metric.
func TestMetricsToken(t *testing.T) {
	const token = "0123456789abcdef-metrics"
	m, err := New(Options{Registerer: prometheus.NewRegistry(), Token: token})
	if err != nil {
		t.Fatal(err)
	}
	m.PINFailure("unknown")
	s := web.New(web.Options{})
	m.Mount(s)
	for _, tt := range []struct {
		name, authorization string
		status              int
	}{
		{"no header", "", http.StatusUnauthorized},
		{"wrong token", "Bearer 0123456789abcdef-metricz", http.StatusUnauthorized},
		{"a prefix of the token", "Bearer 0123456789abcdef", http.StatusUnauthorized},
		{"the token and more", "Bearer " + token + "x", http.StatusUnauthorized},
		{"basic", "Basic " + token, http.StatusUnauthorized},
		{"bare token", token, http.StatusUnauthorized},
		{"empty bearer", "Bearer ", http.StatusUnauthorized},
		{"the token", "Bearer " + token, http.StatusOK},
		{"lower-case scheme", "bearer " + token, http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var h http.Header
			if tt.authorization != "" {
				h = webtest.Headers("Authorization", tt.authorization)
			}
			resp, body := webtest.Serve(s, webtest.Request{Path: "/metrics", Header: h})
			webtest.WantStatus(t, resp, body, tt.status)
			if tt.status == http.StatusOK {
				webtest.WantContains(t, body, `assistbot_pin_failures_total{reason="unknown"} 1`)
				return
			}
			webtest.WantContains(t, body, `{"error":{"code":"unauthorized","message":"/metrics needs Authorization: Bearer with metrics.token"}}`)
			webtest.WantNotContains(t, body, "assistbot_", token)
			if got := resp.Header.Get("WWW-Authenticate"); got != `Bearer realm="metrics"` {
				t.Errorf("WWW-Authenticate = %q", got)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}
}
