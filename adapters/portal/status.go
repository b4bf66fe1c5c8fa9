package portal

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"

	"github.com/assistbot/assistbot/adapters/web"
	"github.com/assistbot/assistbot/core"
)

// The phases of a session as its customer sees it: what is true for them
// at that moment. Each page and the state its script follows (see
// handleState) is rendered from one of them.
const (
	phaseInvited = "invited" // the PIN is live: nobody has joined yet
	phaseWaiting = "waiting" // joined; the technician has been alerted
	phaseShare   = "share"   // the technician watches what the customer shares (builtin)
	phaseControl = "control" // started in remote control, once the customer accepts
	phaseView    = "view"    // started view only, once the customer accepts
	phaseActive  = "active"  // started, with no way to share on this page
	phaseEnded   = "ended"
	phaseClosed  = "closed"
	phaseExpired = "expired"
)

// phase returns what is true for the customer of s now, and the catalog
// key of the sentence that says so. The share page's script refines the
// share phase as the customer shares, stops and the session ends.
func (p *Portal) phase(s *core.Session) (phase, key string) {
	switch s.State {
	case core.StateIssued, core.StateSent:
		return phaseInvited, "portal.landing.intro"
	case core.StateWaiting:
		if s.CustomerURL != "" {
			// The provider reported the customer's program connected.
			return phaseWaiting, "portal.status.waiting_program"
		}
		return phaseWaiting, "portal.status.waiting"
	case core.StateActive:
		switch {
		case p.shareable(s):
			if s.Device == core.DeviceMobile {
				return phaseShare, "share.ready_camera"
			}
			return phaseShare, "share.ready_screen"
		case s.Mode == core.ModeControl:
			return phaseControl, "portal.status.active_control"
		case p.engine.Supports(core.ModeControl):
			return phaseView, "portal.status.active_view"
		}
		return phaseActive, "portal.status.active_noshare"
	case core.StateEnded:
		return phaseEnded, "portal.status.ended"
	case core.StateClosed:
		return phaseClosed, "portal.status.closed"
	}
	return phaseExpired, "portal.status.expired"
}

// handleStatus shows the customer where their session stands: the share
// page while the technician watches what they share, and otherwise a
// page that follows the session until it is over. Only the browser that
// joined may see it, or, for a session whose provider connects the
// customer on its own page, whoever holds its link (?k=, the links'
// proof): anyone else gets the same answer as a wrong PIN.
func (p *Portal) handleStatus(w http.ResponseWriter, r *http.Request) {
	sess, proof, err := p.visitor(r)
	if core.ErrorCode(err) == core.CodeNotFound {
		p.enter(w, r, http.StatusNotFound, "portal.error.unknown")
		return
	}
	if err != nil {
		p.failure(w, r, err)
		return
	}
	v := p.statusView(r, sess, proof)
	page := p.pages.status
	if v.Program != nil {
		page = p.pages.program
	}
	p.render(w, r, http.StatusOK, page, v)
}

// statusView is the view of sess's page for r; proof, when set, is how
// the page was opened (a link, not a cookie), and the page follows the
// session under it.
func (p *Portal) statusView(r *http.Request, sess *core.Session, proof string) *view {
	v := p.view(r, sess.Locale)
	v.State = sess.State
	v.Phase, v.Message = p.phase(sess)
	switch v.Phase {
	case phaseShare:
		// The share page keeps itself up to date over its socket; a
		// reload would end the share. Without script there is no share,
		// and the page reloads (in <noscript>) to follow the session.
		v.Refresh = true
		v.Share = p.shareView(v, sess)
		if h, err := p.newHandoffView(sess); err == nil {
			v.Handoff = h
		} else {
			p.log.Warn("handoff link", "session_id", sess.ID, "err", err)
		}
		return v
	case phaseEnded, phaseClosed, phaseExpired:
		return v
	case phaseInvited:
		if sess.CustomerURL != "" {
			v.PIN, v.Program = sess.PIN, newProgramView(sess, r.UserAgent())
		}
	}
	v.Refresh = true
	if proof != "" || sess.CustomerURL == "" {
		v.Follow = p.followView(sess, v.Phase, proof)
	}
	return v
}

// followView is what status.js needs to follow a page's session: where
// to ask for its phase, the phase the page shows, and the page to load
// when that changed.
type followView struct {
	State  string `json:"state"`
	Page   string `json:"page"`
	Phase  string `json:"phase"`
	Script string `json:"-"`
}

