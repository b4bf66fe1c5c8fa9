package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"github.com/assistbot/assistbot/core"
)

// builtinProvider is the name of the provider whose sessions assistbot
// shows itself, by screen or camera sharing.
const builtinProvider = "builtin"

// Limits of a signaling connection: ICE candidates come in bursts of a
// few dozen, so the burst is generous and the steady rate is not.
const (
	signalRate     = 20 // messages per second
	signalBurst    = 200
	signalWriteMax = 10 * time.Second
	// SignalPing spaces the pings that find dead signaling connections.
	SignalPing = 15 * time.Second
)

// ICEServer is a STUN or TURN server handed to the pages that share and
// watch, in the form RTCPeerConnection takes.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// shareable reports whether s's screen can be shared through assistbot:
// an active view-only session of the builtin provider.
func shareable(s *core.Session) bool {
	return s.Provider == builtinProvider && s.State == core.StateActive && s.Mode == core.ModeView
}

// handleCustomerSignal is the customer page's signaling socket. Only the
// browser that joined the session — the one holding its cookie — may
// open it, and only while the session is being viewed.
func (c *Console) handleCustomerSignal(w http.ResponseWriter, r *http.Request) {
	sess, err := c.s.customerSession(r)
	if err != nil {
		if core.ErrorCode(err) == core.CodeNotFound {
			writeError(w, http.StatusNotFound, core.CodeNotFound, "no such session in this browser")
			return
		}
		c.s.logError(r, http.StatusServiceUnavailable, err)
		writeError(w, http.StatusServiceUnavailable, core.CodeUnavailable, "try again in a moment")
		return
	}
	if !shareable(sess) {
		writeError(w, http.StatusConflict, core.CodeInvalidTransition, "screen sharing is not open for this session")
		return
	}
	c.serveSignal(w, r, sess.ID, newPeer(roleCustomer), nil)
}

// handleTechnicianSignal is the console's signaling socket: only the
// technician who started the session may watch it.
func (c *Console) handleTechnicianSignal(w http.ResponseWriter, r *http.Request, si *signIn) {
	sess, err := c.engine.Session(r.Context(), r.PathValue("id"))
	switch {
	case core.ErrorCode(err) == core.CodeNotFound:
		writeError(w, http.StatusNotFound, core.CodeNotFound, "no such session")
		return
	case err != nil:
		c.s.logError(r, http.StatusServiceUnavailable, err)
		writeError(w, http.StatusServiceUnavailable, core.CodeUnavailable, "try again in a moment")
		return
	case sess.Technician != si.agent:
		writeError(w, http.StatusForbidden, core.CodeUnauthorized,
			fmt.Sprintf("only the technician who started this session (%s) can watch it", sess.Technician))
		return
	case !shareable(sess):
		writeError(w, http.StatusConflict, core.CodeInvalidTransition, "screen sharing is not open for this session")
		return
	}
	c.serveSignal(w, r, sess.ID, newPeer(roleTechnician), si.gone)
}

// serveSignal upgrades r to a WebSocket and relays p's messages until it
// closes. signedOut, when not nil, closes the socket with the sign-in.
func (c *Console) serveSignal(w http.ResponseWriter, r *http.Request, id string, p *peer, signedOut <-chan struct{}) {
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: c.origins})
	if err != nil {
		return // Accept has answered: a bad handshake or a foreign origin
	}
	// The request's context ends when the handler returns; the socket
	// lives in its own, ended by the console's shutdown.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The library's own limit is twice ours: a message between the two
	// is read whole and refused by us with a clean close handshake; one
	// larger is cut off by the library, whose close may reach the page
	// as an abnormal closure while it is still sending.
	conn.SetReadLimit(2 * maxSignalBytes)
	c.s.metrics.shareConn(p.role, 1)
	defer c.s.metrics.shareConn(p.role, -1)
	c.hub.join(id, p)
	// The session may have ended between the check and the join, and its
	// end would then have found no room to close.
	if s, err := c.engine.Session(ctx, id); err == nil && !shareable(s) {
		c.hub.end(id, string(s.State))
	}
	written := make(chan struct{})
	go func() {
		defer close(written)
		c.writeSignals(ctx, conn, p, signedOut)
	}()
	how := c.readSignals(ctx, conn, p)
	c.hub.leave(p, how)
	p.close(closeGoingAway, "")
	<-written
}

