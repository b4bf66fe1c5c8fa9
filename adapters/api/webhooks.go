package api

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/assistbot/assistbot/adapters/web"
	"github.com/assistbot/assistbot/core"
	hooks "github.com/assistbot/assistbot/core/webhook"
)

// Webhooks is what the API needs to manage webhook endpoints
// (docs/webhooks.md). Without it, the routes answer 503.
type Webhooks struct {
	// Store keeps the endpoints, their deliveries and attempts.
	Store hooks.Store
	// Reload tells this replica's dispatcher that the endpoints changed.
	Reload func(ctx context.Context) error
	// AllowPrivate lets a URL point at loopback, link-local and private
	// addresses (webhooks_allow_private).
	AllowPrivate bool
	// Resolver resolves a URL's host when an endpoint is created or its
	// URL changed; default net.DefaultResolver.
	Resolver *net.Resolver
	// Clock dates the changes; default core.SystemClock.
	Clock core.Clock
}

// webhookQuery lists the query parameters of the deliveries' listing.
var webhookQuery = []string{"limit", "before"}

func init() {
	routes = append(routes,
		route{method: http.MethodPost, path: "/api/v1/webhooks", handle: (*API).handleWebhookCreate, body: webhookRequest{}},
		route{method: http.MethodGet, path: "/api/v1/webhooks", handle: (*API).handleWebhookList},
		route{method: http.MethodGet, path: "/api/v1/webhooks/{id}", handle: (*API).handleWebhookGet},
		route{method: http.MethodPatch, path: "/api/v1/webhooks/{id}", handle: (*API).handleWebhookUpdate, body: webhookRequest{}},
		route{method: http.MethodDelete, path: "/api/v1/webhooks/{id}", handle: (*API).handleWebhookDelete},
		route{method: http.MethodGet, path: "/api/v1/webhooks/{id}/deliveries", handle: (*API).handleWebhookDeliveries, query: webhookQuery},
	)
}

// webhookRequest creates an endpoint, or changes the fields it sets.
type webhookRequest struct {
	URL         *string   `json:"url,omitempty"`
	Secret      *string   `json:"secret,omitempty"`
	Events      *[]string `json:"events,omitempty"`
	Description *string   `json:"description,omitempty"`
	// Enabled true re-enables a disabled endpoint; false disables it.
	Enabled *bool `json:"enabled,omitempty"`
}

// webhookJSON is an endpoint as the API shows it: never its secret.
type webhookJSON struct {
	ID             string     `json:"id"`
	URL            string     `json:"url"`
	Events         []string   `json:"events"`
	Description    string     `json:"description"`
	Source         string     `json:"source"`
	Enabled        bool       `json:"enabled"`
	DisabledAt     *time.Time `json:"disabled_at,omitempty"`
	DisabledReason string     `json:"disabled_reason,omitempty"`
	FailingSince   *time.Time `json:"failing_since,omitempty"`
	LastSuccessAt  *time.Time `json:"last_success_at,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
}

type webhookListJSON struct {
	Webhooks []webhookJSON `json:"webhooks"`
}

// webhookDeliveryJSON is a delivery to an endpoint with its attempts.
type webhookDeliveryJSON struct {
	ID             int64      `json:"id"`
	EventID        string     `json:"event_id"`
	Event          string     `json:"event"`
	SessionID      string     `json:"session_id,omitempty"`
	ConversationID string     `json:"conversation_id,omitempty"`
	Status         string     `json:"status"`
	Attempts       int        `json:"attempts"`
	ResponseStatus int        `json:"response_status,omitempty"`
	Error          string     `json:"error,omitempty"`
	NextAttemptAt  *time.Time `json:"next_attempt_at,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	Tries          []tryJSON  `json:"tries"`
}

// tryJSON is one attempt.
type tryJSON struct {
	Attempt        int       `json:"attempt"`
	At             time.Time `json:"at"`
	DurationMS     float64   `json:"duration_ms"`
	ResponseStatus int       `json:"response_status,omitempty"`
	Error          string    `json:"error,omitempty"`
	Outcome        string    `json:"outcome"`
}

