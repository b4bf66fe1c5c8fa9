package remote

import (
	"context"
	"errors"

	"github.com/assistbot/assistbot/core"
)

// Result is what a card action did: the session as it now stands, and
// the delivery a send queued.
type Result struct {
	Session  *core.Session
	Delivery *core.Delivery
	// Dismissed means the card should simply go away: Close on a session
	// that was already over.
	Dismissed bool
}

// Act performs a card action for actor on session id. The caller has
// checked that actor may act on the session. ActionIssue is not a session
// action; adapters call Issue for it.
func (b *Bot) Act(ctx context.Context, actor core.Actor, actionID, id string) (Result, error) {
	var s *core.Session
	var d *core.Delivery
	var err error
	switch actionID {
	case ActionSendDesktop:
		s, d, err = b.engine.Send(ctx, id, actor, core.LinkDesktop)
	case ActionSendMobile:
		s, d, err = b.engine.Send(ctx, id, actor, core.LinkMobile)
	case ActionRegenerate:
		s, err = b.engine.Regenerate(ctx, id, actor)
	case ActionClose:
		s, err = b.engine.Close(ctx, id, actor)
		if err != nil && closeable(err) {
			return Result{Dismissed: true}, nil
		}
	case ActionStartControl:
		s, err = b.engine.Start(ctx, id, asTechnician(actor), core.ModeControl)
		if core.ErrorCode(err) == core.CodeInvalid {
			err = b.controlRefused(ctx, id, err)
		}
	case ActionStartView:
		s, err = b.engine.Start(ctx, id, asTechnician(actor), core.ModeView)
	case ActionEnd:
		s, err = b.engine.End(ctx, id, asTechnician(actor))
	default:
		return Result{}, core.Errorf(core.CodeInvalid, "unknown action %q", actionID)
	}
	if err != nil {
		return Result{}, err
	}
	return Result{Session: s, Delivery: d}, nil
}

// Pressed is what a press of a card or desk alert button did.
type Pressed struct {
	Result
	// Session is the session as it now stands (as it was found, when the
	// action failed); Conversation is its conversation.
	Session      *core.Session
	Conversation *core.Conversation
}

// Press performs the card or desk alert action actionID, pressed by actor
// on session id. here reports whether actor may press it where it was
// pressed (their own card, the session's desk), which only the platform
// can tell; it runs before the action, so it may also note where that was.
// A press elsewhere is refused with ErrElsewhere. On any error Pressed
// holds what was found, for the card to be shown as it stands.
func (b *Bot) Press(ctx context.Context, actor core.Actor, actionID, id string, here func(*core.Session, *core.Conversation) bool) (Pressed, error) {
	s, err := b.engine.Session(ctx, id)
	if err != nil {
		return Pressed{}, err
	}
	conv, err := b.engine.Conversation(ctx, s.ConversationID)
	if err != nil {
		return Pressed{}, err
	}
	p := Pressed{Session: s, Conversation: conv}
	if !here(s, conv) {
		return p, ErrElsewhere
	}
	res, err := b.Act(ctx, actor, actionID, id)
	if err != nil {
		return p, err
	}
	p.Result = res
	switch {
	case res.Session != nil:
		p.Session = res.Session
	case res.Dismissed:
		// The session was over already: show it as it is.
		if now, err := b.engine.Session(ctx, id); err == nil {
			p.Session = now
		}
	}
	return p, nil
}

// closeable reports whether a refused Close means the session is already
// over (expired, ended, closed), so the card can just go away.
func closeable(err error) bool {
	var te *core.TransitionError
	if errors.As(err, &te) {
		return !te.From.Open()
	}
	return core.ErrorCode(err) == core.CodeExpired
}

// refusal is an engine error that the bot recognised, with the catalog
// key that explains it. It wraps the engine's error, whose code and
// message stay what the engine said for every other reader (logs, the
// JSON API).
type refusal struct {
	key  string
	args []string // the key's placeholders and values
	err  error
}

func (r *refusal) Error() string { return r.err.Error() }
func (r *refusal) Unwrap() error { return r.err }

// controlRefused tells why the engine refused to start session id in
// remote control (err, a CodeInvalid). Start checks the mode itself
// first, which the bot always gives right; then, in this order, a mobile
// device (viewed only) and a provider without control: the same reasons,
// in the same order, for which the card leaves out the control button.
func (b *Bot) controlRefused(ctx context.Context, id string, err error) error {
	s, serr := b.engine.Session(ctx, id)
	switch {
	case serr == nil && s.Device == core.DeviceMobile:
		return &refusal{key: "error.start_control_mobile", err: err}
	case !b.engine.Supports(core.ModeControl):
		return &refusal{key: "error.start_control_provider", err: err}
	}
	return err
}

// asTechnician records an agent who starts or ends a session as its
// technician.
func asTechnician(a core.Actor) core.Actor {
	if a.Kind == core.ActorAgent {
		a.Kind = core.ActorTechnician
	}
	return a
}

// ErrorText explains err to an agent in locale: the catalog's sentence
// for the refusals the bot recognises, else for its code, with the
// session's state for a refused transition.
func (b *Bot) ErrorText(err error, locale string) string {
	t := func(key string, kv ...string) string { return b.catalog.T(locale, key, kv...) }
	var te *core.TransitionError
	var r *refusal
	switch {
	case err == nil:
		return ""
	case errors.As(err, &r):
		return t(r.key, r.args...)
	case errors.Is(err, core.ErrNoCustomer):
		return t("error.no_customer")
	case errors.As(err, &te):
		return t("error.invalid_transition", "state", t("state."+string(te.From)))
	}
	switch core.ErrorCode(err) {
	case core.CodeNotFound:
		return t("error.not_found")
	case core.CodeExpired:
		return t("error.expired")
	case core.CodeUnauthorized:
		return t("error.unauthorized")
	case core.CodeUnavailable:
		// The provider's own advice ("log in to the Technician Console")
		// is worth more than a generic sentence, even in English.
		if msg := core.ErrorMessage(err); msg != "" && msg != "internal error" {
			return t("error.unavailable_reason", "reason", msg)
		}
		return t("error.unavailable")
	case core.CodeRateLimited, core.CodeConflict:
		return t("error.unavailable")
	case core.CodeInvalid:
		return t("error.invalid", "reason", core.ErrorMessage(err))
	}
	return t("error.internal")
}
