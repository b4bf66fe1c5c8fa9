package core

import "time"

// Channel names, used in endpoints and as the names of Channel
// implementations.
const (
	ChannelSMS     = "sms"
	ChannelSlack   = "slack"
	ChannelDiscord = "discord"
	ChannelWeb     = "web"
	ChannelConsole = "console"
	// ChannelWebhook deliveries go to a webhook endpoint (Address is its
	// id); ClaimDeliveries leaves them to their own claims, by endpoint.
	ChannelWebhook = "webhook"
)

// Endpoint is somewhere a message can go: a channel and an address on it
// (an E.164 number for sms, a user or channel id for slack and discord, a
// chat id for web). The zero Endpoint is "nowhere".
type Endpoint struct {
	Channel string
	Address string
}

// IsZero reports whether e is the zero Endpoint.
func (e Endpoint) IsZero() bool { return e.Channel == "" && e.Address == "" }

// String renders e for logs and event details with the address masked.
func (e Endpoint) String() string {
	if e.IsZero() {
		return "none"
	}
	return e.Channel + ":" + Mask(e.Address)
}

// Mask keeps only the last four characters of s, for logs: "…0123".
func Mask(s string) string {
	r := []rune(s)
	if len(r) <= 4 {
		return "…"
	}
	return "…" + string(r[len(r)-4:])
}

// ConversationState says whether a conversation is still going on.
type ConversationState string

// The conversation states.
const (
	ConversationOpen   ConversationState = "open"
	ConversationClosed ConversationState = "closed"
)

// Conversation is one customer talking to the support team. A customer has
// at most one open conversation per endpoint; remote-support sessions
// belong to a conversation.
type Conversation struct {
	ID           string
	Customer     Endpoint
	CustomerName string
	// Desk is where agents follow the conversation: a Slack or Discord
	// channel, or the console. Alerts about its sessions go there.
	Desk Endpoint
	// DeskThread is the platform thread under Desk that holds this
	// conversation (a Slack message ts, a Discord thread id). The desk
	// channel starts it with the first notice it delivers; the outbox
	// records it here and hands it to every later notice.
	DeskThread string
	Locale     string
	State      ConversationState
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Version    int
}

// ConversationFilter selects conversations. Zero fields match everything.
type ConversationFilter struct {
	State ConversationState
	// DeskChannel selects conversations followed on one desk ("console").
	DeskChannel string
	// Limit caps the result (default 100, ceiling 1000).
	Limit int
}

// Direction says who wrote a message of a conversation.
type Direction string

// The directions.
const (
	// FromCustomer is a message the customer wrote, relayed to the desk.
	FromCustomer Direction = "in"
	// FromAgent is a message an agent wrote, relayed to the customer.
	FromAgent Direction = "out"
)

// Message is one line of a conversation's transcript.
type Message struct {
	ID             int64
	ConversationID string
	Direction      Direction
	// Author is the agent's name, or the customer's display name.
	Author string
	Text   string
	At     time.Time
	// Source identifies the platform message this one came from (a Twilio
	// MessageSid, a Slack event id), so that a platform's retry is
	// recorded once. Empty for messages without one.
	Source string
}

// MessageFilter selects messages of one conversation.
type MessageFilter struct {
	ConversationID string
	// AfterID selects messages with a larger ID, for paging and for
	// following a conversation live.
	AfterID int64
	// Limit caps the result (default 100, ceiling 1000).
	Limit int
	// Newest selects the newest Limit messages rather than the oldest;
	// they are still returned oldest first.
	Newest bool
}

// MessageChange is what relaying one message writes, saved atomically.
type MessageChange struct {
	// Conversation, when not nil, is created with the message.
	Conversation *Conversation
	Message      *Message
	// Deliveries get their IDs from the store.
	Deliveries []*Delivery
	// Open saves the message into an existing conversation only while
	// it is open: if it was closed meanwhile, the store returns
	// ErrConversationClosed and writes nothing.
	Open bool
}
