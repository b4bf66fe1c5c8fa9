package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"
)

// The HTTP face of the adapter: every request is read whole (up to its
// route's limit), its signature checked against the raw bytes, and only
// then parsed. Refusals are plain text: Slack shows nothing of them to
// users, and operators read them in the log.

// serveCommand handles POST /slack/commands.
func (a *Adapter) serveCommand(w http.ResponseWriter, r *http.Request) {
	buf, ok := a.readVerified(w, r, maxCommandBody, true)
	if !ok {
		return
	}
	defer a.bufs.put(buf)
	c, err := parseCommand(buf.Bytes())
	if err != nil {
		a.badRequest(w, r, err)
		return
	}
	out := a.outs.get()
	msg, answered := a.command(r.Context(), &c, (*out)[:0], func(m message) {
		a.writeJSON(w, m.json)
		_ = http.NewResponseController(w).Flush()
	})
	if !answered {
		a.writeJSON(w, msg.json)
		*out = msg.json[:0]
	}
	a.outs.put(out)
}

// serveInteraction handles POST /slack/interactions: button clicks and
// the message shortcut. Slack wants a 200 within 3 seconds; what the
// click changes reaches the agent through response_url.
func (a *Adapter) serveInteraction(w http.ResponseWriter, r *http.Request) {
	buf, ok := a.readVerified(w, r, maxPayloadBody, false)
	if !ok {
		return
	}
	defer a.bufs.put(buf)
	ic, err := parseInteraction(buf.Bytes())
	if err != nil {
		a.badRequest(w, r, err)
		return
	}
	a.interaction(r.Context(), ic, func() {
		w.WriteHeader(http.StatusOK)
		_ = http.NewResponseController(w).Flush()
	})
}

// serveEvent handles POST /slack/events: the URL check and event
// callbacks. A 5xx asks Slack to retry (it does, up to three times).
func (a *Adapter) serveEvent(w http.ResponseWriter, r *http.Request) {
	buf, ok := a.readVerified(w, r, maxPayloadBody, false)
	if !ok {
		return
	}
	defer a.bufs.put(buf)
	ev, err := parseEvent(buf.Bytes())
	if err != nil {
		a.badRequest(w, r, err)
		return
	}
	if ev.Type == "url_verification" {
		b, _ := json.Marshal(map[string]string{"challenge": ev.Challenge})
		a.writeJSON(w, b)
		return
	}
	// Slack retries an event that is not acknowledged within 3 seconds,
	// and a failure it should retry is answered 503; a relay slower than
	// that (a user lookup at Slack) is acknowledged first, and a failure
	// then is only logged.
	ctx := context.WithoutCancel(r.Context())
	answered := a.ackBy(func() {
		w.WriteHeader(http.StatusOK)
		_ = http.NewResponseController(w).Flush()
	}, func() { err = a.event(ctx, ev, header(r.Header, "X-Slack-Retry-Num")) })
	switch {
	case answered:
	case err != nil:
		http.Error(w, "try again", http.StatusServiceUnavailable)
	default:
		w.WriteHeader(http.StatusOK)
	}
}

// readVerified reads r's body and checks its signature. On failure it has
// answered (413 too large, 401 unverified, 200 for Slack's certificate
// check of a command URL) and reports false.
func (a *Adapter) readVerified(w http.ResponseWriter, r *http.Request, limit int64, command bool) (*bytes.Buffer, bool) {
	buf, err := a.bufs.readBody(r, limit)
	switch {
	case errors.Is(err, errTooLarge):
		a.log.Warn("refused a request", "route", r.Pattern, "reason", "body larger than "+strconv.FormatInt(limit, 10)+" bytes", "remote", r.RemoteAddr)
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		return nil, false
	case err != nil:
		http.Error(w, "could not read the request body", http.StatusBadRequest)
		return nil, false
	}
	if command && isSSLCheck(buf.Bytes()) {
		a.bufs.put(buf)
		w.WriteHeader(http.StatusOK)
		return nil, false
	}
	if err := a.verify.verify(r.Header, buf.Bytes()); err != nil {
		a.bufs.put(buf)
		a.log.Warn("refused an unverified request", "route", r.Pattern, "reason", err.Error(), "remote", r.RemoteAddr)
		http.Error(w, "the request is not signed by Slack with this app's signing secret", http.StatusUnauthorized)
		return nil, false
	}
	return buf, true
}

func (a *Adapter) badRequest(w http.ResponseWriter, r *http.Request, err error) {
	a.log.Warn("refused a malformed request", "route", r.Pattern, "err", err)
	http.Error(w, "malformed Slack payload", http.StatusBadRequest)
}

func (a *Adapter) writeJSON(w http.ResponseWriter, body []byte) {
	h := w.Header()
	h["Content-Type"] = a.jsonType
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	_, _ = w.Write(body)
}

// slicePool recycles the buffers answers are rendered into.
type slicePool struct{ p sync.Pool }

func (sp *slicePool) get() *[]byte {
	if b, ok := sp.p.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, 0, 4096)
	return &b
}

func (sp *slicePool) put(b *[]byte) {
	if cap(*b) <= 64<<10 {
		sp.p.Put(b)
	}
}
