package remote

import (
	"context"
	"errors"
	"slices"

	"github.com/assistbot/assistbot/core"
)

// ActionHandoff is the colleague picker of a card: Slack's users_select
// action_id, Discord's user select custom_id prefix, the console's form.
// It is part of the external contract.
const ActionHandoff = "remote.handoff"

// Asker is who asks for a hand-off, and what they may do.
type Asker struct {
	Actor core.Actor
	// Names are every name the asker goes by (a name, a platform user
	// id): a session whose agent or technician is one of them is theirs,
	// and a hand-off to one of them is to themselves.
	Names []string
	// Supervisor may hand any session to anyone.
	Supervisor bool
}

// is reports whether name is one of the asker's.
func (a Asker) is(name string) bool { return name != "" && slices.Contains(a.Names, name) }

// HandoffEngine is what hand-offs ask of the engine.
type HandoffEngine interface {
	Session(ctx context.Context, id string) (*core.Session, error)
	Conversation(ctx context.Context, id string) (*core.Conversation, error)
	Sessions(ctx context.Context, f core.SessionFilter) ([]*core.Session, error)
	HandOver(ctx context.Context, id string, h core.Handover) (*core.Session, error)
}

var _ HandoffEngine = (*core.Engine)(nil)

// The refusals of a hand-off. Their codes are the API's answer (403,
// 409); the bot explains them in the agent's language.
var (
	errNotYours = &refusal{key: "error.handoff_not_yours", err: core.Errorf(core.CodeForbidden,
		"only the session's own agent or technician, or a supervisor, may hand it to someone else")}
	errNothing = &refusal{key: "error.handoff_nothing", err: &core.Error{Code: core.CodeInvalidTransition,
		Message: "the conversation has no open remote-support session to hand over"}}
	errClosed = &refusal{key: "error.handoff_closed", err: &core.Error{Code: core.CodeInvalidTransition,
		Message: "the conversation is closed"}}
)

// may checks that by may hand sessions to to: a supervisor hands
// anything, anyone takes a session themselves, and only a session's own
// agent or technician hands it to someone else or back to the queue.
func (by Asker) may(to string, sessions ...*core.Session) error {
	if by.Supervisor || by.is(to) {
		return nil
	}
	for _, s := range sessions {
		if !by.is(s.Agent) && !by.is(s.Technician) {
			return errNotYours
		}
	}
	return nil
}

// HandOffSession hands session id to colleague to ("" for the queue) for
// by, with note. The caller has checked that by may act at all and that
// to is a colleague who may take it; the rules of who hands what are
// here. A session that moved on is refused.
func HandOffSession(ctx context.Context, e HandoffEngine, by Asker, id, to, note string) (*core.Session, error) {
	s, err := e.Session(ctx, id)
	if err != nil {
		return nil, err
	}
	if !s.State.Open() {
		return nil, &core.TransitionError{From: s.State, Action: core.ActionHandoff}
	}
	if err := by.may(to, s); err != nil {
		return nil, err
	}
	return e.HandOver(ctx, id, core.Handover{By: by.Actor, To: to, Note: note, May: by.mayHand(to)})
}

// mayHand is may for one session as HandOver writes it: the session may
// have been handed to someone else since it was read.
func (by Asker) mayHand(to string) func(*core.Session) error {
	return func(s *core.Session) error { return by.may(to, s) }
}

// HandOffSession is the package's HandOffSession with the bot's engine.
func (b *Bot) HandOffSession(ctx context.Context, by Asker, id, to, note string) (*core.Session, error) {
	e, ok := b.engine.(HandoffEngine)
	if !ok {
		return nil, core.Errorf(core.CodeUnavailable, "hand-offs are not available")
	}
	return HandOffSession(ctx, e, by, id, to, note)
}

