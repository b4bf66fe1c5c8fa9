package console

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/assistbot/assistbot/adapters/web"
	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
)

// maxClientID caps the id a script gives a message so that a retried
// request is recorded once.
const maxClientID = 64

// handleRemote is the conversation's "Remote support" button: it opens
// the remote-session dialog on the conversation's session that is still
// open, or issues a new one. Without a script the browser goes to the
// session's page, which shows the same card.
func (c *Console) handleRemote(w http.ResponseWriter, r *http.Request, si *signIn) {
	v := c.view(r, si)
	ctx := r.Context()
	conv, err := c.engine.Conversation(ctx, r.PathValue("id"))
	if err != nil {
		c.engineError(w, r, v, err)
		return
	}
	var s *core.Session
	open, err := c.engine.Sessions(ctx, core.SessionFilter{ConversationID: conv.ID,
		States: []core.State{core.StateIssued, core.StateSent, core.StateWaiting, core.StateActive}, Limit: 1})
	switch {
	case err != nil:
		c.engineError(w, r, v, err)
		return
	case len(open) > 0:
		s = open[0]
	default:
		s, _, err = c.engine.Issue(ctx, core.Request{ConversationID: conv.ID, Agent: si.agent})
		if err != nil {
			c.engineError(w, r, v, err)
			return
		}
		c.log.Info("console issued a session", "session_id", s.ID, "conversation_id", conv.ID, "agent", si.agent)
	}
	c.done200(w, r, "/console/sessions/"+url.PathEscape(s.ID), map[string]any{
		"session": s.ID,
		"card":    "/console/sessions/" + url.PathEscape(s.ID) + "/card?dialog=1",
	})
}

// handleAct performs a card button: send a link, generate another code,
// close, start in a mode, end. Any signed-in agent may act on any
// session: the console's agents are the support team. A start whose
// provider hands the technician a link (MeshCentral) answers it to the
// page's script, which opens it; without a script the browser goes to
// the session's page, which shows it to that technician.
func (c *Console) handleAct(w http.ResponseWriter, r *http.Request, si *signIn) {
	v := c.view(r, si)
	if err := r.ParseForm(); err != nil {
		c.fail(w, r, http.StatusBadRequest, "console.error.form")
		return
	}
	action := r.PostForm.Get("action")
	if !strings.HasPrefix(action, "remote.") {
		c.fail(w, r, http.StatusBadRequest, "console.error.form")
		return
	}
	id := r.PathValue("id")
	res, err := c.bot.Act(r.Context(), core.Actor{Kind: core.ActorAgent, Name: si.agent}, action, id)
	if err != nil {
		if start := action == remote.ActionStartControl || action == remote.ActionStartView; start && core.ErrorCode(err) == core.CodeUnavailable {
			c.notStarted(w, r, v, err)
			return
		}
		c.engineError(w, r, v, err)
		return
	}
	next := localPath(r.PostForm.Get("return"), "/console/sessions/"+url.PathEscape(id))
	body := map[string]any{"session": id, "dismissed": res.Dismissed}
	if res.Session != nil {
		if link, _ := technicianLink(v, res.Session); link != "" {
			body["open"] = link
			next = "/console/sessions/" + url.PathEscape(id)
		}
	}
	c.done200(w, r, next, body)
}

// notStarted answers a start that the provider could not make now: its
// own words say why (MeshCentral: "the customer's device is still
// connecting; try again in a moment"), not that the whole service is
// down; a wait it asked for goes in Retry-After.
func (c *Console) notStarted(w http.ResponseWriter, r *http.Request, v *view, err error) {
	c.log.Warn("console start refused by the provider", "session_id", r.PathValue("id"), "err", err)
	msg := core.ErrorMessage(err)
	if msg == "" || msg == "internal error" {
		c.failText(w, r, http.StatusServiceUnavailable, c.bot.ErrorText(err, v.Lang))
		return
	}
	if d, ok := core.RetryAfter(err); ok {
		w.Header().Set("Retry-After", web.RetryAfter(d))
	}
	c.failText(w, r, http.StatusServiceUnavailable, v.T("console.start.not_started", "reason", msg))
}

