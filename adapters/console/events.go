package console

import (
	"net/http"
	"strings"
	"time"

	"github.com/assistbot/assistbot/adapters/web"
	"github.com/assistbot/assistbot/core"
)

// consoleBuffer is the hub buffer of a console page's stream: it follows
// everything.
const consoleBuffer = 64

// consoleEvent is what the console's script learns of an update: enough
// to know which parts of the page to reload, and whether to alert.
type consoleEvent struct {
	Kind           string         `json:"kind"` // session, message, conversation, delivery
	SessionID      string         `json:"session_id,omitempty"`
	ConversationID string         `json:"conversation_id,omitempty"`
	State          core.State     `json:"state,omitempty"`
	Action         core.Action    `json:"action,omitempty"`
	Direction      core.Direction `json:"direction,omitempty"`
	// Alert, set when a customer starts waiting, is the sentence of the
	// sound's notification: "Customer is waiting (computer)."
	Alert string `json:"alert,omitempty"`
}

// handleEvents streams the engine's updates to a signed-in console page.
// When the hub drops the stream for falling behind, the stream
// subscribes again and sends "resync", and the page reloads everything
// it shows, so that nothing missed stays missing. The stream ends with
// "signout" when the sign-in ends.
func (c *Console) handleEvents(w http.ResponseWriter, r *http.Request, si *signIn) {
	lang := c.catalog.Match(r.Header.Get("Accept-Language"))
	updates, cancel := c.subscribe(consoleBuffer)
	defer func() { cancel() }()
	gone := si.ended()
	out := web.StartEvents(w)
	ping := time.NewTicker(c.keepalive)
	defer ping.Stop()
	for {
		var err error
		select {
		case <-r.Context().Done():
			return
		case <-c.done:
			return
		case <-gone:
			_ = out.Send("signout", map[string]string{"signin": "/console/login"})
			return
		case <-ping.C:
			err = out.Ping()
		case u, ok := <-updates:
			if !ok {
				updates, cancel = c.subscribe(consoleBuffer)
				err = out.Send("resync", struct{}{})
				break
			}
			if ev, ok := c.consoleEvent(u, lang); ok {
				err = out.Send("update", ev)
			}
		}
		if err != nil {
			return
		}
	}
}

// consoleEvent describes update u for the console.
func (c *Console) consoleEvent(u core.Update, lang string) (consoleEvent, bool) {
	switch {
	case u.Message != nil:
		return consoleEvent{Kind: "message", ConversationID: u.Message.ConversationID, Direction: u.Message.Direction}, true
	case u.Event != nil && u.Session != nil:
		ev := consoleEvent{Kind: "session", SessionID: u.Session.ID, ConversationID: u.Session.ConversationID,
			State: u.Session.State, Action: u.Event.Action}
		if u.Event.Action == core.ActionJoin && u.Session.State == core.StateWaiting {
			device := strings.TrimSpace(string(u.Session.Device))
			if !core.Device(device).Valid() {
				device = string(core.DeviceUnknown)
			}
			ev.Alert = c.catalog.T(lang, "alert.waiting", "device", c.catalog.T(lang, "device."+device))
		}
		// A customer left waiting chimes again; so does a link nobody
		// opened, for the agent who sent it.
		if d := u.Delivery; d != nil && d.Notice.Kind == core.NoticeReminder {
			ev.Alert = c.bot.Reminder(d.Notice, lang)
		}
		return ev, true
	case u.Delivery != nil:
		return consoleEvent{Kind: "delivery", SessionID: u.Delivery.SessionID, ConversationID: u.Delivery.ConversationID}, true
	case u.Conversation != nil:
		return consoleEvent{Kind: "conversation", ConversationID: u.Conversation.ID}, true
	}
	return consoleEvent{}, false
}