// HandOffConversation is the package's HandOffConversation with the
// bot's engine.
func (b *Bot) HandOffConversation(ctx context.Context, by Asker, convID, to, note string) ([]*core.Session, error) {
	e, ok := b.engine.(HandoffEngine)
	if !ok {
		return nil, core.Errorf(core.CodeUnavailable, "hand-offs are not available")
	}
	return HandOffConversation(ctx, e, by, convID, to, note)
}

// openStates are the states of a session that can be handed over.
var openStates = []core.State{core.StateIssued, core.StateSent, core.StateWaiting, core.StateActive}

// HandOffConversation hands every open session of conversation convID
// to to, as HandOffSession, with one notice for the desk. A closed
// conversation, or one with no open session, is refused; so is the whole
// hand-off when by may not hand one of them. A session that ends, or
// that someone else hands on, while this runs is left as it is; the
// others go.
func HandOffConversation(ctx context.Context, he HandoffEngine, by Asker, convID, to, note string) ([]*core.Session, error) {
	conv, err := he.Conversation(ctx, convID)
	if err != nil {
		return nil, err
	}
	if conv.State != core.ConversationOpen {
		return nil, errClosed
	}
	open, err := he.Sessions(ctx, core.SessionFilter{ConversationID: conv.ID, States: openStates})
	if err != nil {
		return nil, err
	}
	if len(open) == 0 {
		return nil, errNothing
	}
	if err := by.may(to, open...); err != nil {
		return nil, err
	}
	var done []*core.Session
	var refused error
	for _, s := range open {
		h := core.Handover{By: by.Actor, To: to, Note: note, Whole: true, Quiet: len(done) > 0, May: by.mayHand(to)}
		s, err := he.HandOver(ctx, s.ID, h)
		var te *core.TransitionError
		switch {
		case errors.As(err, &te):
			continue // it ended meanwhile
		case core.ErrorCode(err) == core.CodeForbidden:
			refused = err // handed on by someone else meanwhile
			continue
		case err != nil:
			return done, err
		}
		done = append(done, s)
	}
	switch {
	case len(done) > 0:
		return done, nil
	case refused != nil:
		return nil, refused
	}
	return nil, errNothing
}

// HandoffRefusal is the refusal of a hand-off to a colleague the
// adapter does not know (CodeInvalid, 400) or who may not take sessions
// (CodeForbidden, 403), named as the asker named them.
func HandoffRefusal(name string, known bool) error {
	if !known {
		return &refusal{key: "error.handoff_unknown", args: []string{"name", name},
			err: core.Errorf(core.CodeInvalid, "there is no colleague called %q", name)}
	}
	return &refusal{key: "error.handoff_not_agent", args: []string{"name", name},
		err: core.Errorf(core.CodeForbidden, "%q may not take sessions: not an agent of this desk", name)}
}

// Picker is the placeholder of a card's colleague picker in locale, or
// "" when the card's session can no longer be handed over.
func (b *Bot) Picker(card *Card, locale string) string {
	if !card.State.Open() {
		return ""
	}
	return b.catalog.T(locale, "handoff.pick")
}

// HandoffText is what the desk is told of a hand-off notice n in locale:
// who handed the session or the conversation to whom, and the note.
// assignee is how the platform names n.Assignee (a mention); "" names the
// queue.
func (b *Bot) HandoffText(n core.Notice, locale, assignee string) (text, note string) {
	t := func(key string, kv ...string) string { return b.catalog.T(locale, key, kv...) }
	if n.Assignee == "" {
		assignee = t("handoff.queue")
	}
	key := "handoff.session"
	if n.SessionID == "" {
		key = "handoff.conversation"
	}
	text = t(key, "by", n.Actor, "to", assignee)
	if n.Text != "" {
		note = t("handoff.note", "note", n.Text)
	}
	return text, note
}

// HandedText confirms a hand-off to the one who made it.
func (b *Bot) HandedText(to, locale string) string {
	if to == "" {
		to = b.catalog.T(locale, "handoff.queue")
	}
	return b.catalog.T(locale, "handoff.done", "to", to)
}
