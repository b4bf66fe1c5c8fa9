package core

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/assistbot/assistbot/core/internal/fanout"
)

// Defaults for Options.
const (
	DefaultPINTTL = 20 * time.Minute
	// maxTries bounds the retries on a PIN collision or a concurrent
	// change before an operation gives up with CodeConflict.
	maxTries = 8
)

// Options configure an Engine. Store and Provider are required.
type Options struct {
	Store    Store
	Provider Provider
	// Channels deliver the outbox; a customer endpoint on a channel not
	// listed here cannot be sent a link.
	Channels []Channel
	// Courier delivers the outbox through Channels while Run runs
	// (outbox.New()); without one, deliveries stay queued.
	Courier Courier
	// Policies find what is due for the desk about sessions left alone
	// (escalation.Policy); none by default.
	Policies []DuePolicy
	// Replicas, when several replicas share Store, carries each one's
	// updates to the others (replicas.New); nil for a store one process
	// owns.
	Replicas Replicas
	Clock    Clock         // default SystemClock
	PINTTL   time.Duration // default 20 minutes
	Locale   string        // the default locale of new conversations; default "en"
	Logger   *slog.Logger  // default discards
	// Addresses normalise and validate customer addresses per channel
	// (an E.164 number for sms). A channel absent here accepts any
	// non-empty address.
	Addresses map[string]func(string) (string, error)
	// Observe, when set, is called synchronously after every committed
	// change (for metrics); it must not block.
	Observe func(Update)
}

// Engine runs remote-support sessions: it issues PINs through the
// provider, applies the state machine, writes every change with its event
// and outbox entries to the store in one transaction, and publishes the
// result to the Hub.
type Engine struct {
	store     Store
	provider  Provider
	clock     Clock
	ttl       time.Duration
	locale    string
	log       *slog.Logger
	addresses map[string]func(string) (string, error)
	observe   func(Update)
	hub       *fanout.Hub[Update]
	channels  *channels
	policies  []DuePolicy
	courier   Courier
	// replicas carries updates to the other replicas, when the store is
	// shared by several.
	replicas Replicas
	// releasing counts the provider releases under way; stopped is
	// closed when Run ends, which stops their retries.
	releasing sync.WaitGroup
	stopped   chan struct{}
	stopOnce  sync.Once
}

