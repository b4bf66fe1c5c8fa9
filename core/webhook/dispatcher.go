package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/assistbot/assistbot/core"
)

// Tuning. An endpoint's deliveries are claimed batch at a time under a
// lease of lease, renewed every renew while they are sent; each request
// may take timeout. A failed delivery waits backoffBase, then twice as
// long each time up to backoffMax (with jitter), or what the endpoint's
// Retry-After asks up to backoffMax, and fails after maxAttempts; an
// endpoint that has not succeeded for DisableAfter is disabled.
const (
	batch           = 32
	lease           = 20 * time.Second
	renew           = 5 * time.Second
	defaultTimeout  = 10 * time.Second
	defaultPoll     = time.Second
	defaultRefresh  = 5 * time.Second
	sweepEvery      = time.Minute
	backoffBase     = time.Second
	backoffMax      = time.Hour
	maxAttempts     = 20
	DefaultDisable  = 24 * time.Hour
	maxReasonLength = 300
)

// Sender makes one signed request to an endpoint (adapters/webhook).
type Sender interface {
	Send(ctx context.Context, ep *Endpoint, r *Request) Result
}

// Request is one attempt at a delivery.
type Request struct {
	// Delivery is the Assistbot-Delivery header, the same on every
	// attempt; Event the Assistbot-Event header, the event's type.
	Delivery string
	Event    string
	Body     []byte
}

// Result is what an attempt came to.
type Result struct {
	// Status is the HTTP status of the answer; 0 when there was none.
	Status int
	// RetryAfter is what the answer's Retry-After header asked, 0 when
	// it had none.
	RetryAfter time.Duration
	// Err says why there was no answer (a timeout, a refused connection).
	Err error
	// Permanent marks an Err that retrying cannot cure: the address is
	// one assistbot refuses to call.
	Permanent bool
}

// Dispatcher delivers the webhook deliveries: one loop per enabled
// endpoint, each claiming that endpoint's deliveries in order and sending
// them one after another, so that an endpoint that hangs holds back
// nothing but its own deliveries.
type Dispatcher struct {
	Store  Store
	Sender Sender
	Clock  core.Clock
	Logger *slog.Logger
	// Configured are the endpoints of the configuration file, with their
	// secrets: Open writes them to the store (without the secret) and
	// deletes the configured ones no longer listed.
	Configured []*Endpoint
	// Notify tells the desk that ep was just disabled.
	Notify func(ctx context.Context, ep *Endpoint)
	// Poll is how often each loop looks for due deliveries when nothing
	// wakes it (1s when zero); Refresh how often the endpoints are read
	// again, for those another replica changed (5s when zero);
	// DisableAfter how long an endpoint may fail before it is disabled
	// (DefaultDisable when zero); Timeout bounds one request (10s when
	// zero).
	Poll, Refresh, DisableAfter, Timeout time.Duration

	// release ends the claims an earlier run of this process left (see
	// Wrap), once.
	release func() (int, error)
	once    sync.Once
	// reloading runs one Reload at a time, so that an older read of the
	// endpoints never replaces a newer one.
	reloading sync.Mutex
	eps       atomic.Pointer[[]*Endpoint]
	mu        sync.Mutex
	loops     map[string]*loop
	run       context.Context // the loops' context, once Run started
	wg        sync.WaitGroup
	kick      chan struct{}
}

// loop is one endpoint's delivery loop.
type loop struct {
	ep     atomic.Pointer[Endpoint]
	kick   chan struct{}
	cancel context.CancelFunc
}

func (d *Dispatcher) defaults() { d.once.Do(d.setDefaults) }

