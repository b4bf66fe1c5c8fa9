// Package metrics holds assistbot's Prometheus metrics and serves them at
// GET /metrics, to scrapes that send metrics.token as their bearer token
// when one is set. It observes the engine (its Observe is
// core.Options.Observe), and the web surfaces report to it through hooks
// of their own that it satisfies: the server's request observation
// (ObserveRequest), the portal's refused PINs (PINFailure) and the
// signaling's sockets (ShareConnection, SignalRefused). The session and
// outbox gauges are read from the store at scrape time.
package metrics

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/assistbot/assistbot/adapters/web"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/retention"
)

// statsTimeout bounds the store query behind a scrape.
const statsTimeout = 5 * time.Second

// The label values the surfaces report, started at zero so that rates and
// alerts work before the first one.
var (
	pinReasons    = []string{"unknown", "rate_limited"}
	shareRoles    = []string{"customer", "technician"}
	signalReasons = []string{"too_large", "malformed", "not_allowed", "rate_limited", "binary"}
	prunedKinds   = []string{"sessions", "events", "deliveries", "conversations", "messages"}
)

// Options configure Metrics. Every field is optional.
type Options struct {
	// Registerer is where the metrics are registered; a fresh registry
	// when nil.
	Registerer prometheus.Registerer
	// Gatherer is what /metrics serves; when nil, Registerer if it is a
	// Gatherer. With neither, Mount mounts nothing.
	Gatherer prometheus.Gatherer
	// Stats, when set, is read at every scrape for the assistbot_sessions
	// and assistbot_outbox_queued gauges (the store's Stats).
	Stats func(context.Context) (core.Stats, error)
	// Token, when set, is the bearer token a scrape must send
	// (Authorization: Bearer <token>); without it /metrics is open to
	// whoever reaches it.
	Token string
	// Logger receives failed scrapes; default discards.
	Logger *slog.Logger
}

// Metrics holds assistbot's Prometheus metrics. A nil *Metrics records
// nothing.
type Metrics struct {
	events      *prometheus.CounterVec
	joins       *prometheus.CounterVec
	deliveries  *prometheus.CounterVec
	pinFailures *prometheus.CounterVec
	requests    *prometheus.HistogramVec
	shareConns  *prometheus.GaugeVec
	signalDrops *prometheus.CounterVec
	pruned      *prometheus.CounterVec
	gatherer    prometheus.Gatherer
	token       *[32]byte // SHA-256 of Options.Token, nil without one
	log         *slog.Logger
}

// New registers assistbot's metrics and returns them. It fails when they
// are already registered with o.Registerer.
func New(o Options) (*Metrics, error) {
	reg := o.Registerer
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
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
		pruned: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "assistbot_pruned_rows_total",
			Help: "Rows deleted past store.retention, by kind (sessions, events, deliveries, conversations, messages).",
		}, []string{"kind"}),
		log: log.With("component", "metrics"),
	}
	for _, a := range core.Actions {
		m.events.WithLabelValues(string(a))
	}
	for _, d := range []core.Device{core.DeviceDesktop, core.DeviceMobile, core.DeviceUnknown} {
		m.joins.WithLabelValues(string(d))
	}
	for _, r := range pinReasons {
		m.pinFailures.WithLabelValues(r)
	}
	for _, r := range shareRoles {
		m.shareConns.WithLabelValues(r)
	}
	for _, r := range signalReasons {
		m.signalDrops.WithLabelValues(r)
	}
	for _, k := range prunedKinds {
		m.pruned.WithLabelValues(k)
	}
	cs := []prometheus.Collector{m.events, m.joins, m.deliveries, m.pinFailures, m.requests, m.shareConns, m.signalDrops, m.pruned}
	if o.Stats != nil {
		cs = append(cs, newStatsCollector(o.Stats))
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	m.gatherer = o.Gatherer
	if g, ok := reg.(prometheus.Gatherer); ok && m.gatherer == nil {
		m.gatherer = g
	}
	if t := strings.TrimSpace(o.Token); t != "" {
		sum := sha256.Sum256([]byte(t))
		m.token = &sum
	}
	return m, nil
}

// Mount serves the metrics at GET /metrics in the Prometheus exposition
// format, to scrapes with the bearer token when there is one. A failing
// collector is logged and left out rather than failing the whole scrape.
func (m *Metrics) Mount(mux web.Mux) {
	if m == nil || m.gatherer == nil {
		return
	}
	h := promhttp.HandlerFor(m.gatherer, promhttp.HandlerOpts{
		ErrorLog:      promLogger{m.log},
		ErrorHandling: promhttp.ContinueOnError,
	})
	mux.Handle("GET /metrics", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !m.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			web.WriteError(w, http.StatusUnauthorized, core.CodeUnauthorized,
				"/metrics needs Authorization: Bearer with metrics.token")
			return
		}
		h.ServeHTTP(w, r)
	}))
}

// authorized reports whether r may read the metrics: any request without
// a token configured, else one with the token as its bearer token. The
// digests are compared in constant time, so timing tells nothing about
// the token, not even its length.
func (m *Metrics) authorized(r *http.Request) bool {
	if m.token == nil {
		return true
	}
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
	return subtle.ConstantTimeCompare(sum[:], m.token[:]) == 1
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

// Pruned counts the rows a retention run deleted: retention.Options.Observe.
func (m *Metrics) Pruned(p retention.Pruned) {
	if m == nil {
		return
	}
	for i, n := range []int{p.Sessions, p.Events, p.Deliveries, p.Conversations, p.Messages} {
		m.pruned.WithLabelValues(prunedKinds[i]).Add(float64(n))
	}
}

// ObserveRequest records an answered request: web.Options.Observe. route
// is the mux pattern and method is already bounded (web.MethodLabel), so
// the label sets stay small.
func (m *Metrics) ObserveRequest(route, method string, status int, d time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Observe(d.Seconds())
}

// PINFailure counts a PIN the portal refused, by reason ("unknown",
// "rate_limited").
func (m *Metrics) PINFailure(reason string) {
	if m == nil {
		return
	}
	m.pinFailures.WithLabelValues(reason).Inc()
}

// ShareConnection counts a signaling socket of role ("customer",
// "technician") opening (delta 1) or closing (delta -1).
func (m *Metrics) ShareConnection(role string, delta int) {
	if m == nil {
		return
	}
	m.shareConns.WithLabelValues(role).Add(float64(delta))
}

// SignalRefused counts a signaling socket closed for a message it may not
// send, by reason ("too_large", "malformed", "not_allowed",
// "rate_limited", "binary").
func (m *Metrics) SignalRefused(reason string) {
	if m == nil {
		return
	}
	m.signalDrops.WithLabelValues(reason).Inc()
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

// promLogger adapts slog to promhttp's logger.
type promLogger struct{ log *slog.Logger }

// Println logs what promhttp reports: a collector that failed.
func (l promLogger) Println(v ...any) {
	l.log.Error("metrics scrape", "route", "GET /metrics", "err", fmt.Sprint(v...))
}
