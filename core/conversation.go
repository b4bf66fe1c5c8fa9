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
	// thread, or the console. Alerts about its sessions go there.
	Desk      Endpoint
	Locale    string
	State     ConversationState
	CreatedAt time.Time
	UpdatedAt time.Time
	Version   int
}
