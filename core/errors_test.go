package core_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/assistbot/assistbot/core"
)

func TestErrors(t *testing.T) {
	cause := errors.New("dial tcp: connection refused")
	for name, tc := range map[string]struct {
		err  error
		code core.Code
		msg  string
	}{
		"nil":             {nil, "", ""},
		"plain":           {cause, core.CodeInternal, "internal error"},
		"coded":           {core.Errorf(core.CodeNotFound, "session %s not found", "x"), core.CodeNotFound, "session x not found"},
		"wrapped":         {fmt.Errorf("sqlite: %w", core.Errorf(core.CodeUnavailable, "busy")), core.CodeUnavailable, "busy"},
		"with detail":     {core.Wrap(core.CodeUnavailable, cause, "rescue api unreachable"), core.CodeUnavailable, "rescue api unreachable"},
		"internal hidden": {core.Wrap(core.CodeInternal, cause, "secret detail"), core.CodeInternal, "internal error"},
		"transition":      {fmt.Errorf("x: %w", &core.TransitionError{From: core.StateEnded, Action: core.ActionStart}), core.CodeInvalidTransition, "cannot start the session: the session is ended"},
		"outer wins":      {&core.Error{Code: core.CodeExpired, Message: "expired", Err: &core.TransitionError{From: core.StateExpired, Action: core.ActionSend}}, core.CodeExpired, "expired"},
		"joined":          {errors.Join(cause, core.Errorf(core.CodeInvalid, "bad")), core.CodeInvalid, "bad"},
	} {
		t.Run(name, func(t *testing.T) {
			if got := core.ErrorCode(tc.err); got != tc.code {
				t.Errorf("code = %q, want %q", got, tc.code)
			}
			if got := core.ErrorMessage(tc.err); got != tc.msg {
				t.Errorf("message = %q, want %q", got, tc.msg)
			}
		})
	}
	wrapped := core.Errorf(core.CodeUnavailable, "the store is busy: %w", cause)
	if !errors.Is(wrapped, cause) {
		t.Error("Errorf with %w does not unwrap to its cause")
	}
	// What a user reads never carries the wrapped detail, which is for
	// operators; Error() carries it once.
	if got := core.ErrorMessage(wrapped); got != "the store is busy" {
		t.Errorf("user-facing message = %q, want %q without the wrapped text", got, "the store is busy")
	}
	if got, want := wrapped.Error(), "the store is busy: "+cause.Error(); got != want {
		t.Errorf("Error() = %q, want %q (the detail once)", got, want)
	}
	if d, ok := core.RetryAfter(fmt.Errorf("x: %w", &core.Error{Code: core.CodeRateLimited, Retry: 3 * time.Second})); !ok || d != 3*time.Second {
		t.Errorf("RetryAfter = %v, %v", d, ok)
	}
}
