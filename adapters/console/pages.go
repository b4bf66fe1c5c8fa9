package console

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/assistbot/assistbot/adapters/web"
	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
)

// cardView is a session's card as the console shows it: on the session's
// page, and in the remote-session dialog of its conversation.
type cardView struct {
	remote.Card
	// Buttons are the card's buttons as the console shows them; they
	// stand in for the card's own.
	Buttons        []button
	ConversationID string
	// Dialog is set when the card is the remote-session dialog's body:
	// it then has a button that only hides the dialog.
	Dialog bool
	// Viewable: the console shows the session's screen when it is active
	// (the builtin provider); Technician is who may watch it.
	Viewable   bool
	Technician string
	// TechnicianURL, shown to the technician who started the session
	// alone, is the provider's link to the customer's computer, with its
	// label ("Open remote control").
	TechnicianURL   string
	TechnicianLabel string
}

// eventLine is one entry of a session's event log.
type eventLine struct {
	At     time.Time
	Actor  string
	Action string
	From   string
	To     string
	Detail string
}

// handleHome shows the queue and the open conversations.
func (c *Console) handleHome(w http.ResponseWriter, r *http.Request, si *signIn) {
	v := c.view(r, si)
	v.Title, v.Return = v.T("console.queue.title"), "/console"
	var err error
	if v.Queue, err = c.queue(r.Context(), v); err == nil {
		v.Conversations, err = c.conversations(r.Context(), v)
	}
	if err != nil {
		c.engineError(w, r, v, err)
		return
	}
	v.Snippet = c.snippet
	c.render(w, r, http.StatusOK, "console_home", v)
}

// handleQueue renders the queue alone, for the page's script to swap in.
func (c *Console) handleQueue(w http.ResponseWriter, r *http.Request, si *signIn) {
	v := c.view(r, si)
	v.Return = localPath(r.URL.Query().Get("return"), "/console")
	var err error
	if v.Queue, err = c.queue(r.Context(), v); err != nil {
		c.engineError(w, r, v, err)
		return
	}
	c.render(w, r, http.StatusOK, "console_queue", v)
}

// handleConversations renders the list of open conversations alone.
func (c *Console) handleConversations(w http.ResponseWriter, r *http.Request, si *signIn) {
	v := c.view(r, si)
	var err error
	if v.Conversations, err = c.conversations(r.Context(), v); err != nil {
		c.engineError(w, r, v, err)
		return
	}
	c.render(w, r, http.StatusOK, "console_conversations", v)
}

// handleConversation shows one conversation: its transcript, the reply
// box, its sessions and the remote-support button.
func (c *Console) handleConversation(w http.ResponseWriter, r *http.Request, si *signIn) {
	v := c.view(r, si)
	if err := c.loadConversation(r.Context(), v, r.PathValue("id")); err != nil {
		c.engineError(w, r, v, err)
		return
	}
	v.Title, v.Return = v.Conv.Heading, "/console/conversations/"+v.Conv.ID
	v.ListSessions = true
	c.render(w, r, http.StatusOK, "console_conversation", v)
}

// handleTranscript renders a conversation's transcript and sessions
// alone; ?sessions=0 leaves the sessions out (a session's page).
func (c *Console) handleTranscript(w http.ResponseWriter, r *http.Request, si *signIn) {
	v := c.view(r, si)
	if err := c.loadConversation(r.Context(), v, r.PathValue("id")); err != nil {
		c.engineError(w, r, v, err)
		return
	}
	v.ListSessions = r.URL.Query().Get("sessions") != "0"
	v.Return = "/console/conversations/" + v.Conv.ID
	c.render(w, r, http.StatusOK, "console_transcript", v)
}

func (c *Console) loadConversation(ctx context.Context, v *view, id string) error {
	conv, err := c.engine.Conversation(ctx, id)
	if err != nil {
		return err
	}
	v.Conv = c.convHeader(v, conv)
	lines, sessions, err := c.transcript(ctx, v, conv)
	if err != nil {
		return err
	}
	v.Lines, v.Sessions = lines, sessionLines(v, sessions)
	return nil
}

// handleSession shows a session: its card, the customer's shared screen
// (the builtin provider), the conversation to chat beside it, and the
// event log.
func (c *Console) handleSession(w http.ResponseWriter, r *http.Request, si *signIn) {
	v := c.view(r, si)
	if err := c.loadCard(r.Context(), v, r.PathValue("id"), false); err != nil {
		c.engineError(w, r, v, err)
		return
	}
	if err := c.loadLog(r.Context(), v, r.PathValue("id")); err != nil {
		c.engineError(w, r, v, err)
		return
	}
	conv, err := c.engine.Conversation(r.Context(), v.Card.ConversationID)
	if err != nil {
		c.engineError(w, r, v, err)
		return
	}
	v.Conv = c.convHeader(v, conv)
	lines, sessions, err := c.transcript(r.Context(), v, conv)
	if err != nil {
		c.engineError(w, r, v, err)
		return
	}
	v.Lines, v.Sessions = lines, sessionLines(v, sessions)
	if v.Card.Viewable {
		v.Viewer = c.viewerConfig(v)
	}
	v.Title, v.Return = v.Card.Title+" · "+v.Card.StateLabel, "/console/sessions/"+v.Card.SessionID
	c.render(w, r, http.StatusOK, "console_session", v)
}

