package core

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxMessageRunes bounds one relayed message. SMS splits long texts into
// segments and chat platforms cap messages near this size.
const MaxMessageRunes = 4000

// Inbound is a message a customer sent on some channel.
type Inbound struct {
	Customer Endpoint
	// Name is the customer's display name, when the platform knows it.
	Name string
	Text string
	// Source is the platform's id for the message, for deduplication.
	Source string
	// Locale is the customer's language as detected, used when the
	// message opens a conversation.
	Locale string
	// Desk is where a conversation this message opens is followed.
	Desk Endpoint
}

// CustomerMessage records a customer's message in their open conversation,
// opening one when there is none, and relays it to the conversation's
// desk. A message whose Source was recorded before returns ErrDuplicate
// and changes nothing; the conversation comes with it when it is the
// customer's open one.
func (e *Engine) CustomerMessage(ctx context.Context, in Inbound) (*Conversation, *Message, error) {
	text, err := messageText(in.Text)
	if err != nil {
		return nil, nil, err
	}
	customer, err := e.normalize(in.Customer)
	if err != nil {
		return nil, nil, err
	}
	if customer.IsZero() {
		return nil, nil, Errorf(CodeInvalid, "a customer message needs the customer's endpoint")
	}
	for try := 0; try < maxTries; try++ {
		now := e.clock.Now()
		conv, err := e.store.FindOpenConversation(ctx, customer)
		isNew := ErrorCode(err) == CodeNotFound
		switch {
		case isNew:
			conv = &Conversation{
				ID: NewID(), Customer: customer, CustomerName: strings.TrimSpace(in.Name), Desk: in.Desk,
				Locale: cmp.Or(in.Locale, e.locale), State: ConversationOpen, CreatedAt: now, UpdatedAt: now,
			}
		case err != nil:
			return nil, nil, fmt.Errorf("customer message: %w", err)
		}
		m := &Message{ConversationID: conv.ID, Direction: FromCustomer, Author: cmp.Or(conv.CustomerName, in.Name), Text: text, At: now, Source: in.Source}
		// An open conversation closed meanwhile takes no more messages:
		// the loop then opens a new one.
		ch := &MessageChange{Message: m, Open: !isNew}
		if isNew {
			ch.Conversation = conv
		}
		if !conv.Desk.IsZero() {
			ch.Deliveries = []*Delivery{newDelivery(conv, conv.Desk, Notice{Kind: NoticeText, Author: m.Author, Text: text}, now)}
		}
		err = e.store.AppendMessage(ctx, ch)
		if errors.Is(err, ErrOpenConversation) || errors.Is(err, ErrConversationClosed) {
			continue // another message opened it first, or it closed: look again
		}
		if errors.Is(err, ErrDuplicate) && !isNew {
			// Recorded already, in this conversation: a retry, whose
			// sender may not have heard which conversation it is.
			return conv, nil, err
		}
		if err != nil {
			return nil, nil, err
		}
		conv.UpdatedAt = now
		e.publishMessage(conv, m, len(ch.Deliveries) > 0)
		return conv, m, nil
	}
	return nil, nil, Errorf(CodeConflict, "the conversation is changing too often; try again")
}

// AgentMessage records an agent's reply in a conversation and relays it
// to the customer. It refuses when the conversation is closed, has no
// customer, or the customer's channel cannot take it (not enabled, opted
// out).
func (e *Engine) AgentMessage(ctx context.Context, conversationID string, agent Actor, text, source string) (*Message, *Delivery, error) {
	text, err := messageText(text)
	if err != nil {
		return nil, nil, err
	}
	conv, err := e.store.FindConversation(ctx, conversationID)
	if err != nil {
		return nil, nil, err
	}
	if conv.State != ConversationOpen {
		return nil, nil, Errorf(CodeInvalid, "the conversation is closed")
	}
	if err := e.reachable(ctx, conv.Customer); err != nil {
		return nil, nil, err
	}
	if err := e.fits(conv.Customer, text); err != nil {
		return nil, nil, err
	}
	now := e.clock.Now()
	m := &Message{ConversationID: conv.ID, Direction: FromAgent, Author: agent.Name, Text: text, At: now, Source: source}
	d := newDelivery(conv, conv.Customer, Notice{Kind: NoticeText, Author: agent.Name, Text: text}, now)
	ch := &MessageChange{Message: m, Deliveries: []*Delivery{d}, Open: true}
	if err := e.store.AppendMessage(ctx, ch); errors.Is(err, ErrConversationClosed) {
		return nil, nil, Errorf(CodeInvalid, "the conversation is closed")
	} else if err != nil {
		return nil, nil, err
	}
	conv.UpdatedAt = now
	e.publishMessage(conv, m, true)
	return m, d, nil
}

