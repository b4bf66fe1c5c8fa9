package web

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// EventStream writes a text/event-stream answer: the console's and the
// web chat's live updates.
type EventStream struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

// StartEvents answers with an event stream. Streams last for hours under
// a server with a ReadTimeout: for a request without a body net/http
// clears the read deadline when it starts watching the connection for
// the client's going away, and the server sets no WriteTimeout.
func StartEvents(w http.ResponseWriter) *EventStream {
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not hold events back
	w.WriteHeader(http.StatusOK)
	s := &EventStream{w: w, rc: rc}
	// Browsers reconnect after this many milliseconds when the stream
	// drops.
	_, _ = fmt.Fprint(w, "retry: 3000\n\n")
	_ = rc.Flush()
	return s
}

// Send writes one event with data as JSON; an error means the browser is
// gone.
func (s *EventStream) Send(event string, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(s.w, "event: %s\ndata: %s\n\n", event, b); err != nil {
		return err
	}
	return s.rc.Flush()
}

// Ping writes a comment, which keeps proxies from closing an idle stream.
func (s *EventStream) Ping() error {
	if _, err := fmt.Fprint(s.w, ": ping\n\n"); err != nil {
		return err
	}
	return s.rc.Flush()
}
