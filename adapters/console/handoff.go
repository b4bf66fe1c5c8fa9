package console

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
)

// handoffBot is what hand-offs ask of the bot (bots/remote's Bot).
type handoffBot interface {
	HandOffSession(ctx context.Context, by remote.Asker, id, to, note string) (*core.Session, error)
	HandOffConversation(ctx context.Context, by remote.Asker, convID, to, note string) ([]*core.Session, error)
}

// Supervisor is the console role that may hand any session to anyone.
const Supervisor = "supervisor"

// role returns the console role of the agent called name, as configured
// (console.agents[].role, through roleOf); an agent without one, or
// with one it does not know, is a supervisor, as the console has always
// treated its agents ("any signed-in agent may act on any session").
func (c *Console) role(name string) string {
	if c.roleOf != nil {
		if r := c.roleOf(name); r != "" {
			return r
		}
	}
	return Supervisor
}

// Role returns the console role of the agent called name, or "" when no
// console agent has that name: for the API's hand-offs.
func (c *Console) Role(name string) string {
	if _, ok := c.agents[name]; !ok {
		return ""
	}
	return c.role(name)
}

// Colleague reports whether name is a console agent, for the API's
// hand-offs: every console agent may take sessions.
func (c *Console) Colleague(_ context.Context, name string) (known, allowed bool) {
	_, ok := c.agents[name]
	return ok, ok
}

// colleagues lists the console's agents by name, for the hand-off form.
func (c *Console) colleagues() []string {
	names := make([]string, 0, len(c.agents))
	for n := range c.agents {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// handoffForm reads a hand-off form: to whom ("" for the queue), a
// console agent, and the note. It answers a refusal itself.
func (c *Console) handoffForm(w http.ResponseWriter, r *http.Request, si *signIn) (remote.Asker, string, string, handoffBot, bool) {
	v := c.view(r, si)
	hb, ok := c.bot.(handoffBot)
	if err := r.ParseForm(); err != nil || !ok {
		c.fail(w, r, http.StatusBadRequest, "console.error.form")
		return remote.Asker{}, "", "", nil, false
	}
	to := strings.TrimSpace(r.PostForm.Get("to"))
	if _, known := c.agents[to]; to != "" && !known {
		c.engineError(w, r, v, remote.HandoffRefusal(to, false))
		return remote.Asker{}, "", "", nil, false
	}
	by := remote.Asker{Actor: core.Actor{Kind: core.ActorAgent, Name: si.agent}, Names: []string{si.agent},
		Supervisor: c.role(si.agent) == Supervisor}
	return by, to, strings.TrimSpace(r.PostForm.Get("note")), hb, true
}

// handleHandoff hands a session to a colleague or back to the queue.
func (c *Console) handleHandoff(w http.ResponseWriter, r *http.Request, si *signIn) {
	by, to, note, hb, ok := c.handoffForm(w, r, si)
	if !ok {
		return
	}
	id := r.PathValue("id")
	if _, err := hb.HandOffSession(r.Context(), by, id, to, note); err != nil {
		c.engineError(w, r, c.view(r, si), err)
		return
	}
	c.log.Info("console handed a session over", "session_id", id, "agent", si.agent, "to", to)
	c.done200(w, r, localPath(r.PostForm.Get("return"), "/console/sessions/"+url.PathEscape(id)), map[string]any{"session": id})
}

// handleHandoffConversation hands a conversation's open sessions to a
// colleague or back to the queue.
func (c *Console) handleHandoffConversation(w http.ResponseWriter, r *http.Request, si *signIn) {
	by, to, note, hb, ok := c.handoffForm(w, r, si)
	if !ok {
		return
	}
	id := r.PathValue("id")
	if _, err := hb.HandOffConversation(r.Context(), by, id, to, note); err != nil {
		c.engineError(w, r, c.view(r, si), err)
		return
	}
	c.log.Info("console handed a conversation over", "conversation_id", id, "agent", si.agent, "to", to)
	c.done200(w, r, localPath(r.PostForm.Get("return"), "/console/conversations/"+url.PathEscape(id)), map[string]any{"conversation": id})
}