// reachable checks that a notice can be queued for a customer endpoint.
func (e *Engine) reachable(ctx context.Context, to Endpoint) error {
	if to.IsZero() {
		return ErrNoCustomer
	}
	out, ok := e.channels.find(to.Channel)
	if !ok {
		return Errorf(CodeUnavailable, "%s delivery is not enabled", to.Channel)
	}
	if chk, ok := out.(EndpointChecker); ok {
		return chk.Check(ctx, to)
	}
	return nil
}

// fits refuses text longer than the channel of to takes.
func (e *Engine) fits(to Endpoint, text string) error {
	out, ok := e.channels.find(to.Channel)
	if !ok {
		return nil
	}
	if l, ok := out.(TextLimiter); ok {
		if n := utf8.RuneCountInString(text); n > l.TextLimit() {
			return Errorf(CodeInvalid, "a message by %s takes at most %d characters; this one has %d: send it in parts", to.Channel, l.TextLimit(), n)
		}
	}
	return nil
}

// CloseConversation ends a conversation: the customer's next message
// opens a new one. Sessions of the conversation are left as they are.
func (e *Engine) CloseConversation(ctx context.Context, id string, actor Actor) (*Conversation, error) {
	for try := 0; try < maxTries; try++ {
		c, err := e.store.FindConversation(ctx, id)
		if err != nil {
			return nil, err
		}
		if c.State == ConversationClosed {
			return c, nil
		}
		c.State, c.UpdatedAt = ConversationClosed, e.clock.Now()
		err = e.store.UpdateConversation(ctx, c)
		if errors.Is(err, ErrVersion) {
			continue
		}
		if err != nil {
			return nil, err
		}
		// A conversation has no event log of its own: who closed it is
		// told to the operator's log.
		e.log.Info("conversation closed", "conversation_id", c.ID, "actor", actor.String())
		e.emit(Update{Conversation: c, Closer: actor.Name})
		return c, nil
	}
	return nil, Errorf(CodeConflict, "the conversation is changing too often; try again")
}

// Conversations returns the conversations matching f, most recently
// active first.
func (e *Engine) Conversations(ctx context.Context, f ConversationFilter) ([]*Conversation, error) {
	return e.store.FindConversations(ctx, f)
}

// ConversationByThread returns the conversation followed in a desk
// thread, for a reply an agent wrote there.
func (e *Engine) ConversationByThread(ctx context.Context, desk Endpoint, thread string) (*Conversation, error) {
	return e.store.FindConversationByThread(ctx, desk, thread)
}

// Messages returns a conversation's transcript, oldest first.
func (e *Engine) Messages(ctx context.Context, f MessageFilter) ([]*Message, error) {
	return e.store.FindMessages(ctx, f)
}

// SetOptOut records that an endpoint asked to receive nothing more (or
// asked again to receive messages).
func (e *Engine) SetOptOut(ctx context.Context, ep Endpoint, optedOut bool) error {
	return e.store.SetOptOut(ctx, ep, optedOut, e.clock.Now())
}

// OptedOut reports whether an endpoint asked to receive nothing more.
func (e *Engine) OptedOut(ctx context.Context, ep Endpoint) (bool, error) {
	return e.store.OptedOut(ctx, ep)
}

// messageText trims a message and checks its size.
func messageText(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", Errorf(CodeInvalid, "the message is empty")
	case !utf8.ValidString(s):
		return "", Errorf(CodeInvalid, "the message is not valid UTF-8")
	case strings.IndexFunc(s, forbidden) >= 0:
		return "", Errorf(CodeInvalid, "the message contains control characters")
	case utf8.RuneCountInString(s) > MaxMessageRunes:
		return "", Errorf(CodeInvalid, "the message is longer than %d characters", MaxMessageRunes)
	}
	return s, nil
}

// forbidden reports the control characters no message may carry (NUL
// and the like; databases disagree on them and no platform shows them).
// Line breaks and tabs are text.
func forbidden(r rune) bool {
	return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t'
}

// newDelivery returns a queued delivery of n about conversation c.
func newDelivery(c *Conversation, to Endpoint, n Notice, now time.Time) *Delivery {
	n.ConversationID = c.ID
	n.CustomerChannel = c.Customer.Channel
	n.Customer = CustomerLabel(c)
	if n.Locale == "" {
		n.Locale = c.Locale
	}
	return &Delivery{
		SessionID:      n.SessionID,
		ConversationID: c.ID,
		To:             to,
		Notice:         n,
		Status:         DeliveryQueued,
		NextAttemptAt:  now,
		CreatedAt:      now,
		UpdatedAt:      now,
	}
}

// CustomerLabel names a conversation's customer for agents without
// revealing a full address: the display name, else the masked address.
func CustomerLabel(c *Conversation) string {
	if c.CustomerName != "" {
		return c.CustomerName
	}
	if c.Customer.IsZero() {
		return ""
	}
	return Mask(c.Customer.Address)
}