// readSignals reads p's messages until the connection ends and says how
// it ended: dropped (the network, a closed tab) or ended by the rules.
func (c *Console) readSignals(ctx context.Context, conn *websocket.Conn, p *peer) leaving {
	limit := rate.NewLimiter(signalRate, signalBurst)
	for {
		typ, b, err := conn.Read(ctx)
		switch {
		case errors.Is(err, websocket.ErrMessageTooBig):
			// The library has closed it with 1009.
			c.s.metrics.signalRefused(refusedTooLarge)
			return leftBroken
		case websocket.CloseStatus(err) == websocket.StatusGoingAway:
			return leftClosed
		case err != nil:
			return leftDropped
		case typ != websocket.MessageText:
			c.s.metrics.signalRefused(refusedBinary)
			p.close(int(websocket.StatusUnsupportedData), "text messages only")
			return leftBroken
		case !limit.Allow():
			c.s.metrics.signalRefused(refusedRate)
			p.close(closePolicy, "too many messages")
			return leftBroken
		case len(b) > maxSignalBytes:
			c.s.metrics.signalRefused(refusedTooLarge)
			p.close(int(websocket.StatusMessageTooBig), fmt.Sprintf("%s: larger than %d bytes", errSignal, maxSignalBytes))
			return leftBroken
		}
		m, err := parseSignal(b)
		if err != nil {
			c.s.metrics.signalRefused(refusedMalformed)
			p.close(closePolicy, err.Error())
			return leftBroken
		}
		if !c.hub.handle(p, m) {
			c.s.metrics.signalRefused(refusedNotAllow)
			p.close(closePolicy, fmt.Sprintf("%s: %s is not for the %s to send", errSignal, m.Type, p.role))
			return leftBroken
		}
	}
}

// writeSignals writes what is queued for p until p is closed, then closes
// the connection with p's code and reason.
func (c *Console) writeSignals(ctx context.Context, conn *websocket.Conn, p *peer, signedOut <-chan struct{}) {
	write := func(b []byte) error {
		wctx, cancel := context.WithTimeout(ctx, signalWriteMax)
		defer cancel()
		return conn.Write(wctx, websocket.MessageText, b)
	}
	done := c.done
	ping := time.NewTicker(c.signalPing)
	defer ping.Stop()
	for {
		select {
		case <-ping.C:
			// A connection that died without a word (a phone asleep, a
			// NAT forgetting it) is found by its missing pong, and
			// proxies see traffic on an idle socket.
			pctx, cancel := context.WithTimeout(ctx, c.signalPing)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				_ = conn.CloseNow() // the read fails: the page dropped
			}
		case b := <-p.out:
			if err := write(b); err != nil {
				p.close(closeGoingAway, "")
				_ = conn.CloseNow()
				return
			}
		case <-signedOut:
			signedOut = nil
			p.send(&signal{Type: signalTypeBye, Reason: "signed_out"})
			p.close(closePolicy, "signed out")
		case <-done:
			done = nil
			p.close(closeGoingAway, "server shutting down")
		case <-p.quit:
			for drained := false; !drained; {
				select {
				case b := <-p.out:
					if write(b) != nil {
						drained = true
					}
				default:
					drained = true
				}
			}
			_ = conn.Close(websocket.StatusCode(p.code), closeReason(p.reason))
			return
		}
	}
}

// closeReason cuts reason to what a close frame holds (123 bytes),
// keeping whole characters.
func closeReason(reason string) string {
	const max = 123
	if len(reason) <= max {
		return reason
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(reason[cut]) {
		cut--
	}
	return reason[:cut]
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
func (c *Console) shareView(v *view, sess *core.Session) *shareView {
	camera := sess.Device == core.DeviceMobile
	text := make(map[string]string, len(shareKeys))
	for _, k := range shareKeys {
		text[k] = v.T("share." + k)
	}
	return &shareView{
		Camera: camera,
		Script: c.assets["share.js"],
		Config: shareConfig{
			Signal:     "/s/" + sess.ID + "/signal",
			Handoff:    "/s/" + sess.ID + "/handoff",
			ICEServers: c.ice(),
			Policy:     c.icePolicy(),
			Camera:     camera,
			Text:       text,
		},
	}
}

// icePolicy is RTCPeerConnection's iceTransportPolicy for the share.
func (c *Console) icePolicy() string {
	if c.relayOnly {
		return "relay"
	}
	return "all"
}

// ice returns the ICE servers to hand a page, never nil, so that the
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