// NewEngine returns an Engine for o.
func NewEngine(o Options) *Engine {
	e := &Engine{
		store:     o.Store,
		provider:  o.Provider,
		clock:     o.Clock,
		ttl:       o.PINTTL,
		locale:    o.Locale,
		log:       o.Logger,
		addresses: o.Addresses,
		observe:   o.Observe,
		hub:       fanout.New[Update](),
		stopped:   make(chan struct{}),
	}
	if e.clock == nil {
		e.clock = SystemClock{}
	}
	if e.ttl <= 0 {
		e.ttl = DefaultPINTTL
	}
	if e.locale == "" {
		e.locale = "en"
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	e.channels, e.courier, e.replicas = newChannels(o.Channels), o.Courier, o.Replicas
	e.policies = o.Policies
	return e
}

// AddChannel adds a channel the outbox delivers through, for a platform
// built after the engine (it needs the engine to take requests). The set
// of channels is fixed once Run starts: adding one then is refused with an
// error, and every reader sees one consistent set.
func (e *Engine) AddChannel(c Channel) error { return e.channels.add(c) }

// Subscribe follows the engine's updates with room for buf of them: a
// subscriber that falls behind is dropped (its channel is closed) and is
// expected to subscribe again and reload what it shows.
func (e *Engine) Subscribe(buf int) (<-chan Update, func()) { return e.hub.Subscribe(buf) }

// Delivers reports whether the engine has a channel called name, that is,
// whether customers on it can be sent links and replies at all.
func (e *Engine) Delivers(name string) bool {
	_, ok := e.channels.find(name)
	return ok
}

// Supports reports whether the provider lets a technician start a session
// in mode m.
func (e *Engine) Supports(m Mode) bool { return SupportsMode(e.provider, m) }

// Request asks for remote support for a customer.
type Request struct {
	// ConversationID names an existing open conversation. When empty, the
	// open conversation of Customer is used, or a new one is created.
	ConversationID string
	Customer       Endpoint
	CustomerName   string
	// Desk is where agents follow a new conversation.
	Desk   Endpoint
	Agent  string
	Locale string
	// Origin is the channel where the agent asked, kept with the session
	// (see Session.Origin).
	Origin string
}

// Issue starts remote support: it finds or creates the conversation,
// obtains a PIN and links from the provider and stores a new session in
// state issued. A PIN that collides with a live one is replaced. It
// returns the session and its conversation.
func (e *Engine) Issue(ctx context.Context, req Request) (*Session, *Conversation, error) {
	now := e.clock.Now()
	conv, isNew, err := e.conversation(ctx, req, now)
	if err != nil {
		return nil, nil, err
	}
	locale := cmp.Or(req.Locale, conv.Locale, e.locale)
	actor := Actor{Kind: ActorAgent, Name: req.Agent}
	id := NewID()
	for try := 0; try < maxTries; try++ {
		t, err := e.ticket(ctx, IssueRequest{SessionID: id, CustomerName: conv.CustomerName, Agent: req.Agent, Locale: locale})
		if err != nil {
			return nil, nil, err
		}
		s := &Session{
			ID:             id,
			ConversationID: conv.ID,
			Provider:       e.provider.Name(),
			State:          StateIssued,
			Device:         DeviceUnknown,
			Agent:          req.Agent,
			Locale:         locale,
			Origin:         req.Origin,
			CreatedAt:      now,
			UpdatedAt:      now,
		}
		e.setTicket(s, t, now)
		ch := &Change{
			Session: s,
			Events:  []Event{{SessionID: id, At: now, Actor: actor.String(), Action: ActionIssue, To: StateIssued, Detail: "customer " + conv.Customer.String()}},
		}
		if isNew {
			ch.Conversation = conv
		}
		err = e.store.CreateSession(ctx, ch)
		if err != nil {
			// The provider's PIN was not stored: it must not stay usable
			// at the provider either (a MeshCentral group would remain).
			e.revoke(ctx, s)
		}
		switch {
		case errors.Is(err, ErrPINInUse):
			continue
		case errors.Is(err, ErrOpenConversation):
			// Another request opened the customer's conversation first:
			// use that one.
			if conv, err = e.store.FindOpenConversation(ctx, conv.Customer); err != nil {
				return nil, nil, fmt.Errorf("issue: %w", err)
			}
			isNew = false
			continue
		case err != nil:
			return nil, nil, fmt.Errorf("issue: %w", err)
		}
		e.publish(ch)
		return s, conv, nil
	}
	return nil, nil, Errorf(CodeConflict, "could not find a free pin; try again")
}

// conversation resolves the conversation a Request is for. isNew reports
// that it does not exist yet and must be created with the session.
func (e *Engine) conversation(ctx context.Context, req Request, now time.Time) (c *Conversation, isNew bool, err error) {
	if req.ConversationID != "" {
		c, err := e.store.FindConversation(ctx, req.ConversationID)
		if err != nil {
			return nil, false, err
		}
		if c.State != ConversationOpen {
			return nil, false, Errorf(CodeInvalid, "the conversation is closed")
		}
		return c, false, nil
	}
	customer, err := e.normalize(req.Customer)
	if err != nil {
		return nil, false, err
	}
	if !customer.IsZero() {
		c, err := e.store.FindOpenConversation(ctx, customer)
		if err == nil {
			return c, false, nil
		}
		if ErrorCode(err) != CodeNotFound {
			return nil, false, fmt.Errorf("issue: %w", err)
		}
	}
	return &Conversation{
		ID:           NewID(),
		Customer:     customer,
		CustomerName: strings.TrimSpace(req.CustomerName),
		Desk:         req.Desk,
		Locale:       cmp.Or(req.Locale, e.locale),
		State:        ConversationOpen,
		CreatedAt:    now,
		UpdatedAt:    now,
	}, true, nil
}

// normalize validates a customer endpoint.
func (e *Engine) normalize(ep Endpoint) (Endpoint, error) {
	ep.Channel = strings.ToLower(strings.TrimSpace(ep.Channel))
	ep.Address = strings.TrimSpace(ep.Address)
	if ep.IsZero() {
		return ep, nil
	}
	switch ep.Channel {
	case ChannelSMS, ChannelSlack, ChannelDiscord, ChannelWeb:
	case "":
		return ep, Errorf(CodeInvalid, "customer channel is missing; use sms, slack, discord or web")
	default:
		return ep, Errorf(CodeInvalid, "unknown customer channel %q; use sms, slack, discord or web", ep.Channel)
	}
	if ep.Address == "" {
		return ep, Errorf(CodeInvalid, "customer address is missing")
	}
	if norm := e.addresses[ep.Channel]; norm != nil {
		a, err := norm(ep.Address)
		if err != nil {
			return ep, Wrap(CodeInvalid, err, "customer address is not valid for "+ep.Channel)
		}
		ep.Address = a
	}
	return ep, nil
}

// ownCredentials turns the provider refusing assistbot's own credentials
// into what it is for whoever asked: an unavailable service (with the
// provider's advice), not a refusal of their request, which their client
// would read as its own token being wrong.
func ownCredentials(err error) error {
	if ErrorCode(err) == CodeUnauthorized {
		return &Error{Code: CodeUnavailable, Message: ErrorMessage(err), Err: err}
	}
	return err
}

// ticket asks the provider for a PIN and checks what it returned.
func (e *Engine) ticket(ctx context.Context, req IssueRequest) (Ticket, error) {
	t, err := e.provider.Issue(ctx, req)
	if err != nil {
		return t, fmt.Errorf("%s: issue pin: %w", e.provider.Name(), ownCredentials(err))
	}
	if !ValidPIN(t.PIN) {
		return t, Errorf(CodeUnavailable, "%s returned a malformed pin", e.provider.Name())
	}
	return t, nil
}

func (e *Engine) setTicket(s *Session, t Ticket, now time.Time) {
	s.PIN = t.PIN
	s.ProviderRef = t.Ref
	s.DesktopURL, s.MobileURL, s.ManualURL, s.CustomerURL = t.DesktopURL, t.MobileURL, t.ManualURL, t.CustomerURL
	s.PINExpiresAt = now.Add(e.ttl)
	if !t.ExpiresAt.IsZero() && t.ExpiresAt.Before(s.PINExpiresAt) {
		s.PINExpiresAt = t.ExpiresAt
	}
}
