package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/assistbot/assistbot/adapters/web"
	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
)

// handoffRequest hands a session or a conversation to a colleague: to
// names them (a console agent's name, a Slack or Discord user id); ""
// or null is back to the queue.
type handoffRequest struct {
	To   colleague `json:"to"`
	Note string    `json:"note,omitempty"`
	By   string    `json:"by,omitempty"`
}

// colleague is a hand-off's "to": a name, or "" or null for the queue,
// told apart from no "to" at all.
type colleague struct {
	name string
	set  bool
}

// UnmarshalJSON reads a string or null.
func (c *colleague) UnmarshalJSON(b []byte) error {
	c.set = true
	if string(b) == "null" {
		return nil
	}
	return json.Unmarshal(b, &c.name)
}

// handedConversationJSON is a conversation handed over, with its
// sessions as they now stand.
type handedConversationJSON struct {
	Conversation conversationJSON `json:"conversation"`
	Sessions     []sessionJSON    `json:"sessions"`
}

// Directory knows the colleagues of the API's hand-offs.
type Directory struct {
	// Colleague reports whether to names a colleague at all (known),
	// and one who may take sessions (allowed): a console agent, an agent
	// of the Slack or Discord desk.
	Colleague func(ctx context.Context, to string) (known, allowed bool)
	// Role returns the console role of the agent called name, "" for
	// someone who is not a console agent.
	Role func(name string) string
}

// HandoffTo gives the API the colleagues it hands sessions to. Without
// it, every hand-off but back to the queue is refused as unknown. Call
// it before the API serves.
func (a *API) HandoffTo(d Directory) { a.directory = d }

// handoff reads a hand-off request: who asks (the by of a console agent
// who is not a supervisor is held to their own sessions; anyone else
// acting through the API token is an operator, who hands anything), to
// whom, and why.
func (a *API) handoff(w http.ResponseWriter, r *http.Request) (remote.Asker, string, string, error) {
	var req handoffRequest
	if err := decodeBody(w, r, &req); err != nil {
		return remote.Asker{}, "", "", err
	}
	if !req.To.set {
		return remote.Asker{}, "", "", core.Errorf(core.CodeInvalid, `"to" is required: a colleague's name or user id, or "" (or null) for the queue`)
	}
	by := actorName(req.By)
	asker := remote.Asker{Actor: agent(by), Names: []string{by}, Supervisor: true}
	if d := a.directory; d.Role != nil {
		if role := d.Role(by); role != "" && role != "supervisor" {
			asker.Supervisor = false
		}
	}
	to := strings.TrimSpace(req.To.name)
	if to != "" {
		known, allowed := false, false
		if a.directory.Colleague != nil {
			known, allowed = a.directory.Colleague(r.Context(), to)
		}
		if !known || !allowed {
			return remote.Asker{}, "", "", remote.HandoffRefusal(to, known)
		}
	}
	return asker, to, strings.TrimSpace(req.Note), nil
}

// handleHandoff hands a session to a colleague or back to the queue.
func (a *API) handleHandoff(w http.ResponseWriter, r *http.Request) error {
	by, to, note, err := a.handoff(w, r)
	if err != nil {
		return err
	}
	return a.answer(w, r)(remote.HandOffSession(r.Context(), a.engine, by, r.PathValue("id"), to, note))
}

// handleHandoffConversation hands every open session of a conversation
// to a colleague or back to the queue, with one notice for its desk.
func (a *API) handleHandoffConversation(w http.ResponseWriter, r *http.Request) error {
	by, to, note, err := a.handoff(w, r)
	if err != nil {
		return err
	}
	sessions, err := remote.HandOffConversation(r.Context(), a.engine, by, r.PathValue("id"), to, note)
	if err != nil {
		return err
	}
	conv, err := a.engine.Conversation(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	out := handedConversationJSON{Conversation: toConversation(conv), Sessions: make([]sessionJSON, 0, len(sessions))}
	convs := map[string]*core.Conversation{conv.ID: conv}
	for _, s := range sessions {
		j, err := a.toSession(r.Context(), s, convs)
		if err != nil {
			return err
		}
		out.Sessions = append(out.Sessions, j)
	}
	web.WriteJSON(w, http.StatusOK, out)
	return nil
}
