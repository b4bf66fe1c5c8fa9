package remote

import (
	"context"
	"errors"

	"github.com/assistbot/assistbot/core"
)

// ErrElsewhere refuses a button pressed somewhere it was not shown: a
// thread button outside its conversation's desk thread, a desk alert
// outside its desk, a card that is not the presser's. The adapter tells
// the presser in its own words; nothing changed.
var ErrElsewhere = errors.New("remote: the button was pressed where it was not shown")

// Thread is what a button of a conversation's desk thread did.
type Thread struct {
	// Conversation is the conversation the button names, as it was found.
	Conversation *core.Conversation
	// Issued is, for ActionIssue, the new session for the conversation's
	// customer, whose card the presser is shown.
	Issued Issued
	// Header is, for ActionCloseConversation on a conversation found
	// closed already (from the console, the API or another desk, which
	// makes no update now), the thread's header to show in place of the
	// one pressed: without buttons, crediting nobody. It is nil when the
	// press closed the conversation: the engine's update of the closing
	// rewrites the header (ClosedHeader) wherever the conversation is
	// followed, as for a close from anywhere.
	Header *Alert
}

// ThreadAct performs a button of a conversation's desk thread header,
// ActionIssue ("Remote support") or ActionCloseConversation ("Close
// conversation"), pressed by actor on conversation convID. here reports
// whether the press was on that conversation's own thread, which only the
// platform can tell; a press elsewhere is refused with ErrElsewhere.
// locale is the presser's, for Header.
func (b *Bot) ThreadAct(ctx context.Context, actor core.Actor, actionID, convID, locale string, here func(*core.Conversation) bool) (Thread, error) {
	conv, err := b.engine.Conversation(ctx, convID)
	if err != nil {
		return Thread{}, err
	}
	th := Thread{Conversation: conv}
	if !here(conv) {
		return th, ErrElsewhere
	}
	switch actionID {
	case ActionIssue:
		th.Issued, err = b.Issue(ctx, core.Request{ConversationID: conv.ID, Agent: actor.Name}, "")
		return th, err
	case ActionCloseConversation:
		if conv.State == core.ConversationClosed {
			h := b.ClosedHeader(conv, "", locale)
			th.Header = &h
			return th, nil
		}
		th.Conversation, err = b.engine.CloseConversation(ctx, conv.ID, actor)
		if err != nil {
			th.Conversation = conv
		}
		return th, err
	}
	return th, core.Errorf(core.CodeInvalid, "unknown thread action %q", actionID)
}

// Closed reports whether u closed a conversation that has a desk thread,
// whose header should now say who closed it (ClosedHeader), wherever it
// was closed: the console, the API, a desk's button.
func Closed(u core.Update) (c *core.Conversation, closer string, ok bool) {
	c = u.Conversation
	if c == nil || u.Closer == "" || c.DeskThread == "" {
		return nil, "", false
	}
	return c, u.Closer, true
}
