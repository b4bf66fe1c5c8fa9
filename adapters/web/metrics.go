package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/assistbot/assistbot/core"
)

// statsTimeout bounds the store query behind a scrape.
const statsTimeout = 5 * time.Second

// The reasons of assistbot_pin_failures_total.
const (
	reasonUnknown     = "unknown"
	reasonRateLimited = "rate_limited"
)

// Metrics holds assistbot's Prometheus metrics. Session, join and delivery
// counters come from the engine's updates (pass Observe to
// core.Options.Observe); PIN failures and request durations from the
// Server; the session and outbox gauges are read from the store at scrape
// time. A nil *Metrics records nothing.
type Metrics struct {
	events      *prometheus.CounterVec
	joins       *prometheus.CounterVec
	deliveries  *prometheus.CounterVec
	pinFailures *prometheus.CounterVec
	requests    *prometheus.HistogramVec
	shareConns  *prometheus.GaugeVec
	signalDrops *prometheus.CounterVec
	gatherer    prometheus.Gatherer
}

// The reasons of assistbot_signal_refusals_total.
const (
	refusedTooLarge  = "too_large"
	refusedMalformed = "malformed"
	refusedNotAllow  = "not_allowed"
	refusedRate      = "rate_limited"
	refusedBinary    = "binary"
)

// NewMetrics registers assistbot's metrics with reg (a fresh registry when
// nil) and returns them. stats, when not nil, is called at every scrape for
// the assistbot_sessions and assistbot_outbox_queued gauges. It panics if
// the metrics are already registered with reg, like
// prometheus.MustRegister.
func NewMetrics(reg prometheus.Registerer, stats func(context.Context) (core.Stats, error)) *Metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := &Metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "assistbot_session_events_total",
			Help: "Session events recorded, by action.",
		}, []string{"action"}),
		joins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "assistbot_joins_total",
			Help: "Customers who joined a session, by device.",
		}, []string{"device"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "assistbot_deliveries_total",
			Help: "Outbox deliveries reaching a status (queued when created), by channel and status.",
		}, []string{"channel", "status"}),
		pinFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "assistbot_pin_failures_total",
			Help: "PINs entered or followed on the portal that were refused, by reason.",
		}, []string{"reason"}),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "assistbot_http_request_duration_seconds",
			Help:    "HTTP request durations, by route pattern, method and status code.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method", "code"}),
		shareConns: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "assistbot_share_connections",
			Help: "Open screen-share signaling sockets, by side (customer, technician).",
		}, []string{"role"}),
		signalDrops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "assistbot_signal_refusals_total",
			Help: "Screen-share signaling sockets closed for a message they may not send, by reason.",
		}, []string{"reason"}),
	}
	for _, r := range []role{roleCustomer, roleTechnician} {
		m.shareConns.WithLabelValues(string(r))
	}
	for _, r := range []string{refusedTooLarge, refusedMalformed, refusedNotAllow, refusedRate, refusedBinary} {
		m.signalDrops.WithLabelValues(r)
	}
	// Start the small label sets at zero so that rates and alerts work
	// before the first event.
	for _, a := range core.Actions {
		m.events.WithLabelValues(string(a))
	}
	for _, d := range []core.Device{core.DeviceDesktop, core.DeviceMobile, core.DeviceUnknown} {
		m.joins.WithLabelValues(string(d))
	}
	m.pinFailures.WithLabelValues(reasonUnknown)
	m.pinFailures.WithLabelValues(reasonRateLimited)

	reg.MustRegister(m.events, m.joins, m.deliveries, m.pinFailures, m.requests, m.shareConns, m.signalDrops)
	if stats != nil {
		reg.MustRegister(newStatsCollector(stats))
	}
	if g, ok := reg.(prometheus.Gatherer); ok {
		m.gatherer = g
	}
	return m
}

// Observe counts what an engine update reports. It is meant for
// core.Options.Observe, which runs it synchronously after each commit; it
// only increments counters, so it never blocks.
func (m *Metrics) Observe(u core.Update) {
	if m == nil {
		return
	}
	if u.Event != nil {
		m.events.WithLabelValues(string(u.Event.Action)).Inc()
		if u.Event.Action == core.ActionJoin && u.Session != nil {
			d := u.Session.Device
			if !d.Valid() {
				d = core.DeviceUnknown
			}
			m.joins.WithLabelValues(string(d)).Inc()
		}
	}
	if d := u.Delivery; d != nil && d.Status.Valid() {
		m.deliveries.WithLabelValues(d.To.Channel, string(d.Status)).Inc()
	}
}

func (m *Metrics) pinFailure(reason string) {
	if m == nil {
		return
	}
	m.pinFailures.WithLabelValues(reason).Inc()
}

// shareConn counts a signaling socket of side r opening (+1) or closing
// (-1).
func (m *Metrics) shareConn(r role, delta float64) {
	if m == nil {
		return
	}
	m.shareConns.WithLabelValues(string(r)).Add(delta)
}

func (m *Metrics) signalRefused(reason string) {
	if m == nil {
		return
	}
	m.signalDrops.WithLabelValues(reason).Inc()
}

func (m *Metrics) observeRequest(route, method string, code int, d time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(route, methodLabel(method), strconv.Itoa(code)).Observe(d.Seconds())
}

// methodLabel bounds the method label: a client may send any token as a
// method, and each would otherwise become a new series.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
		http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}

// statsCollector reads the session and outbox gauges from the store when
// scraped, so they are right however many processes share the store.
type statsCollector struct {
	stats    func(context.Context) (core.Stats, error)
	sessions *prometheus.Desc
	queued   *prometheus.Desc
}

func newStatsCollector(stats func(context.Context) (core.Stats, error)) *statsCollector {
	return &statsCollector{
		stats:    stats,
		sessions: prometheus.NewDesc("assistbot_sessions", "Sessions in the store, by state.", []string{"state"}, nil),
		queued:   prometheus.NewDesc("assistbot_outbox_queued", "Outbox deliveries waiting to be delivered.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *statsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.sessions
	ch <- c.queued
}

// Collect implements prometheus.Collector. A failing store makes the
// gauges invalid for this scrape; the other metrics are still served.
func (c *statsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), statsTimeout)
	defer cancel()
	st, err := c.stats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.sessions, fmt.Errorf("read session stats: %w", err))
		return
	}
	for _, s := range core.States {
		ch <- prometheus.MustNewConstMetric(c.sessions, prometheus.GaugeValue, float64(st.Sessions[s]), string(s))
	}
	ch <- prometheus.MustNewConstMetric(c.queued, prometheus.GaugeValue, float64(st.QueuedDeliveries))
}

// metricsHandler serves g in the Prometheus exposition format. A failing
// collector is logged and left out rather than failing the whole scrape.
func metricsHandler(g prometheus.Gatherer, log *slog.Logger) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{
		ErrorLog:      promLogger{log},
		ErrorHandling: promhttp.ContinueOnError,
	})
}

// promLogger adapts slog to promhttp's logger.
type promLogger struct{ log *slog.Logger }

func (l promLogger) Println(v ...any) {
	l.log.Error("metrics scrape", "route", "GET /metrics", "err", fmt.Sprint(v...))
}
