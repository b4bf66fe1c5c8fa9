package web

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/assistbot/assistbot/core"
)

// StatusOf maps an error code to its HTTP status. The codes are core's
// closed set; anything else is an internal error.
func StatusOf(code core.Code) int {
	switch code {
	case core.CodeNotFound:
		return http.StatusNotFound
	case core.CodeInvalid:
		return http.StatusBadRequest
	case core.CodeInvalidTransition, core.CodeConflict, core.CodeExpired:
		return http.StatusConflict
	case core.CodeUnauthorized:
		return http.StatusUnauthorized
	case core.CodeForbidden:
		return http.StatusForbidden
	case core.CodeRateLimited:
		return http.StatusTooManyRequests
	case core.CodeUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// errorBody is the JSON shape of every error answered in JSON:
// {"error":{"code":"...","message":"..."}}.
type errorBody struct {
	Error errorJSON `json:"error"`
}

type errorJSON struct {
	Code    core.Code `json:"code"`
	Message string    `json:"message"`
}

// WriteError writes the JSON error body of code and message with status.
func WriteError(w http.ResponseWriter, status int, code core.Code, message string) {
	WriteJSON(w, status, errorBody{Error: errorJSON{Code: code, Message: message}})
}

// WriteJSON writes v as the JSON answer with status. JSON answers are
// about live sessions and sign-ins, so nothing may cache them.
func WriteJSON(w http.ResponseWriter, status int, v any) {
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

// RetryAfter renders d for a Retry-After header: whole seconds, rounded
// up, at least one, so a client that obeys never comes back early.
func RetryAfter(d time.Duration) string {
	secs := int64((d + time.Second - 1) / time.Second)
	return strconv.FormatInt(max(secs, 1), 10)
}

// LogFailure logs, once and at the edge, a failure that the server is
// responsible for (status 500 and up; 503 as a warning), with r's route
// and the session of its path. Client errors are the client's to see in
// the answer and are not logged.
func LogFailure(log *slog.Logger, r *http.Request, status int, err error) {
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
	log.Log(r.Context(), level, "request failed", attrs...)
}