type webhookDeliveryListJSON struct {
	Deliveries []webhookDeliveryJSON `json:"deliveries"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func toWebhook(e *hooks.Endpoint) webhookJSON {
	out := webhookJSON{ID: e.ID, URL: e.URL, Events: e.Events, Description: e.Description, Source: e.Source,
		Enabled: e.Enabled(), DisabledAt: timePtr(e.DisabledAt), DisabledReason: e.DisabledReason,
		FailingSince: timePtr(e.FailingSince), LastSuccessAt: timePtr(e.LastSuccessAt),
		CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}
	if out.Events == nil {
		out.Events = []string{}
	}
	return out
}

// hooks returns the webhook settings, or the error that they are off.
func (a *API) hooks() (*Webhooks, error) {
	if a.webhooks == nil || a.webhooks.Store == nil {
		return nil, core.Errorf(core.CodeUnavailable, "webhooks are not available on this server")
	}
	return a.webhooks, nil
}

func (h *Webhooks) now() time.Time {
	if h.Clock == nil {
		return core.SystemClock{}.Now()
	}
	return h.Clock.Now()
}

// check refuses an endpoint's URL, secret or events, with a message that
// names the field and the reason.
func (h *Webhooks) check(ctx context.Context, e *hooks.Endpoint, urlChanged bool) error {
	u, err := hooks.CheckURL(e.URL, h.AllowPrivate)
	if err != nil {
		return core.Errorf(core.CodeInvalid, "url: %v", err)
	}
	if urlChanged && !h.AllowPrivate {
		if err := hooks.CheckHost(ctx, h.Resolver, u.Hostname()); err != nil {
			return core.Errorf(core.CodeInvalid, "url: %v", err)
		}
	}
	if e.Source == hooks.SourceAPI && hooks.CheckSecret(e.Secret) != nil {
		return core.Errorf(core.CodeInvalid, "secret: is required, at least %d characters (try `openssl rand -hex 32`)", hooks.MinSecret)
	}
	if err := hooks.CheckEvents(e.Events); err != nil {
		return core.Errorf(core.CodeInvalid, "events: %v", err)
	}
	return nil
}

// reload tells the dispatcher; a failure only delays this replica
// following the change until its next refresh.
func (a *API) reload(ctx context.Context, h *Webhooks) {
	if h.Reload == nil {
		return
	}
	if err := h.Reload(ctx); err != nil {
		a.log.Warn("webhooks: reload after a change", "err", err)
	}
}

func (a *API) handleWebhookCreate(w http.ResponseWriter, r *http.Request) error {
	h, err := a.hooks()
	if err != nil {
		return err
	}
	var req webhookRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	if req.Enabled != nil && !*req.Enabled {
		return core.Errorf(core.CodeInvalid, "enabled: a new endpoint is enabled; disable it with PATCH")
	}
	now := h.now()
	e := &hooks.Endpoint{ID: "wh_" + core.NewID(), Source: hooks.SourceAPI, CreatedAt: now, UpdatedAt: now}
	if req.URL == nil {
		return core.Errorf(core.CodeInvalid, "url: is required")
	}
	apply(e, &req)
	if err := h.check(r.Context(), e, true); err != nil {
		return err
	}
	if err := h.Store.CreateWebhook(r.Context(), e); err != nil {
		return err
	}
	a.reload(r.Context(), h)
	w.Header().Set("Location", "/api/v1/webhooks/"+url.PathEscape(e.ID))
	web.WriteJSON(w, http.StatusCreated, toWebhook(e))
	return nil
}

// apply sets the fields req carries on e.
func apply(e *hooks.Endpoint, req *webhookRequest) {
	if req.URL != nil {
		e.URL = *req.URL
	}
	if req.Secret != nil {
		e.Secret = *req.Secret
	}
	if req.Events != nil {
		e.Events = *req.Events
		if len(e.Events) == 0 {
			e.Events = nil
		}
	}
	if req.Description != nil {
		e.Description = *req.Description
	}
}

func (a *API) handleWebhookList(w http.ResponseWriter, r *http.Request) error {
	h, err := a.hooks()
	if err != nil {
		return err
	}
	list, err := h.Store.FindWebhooks(r.Context())
	if err != nil {
		return err
	}
	out := webhookListJSON{Webhooks: make([]webhookJSON, 0, len(list))}
	for _, e := range list {
		out.Webhooks = append(out.Webhooks, toWebhook(e))
	}
	web.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) handleWebhookGet(w http.ResponseWriter, r *http.Request) error {
	h, err := a.hooks()
	if err != nil {
		return err
	}
	e, err := h.Store.FindWebhook(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, toWebhook(e))
	return nil
}

func (a *API) handleWebhookUpdate(w http.ResponseWriter, r *http.Request) error {
	h, err := a.hooks()
	if err != nil {
		return err
	}
	var req webhookRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	for try := 0; try < 5; try++ {
		e, err := h.Store.FindWebhook(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		if e.Source == hooks.SourceConfig && (req.URL != nil || req.Secret != nil || req.Events != nil || req.Description != nil) {
			return core.Errorf(core.CodeInvalid, "this endpoint is configured in the file (webhooks): change it there; only enabled can be set here")
		}
		urlChanged := req.URL != nil && *req.URL != e.URL
		apply(e, &req)
		now := h.now()
		if req.Enabled != nil {
			switch {
			case *req.Enabled && !e.Enabled():
				// A fresh start: the 24 hours of failures count again.
				e.DisabledAt, e.DisabledReason, e.FailingSince = time.Time{}, "", time.Time{}
			case !*req.Enabled && e.Enabled():
				e.DisabledAt, e.DisabledReason = now, "disabled through the API"
			}
		}
		if err := h.check(r.Context(), e, urlChanged); err != nil {
			return err
		}
		e.UpdatedAt = now
		err = h.Store.UpdateWebhook(r.Context(), e)
		if core.ErrorCode(err) == core.CodeConflict || err == core.ErrVersion {
			continue
		}
		if err != nil {
			return err
		}
		a.reload(r.Context(), h)
		web.WriteJSON(w, http.StatusOK, toWebhook(e))
		return nil
	}
	return core.Errorf(core.CodeConflict, "the endpoint is changing too often; try again")
}

func (a *API) handleWebhookDelete(w http.ResponseWriter, r *http.Request) error {
	h, err := a.hooks()
	if err != nil {
		return err
	}
	e, err := h.Store.FindWebhook(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if e.Source == hooks.SourceConfig {
		return core.Errorf(core.CodeInvalid, "this endpoint is configured in the file (webhooks): remove it there")
	}
	if err := h.Store.DeleteWebhook(r.Context(), e.ID, h.now()); err != nil {
		return err
	}
	a.reload(r.Context(), h)
	web.WriteJSON(w, http.StatusOK, toWebhook(e))
	return nil
}

func (a *API) handleWebhookDeliveries(w http.ResponseWriter, r *http.Request) error {
	h, err := a.hooks()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	limit, before := 50, int64(0)
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 200 {
			return core.Errorf(core.CodeInvalid, "limit must be a whole number from 1 to 200")
		}
	}
	if v := q.Get("before"); v != "" {
		if before, err = strconv.ParseInt(v, 10, 64); err != nil || before < 1 {
			return core.Errorf(core.CodeInvalid, "before must be a delivery id")
		}
	}
	e, err := h.Store.FindWebhook(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	ds, err := h.Store.FindWebhookDeliveries(r.Context(), e.ID, before, limit)
	if err != nil {
		return err
	}
	ids := make([]int64, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
	}
	tries, err := h.Store.FindWebhookAttempts(r.Context(), ids)
	if err != nil {
		return err
	}
	byDelivery := map[int64][]tryJSON{}
	for _, t := range tries {
		byDelivery[t.DeliveryID] = append(byDelivery[t.DeliveryID], tryJSON{Attempt: t.N, At: t.At,
			DurationMS: float64(t.Duration.Microseconds()) / 1000, ResponseStatus: t.Status, Error: t.Error, Outcome: t.Outcome})
	}
	out := webhookDeliveryListJSON{Deliveries: make([]webhookDeliveryJSON, 0, len(ds))}
	for _, d := range ds {
		var head struct{ ID, Type string }
		_ = json.Unmarshal([]byte(d.Notice.Body), &head)
		dj := webhookDeliveryJSON{ID: d.ID, EventID: head.ID, Event: head.Type, SessionID: d.SessionID,
			ConversationID: d.ConversationID, Status: string(d.Status), Attempts: d.Attempts, Error: d.Reason,
			CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt, Tries: byDelivery[d.ID]}
		if dj.Tries == nil {
			dj.Tries = []tryJSON{}
		}
		if n := len(dj.Tries); n > 0 {
			dj.ResponseStatus = dj.Tries[n-1].ResponseStatus
		}
		if d.Status == core.DeliveryQueued {
			dj.NextAttemptAt = timePtr(d.NextAttemptAt)
		}
		out.Deliveries = append(out.Deliveries, dj)
	}
	web.WriteJSON(w, http.StatusOK, out)
	return nil
}
