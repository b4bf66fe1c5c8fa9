package portal

import (
	"crypto/subtle"
	"net/http"
	"net/url"

	"github.com/assistbot/assistbot/core"
)

// handleStatus shows the customer where their session stands. Only the
// browser that joined may see it: anyone else gets the same answer as a
// wrong PIN.
func (p *Portal) handleStatus(w http.ResponseWriter, r *http.Request) {
	sess, err := p.Customer(r)
	if core.ErrorCode(err) == core.CodeNotFound {
		p.enter(w, r, http.StatusNotFound, "portal.error.unknown")
		return
	}
	if err != nil {
		p.failure(w, r, err)
		return
	}
	v := p.view(r, sess.Locale)
	v.State = sess.State
	switch sess.State {
	case core.StateActive:
		v.Message, v.Refresh = "portal.status.active_control", true
		if sess.Mode == core.ModeView {
			v.Message = "portal.status.active_view"
		}
		if p.shareable(sess) {
			// The share page keeps itself up to date over its socket; a
			// reload would end the share.
			v.Refresh, v.Share = false, p.shareView(v, sess)
			if h, err := p.newHandoffView(sess); err == nil {
				v.Handoff = h
			} else {
				p.log.Warn("handoff link", "session_id", sess.ID, "err", err)
			}
		}
	case core.StateEnded:
		v.Message = "portal.status.ended"
	case core.StateClosed:
		v.Message = "portal.status.closed"
	case core.StateExpired:
		v.Message = "portal.status.expired"
	default:
		// Waiting; a joined session cannot be issued or sent again.
		v.Message, v.Refresh = "portal.status.waiting", true
	}
	p.render(w, r, http.StatusOK, p.pages.status, v)
}

// StatusPath returns the path of session id's status page: the
// customer's page, and their share page while the technician views.
func (p *Portal) StatusPath(id string) string { return "/s/" + url.PathEscape(id) }

// Customer returns the session of r's path ({id}) if r carries the cookie
// of the browser that joined it: the check of the customer's status page,
// and of the customer's signaling socket. Anyone else gets a CodeNotFound
// error, the same answer as a wrong PIN.
func (p *Portal) Customer(r *http.Request) (*core.Session, error) {
	unknown := core.Errorf(core.CodeNotFound, "no such session")
	c, err := r.Cookie(cookieName)
	if err != nil {
		return nil, unknown
	}
	sess, err := p.engine.Session(r.Context(), r.PathValue("id"))
	if core.ErrorCode(err) == core.CodeNotFound {
		return nil, unknown
	}
	if err != nil {
		return nil, err
	}
	key := core.SecretKey(c.Value)
	if sess.CustomerKey == "" || subtle.ConstantTimeCompare([]byte(key), []byte(sess.CustomerKey)) != 1 {
		return nil, unknown
	}
	return sess, nil
}

// shareable reports whether s's screen can be shared now.
func (p *Portal) shareable(s *core.Session) bool {
	return p.share != nil && p.share.Shareable(s)
}

// shareView is what the customer's status page needs to offer a share.
type shareView struct {
	// Camera: the page offers the camera first (a phone or tablet).
	Camera bool
	// Script is share.js's versioned URL.
	Script string
	Config shareConfig
}

// shareConfig travels to share.js in the page's JSON data block.
type shareConfig struct {
	Signal     string            `json:"signal"`
	Handoff    string            `json:"handoff"`
	ICEServers []ICEServer       `json:"iceServers"`
	Policy     string            `json:"iceTransportPolicy"`
	Camera     bool              `json:"camera"`
	Text       map[string]string `json:"text"`
}

// shareKeys are the texts share.js shows, by the names it uses.
var shareKeys = []string{
	"start_screen", "start_camera", "sharing_screen", "sharing_camera", "stopped", "declined",
	"denied", "unavailable", "waiting_technician", "reconnecting", "technician_left", "ended",
	"replaced", "explain_screen", "explain_camera",
}

// shareView returns the share part of sess's status page in v's language.
func (p *Portal) shareView(v *view, sess *core.Session) *shareView {
	camera := sess.Device == core.DeviceMobile
	text := make(map[string]string, len(shareKeys))
	for _, k := range shareKeys {
		text[k] = v.T("share." + k)
	}
	return &shareView{
		Camera: camera,
		Script: p.assets.URL("share.js"),
		Config: shareConfig{
			Signal:     p.share.CustomerSignal(sess.ID),
			Handoff:    "/s/" + sess.ID + "/handoff",
			ICEServers: p.ice(),
			Policy:     p.icePolicy(),
			Camera:     camera,
			Text:       text,
		},
	}
}

// icePolicy is RTCPeerConnection's iceTransportPolicy for the share.
func (p *Portal) icePolicy() string {
	if p.relayOnly {
		return "relay"
	}
	return "all"
}

// ice returns the ICE servers to hand the page, never nil, so that the
// page's JSON always holds a list.
func (p *Portal) ice() []ICEServer {
	if p.iceServers == nil {
		return []ICEServer{}
	}
	if s := p.iceServers(); s != nil {
		return s
	}
	return []ICEServer{}
}
