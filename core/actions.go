package core

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Sentinel errors of the engine's operations.
var (
	// ErrUnknownPIN is the one answer to a PIN that is unknown, expired,
	// revoked or already used: the portal must not tell them apart.
	ErrUnknownPIN = &Error{Code: CodeNotFound, Message: "unknown or expired code"}
	// ErrNoCustomer refuses to send a link for a session whose
	// conversation has no customer endpoint.
	ErrNoCustomer = &Error{Code: CodeInvalid, Message: "this session has no customer to send the link to"}
)

// EndpointChecker is implemented by channels that can tell before queueing
// whether an endpoint may be sent to (an SMS number that opted out).
type EndpointChecker interface {
	Check(ctx context.Context, to Endpoint) error
}

// TextLimiter is implemented by channels whose messages take fewer
// characters than MaxMessageRunes (Twilio's 1,600): an agent's longer
// reply is refused before it is queued, saying so, rather than failing
// at the platform.
type TextLimiter interface {
	TextLimit() int
}

// step is one operation on a loaded session: it validates and mutates s
// and returns what to write. Returning a nil Change means "nothing to do".
type step func(s *Session, c *Conversation, now time.Time) (*Change, error)

// change loads session id, applies fn and saves the result, starting over
// when another writer changed the session in between.
func (e *Engine) change(ctx context.Context, id string, fn step) (*Session, *Change, error) {
	for try := 0; try < maxTries; try++ {
		s, err := e.store.FindSession(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		c, err := e.store.FindConversation(ctx, s.ConversationID)
		if err != nil {
			return nil, nil, fmt.Errorf("session %s: %w", id, err)
		}
		ch, err := fn(s, c, e.clock.Now())
		if err != nil || ch == nil {
			return s, nil, err
		}
		err = e.store.UpdateSession(ctx, ch)
		if errors.Is(err, ErrVersion) || errors.Is(err, ErrPINInUse) {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("session %s: %w", id, err)
		}
		e.publish(ch)
		return ch.Session, ch, nil
	}
	return nil, nil, Errorf(CodeConflict, "the session is changing too often; try again")
}

// transition moves s by action a at now and returns the events to record.
// A session whose PIN lifetime passed unrecorded gets its expire event
// first, so the log never skips a state. A refused action on an expired
// session is CodeExpired; any other refusal is a *TransitionError.
func transition(s *Session, a Action, actor Actor, now time.Time, detail string) ([]Event, error) {
	var events []Event
	from := s.State
	if cur := s.Current(now); cur != from {
		if a == ActionExpire {
			from = s.State
		} else {
			events = append(events, Event{SessionID: s.ID, At: now, Actor: Actor{Kind: ActorSystem}.String(), Action: ActionExpire, From: from, To: cur, Detail: "pin lifetime passed"})
			from = cur
		}
	} else if a == ActionExpire {
		return nil, &TransitionError{From: from, Action: a}
	}
	to, err := Next(from, a)
	if err != nil {
		if from == StateExpired && a != ActionExpire {
			return nil, &Error{Code: CodeExpired, Message: "the pin has expired; generate another code", Err: err}
		}
		return nil, err
	}
	s.State = to
	s.UpdatedAt = now
	return append(events, Event{SessionID: s.ID, At: now, Actor: actor.String(), Action: a, From: from, To: to, Detail: detail}), nil
}

// deskNotice returns the delivery that tells the conversation's desk about
// a session change, or nil when the conversation has no desk.
func deskNotice(s *Session, c *Conversation, a Action, actor Actor, now time.Time) []*Delivery {
	if c.Desk.IsZero() {
		return nil
	}
	return []*Delivery{newDelivery(c, c.Desk, Notice{Kind: NoticeSession, Locale: s.Locale, SessionID: s.ID,
		Action: a, State: s.State, Device: s.Device, Mode: s.Mode, Actor: actor.Name}, now)}
}

// Regenerate replaces the session's PIN with a new one and returns it to
// issued. The old PIN stops working when the change commits.
func (e *Engine) Regenerate(ctx context.Context, id string, actor Actor) (*Session, error) {
	var old *Session
	// drafts are the tickets of every try: those a concurrent change made
	// go to waste are revoked like the old one.
	var drafts []Session
	s, _, err := e.change(ctx, id, func(s *Session, c *Conversation, now time.Time) (*Change, error) {
		prev := *s
		events, err := transition(s, ActionRegenerate, actor, now, "new pin")
		if err != nil {
			return nil, err
		}
		t, err := e.ticket(ctx, IssueRequest{SessionID: s.ID, CustomerName: c.CustomerName, Agent: actor.Name, Locale: s.Locale})
		if err != nil {
			return nil, err
		}
		e.setTicket(s, t, now)
		drafts = append(drafts, *s)
		old = &prev
		return &Change{Session: s, Events: events}, nil
	})
	for i := range drafts {
		if err != nil || drafts[i].PIN != s.PIN || drafts[i].ProviderRef != s.ProviderRef {
			e.revoke(ctx, &drafts[i])
		}
	}
	if err != nil {
		return nil, err
	}
	e.revoke(ctx, old)
	return s, nil
}

// revoke tells the provider that a PIN no longer counts. The store already
// refuses the PIN; a provider failure only leaves the vendor's copy to
// expire on its own, so it is logged, not returned.
func (e *Engine) revoke(ctx context.Context, s *Session) {
	if s == nil || s.Provider != e.provider.Name() {
		return
	}
	if err := e.provider.Revoke(ctx, s); err != nil {
		e.log.Warn("revoke pin", "session_id", s.ID, "provider", s.Provider, "err", err)
	}
}

// Send queues the session's desktop or mobile link, with the PIN, for the
// conversation's customer, and marks the session sent. The returned
// delivery reports the outbox entry.
func (e *Engine) Send(ctx context.Context, id string, actor Actor, kind LinkKind) (*Session, *Delivery, error) {
	if !kind.Valid() {
		return nil, nil, Errorf(CodeInvalid, "link must be desktop or mobile, not %q", kind)
	}
	s, ch, err := e.change(ctx, id, func(s *Session, c *Conversation, now time.Time) (*Change, error) {
		if c.Customer.IsZero() {
			return nil, ErrNoCustomer
		}
		if _, ok := e.channels.find(c.Customer.Channel); !ok {
			return nil, Errorf(CodeUnavailable, "%s delivery is not enabled", c.Customer.Channel)
		}
		events, err := transition(s, ActionSend, actor, now, fmt.Sprintf("%s link to %s", kind, c.Customer))
		if err != nil {
			return nil, err
		}
		if err := e.reachable(ctx, c.Customer); err != nil {
			return nil, err
		}
		d := newDelivery(c, c.Customer, Notice{Kind: NoticeLink, Locale: s.Locale, SessionID: s.ID, LinkKind: kind,
			Link: s.Link(kind), PIN: s.PIN, ExpiresAt: s.PINExpiresAt, Origin: s.Origin}, now)
		return &Change{Session: s, Events: events, Deliveries: []*Delivery{d}}, nil
	})
	if err != nil {
		return nil, nil, err
	}
	return s, ch.Deliveries[0], nil
}

// Close ends a session before it became active: the provider revokes the
// PIN and the session is closed.
func (e *Engine) Close(ctx context.Context, id string, actor Actor) (*Session, error) {
	s, _, err := e.change(ctx, id, func(s *Session, c *Conversation, now time.Time) (*Change, error) {
		prev := *s
		events, err := transition(s, ActionClose, actor, now, "")
		if err != nil {
			return nil, err
		}
		if prev.State.PINLive() && prev.Provider == e.provider.Name() {
			if err := e.provider.Revoke(ctx, &prev); err != nil {
				return nil, fmt.Errorf("%s: revoke pin: %w", prev.Provider, ownCredentials(err))
			}
		}
		return &Change{Session: s, Events: events}, nil
	})
	if err == nil {
		e.release(s)
	}
	return s, err
}

// Join records that the customer opened the link and asked to start: the
// PIN is consumed, the session waits for a technician and the desk is
// alerted. Unknown, expired, revoked and used PINs all give ErrUnknownPIN.
// The returned secret authorises the customer's browser from now on.
func (e *Engine) Join(ctx context.Context, pin string, device Device) (s *Session, secret string, err error) {
	if !ValidPIN(pin) {
		return nil, "", ErrUnknownPIN
	}
	if !device.Valid() {
		device = DeviceUnknown
	}
	found, err := e.store.FindSessionByPIN(ctx, pin)
	if ErrorCode(err) == CodeNotFound {
		return nil, "", ErrUnknownPIN
	}
	if err != nil {
		return nil, "", fmt.Errorf("join: %w", err)
	}
	secret, key := NewSecret()
	actor := Actor{Kind: ActorCustomer}
	s, _, err = e.change(ctx, found.ID, func(s *Session, c *Conversation, now time.Time) (*Change, error) {
		if s.PIN != pin || s.Current(now) != s.State || !s.State.PINLive() {
			return nil, ErrUnknownPIN
		}
		events, err := transition(s, ActionJoin, actor, now, "from a "+string(device)+" device")
		if err != nil {
			return nil, ErrUnknownPIN
		}
		s.Device, s.JoinedAt, s.CustomerKey = device, now, key
		return &Change{Session: s, Events: events, Deliveries: deskNotice(s, c, ActionJoin, actor, now)}, nil
	})
	if err != nil {
		return nil, "", err
	}
	return s, secret, nil
}

// Start records that a technician started the session in mode. A mobile
// device can only be viewed, and a mode the provider lacks is refused.
// With a provider that is a Starter, the technician's link comes from it
// and is recorded with the session (TechnicianURL).
func (e *Engine) Start(ctx context.Context, id string, actor Actor, mode Mode) (*Session, error) {
	if !mode.Valid() {
		return nil, Errorf(CodeInvalid, "mode must be control or view, not %q", mode)
	}
	check := func(s *Session, now time.Time) ([]Event, error) {
		events, err := transition(s, ActionStart, actor, now, string(mode))
		if err != nil {
			return nil, err
		}
		if mode == ModeControl && s.Device == DeviceMobile {
			return nil, Errorf(CodeInvalid, "a mobile device can be viewed but not controlled; start in view mode")
		}
		if !SupportsMode(e.provider, mode) {
			return nil, Errorf(CodeInvalid, "the %s provider does not offer %s mode; remote control needs a provider with an agent on the customer's computer, such as MeshCentral or LogMeIn Rescue", e.provider.Name(), mode)
		}
		return events, nil
	}
	var link string
	if starter, ok := e.provider.(Starter); ok {
		// The provider's link is made once, before the change: a retry of
		// the change must not make another.
		s, err := e.store.FindSession(ctx, id)
		if err != nil {
			return nil, err
		}
		probe := *s
		if _, err := check(&probe, e.clock.Now()); err != nil {
			return nil, err
		}
		if link, err = starter.Start(ctx, s, mode, actor.Name); err != nil {
			return nil, fmt.Errorf("%s: start: %w", e.provider.Name(), ownCredentials(err))
		}
	}
	s, _, err := e.change(ctx, id, func(s *Session, c *Conversation, now time.Time) (*Change, error) {
		events, err := check(s, now)
		if err != nil {
			return nil, err
		}
		s.Mode, s.Technician, s.StartedAt, s.TechnicianURL = mode, actor.Name, now, link
		return &Change{Session: s, Events: events, Deliveries: deskNotice(s, c, ActionStart, actor, now)}, nil
	})
	return s, err
}

// End records that the remote session finished.
func (e *Engine) End(ctx context.Context, id string, actor Actor) (*Session, error) {
	s, _, err := e.change(ctx, id, func(s *Session, c *Conversation, now time.Time) (*Change, error) {
		events, err := transition(s, ActionEnd, actor, now, "")
		if err != nil {
			return nil, err
		}
		s.EndedAt = now
		return &Change{Session: s, Events: events, Deliveries: deskNotice(s, c, ActionEnd, actor, now)}, nil
	})
	if err == nil {
		e.release(s)
	}
	return s, err
}

// ExpireDue records the expiry of every session whose PIN lifetime passed
// before the customer joined and alerts their desks. It returns how many
// it expired.
func (e *Engine) ExpireDue(ctx context.Context) (int, error) {
	const batch = 100
	n := 0
	for {
		due, err := e.store.FindSessions(ctx, SessionFilter{States: []State{StateIssued, StateSent}, ExpiresBefore: e.clock.Now().Add(time.Nanosecond), Limit: batch})
		if err != nil {
			return n, fmt.Errorf("expire: %w", err)
		}
		done := 0
		for _, d := range due {
			_, ch, err := e.change(ctx, d.ID, func(s *Session, c *Conversation, now time.Time) (*Change, error) {
				if s.Current(now) != StateExpired || s.State == StateExpired {
					return nil, nil
				}
				actor := Actor{Kind: ActorSystem}
				events, err := transition(s, ActionExpire, actor, now, "pin lifetime passed")
				if err != nil {
					return nil, err
				}
				return &Change{Session: s, Events: events, Deliveries: deskNotice(s, c, ActionExpire, actor, now)}, nil
			})
			if err != nil {
				return n, fmt.Errorf("expire %s: %w", d.ID, err)
			}
			if ch != nil {
				e.release(ch.Session)
				n++
				done++
			}
		}
		if len(due) < batch || done == 0 {
			return n, nil
		}
	}
}

// Report applies what a watching provider learnt about one of its
// sessions: the customer joined, the technician started, or it ended.
func (e *Engine) Report(ctx context.Context, r StatusReport) (*Session, error) {
	actor := Actor{Kind: ActorProvider, Name: e.provider.Name()}
	_, _, err := e.change(ctx, r.SessionID, func(s *Session, c *Conversation, now time.Time) (*Change, error) {
		var events []Event
		var err error
		switch r.Action {
		case ActionJoin:
			events, err = transition(s, ActionJoin, actor, now, "reported by the provider")
			s.Device, s.JoinedAt = r.Device, now
			if !s.Device.Valid() {
				s.Device = DeviceUnknown
			}
		case ActionStart:
			events, err = transition(s, ActionStart, Actor{Kind: ActorTechnician, Name: r.Technician}, now, string(r.Mode))
			s.Mode, s.Technician, s.StartedAt = r.Mode, r.Technician, now
		case ActionEnd:
			events, err = transition(s, ActionEnd, actor, now, "reported by the provider")
			s.EndedAt = now
		default:
			return nil, Errorf(CodeInvalid, "a provider cannot report %q", r.Action)
		}
		if err != nil {
			return nil, err
		}
		return &Change{Session: s, Events: events, Deliveries: deskNotice(s, c, r.Action, actor, now)}, nil
	})
	if err != nil {
		return nil, err
	}
	s, err := e.Session(ctx, r.SessionID)
	if err == nil && r.Action == ActionEnd {
		e.release(s)
	}
	return s, err
}

// Handoff moves a joined session to another device of the customer's: the
// browser that held the secret whose key is key hands over to a new one,
// which gets a new secret; the old secret stops working at once. It is
// allowed while the session waits or is active, so that a customer can
// show the technician something with their phone's camera. A session
// whose key is no longer key (the handoff was used, or the customer moved
// again) gives ErrUnknownPIN, like a used PIN; a mobile device cannot take
// over a session under remote control.
func (e *Engine) Handoff(ctx context.Context, id, key string, device Device) (*Session, string, error) {
	if !device.Valid() {
		device = DeviceUnknown
	}
	secret, newKey := NewSecret()
	s, _, err := e.change(ctx, id, func(s *Session, c *Conversation, now time.Time) (*Change, error) {
		cur := s.Current(now)
		if key == "" || s.CustomerKey != key || (cur != StateWaiting && cur != StateActive) {
			return nil, ErrUnknownPIN
		}
		if cur == StateActive && s.Mode == ModeControl && device == DeviceMobile {
			return nil, Errorf(CodeInvalidTransition, "a mobile device cannot take over a session under remote control")
		}
		ev := Event{SessionID: s.ID, At: now, Actor: Actor{Kind: ActorCustomer}.String(), Action: ActionDevice,
			From: cur, To: cur, Detail: "to a " + string(device) + " device"}
		s.Device, s.CustomerKey, s.UpdatedAt = device, newKey, now
		return &Change{Session: s, Events: []Event{ev}}, nil
	})
	if err != nil {
		return nil, "", err
	}
	return s, secret, nil
}

// Watch makes actor the technician of an active session, for a session
// started elsewhere (another platform, another colleague) that actor
// takes over watching. The log keeps who it was before. It is a no-op for
// the technician already in charge.
func (e *Engine) Watch(ctx context.Context, id string, actor Actor) (*Session, error) {
	if actor.Name == "" {
		return nil, Errorf(CodeInvalid, "a technician needs a name")
	}
	actor = Actor{Kind: ActorTechnician, Name: actor.Name}
	s, _, err := e.change(ctx, id, func(s *Session, c *Conversation, now time.Time) (*Change, error) {
		cur := s.Current(now)
		if cur != StateActive {
			return nil, &TransitionError{From: cur, Action: ActionWatch}
		}
		if s.Technician == actor.Name {
			return nil, errUnchanged
		}
		if s.TechnicianURL != "" {
			// The provider's link was made for the technician who started
			// (a MeshCentral share in their name): taking the session over
			// would hand it to someone else.
			return nil, Errorf(CodeInvalid, "this session is worked through a link made for %s, who started it; it cannot be taken over", s.Technician)
		}
		ev := Event{SessionID: s.ID, At: now, Actor: actor.String(), Action: ActionWatch, From: cur, To: cur,
			Detail: "instead of " + s.Technician}
		s.Technician, s.UpdatedAt = actor.Name, now
		return &Change{Session: s, Events: []Event{ev}}, nil
	})
	if errors.Is(err, errUnchanged) {
		return e.Session(ctx, id)
	}
	return s, err
}

// errUnchanged ends a change that has nothing to do.
var errUnchanged = errors.New("unchanged")

// Record appends an entry that changes no state to the log of a session:
// the customer started, stopped or declined sharing their screen. Starts
// and refusals need an open session; a stop may follow the session's end.
func (e *Engine) Record(ctx context.Context, id string, actor Actor, a Action, detail string) (*Session, error) {
	ok := false
	for _, r := range recordable {
		ok = ok || r == a
	}
	if !ok {
		return nil, Errorf(CodeInvalid, "%q cannot be recorded on its own", a)
	}
	s, _, err := e.change(ctx, id, func(s *Session, c *Conversation, now time.Time) (*Change, error) {
		cur := s.Current(now)
		// A share's stop is a fact about the customer's browser, and
		// the session's end is what stops it: it is recorded after the
		// end too. What starts or refuses a share needs an open session.
		if !cur.Open() && a != ActionShareStop {
			return nil, &TransitionError{From: cur, Action: a}
		}
		s.UpdatedAt = now
		ev := Event{SessionID: s.ID, At: now, Actor: actor.String(), Action: a, From: cur, To: cur, Detail: detail}
		return &Change{Session: s, Events: []Event{ev}}, nil
	})
	return s, err
}