func (d *Dispatcher) setDefaults() {
	if d.Clock == nil {
		d.Clock = core.SystemClock{}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	d.Poll = cmpOr(d.Poll, defaultPoll)
	d.Refresh = cmpOr(d.Refresh, defaultRefresh)
	d.DisableAfter = cmpOr(d.DisableAfter, DefaultDisable)
	d.Timeout = cmpOr(d.Timeout, defaultTimeout)
	d.loops = map[string]*loop{}
	d.kick = make(chan struct{}, 1)
}

func cmpOr(v, def time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return def
}

// Open writes the configured endpoints to the store and reads every
// endpoint, so that the changes made from now on queue their deliveries.
// Call it before the engine takes requests.
func (d *Dispatcher) Open(ctx context.Context) error {
	d.defaults()
	if err := d.sync(ctx); err != nil {
		return err
	}
	return d.Reload(ctx)
}

// Endpoints returns the enabled endpoints, as last read.
func (d *Dispatcher) Endpoints() []*Endpoint {
	if p := d.eps.Load(); p != nil {
		return *p
	}
	return nil
}

// Reload reads the endpoints again now: the API calls it after a change,
// so that this replica follows at once (others within Refresh).
func (d *Dispatcher) Reload(ctx context.Context) error {
	d.reloading.Lock()
	defer d.reloading.Unlock()
	d.defaults()
	list, err := d.Store.FindWebhooks(ctx)
	if err != nil {
		return fmt.Errorf("webhooks: %w", err)
	}
	secrets := map[string]string{}
	for _, c := range d.Configured {
		secrets[c.ID] = c.Secret
	}
	var enabled []*Endpoint
	for _, ep := range list {
		if ep.Source == SourceConfig {
			s, ok := secrets[ep.ID]
			if !ok {
				continue // another replica's configuration, during a change of it
			}
			ep.Secret = s
		}
		if ep.Enabled() && ep.Secret != "" {
			enabled = append(enabled, ep)
		}
	}
	d.eps.Store(&enabled)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.run == nil {
		return nil
	}
	seen := map[string]bool{}
	for _, ep := range enabled {
		seen[ep.ID] = true
		if l, ok := d.loops[ep.ID]; ok {
			l.ep.Store(ep)
			continue
		}
		ctx, cancel := context.WithCancel(d.run)
		l := &loop{kick: make(chan struct{}, 1), cancel: cancel}
		l.ep.Store(ep)
		d.loops[ep.ID] = l
		d.wg.Go(func() { d.loop(ctx, l) })
	}
	for id, l := range d.loops {
		if !seen[id] {
			l.cancel()
			delete(d.loops, id)
		}
	}
	return nil
}

// sync writes the configured endpoints to the store.
func (d *Dispatcher) sync(ctx context.Context) error {
	stored, err := d.Store.FindWebhooks(ctx)
	if err != nil {
		return fmt.Errorf("webhooks: %w", err)
	}
	byID := map[string]*Endpoint{}
	for _, ep := range stored {
		byID[ep.ID] = ep
	}
	now := d.Clock.Now()
	listed := map[string]bool{}
	for _, c := range d.Configured {
		listed[c.ID] = true
		s, ok := byID[c.ID]
		switch {
		case !ok:
			e := &Endpoint{ID: c.ID, URL: c.URL, Events: c.Events, Description: c.Description,
				Source: SourceConfig, CreatedAt: now, UpdatedAt: now}
			if err := d.Store.CreateWebhook(ctx, e); err != nil && core.ErrorCode(err) != core.CodeConflict {
				return fmt.Errorf("webhooks: %s: %w", c.ID, err)
			}
		case s.Source != SourceConfig:
			return fmt.Errorf("webhooks: id %q is taken by an endpoint created through the API", c.ID)
		case s.URL != c.URL || !slices.Equal(s.Events, c.Events) || s.Description != c.Description:
			s.URL, s.Events, s.Description, s.UpdatedAt = c.URL, c.Events, c.Description, now
			if err := d.Store.UpdateWebhook(ctx, s); err != nil && !errors.Is(err, core.ErrVersion) {
				return fmt.Errorf("webhooks: %s: %w", c.ID, err)
			}
		}
	}
	for _, s := range stored {
		if s.Source == SourceConfig && !listed[s.ID] {
			if err := d.Store.DeleteWebhook(ctx, s.ID, now); err != nil && core.ErrorCode(err) != core.CodeNotFound {
				return fmt.Errorf("webhooks: %s: %w", s.ID, err)
			}
		}
	}
	return nil
}

// Run delivers until ctx ends; the requests in flight then finish, each
// within its own timeout.
func (d *Dispatcher) Run(ctx context.Context) {
	d.defaults()
	if d.release != nil {
		if n, err := d.release(); err != nil {
			d.Logger.Error("release the deliveries claimed before a restart", "err", err)
		} else if n > 0 {
			d.Logger.Warn("deliveries claimed before a restart are due again; any of them may have been sent already", "count", n)
		}
	}
	d.mu.Lock()
	d.run = ctx
	d.mu.Unlock()
	refresh := time.NewTicker(d.Refresh)
	defer refresh.Stop()
	var swept time.Time
	for {
		if err := d.Reload(ctx); err != nil && ctx.Err() == nil {
			d.Logger.Error("webhooks: read the endpoints", "err", err)
		}
		if now := d.Clock.Now(); now.Sub(swept) >= sweepEvery || now.Before(swept) {
			swept = now
			if n, err := d.Store.FailWebhookDeliveries(ctx, now); err != nil && ctx.Err() == nil {
				d.Logger.Error("webhooks: fail the deliveries of endpoints gone", "err", err)
			} else if n > 0 {
				d.Logger.Warn("webhook deliveries failed: their endpoint was disabled or deleted", "count", n)
			}
		}
		select {
		case <-ctx.Done():
			d.wg.Wait()
			return
		case <-refresh.C:
		case <-d.kick:
		}
	}
}

// wakeAfter wakes the loops of the endpoints hooks were queued for.
func (d *Dispatcher) wakeAfter(hooks []*core.Delivery) {
	if len(hooks) == 0 {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, h := range hooks {
		if l, ok := d.loops[h.To.Address]; ok {
			select {
			case l.kick <- struct{}{}:
			default:
			}
		}
	}
}

// Wake makes every loop look for due deliveries now (tests that move the
// clock use it).
func (d *Dispatcher) Wake() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, l := range d.loops {
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
}

// loop delivers one endpoint's deliveries until ctx ends.
func (d *Dispatcher) loop(ctx context.Context, l *loop) {
	poll := time.NewTimer(0)
	defer poll.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.kick:
		case <-poll.C:
		}
		for ctx.Err() == nil && d.pass(ctx, l) {
		}
		poll.Reset(d.Poll)
	}
}