// handleWatch makes the signed-in agent the technician who watches an
// active session's shared screen: one started in Slack, Discord or by a
// colleague. Whoever watched before is disconnected and told.
func (c *Console) handleWatch(w http.ResponseWriter, r *http.Request, si *signIn) {
	v := c.view(r, si)
	id := r.PathValue("id")
	before, err := c.engine.Session(r.Context(), id)
	if err != nil {
		c.engineError(w, r, v, err)
		return
	}
	// Only a screen the console shows is watched here. A provider's own
	// link (MeshCentral) is the technician's who started: taking the
	// session over must not hand it to someone else.
	if !c.viewable(before) {
		c.fail(w, r, http.StatusConflict, "console.watch.elsewhere")
		return
	}
	s, err := c.engine.Watch(r.Context(), id, core.Actor{Kind: core.ActorAgent, Name: si.agent})
	if err != nil {
		c.engineError(w, r, v, err)
		return
	}
	if before.Technician != s.Technician && c.screen != nil {
		c.screen.TechnicianChanged(s.ID)
	}
	c.done200(w, r, "/console/sessions/"+url.PathEscape(id), map[string]any{"session": id})
}

// handleReply sends the agent's reply to the conversation's customer.
func (c *Console) handleReply(w http.ResponseWriter, r *http.Request, si *signIn) {
	v := c.view(r, si)
	if err := r.ParseForm(); err != nil {
		c.fail(w, r, http.StatusBadRequest, "console.error.form")
		return
	}
	text := strings.TrimSpace(r.PostForm.Get("text"))
	switch {
	case text == "" || !utf8.ValidString(text):
		c.fail(w, r, http.StatusBadRequest, "console.reply.empty")
		return
	case utf8.RuneCountInString(text) > core.MaxMessageRunes:
		c.fail(w, r, http.StatusBadRequest, "console.reply.too_long")
		return
	}
	id := r.PathValue("id")
	source := ""
	if cid := clientID(r.PostForm.Get("id")); cid != "" {
		source = "console:" + cid
	}
	_, _, err := c.engine.AgentMessage(r.Context(), id, core.Actor{Kind: core.ActorAgent, Name: si.agent}, text, source)
	if err != nil && !errors.Is(err, core.ErrDuplicate) {
		c.engineError(w, r, v, err)
		return
	}
	c.done200(w, r, localPath(r.PostForm.Get("return"), "/console/conversations/"+url.PathEscape(id)), map[string]any{"conversation": id})
}

// handleCloseConversation ends a conversation; the customer's next
// message opens a new one.
func (c *Console) handleCloseConversation(w http.ResponseWriter, r *http.Request, si *signIn) {
	v := c.view(r, si)
	id := r.PathValue("id")
	if _, err := c.engine.CloseConversation(r.Context(), id, core.Actor{Kind: core.ActorAgent, Name: si.agent}); err != nil {
		c.engineError(w, r, v, err)
		return
	}
	c.log.Info("console closed a conversation", "conversation_id", id, "agent", si.agent)
	c.done200(w, r, "/console", map[string]any{"conversation": id})
}

// done200 answers a successful action: JSON for the page's script, a
// redirect to next for a plain form.
func (c *Console) done200(w http.ResponseWriter, r *http.Request, next string, body map[string]any) {
	if web.Fetched(r) {
		web.WriteJSON(w, http.StatusOK, body)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// clientID returns the id a script gave a message, if it is a short
// token of letters, digits and dashes.
func clientID(s string) string {
	if s == "" || len(s) > maxClientID {
		return ""
	}
	for _, r := range s {
		if !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return ""
		}
	}
	return s
}
