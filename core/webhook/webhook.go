// Package webhook sends assistbot's session and conversation events to
// the HTTP endpoints an operator configured or created through the API,
// as signed JSON (docs/webhooks.md).
//
// Each event becomes one outbox delivery per endpoint that wants it,
// written in the same transaction as the change that caused it: Recorder
// wraps the engine's store to add them. The engine's own outbox worker
// never claims them (core.OutboxStore.ClaimDeliveries leaves the channel
// "webhook" alone); a Dispatcher runs one loop per endpoint instead,
// which claims that endpoint's deliveries in order under a lease it
// renews, so that an endpoint that hangs delays nothing but itself.
//
// The package is the domain side of webhooks and imports only the
// standard library and core; the HTTP client is adapters/webhook.
package webhook

import (
	"context"
	"path"
	"slices"
	"time"

	"github.com/assistbot/assistbot/core"
)

// Sources of an endpoint.
const (
	// SourceConfig endpoints are listed in the configuration file; the
	// API shows them and can re-enable them, nothing more.
	SourceConfig = "config"
	// SourceAPI endpoints are created, changed and deleted through the API.
	SourceAPI = "api"
)

// Endpoint is a receiver of webhook events.
type Endpoint struct {
	ID  string
	URL string
	// Secret signs every request. It is never logged, and the API never
	// shows it. A configured endpoint's stays in the configuration: the
	// store keeps it empty.
	Secret string
	// Events lists the event types the endpoint receives, or patterns
	// such as "session.*"; empty means every event.
	Events      []string
	Description string
	Source      string
	// DisabledAt is when the endpoint was disabled (zero while enabled),
	// and DisabledReason why.
	DisabledAt     time.Time
	DisabledReason string
	// FailingSince is the first failed attempt since the last success
	// (zero when the last attempt succeeded, or none was made).
	FailingSince  time.Time
	LastSuccessAt time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
	Version       int
}

// Enabled reports whether the endpoint receives events.
func (e *Endpoint) Enabled() bool { return e.DisabledAt.IsZero() }

// Wants reports whether the endpoint receives events of type t.
func (e *Endpoint) Wants(t string) bool {
	if len(e.Events) == 0 {
		return true
	}
	return slices.ContainsFunc(e.Events, func(p string) bool {
		ok, _ := path.Match(p, t)
		return ok || p == "*"
	})
}

// Attempt is one try at delivering to an endpoint, as the API shows it.
type Attempt struct {
	ID         int64
	DeliveryID int64
	EndpointID string
	// N is the delivery's attempt number, from 1.
	N        int
	At       time.Time
	Duration time.Duration
	// Status is the HTTP status the endpoint answered, 0 when it did not
	// (a timeout, a refused connection).
	Status int
	// Error says what went wrong, "" for a success.
	Error string
	// Outcome is OutcomeDelivered, OutcomeRetry or OutcomeFailed.
	Outcome string
}

// Attempt outcomes.
const (
	OutcomeDelivered = "delivered"
	OutcomeRetry     = "retry"
	OutcomeFailed    = "failed"
)

// OK reports whether the attempt succeeded.
func (a *Attempt) OK() bool { return a.Outcome == OutcomeDelivered }

// Store keeps the webhook endpoints and their attempts, beside the outbox
// that holds their deliveries. Both assistbot stores implement it.
type Store interface {
	core.OutboxStore

	// CreateWebhook inserts e with Version 1; CodeConflict when its id is
	// taken.
	CreateWebhook(ctx context.Context, e *Endpoint) error
	// UpdateWebhook saves e if its Version is the stored one (else
	// core.ErrVersion) and bumps it.
	UpdateWebhook(ctx context.Context, e *Endpoint) error
	// DeleteWebhook deletes the endpoint with id and its attempts, and in
	// the same transaction fails its queued deliveries at now.
	DeleteWebhook(ctx context.Context, id string, now time.Time) error
	// FindWebhook returns the endpoint with id.
	FindWebhook(ctx context.Context, id string) (*Endpoint, error)
	// FindWebhooks returns every endpoint, in id order.
	FindWebhooks(ctx context.Context) ([]*Endpoint, error)

	// UpdateConversationQueue is core.ConversationStore's
	// UpdateConversation that also queues ds in the same transaction.
	UpdateConversationQueue(ctx context.Context, c *core.Conversation, ds []*core.Delivery) error

	// ClaimWebhookDeliveries claims, like core.OutboxStore's
	// ClaimDeliveries, up to limit of the queued deliveries to the webhook
	// endpoint id: its earliest ones, in id order, stopping at the first
	// that is not due or is held, so that they go out in the order they
	// were queued. Two claims whose leases overlap never share a delivery.
	ClaimWebhookDeliveries(ctx context.Context, id string, now time.Time, limit int, lease time.Duration) ([]*core.Delivery, error)
	// RecordWebhookAttempt saves a (its ID from the store) and, in the
	// same transaction, its endpoint's health: a success sets
	// LastSuccessAt and clears FailingSince; a failure sets FailingSince
	// unless set, and when that is disableAfter or longer before a.At
	// (and disableAfter > 0), disables the endpoint. It reports whether
	// this attempt disabled it. An unknown endpoint is CodeNotFound.
	RecordWebhookAttempt(ctx context.Context, a *Attempt, disableAfter time.Duration) (disabled bool, err error)
	// FindWebhookDeliveries returns the deliveries to endpoint id, newest
	// first, at most limit (default 100, ceiling 1000), those with an id
	// below before when it is not 0.
	FindWebhookDeliveries(ctx context.Context, id string, before int64, limit int) ([]*core.Delivery, error)
	// FindWebhookAttempts returns the attempts at the deliveries with
	// the ids given, oldest first.
	FindWebhookAttempts(ctx context.Context, deliveryIDs []int64) ([]Attempt, error)
	// FailWebhookDeliveries fails, at now, the queued deliveries to
	// webhook endpoints that are disabled or no longer exist, and returns
	// how many.
	FailWebhookDeliveries(ctx context.Context, now time.Time) (int, error)
}

// Reason of the deliveries FailWebhookDeliveries and DeleteWebhook fail.
const ReasonGone = "not sent: the webhook endpoint was disabled or deleted"
