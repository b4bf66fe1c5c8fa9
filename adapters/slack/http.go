package slack

import (
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/assistbot/assistbot/adapters/slack/signature"
)

// The media types Slack sends: forms for commands and interactions, JSON
// for events.
const (
	formType = "application/x-www-form-urlencoded"
	jsonType = "application/json"
)

// The HTTP face of the adapter: every request is read whole (up to its
// route's limit), its signature checked against the raw bytes, and only
// then parsed. Refusals are plain text: Slack shows nothing of them to
// users, and operators read them in the log.

// serveCommand handles POST /slack/commands.
func (a *Adapter) serveCommand(w http.ResponseWriter, r *http.Request) {
	a.withVerifiedBody(w, r, maxCommandBody, formType, func(body []byte) {
		c, err := parseCommand(body)
		if err != nil {
			a.badRequest(w, r, err)
			return
		}
		answer, answered := a.command(r.Context(), &c, func(interim view) {
			a.writeAnswer(w, &interim)
			_ = http.NewResponseController(w).Flush()
		})
		if !answered {
			a.writeAnswer(w, &answer)
		}
	})
}

// serveInteraction handles POST /slack/interactions: button clicks and
// the message shortcut. Slack wants a 200 within 3 seconds; what the
// click changes reaches the agent through response_url.
func (a *Adapter) serveInteraction(w http.ResponseWriter, r *http.Request) {
	a.withVerifiedBody(w, r, maxPayloadBody, formType, func(body []byte) {
		ic, err := parseInteraction(body)
		if err != nil {
			a.badRequest(w, r, err)
			return
		}
		a.interaction(r.Context(), ic, func() {
			w.WriteHeader(http.StatusOK)
			_ = http.NewResponseController(w).Flush()
		})
	})
}

// serveEvent handles POST /slack/events: the URL check and event
// callbacks. A 5xx asks Slack to retry (it does, up to three times).
func (a *Adapter) serveEvent(w http.ResponseWriter, r *http.Request) {
	a.withVerifiedBody(w, r, maxPayloadBody, jsonType, func(body []byte) {
		ev, err := parseEvent(body)
		if err != nil {
			a.badRequest(w, r, err)
			return
		}
		if ev.Type == "url_verification" {
			b, _ := json.Marshal(map[string]string{"challenge": ev.Challenge})
			a.writeJSON(w, b)
			return
		}
		// Slack retries an event that is not acknowledged within 3
		// seconds, and a failure it should retry is answered 503; a
		// relay slower than that (a user lookup at Slack) is
		// acknowledged first, and a failure then is only logged.
		ctx := context.WithoutCancel(r.Context())
		answered := a.ackBy(time.Now(), func() {
			w.WriteHeader(http.StatusOK)
			_ = http.NewResponseController(w).Flush()
		}, func() { err = a.event(ctx, ev, signature.Header(r.Header, "X-Slack-Retry-Num")) })
		switch {
		case answered:
		case err != nil:
			http.Error(w, "try again", http.StatusServiceUnavailable)
		default:
			w.WriteHeader(http.StatusOK)
		}
	})
}

// withVerifiedBody reads r's body, checks its signature and, when it
// holds, calls serve with the body, which is only valid until serve
// returns (it is pooled: the command route reads one per request).
// Otherwise it answers itself: 413 too large, 401 unverified, 200 for
// Slack's certificate check of a command URL.
func (a *Adapter) withVerifiedBody(w http.ResponseWriter, r *http.Request, limit int64, media string, serve func(body []byte)) {
	buf, err := a.bodies.ReadBody(r, limit)
	switch {
	case errors.Is(err, signature.ErrTooLarge):
		a.log.Warn("refused a request", "route", r.Pattern, "reason", "body larger than "+strconv.FormatInt(limit, 10)+" bytes", "remote", r.RemoteAddr)
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		return
	case err != nil:
		http.Error(w, "could not read the request body", http.StatusBadRequest)
		return
	}
	defer a.bodies.Put(buf)
	body := buf.Bytes()
	if media == formType && isSSLCheck(body) {
		w.WriteHeader(http.StatusOK)
		return
	}
	if err := a.verify.Verify(r.Header, body); err != nil {
		a.log.Warn("refused an unverified request", "route", r.Pattern, "reason", err.Error(), "remote", r.RemoteAddr)
		http.Error(w, "the request is not signed by Slack with this app's signing secret", http.StatusUnauthorized)
		return
	}
	if t, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || t != media {
		// Slack sends commands and interactions as forms and events as
		// JSON, always: a signed body of another type is not read as if
		// it were one.
		a.log.Warn("refused a request", "route", r.Pattern, "reason", "Content-Type is not "+media, "remote", r.RemoteAddr)
		http.Error(w, "Slack sends this route "+media, http.StatusUnsupportedMediaType)
		return
	}
	serve(body)
}

func (a *Adapter) badRequest(w http.ResponseWriter, r *http.Request, err error) {
	a.log.Warn("refused a malformed request", "route", r.Pattern, "err", err)
	http.Error(w, "malformed Slack payload", http.StatusBadRequest)
}

// writeAnswer writes v as the JSON answer to a slash command, rendered
// into a pooled buffer.
func (a *Adapter) writeAnswer(w http.ResponseWriter, v *view) {
	buf := a.answers.Get()
	defer a.answers.Put(buf)
	buf.Write(appendAnswerJSON(buf.AvailableBuffer(), v))
	a.writeJSON(w, buf.Bytes())
}

func (a *Adapter) writeJSON(w http.ResponseWriter, body []byte) {
	h := w.Header()
	h["Content-Type"] = a.jsonType
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	_, _ = w.Write(body)
}