func (p *Portal) followView(s *core.Session, phase, proof string) *followView {
	f := &followView{State: p.StatusPath(s.ID) + "/state", Page: p.StatusPath(s.ID), Phase: phase, Script: p.assets.URL("status.js")}
	if proof != "" {
		q := "?k=" + url.QueryEscape(proof)
		f.State, f.Page = f.State+q, f.Page+q
	}
	return f
}

// programView is the page of a session whose provider connects the
// customer's device with a program from its own page (MeshCentral): what
// the program does and a way there, on the devices it exists for.
type programView struct {
	// URL is the provider's page for the customer's code.
	URL string
	// Desktop shows the computer's explanation, Android the one for
	// Android phones and tablets (view only), IOS that iPhones and iPads
	// cannot be helped this way. A browser that does not say what it runs
	// on gets all three.
	Desktop, Android, IOS bool
}

func newProgramView(s *core.Session, userAgent string) *programView {
	v := &programView{URL: s.CustomerURL}
	switch detectDevice(userAgent) {
	case core.DeviceDesktop:
		v.Desktop = true
	case core.DeviceMobile:
		v.Android = strings.Contains(userAgent, "Android")
		v.IOS = !v.Android && (strings.Contains(userAgent, "iPhone") || strings.Contains(userAgent, "iPad") || strings.Contains(userAgent, "iPod"))
		if !v.Android && !v.IOS {
			v.Android, v.IOS = true, true
		}
	default:
		v.Desktop, v.Android, v.IOS = true, true, true
	}
	return v
}

// handleState answers status.js with the phase of the page's session:
// {"phase":"waiting"}. It is authorised as the page is.
func (p *Portal) handleState(w http.ResponseWriter, r *http.Request) {
	sess, _, err := p.visitor(r)
	if core.ErrorCode(err) == core.CodeNotFound {
		web.WriteError(w, http.StatusNotFound, core.CodeNotFound, "no such session in this browser")
		return
	}
	if err != nil {
		code := core.ErrorCode(err)
		web.LogFailure(p.log, r, web.StatusOf(code), err)
		web.WriteError(w, web.StatusOf(code), code, "the session cannot be read now; try again")
		return
	}
	phase, _ := p.phase(sess)
	web.WriteJSON(w, http.StatusOK, map[string]string{"phase": phase})
}

// visitor returns the session of r's path if r may see it: the browser
// that joined it (its cookie), or, for a session without Start (its
// provider connects the customer on its own page), a request with the
// proof of its links in ?k=, which it returns. Anyone else gets a
// CodeNotFound error.
func (p *Portal) visitor(r *http.Request) (*core.Session, string, error) {
	sess, err := p.Customer(r)
	if err == nil || core.ErrorCode(err) != core.CodeNotFound {
		return sess, "", err
	}
	proof := r.URL.Query().Get("k")
	if proof == "" || p.links == nil {
		return nil, "", err
	}
	s, serr := p.session(r.Context(), r.PathValue("id"))
	if core.ErrorCode(serr) == core.CodeNotFound {
		return nil, "", err
	}
	if serr != nil {
		return nil, "", serr
	}
	if s.CustomerURL == "" || !p.proven(r.Context(), s, proof) {
		return nil, "", err
	}
	return s, proof, nil
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
	sess, err := p.session(r.Context(), r.PathValue("id"))
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

// shareKeys are the texts share.js shows, by the names it uses: the
// share.* key of each, unless it names another.
var shareKeys = map[string]string{
	"start_screen": "", "start_camera": "", "sharing_screen": "", "sharing_camera": "", "stopped": "",
	"declined": "", "denied": "", "unavailable": "", "waiting_technician": "", "reconnecting": "",
	"technician_left": "", "ended": "", "replaced": "", "explain_screen": "", "explain_camera": "",
	"ready_screen": "", "ready_camera": "", "not_sharing": "",
	"session_ended": "portal.status.ended",
}

// shareView returns the share part of sess's status page in v's language.
func (p *Portal) shareView(v *view, sess *core.Session) *shareView {
	camera := sess.Device == core.DeviceMobile
	text := make(map[string]string, len(shareKeys))
	for name, key := range shareKeys {
		if key == "" {
			key = "share." + name
		}
		text[name] = v.T(key)
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
