package web

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/assistbot/assistbot/core"
)

// statusOf maps an error code to its HTTP status. The codes are core's
// closed set; anything else is an internal error.
func statusOf(code core.Code) int {
	switch code {
	case core.CodeNotFound:
		return http.StatusNotFound
	case core.CodeInvalid:
		return http.StatusBadRequest
	case core.CodeInvalidTransition, core.CodeConflict, core.CodeExpired:
		return http.StatusConflict
	case core.CodeUnauthorized:
		return http.StatusUnauthorized
	case core.CodeRateLimited:
		return http.StatusTooManyRequests
	case core.CodeUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// errorBody is the JSON shape of every API error.
type errorBody struct {
	Error errorJSON `json:"error"`
}

type errorJSON struct {
	Code    core.Code `json:"code"`
	Message string    `json:"message"`
}

// apiError answers an API request with err. This is the edge: server
// errors are logged here, once, with the route and session, and their
// detail never reaches the client.
func (s *Server) apiError(w http.ResponseWriter, r *http.Request, err error) {
	code := core.ErrorCode(err)
	status := statusOf(code)
	s.logError(r, status, err)
	switch code {
	case core.CodeUnauthorized:
		w.Header().Set("WWW-Authenticate", "Bearer")
	case core.CodeRateLimited, core.CodeUnavailable:
		if d, ok := core.RetryAfter(err); ok {
			w.Header().Set("Retry-After", retryAfterSeconds(d))
		}
	}
	writeError(w, status, code, core.ErrorMessage(err))
}

// logError logs a failure the server is responsible for; client errors
// are the client's to see in the response and are not logged.
func (s *Server) logError(r *http.Request, status int, err error) {
	if status < 500 {
		return
	}
	attrs := []any{"route", r.Pattern, "err", err}
	if id := r.PathValue("id"); id != "" {
		attrs = append(attrs, "session_id", id)
	}
	level := slog.LevelError
	if status == http.StatusServiceUnavailable {
		level = slog.LevelWarn
	}
	s.log.Log(r.Context(), level, "request failed", attrs...)
}

// writeError writes the JSON error body with status.
func writeError(w http.ResponseWriter, status int, code core.Code, message string) {
	writeJSON(w, status, errorBody{Error: errorJSON{Code: code, Message: message}})
}

// writeJSON writes v as the JSON response with status. API responses are
// per-request answers about live sessions, so nothing may cache them.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only a programming error (an unsupported type) gets here.
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// retryAfterSeconds renders d for a Retry-After header: whole seconds,
// rounded up, at least one, so a client that obeys never comes back early.
func retryAfterSeconds(d time.Duration) string {
	secs := int64((d + time.Second - 1) / time.Second)
	return strconv.FormatInt(max(secs, 1), 10)
}