// viewerConfig is what viewer.js needs: the texts it shows and the ICE
// servers of the share.
func (c *Console) viewerConfig(v *view) *viewerConfig {
	text := make(map[string]string, len(viewerKeys))
	for _, k := range viewerKeys {
		text[k] = v.T("share.view." + k)
	}
	return &viewerConfig{Signal: c.screen.TechnicianSignal(v.Card.SessionID), ICEServers: c.ice(), Policy: c.icePolicy(), Text: text}
}

// icePolicy is RTCPeerConnection's iceTransportPolicy for the viewer.
func (c *Console) icePolicy() string {
	if c.relayOnly {
		return "relay"
	}
	return "all"
}

// ice returns the ICE servers to hand the viewer, never nil, so that the
// page's JSON always holds a list.
func (c *Console) ice() []ICEServer {
	if c.iceServers == nil {
		return []ICEServer{}
	}
	if s := c.iceServers(); s != nil {
		return s
	}
	return []ICEServer{}
}

// viewerConfig travels to viewer.js in the session page's JSON data block.
type viewerConfig struct {
	// Signal is the path of the technician's signaling socket, in the
	// page's markup rather than the JSON.
	Signal     string            `json:"-"`
	ICEServers []ICEServer       `json:"iceServers"`
	Policy     string            `json:"iceTransportPolicy"`
	Text       map[string]string `json:"text"`
}

// viewerKeys are the texts viewer.js shows, by the names it uses.
var viewerKeys = []string{
	"waiting", "connecting", "live_screen", "live_camera", "stopped", "declined", "denied", "unavailable",
	"away", "gone", "ended", "reconnecting", "forbidden", "replaced", "stats", "direct", "relayed",
}

// handleCard renders a session's card alone; ?dialog=1 renders it as the
// remote-session dialog's body.
func (c *Console) handleCard(w http.ResponseWriter, r *http.Request, si *signIn) {
	v := c.view(r, si)
	if err := c.loadCard(r.Context(), v, r.PathValue("id"), r.URL.Query().Get("dialog") == "1"); err != nil {
		c.engineError(w, r, v, err)
		return
	}
	v.Return = localPath(r.URL.Query().Get("return"), "/console/sessions/"+v.Card.SessionID)
	c.render(w, r, http.StatusOK, "console_card", v)
}

// handleLog renders a session's event log alone.
func (c *Console) handleLog(w http.ResponseWriter, r *http.Request, si *signIn) {
	v := c.view(r, si)
	if err := c.loadLog(r.Context(), v, r.PathValue("id")); err != nil {
		c.engineError(w, r, v, err)
		return
	}
	c.render(w, r, http.StatusOK, "console_log", v)
}

func (c *Console) loadCard(ctx context.Context, v *view, id string, dialog bool) error {
	s, err := c.engine.Session(ctx, id)
	if err != nil {
		return err
	}
	conv, err := c.engine.Conversation(ctx, s.ConversationID)
	if err != nil {
		return err
	}
	card := c.bot.Card(ctx, s, conv, v.Lang)
	v.Card = &cardView{Card: card, Buttons: c.buttons(v, s, card.Buttons), ConversationID: conv.ID, Dialog: dialog,
		Viewable: c.viewable(s), Technician: s.Technician}
	v.Card.TechnicianURL, v.Card.TechnicianLabel = technicianLink(v, s)
	return nil
}

func (c *Console) loadLog(ctx context.Context, v *view, id string) error {
	evs, err := c.engine.Events(ctx, id)
	if err != nil {
		return err
	}
	v.Log = make([]eventLine, 0, len(evs))
	for _, e := range evs {
		l := eventLine{At: e.At, Actor: actorText(v, e.Actor), Action: string(e.Action), To: v.T("state." + string(e.To)), Detail: e.Detail}
		if key := "console.action." + string(e.Action); c.catalog.Has(key) {
			l.Action = v.T(key)
		}
		if e.From != "" && e.From != e.To {
			l.From = v.T("state." + string(e.From))
		}
		v.Log = append(v.Log, l)
	}
	return nil
}

// actorText renders an event's "kind:name" actor: "Agent alice".
func actorText(v *view, actor string) string {
	kind, name, _ := strings.Cut(actor, ":")
	switch core.ActorKind(kind) {
	case core.ActorAgent, core.ActorTechnician, core.ActorCustomer, core.ActorProvider, core.ActorSystem:
		return strings.TrimSpace(v.T("console.actor."+kind, "name", name))
	}
	return actor
}

// engineError answers an engine error in the agent's language: the bot's
// sentence for its code, with the status the API would use. Server
// failures are logged here, once.
func (c *Console) engineError(w http.ResponseWriter, r *http.Request, v *view, err error) {
	status := web.StatusOf(core.ErrorCode(err))
	if status >= 500 {
		attrs := []any{"route", r.Pattern, "err", err}
		if id := r.PathValue("id"); id != "" {
			key := "session_id"
			if strings.Contains(r.Pattern, "/conversations/") {
				key = "conversation_id"
			}
			attrs = append(attrs, key, id)
		}
		c.log.Error("console request failed", attrs...)
	}
	c.failText(w, r, status, c.bot.ErrorText(err, v.Lang))
}