// hold is a claim on a batch of one endpoint's deliveries.
type hold struct {
	d         *Dispatcher
	token     string
	mu        sync.RWMutex
	held      int // guarded by mu, written under its read lock by one goroutine only
	renewedAt time.Time
	lost      atomic.Bool
	done      chan struct{}
	wg        sync.WaitGroup
}

func (h *hold) renew(ctx context.Context) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.lost.Load() || h.held == 0 {
		return
	}
	now := h.d.Clock.Now()
	rctx, cancel := context.WithTimeout(ctx, renew)
	n, err := h.d.Store.RenewClaim(rctx, h.token, now.Add(lease))
	cancel()
	if err != nil || n < h.held {
		h.lost.Store(true)
		h.d.Logger.Error("webhook claim lost: none of its other deliveries will be sent", "held", h.held, "renewed", n, "err", err)
		return
	}
	h.renewedAt = now
}

// live reports whether the next delivery of the batch may be sent,
// renewing the lease first when the clock says it is due.
func (h *hold) live(ctx context.Context) bool {
	h.mu.RLock()
	due := !h.d.Clock.Now().Before(h.renewedAt.Add(renew))
	h.mu.RUnlock()
	if due {
		h.renew(ctx)
	}
	return !h.lost.Load()
}

// save saves dl's outcome under the claim; false when it is lost.
func (h *hold) save(ctx context.Context, dl *core.Delivery) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	err := h.d.Store.UpdateDelivery(ctx, dl)
	if err == nil {
		h.held--
		return true
	}
	h.lost.Store(true)
	if !errors.Is(err, core.ErrDeliveryFinal) {
		h.d.Logger.Error("save webhook delivery", "delivery_id", dl.ID, "status", dl.Status, "err", err)
	}
	return false
}

