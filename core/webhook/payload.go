package webhook

import (
	"encoding/json"
	"time"

	"github.com/assistbot/assistbot/core"
)

// Version is the payload's version: fields may be added under it, none
// removed or changed.
const Version = 1

// Event types. A session event's type is "session." and the past tense of
// its action (SessionType).
const (
	TypeConversationOpened = "conversation.opened"
	TypeConversationClosed = "conversation.closed"
	// TypeMessageReceived is a customer's message, relayed to the desk.
	TypeMessageReceived = "message.received"
	// TypeMessageSent is an agent's reply, relayed to the customer.
	TypeMessageSent = "message.sent"
)

// sessionTypes names the session events by their action.
var sessionTypes = map[core.Action]string{
	core.ActionIssue:        "session.issued",
	core.ActionRegenerate:   "session.regenerated",
	core.ActionSend:         "session.sent",
	core.ActionJoin:         "session.joined",
	core.ActionStart:        "session.started",
	core.ActionEnd:          "session.ended",
	core.ActionClose:        "session.closed",
	core.ActionExpire:       "session.expired",
	core.ActionShareStart:   "session.share_started",
	core.ActionShareStop:    "session.share_stopped",
	core.ActionShareDecline: "session.share_declined",
	core.ActionDevice:       "session.device_changed",
	core.ActionWatch:        "session.taken_over",
	core.ActionEscalate:     "session.escalated",
	core.ActionRemind:       "session.link_unopened",
	core.ActionHandoff:      "session.handed_over",
}

// SessionType returns the event type of a session action.
func SessionType(a core.Action) string {
	if t, ok := sessionTypes[a]; ok {
		return t
	}
	return "session." + string(a)
}

// Types lists every event type, for validating an endpoint's Events.
func Types() []string {
	out := []string{TypeConversationOpened, TypeConversationClosed, TypeMessageReceived, TypeMessageSent}
	for _, a := range append(append([]core.Action{}, core.Actions...), core.ActionShareStart, core.ActionShareStop,
		core.ActionShareDecline, core.ActionDevice, core.ActionWatch, core.ActionEscalate, core.ActionRemind, core.ActionHandoff) {
		out = append(out, SessionType(a))
	}
	return out
}

// Payload is the JSON body of every webhook request (docs/webhooks.md).
// It carries no PIN and no link, and a customer's address only masked.
type Payload struct {
	// ID is the event's, the same for every endpoint that gets it.
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	Data      Data      `json:"data"`
}

// Data is what an event is about.
type Data struct {
	Session      *Session      `json:"session,omitempty"`
	Conversation *Conversation `json:"conversation,omitempty"`
	Message      *Message      `json:"message,omitempty"`
	// Actor is who did it: "agent:alice", "customer", "system".
	Actor string `json:"actor,omitempty"`
	// Detail is the session log's note ("new pin", "customer sms:…0123").
	Detail string `json:"detail,omitempty"`
}

// Session is a session as a payload shows it.
type Session struct {
	ID            string     `json:"id"`
	State         string     `json:"state"`
	PreviousState string     `json:"previous_state,omitempty"`
	Provider      string     `json:"provider"`
	Device        string     `json:"device,omitempty"`
	Mode          string     `json:"mode,omitempty"`
	Agent         string     `json:"agent,omitempty"`
	Technician    string     `json:"technician,omitempty"`
	Origin        string     `json:"origin,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	PINExpiresAt  *time.Time `json:"pin_expires_at,omitempty"`
}

// Conversation is a conversation as a payload shows it.
type Conversation struct {
	ID       string   `json:"id"`
	State    string   `json:"state"`
	Customer Customer `json:"customer"`
	// DeskChannel is where agents follow it: slack, discord or console.
	DeskChannel string    `json:"desk_channel,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

// Customer names a conversation's customer: the address is masked as
// assistbot's logs mask it ("…0123").
type Customer struct {
	Channel string `json:"channel,omitempty"`
	Address string `json:"address,omitempty"`
	Name    string `json:"name,omitempty"`
}

// Message is a relayed message.
type Message struct {
	// Direction is "in" (from the customer) or "out" (from an agent).
	Direction string    `json:"direction"`
	Author    string    `json:"author,omitempty"`
	Text      string    `json:"text"`
	At        time.Time `json:"at"`
}

func sessionData(s *core.Session, from core.State) *Session {
	out := &Session{ID: s.ID, State: string(s.State), PreviousState: string(from), Provider: s.Provider,
		Device: string(s.Device), Mode: string(s.Mode), Agent: s.Agent, Technician: s.Technician,
		Origin: s.Origin, CreatedAt: s.CreatedAt}
	if s.State.PINLive() && !s.PINExpiresAt.IsZero() {
		t := s.PINExpiresAt
		out.PINExpiresAt = &t
	}
	return out
}

func conversationData(c *core.Conversation) *Conversation {
	if c == nil {
		return nil
	}
	out := &Conversation{ID: c.ID, State: string(c.State), DeskChannel: c.Desk.Channel, CreatedAt: c.CreatedAt,
		Customer: Customer{Channel: c.Customer.Channel, Name: c.CustomerName}}
	if c.Customer.Address != "" {
		out.Customer.Address = core.Mask(c.Customer.Address)
	}
	return out
}

// sessionPayload is the payload of a session event ev; s is the session
// after the change, c its conversation.
func sessionPayload(s *core.Session, c *core.Conversation, ev core.Event) *Payload {
	sd := sessionData(s, ev.From)
	sd.State = string(ev.To) // an expiry recorded before the action
	return &Payload{ID: newEventID(), Type: SessionType(ev.Action), Version: Version, CreatedAt: ev.At,
		Data: Data{Session: sd, Conversation: conversationData(c), Actor: ev.Actor, Detail: ev.Detail}}
}

// conversationPayload is the payload of a conversation opened or closed.
func conversationPayload(t string, c *core.Conversation, at time.Time) *Payload {
	return &Payload{ID: newEventID(), Type: t, Version: Version, CreatedAt: at, Data: Data{Conversation: conversationData(c)}}
}

// messagePayload is the payload of a relayed message.
func messagePayload(m *core.Message, c *core.Conversation) *Payload {
	t := TypeMessageReceived
	if m.Direction == core.FromAgent {
		t = TypeMessageSent
	}
	return &Payload{ID: newEventID(), Type: t, Version: Version, CreatedAt: m.At, Data: Data{
		Conversation: conversationData(c),
		Message:      &Message{Direction: string(m.Direction), Author: m.Author, Text: m.Text, At: m.At},
	}}
}

// newEventID returns a random event id.
func newEventID() string { return "evt_" + core.NewID() }

// DeliveryKey is the Assistbot-Delivery header of the delivery of event
// eventID to endpoint: the same on every attempt, so that a receiver can
// drop a repeat.
func DeliveryKey(eventID, endpoint string) string { return eventID + "." + endpoint }

// head is what a sender reads back from a frozen body.
type head struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// readHead returns the id and type of a payload.
func readHead(body string) (head, error) {
	var h head
	err := json.Unmarshal([]byte(body), &h)
	return h, err
}
