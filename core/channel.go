package core

import (
	"context"
	"time"
)

// Channel delivers notices to endpoints on one platform (Slack, Discord,
// SMS, web chat). Channels render a Notice in the recipient's language; core
// stays free of wording.
type Channel interface {
	// Name is the channel name endpoints use ("sms").
	Name() string
	// Deliver sends d.Notice to d.To. It returns CodeUnavailable (with a
	// Retry when the platform said how long) for failures worth retrying,
	// and CodeRateLimited (with a Retry) when it held the notice back
	// unsent to keep within a rate, which the outbox does not count as an
	// attempt; any other code fails the delivery at once with the error's
	// message as the reason the agent sees.
	Deliver(ctx context.Context, d *Delivery) (Receipt, error)
}

// Receipt is a channel's answer to a successful Deliver.
type Receipt struct {
	// ExternalID is the platform's id for the message (a Twilio SID, a
	// Slack ts), so later status reports can find the delivery and later
	// notices can replace the message.
	ExternalID string
	// Thread, when the channel started a thread for the conversation with
	// this delivery, is that thread; the outbox records it as the
	// conversation's DeskThread.
	Thread string
	// Status is DeliverySent, or DeliveryDelivered when the platform
	// confirms receipt synchronously.
	Status DeliveryStatus
}

// NoticeKind says what a notice is about.
type NoticeKind string

// The notice kinds.
const (
	// NoticeLink carries a session's link and PIN to the customer.
	NoticeLink NoticeKind = "link"
	// NoticeSession tells the agents' desk that a session changed
	// (customer waiting, started, ended, expired).
	NoticeSession NoticeKind = "session"
	// NoticeText relays a line of conversation, to the desk or to the
	// customer.
	NoticeText NoticeKind = "text"
	// NoticeWebhook carries an event to a webhook endpoint, in Body.
	NoticeWebhook NoticeKind = "webhook"
)

// Notice is a platform-neutral message: what to say, not how to say it.
type Notice struct {
	Kind      NoticeKind `json:"kind"`
	Locale    string     `json:"locale,omitempty"`
	SessionID string     `json:"session_id,omitempty"`
	// Action is the session action a NoticeSession reports.
	Action    Action    `json:"action,omitempty"`
	State     State     `json:"state,omitempty"`
	LinkKind  LinkKind  `json:"link_kind,omitempty"`
	Link      string    `json:"link,omitempty"`
	PIN       string    `json:"pin,omitempty"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	Device    Device    `json:"device,omitempty"`
	Mode      Mode      `json:"mode,omitempty"`
	Actor     string    `json:"actor,omitempty"`
	// Origin is the session's Origin, on a link.
	Origin string `json:"origin,omitempty"`
	// ConversationID, Customer (a display name or masked address) and
	// CustomerChannel let a desk channel head a new thread.
	ConversationID  string `json:"conversation_id,omitempty"`
	Customer        string `json:"customer,omitempty"`
	CustomerChannel string `json:"customer_channel,omitempty"`
	Author          string `json:"author,omitempty"`
	Text            string `json:"text,omitempty"`
	// Body is a webhook's JSON payload, fixed when its event is recorded.
	Body string `json:"body,omitempty"`
	// Assignee is whom a NoticeHandoff names, "" for the queue.
	Assignee string `json:"assignee,omitempty"`
	// Level, Final and Waited describe a NoticeReminder: the escalation
	// threshold passed (0 for an unopened link), whether it was the
	// last, and how long the customer has waited.
	Level  int           `json:"level,omitempty"`
	Final  bool          `json:"final,omitempty"`
	Waited time.Duration `json:"waited,omitempty"`

	// Thread and Replace are filled in by the outbox just before delivery,
	// from what earlier deliveries recorded: the conversation's desk
	// thread, and the platform message of this session's previous desk
	// notice, which a channel that can edit messages updates in place.
	Thread  string `json:"thread,omitempty"`
	Replace string `json:"replace,omitempty"`
}

// DeliveryStatus is where a delivery stands.
type DeliveryStatus string

// The delivery statuses.
const (
	DeliveryQueued    DeliveryStatus = "queued"
	DeliverySent      DeliveryStatus = "sent"
	DeliveryDelivered DeliveryStatus = "delivered"
	DeliveryFailed    DeliveryStatus = "failed"
)

// Valid reports whether s is a known status.
func (s DeliveryStatus) Valid() bool {
	return s == DeliveryQueued || s == DeliverySent || s == DeliveryDelivered || s == DeliveryFailed
}

// Delivery is one entry of the outbox: a notice on its way to an endpoint.
// It is written in the same transaction as the change that caused it and
// then delivered, with retries, by the outbox worker.
type Delivery struct {
	ID             int64
	SessionID      string
	ConversationID string
	To             Endpoint
	Notice         Notice
	Status         DeliveryStatus
	// Reason says why a delivery failed ("number opted out"), or what the
	// last failed attempt said while it is still being retried.
	Reason        string
	Attempts      int
	NextAttemptAt time.Time
	ExternalID    string
	CreatedAt     time.Time
	UpdatedAt     time.Time
	// ClaimToken and ClaimUntil are an outbox worker's claim on a queued
	// delivery (see OutboxStore): the random token ClaimDeliveries gave
	// the batch the delivery went out in, and the end of the claim's
	// lease, which the worker renews while it works. Both are empty when
	// no worker holds the delivery; a store ignores them in a delivery
	// being queued.
	ClaimToken string
	ClaimUntil time.Time
}

// DeliveryFilter selects deliveries. Zero fields match everything.
type DeliveryFilter struct {
	SessionID      string
	ConversationID string
	Status         DeliveryStatus
	// Limit caps the result (the store applies a default of 100 when zero
	// and a ceiling of 1000).
	Limit int
}