// pass claims a batch of l's deliveries and sends them in order. It
// reports whether to claim again at once: the batch was full and all of
// it went.
func (d *Dispatcher) pass(stop context.Context, l *loop) bool {
	ep := l.ep.Load()
	ctx := context.WithoutCancel(stop)
	now := d.Clock.Now()
	list, err := d.Store.ClaimWebhookDeliveries(ctx, ep.ID, now, batch, lease)
	if err != nil {
		d.Logger.Error("claim webhook deliveries", "webhook_id", ep.ID, "err", err)
		return false
	}
	if len(list) == 0 {
		return false
	}
	h := &hold{d: d, token: list[0].ClaimToken, held: len(list), renewedAt: now, done: make(chan struct{})}
	h.wg.Go(func() {
		t := time.NewTicker(renew)
		defer t.Stop()
		for {
			select {
			case <-h.done:
				return
			case <-t.C:
				h.renew(ctx)
			}
		}
	})
	defer func() { close(h.done); h.wg.Wait() }()
	for i, dl := range list {
		if stop.Err() != nil || !h.live(ctx) {
			d.giveBack(ctx, h, list[i:])
			return false
		}
		queued, ok := d.attempt(ctx, h, l, dl)
		if !ok || !l.ep.Load().Enabled() {
			return false
		}
		if queued {
			d.giveBack(ctx, h, list[i+1:])
			return false
		}
	}
	return len(list) == batch
}

// giveBack releases deliveries of the claim that were not tried, without
// counting an attempt.
func (d *Dispatcher) giveBack(ctx context.Context, h *hold, list []*core.Delivery) {
	if h.lost.Load() {
		return // the lease runs out by itself
	}
	now := d.Clock.Now()
	for _, dl := range list {
		dl.Attempts--
		dl.NextAttemptAt = now
		if !h.save(ctx, dl) {
			return
		}
	}
}

