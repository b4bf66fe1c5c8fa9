package core

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Code classifies an error. The set is closed: adapters map each code to a
// platform answer (an HTTP status, an ephemeral message) and anything that is
// not a *Error is treated as CodeInternal.
type Code string

// The error codes. Their string values are part of the JSON API contract.
const (
	CodeNotFound          Code = "not_found"
	CodeInvalid           Code = "invalid"
	CodeInvalidTransition Code = "invalid_transition"
	CodeConflict          Code = "conflict"
	CodeExpired           Code = "expired"
	CodeUnauthorized      Code = "unauthorized"
	CodeRateLimited       Code = "rate_limited"
	CodeUnavailable       Code = "unavailable"
	CodeInternal          Code = "internal"
	// CodeIdempotencyMismatch refuses a request whose idempotency key
	// was used before for another request.
	CodeIdempotencyMismatch Code = "idempotency_mismatch"
)

// Error is an error with a code and a message fit to show a user. Err, when
// set, holds the detail for operators and is reachable with errors.Unwrap.
type Error struct {
	Code    Code
	Message string
	Err     error
	// Retry, when positive, tells a caller how long to wait before trying
	// again (a vendor's Retry-After).
	Retry time.Duration
}

// Error returns the message and, when present, the wrapped detail.
func (e *Error) Error() string {
	if e.Err == nil {
		return e.Message
	}
	if e.Message == "" {
		return e.Err.Error()
	}
	return e.Message + ": " + e.Err.Error()
}

// Unwrap returns the wrapped error.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns a *Error with code and a formatted message. A %w verb
// wraps its operand as the detail, for operators, as with fmt.Errorf; the
// message people see stops before it ("look up the pin: %w" shows "look up
// the pin"), so a wrapped error's text never reaches a user.
func Errorf(code Code, format string, args ...any) error {
	full := fmt.Errorf(format, args...)
	detail := errors.Unwrap(full)
	msg := full.Error()
	if detail != nil {
		if i := strings.Index(msg, detail.Error()); i >= 0 {
			msg = strings.TrimRight(msg[:i], " :;,")
		}
	}
	return &Error{Code: code, Message: msg, Err: detail}
}

// Wrap returns a *Error with code and message whose detail is err.
func Wrap(code Code, err error, message string) error {
	return &Error{Code: code, Message: message, Err: err}
}

// ErrorCode returns the code of the outermost *Error or *TransitionError
// in err's chain, CodeInternal for any other error and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	switch e := classify(err).(type) {
	case *TransitionError:
		return CodeInvalidTransition
	case *Error:
		return e.Code
	}
	return CodeInternal
}

// ErrorMessage returns the user-facing message of err: that of the
// outermost *Error or *TransitionError in its chain, or a generic sentence
// for internal errors, whose detail is for operators only.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	switch e := classify(err).(type) {
	case *TransitionError:
		return e.Error()
	case *Error:
		if e.Code != CodeInternal && e.Message != "" {
			return e.Message
		}
	}
	return "internal error"
}

// classify returns the outermost *Error or *TransitionError in err's chain
// (following both Unwrap forms), or nil.
func classify(err error) error {
	for err != nil {
		switch e := err.(type) {
		case *Error, *TransitionError:
			return e
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				if c := classify(inner); c != nil {
					return c
				}
			}
			return nil
		}
		err = errors.Unwrap(err)
	}
	return nil
}

// RetryAfter reports how long the failed operation asked to wait before
// another try, if it said so.
func RetryAfter(err error) (time.Duration, bool) {
	var e *Error
	if errors.As(err, &e) && e.Retry > 0 {
		return e.Retry, true
	}
	return 0, false
}

// TransitionError reports an action that the session's current state does
// not allow. Its code is CodeInvalidTransition.
type TransitionError struct {
	From   State
	Action Action
}

// Error names the action and the current state.
func (e *TransitionError) Error() string {
	return fmt.Sprintf("cannot %s: the session is %s", e.Action.verb(), e.From)
}

// Sentinel errors that callers test with errors.Is.
var (
	// ErrPINInUse is returned by a Store when a new live PIN equals the PIN
	// of another live session. The engine asks the provider for another.
	ErrPINInUse = &Error{Code: CodeConflict, Message: "pin already in use"}
	// ErrVersion is returned by a Store when a session changed since it
	// was read. The engine reads it again and retries.
	ErrVersion = &Error{Code: CodeConflict, Message: "session changed concurrently"}
	// ErrOpenConversation is returned by a Store when a customer already
	// has an open conversation.
	ErrOpenConversation = &Error{Code: CodeConflict, Message: "customer already has an open conversation"}
	// ErrDuplicate is returned by a Store when a message's Source was
	// recorded before: a platform delivered the same message twice.
	ErrDuplicate = &Error{Code: CodeConflict, Message: "message already recorded"}
	// ErrConversationClosed is returned by a Store when a message meant
	// for an open conversation (MessageChange.Open) finds it closed.
	ErrConversationClosed = &Error{Code: CodeConflict, Message: "conversation closed"}
	// ErrDeliveryFinal is returned by a Store when a delivery to be updated
	// is already delivered or failed: a late report must not undo it.
	ErrDeliveryFinal = &Error{Code: CodeConflict, Message: "delivery already final"}
	// ErrClaimLost is returned by a Store when an outbox worker saves a
	// delivery whose claim it no longer holds: its lease ran out and
	// another worker claimed the delivery. The save is refused, so the
	// other worker's outcome stands.
	ErrClaimLost = &Error{Code: CodeConflict, Message: "delivery claimed by another worker"}
)
