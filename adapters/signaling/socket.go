package signaling

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"github.com/assistbot/assistbot/adapters/web"
	"github.com/assistbot/assistbot/core"
)

// Limits of a signaling connection: ICE candidates come in bursts of a
// few dozen, so the burst is generous and the steady rate is not.
const (
	signalRate     = 20 // messages per second
	signalBurst    = 200
	signalWriteMax = 10 * time.Second
)

// The reasons Observer.SignalRefused is given.
const (
	refusedTooLarge  = "too_large"
	refusedMalformed = "malformed"
	refusedNotAllow  = "not_allowed"
	refusedRate      = "rate_limited"
	refusedBinary    = "binary"
)

// handleCustomer is the customer page's socket. Only the browser that
// joined the session — the one holding its cookie — may open it, and only
// while the session is being viewed.
func (h *Hub) handleCustomer(w http.ResponseWriter, r *http.Request) {
	sess, err := h.customer(r)
	if err != nil {
		if core.ErrorCode(err) == core.CodeNotFound {
			web.WriteError(w, http.StatusNotFound, core.CodeNotFound, "no such session in this browser")
			return
		}
		web.LogFailure(h.log, r, http.StatusServiceUnavailable, err)
		web.WriteError(w, http.StatusServiceUnavailable, core.CodeUnavailable, "try again in a moment")
		return
	}
	if !h.Shareable(sess) {
		web.WriteError(w, http.StatusConflict, core.CodeInvalidTransition, "screen sharing is not open for this session")
		return
	}
	h.serve(w, r, sess.ID, newPeer(roleCustomer, sess.CustomerKey), nil)
}

// handleTechnician is the console's socket: only the signed-in agent who
// is the session's technician may watch it.
func (h *Hub) handleTechnician(w http.ResponseWriter, r *http.Request) {
	agent, signedOut, ok := h.technician(r)
	if !ok {
		web.WriteError(w, http.StatusUnauthorized, core.CodeUnauthorized, "sign in to the console first")
		return
	}
	sess, err := h.engine.Session(r.Context(), r.PathValue("id"))
	switch {
	case core.ErrorCode(err) == core.CodeNotFound:
		web.WriteError(w, http.StatusNotFound, core.CodeNotFound, "no such session")
		return
	case err != nil:
		web.LogFailure(h.log, r, http.StatusServiceUnavailable, err)
		web.WriteError(w, http.StatusServiceUnavailable, core.CodeUnavailable, "try again in a moment")
		return
	case sess.Technician != agent:
		web.WriteError(w, http.StatusForbidden, core.CodeUnauthorized,
			fmt.Sprintf("only the technician who started this session (%s) can watch it", sess.Technician))
		return
	case !h.Shareable(sess):
		web.WriteError(w, http.StatusConflict, core.CodeInvalidTransition, "screen sharing is not open for this session")
		return
	}
	h.serve(w, r, sess.ID, newPeer(roleTechnician, sess.Technician), signedOut)
}

// serve upgrades r to a WebSocket and relays p's messages until it
// closes. signedOut, when not nil, closes the socket with the sign-in.
func (h *Hub) serve(w http.ResponseWriter, r *http.Request, id string, p *peer, signedOut <-chan struct{}) {
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: h.origins})
	if err != nil {
		return // Accept has answered: a bad handshake or a foreign origin
	}
	// The request's context ends when the handler returns; the socket
	// lives in its own, ended by Run's end.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The library's own limit is twice ours: a message between the two
	// is read whole and refused by us with a clean close handshake; one
	// larger is cut off by the library, whose close may reach the page
	// as an abnormal closure while it is still sending.
	conn.SetReadLimit(2 * maxSignalBytes)
	h.connected(p.role, 1)
	defer h.connected(p.role, -1)
	h.relay.join(id, p)
	// The session may have ended between the check and the join, and its
	// end would then have found no room to close; or someone may have
	// taken the page's place (Watch here, a move to another device), and
	// found no page to send away.
	h.relay.settle(ctx, id)
	written := make(chan struct{})
	go func() {
		defer close(written)
		h.write(ctx, conn, p, signedOut)
	}()
	how := h.read(ctx, conn, p)
	h.relay.leave(p, how)
	p.close(closeGoingAway, "")
	<-written
}

// read reads p's messages until the connection ends and says how
// it ended: dropped (the network, a closed tab) or ended by the rules.
func (h *Hub) read(ctx context.Context, conn *websocket.Conn, p *peer) leaving {
	limit := rate.NewLimiter(signalRate, signalBurst)
	for {
		typ, b, err := conn.Read(ctx)
		switch {
		case errors.Is(err, websocket.ErrMessageTooBig):
			// The library has closed it with 1009.
			h.refused(refusedTooLarge)
			return leftBroken
		case websocket.CloseStatus(err) == websocket.StatusGoingAway:
			return leftClosed
		case err != nil:
			return leftDropped
		case typ != websocket.MessageText:
			h.refused(refusedBinary)
			p.close(int(websocket.StatusUnsupportedData), "text messages only")
			return leftBroken
		case !limit.Allow():
			h.refused(refusedRate)
			p.close(closePolicy, "too many messages")
			return leftBroken
		case len(b) > maxSignalBytes:
			h.refused(refusedTooLarge)
			p.close(int(websocket.StatusMessageTooBig), fmt.Sprintf("%s: larger than %d bytes", errSignal, maxSignalBytes))
			return leftBroken
		}
		m, err := parseSignal(b)
		if err != nil {
			h.refused(refusedMalformed)
			p.close(closePolicy, err.Error())
			return leftBroken
		}
		if !h.relay.handle(p, m) {
			h.refused(refusedNotAllow)
			p.close(closePolicy, fmt.Sprintf("%s: %s is not for the %s to send", errSignal, m.Type, p.role))
			return leftBroken
		}
	}
}

// write writes what is queued for p until p is closed, then closes
// the connection with p's code and reason.
func (h *Hub) write(ctx context.Context, conn *websocket.Conn, p *peer, signedOut <-chan struct{}) {
	write := func(b []byte) error {
		wctx, cancel := context.WithTimeout(ctx, signalWriteMax)
		defer cancel()
		return conn.Write(wctx, websocket.MessageText, b)
	}
	done := h.done
	ping := time.NewTicker(h.ping)
	defer ping.Stop()
	for {
		select {
		case <-ping.C:
			// A connection that died without a word (a phone asleep, a
			// NAT forgetting it) is found by its missing pong, and
			// proxies see traffic on an idle socket.
			pctx, cancel := context.WithTimeout(ctx, h.ping)
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

// connected tells the observer that a socket of role opened or closed.
func (h *Hub) connected(r role, delta int) {
	if h.observer != nil {
		h.observer.ShareConnection(string(r), delta)
	}
}

// refused tells the observer that a socket was closed for reason.
func (h *Hub) refused(reason string) {
	if h.observer != nil {
		h.observer.SignalRefused(reason)
	}
}