// attempt sends dl once and saves the outcome. It reports whether dl
// stays queued for a later attempt, and false when the claim was lost.
func (d *Dispatcher) attempt(ctx context.Context, h *hold, l *loop, dl *core.Delivery) (queued, ok bool) {
	ep := l.ep.Load()
	log := d.Logger.With("webhook_id", ep.ID, "delivery_id", dl.ID)
	start := d.Clock.Now()
	a := &Attempt{DeliveryID: dl.ID, EndpointID: ep.ID, N: dl.Attempts, At: start}
	var res Result
	hd, err := readHead(dl.Notice.Body)
	if err != nil || hd.ID == "" {
		res = Result{Err: fmt.Errorf("the payload cannot be read"), Permanent: true}
	} else {
		sctx, cancel := context.WithTimeout(ctx, d.Timeout)
		t0 := time.Now()
		res = d.Sender.Send(sctx, ep, &Request{Delivery: DeliveryKey(hd.ID, ep.ID), Event: hd.Type, Body: []byte(dl.Notice.Body)})
		a.Duration = time.Since(t0)
		cancel()
	}
	now := d.Clock.Now()
	a.Status = res.Status
	var wait time.Duration
	switch {
	case res.Err == nil && res.Status >= 200 && res.Status < 300:
		a.Outcome = OutcomeDelivered
	case res.Err != nil && res.Permanent:
		a.Outcome, a.Error = OutcomeFailed, res.Err.Error()
	case res.Err != nil:
		a.Outcome, a.Error = OutcomeRetry, res.Err.Error()
	case res.Status == 429 || res.Status >= 500 || res.Status == 408:
		a.Outcome, a.Error = OutcomeRetry, fmt.Sprintf("the endpoint answered %d", res.Status)
	default:
		a.Outcome, a.Error = OutcomeFailed, fmt.Sprintf("the endpoint answered %d", res.Status)
	}
	if a.Outcome == OutcomeRetry {
		wait = res.RetryAfter
		if wait <= 0 || (res.Status != 429 && res.Status != 503) {
			wait = backoff(dl.Attempts)
		}
		wait = min(wait, backoffMax)
		if dl.Attempts >= maxAttempts {
			a.Outcome, a.Error = OutcomeFailed, fmt.Sprintf("gave up after %d attempts: %s", dl.Attempts, a.Error)
		}
	}
	a.Error = clip(a.Error)
	disabled, err := d.Store.RecordWebhookAttempt(ctx, a, d.DisableAfter)
	if err != nil {
		log.Error("record webhook attempt", "err", err)
	}
	dl.UpdatedAt = now
	switch {
	case a.Outcome == OutcomeDelivered:
		dl.Status, dl.Reason, dl.ExternalID = core.DeliveryDelivered, "", fmt.Sprint(res.Status)
	case disabled:
		dl.Status, dl.Reason = core.DeliveryFailed, "the endpoint was disabled: "+a.Error
	case a.Outcome == OutcomeFailed:
		dl.Status, dl.Reason = core.DeliveryFailed, a.Error
		log.Warn("webhook delivery failed", "attempts", dl.Attempts, "status", res.Status, "reason", a.Error)
	default:
		dl.Reason, dl.NextAttemptAt = a.Error, now.Add(wait)
		log.Warn("webhook delivery will be retried", "attempt", dl.Attempts, "wait", wait, "status", res.Status, "reason", a.Error)
	}
	ok = h.save(ctx, dl)
	if disabled {
		off := *ep
		off.DisabledAt = now
		l.ep.Store(&off) // the rest of the batch is not sent
		d.disabled(ctx, ep, a)
	}
	return dl.Status == core.DeliveryQueued, ok
}

// disabled follows an endpoint that the last attempt disabled: its
// queued deliveries fail, its loop stops, and the desk is told.
func (d *Dispatcher) disabled(ctx context.Context, ep *Endpoint, a *Attempt) {
	d.Logger.Error("webhook endpoint disabled: it has not succeeded for a long time", "webhook_id", ep.ID,
		"failing_for", d.DisableAfter, "last_error", a.Error)
	if _, err := d.Store.FailWebhookDeliveries(ctx, d.Clock.Now()); err != nil {
		d.Logger.Error("webhooks: fail the deliveries of a disabled endpoint", "webhook_id", ep.ID, "err", err)
	}
	if cur, err := d.Store.FindWebhook(ctx, ep.ID); err == nil && d.Notify != nil {
		cur.Secret = ""
		d.Notify(ctx, cur)
	}
	select {
	case d.kick <- struct{}{}: // Run reloads the endpoints, which stops this loop
	default:
	}
}

// clip bounds an error kept with an attempt.
func clip(s string) string {
	if r := []rune(s); len(r) > maxReasonLength {
		return string(r[:maxReasonLength]) + "…"
	}
	return s
}

// backoff returns the wait after the attempts-th failure: exponential from
// backoffBase, capped at backoffMax, less up to 20% jitter.
func backoff(attempts int) time.Duration {
	w := backoffBase
	for i := 1; i < attempts && w < backoffMax; i++ {
		w *= 2
	}
	w = min(w, backoffMax)
	return w - time.Duration(rand.Int64N(int64(w)/5+1))
}
