package console

import (
	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
)

// button is a card's button as the console shows it.
type button struct {
	ActionID string
	Label    string
	Style    remote.Style
	// Opens marks a start button whose answer carries the technician's
	// link (TechnicianLinks): the page opens a tab for it in the click.
	Opens bool
}

// buttons adapts the buttons of session s's card to the console. The
// card's Close says there what it does, since the remote-session dialog
// also has Done, which only closes the dialog: "Revoke code" while the
// code works, "Cancel session" for a customer who waits. An expired code
// has nothing to close, so it has no Close. The start buttons open the
// technician's link when the provider hands one.
func (c *Console) buttons(v *view, s *core.Session, in []remote.Button) []button {
	out := make([]button, 0, len(in))
	for _, b := range in {
		cb := button{ActionID: b.ActionID, Label: b.Label, Style: b.Style}
		switch b.ActionID {
		case remote.ActionClose:
			switch s.State {
			case core.StateIssued, core.StateSent:
				cb.Label = v.T("console.card.revoke")
			case core.StateWaiting:
				cb.Label = v.T("console.card.cancel")
			case core.StateExpired:
				continue
			}
		case remote.ActionStartControl, remote.ActionStartView:
			cb.Opens = c.links
		}
		out = append(out, cb)
	}
	return out
}

// technicianLink returns the link through which the technician of an
// active session reaches the customer's computer (MeshCentral's share),
// and what to call it, for the agent who started the session alone:
// whoever has the link reaches the computer. It is "" for anyone else.
func technicianLink(v *view, s *core.Session) (link, label string) {
	if s.State != core.StateActive || s.TechnicianURL == "" || v.Agent == "" || s.Technician != v.Agent {
		return "", ""
	}
	if s.Mode == core.ModeControl {
		return s.TechnicianURL, v.T("console.card.open_control")
	}
	return s.TechnicianURL, v.T("console.card.open_view")
}
