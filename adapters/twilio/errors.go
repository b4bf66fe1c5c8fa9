package twilio

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/assistbot/assistbot/core"
)

// Twilio error codes that assistbot treats specially. The full list is at
// https://www.twilio.com/docs/api/errors.
const (
	errAuth           = 20003 // authentication failed
	errTooManyReqs    = 20429 // too many requests
	errBadTo          = 21211 // invalid 'To' number
	errBadFrom        = 21212 // invalid 'From' number
	errRegion         = 21408 // permission to send to this region not enabled
	errOptedOut       = 21610 // the recipient replied STOP
	errFromNotCapable = 21606 // the 'From' number cannot send this message
	errNotMobile      = 21614 // 'To' is not a mobile number
	errFromNotOwned   = 21659 // 'From' is not a Twilio number of the account
	errUnreachable    = 30003 // handset off or out of coverage
	errBlocked        = 30004 // blocked by the recipient or its carrier
	errUnknownNumber  = 30005 // unknown destination
	errLandline       = 30006 // landline or unreachable carrier
	errFiltered       = 30007 // carrier filtering
	errCarrier        = 30008 // unknown carrier error
	errTollFreeUnver  = 30032 // toll-free number not verified
	errUnregistered   = 30034 // US A2P 10DLC: number not registered
	errQueueExpired   = 30036 // validity period expired
)

// reasonKeys names the catalog text that explains an error code to an
// agent, for the codes an agent can do something about or should know.
func reasonKeys() map[int]string {
	return map[int]string{
		errAuth:           "twilio.reason.auth",
		errRegion:         "twilio.reason.region",
		errOptedOut:       "twilio.reason.opted_out",
		errFromNotCapable: "twilio.reason.sender",
		errBadFrom:        "twilio.reason.sender",
		errFromNotOwned:   "twilio.reason.sender",
		errNotMobile:      "twilio.reason.landline",
		errUnreachable:    "twilio.reason.unreachable",
		errBlocked:        "twilio.reason.blocked",
		errUnknownNumber:  "twilio.reason.unknown_number",
		errLandline:       "twilio.reason.landline",
		errFiltered:       "twilio.reason.filtered",
		errCarrier:        "twilio.reason.carrier",
		errTollFreeUnver:  "twilio.reason.unregistered",
		errUnregistered:   "twilio.reason.unregistered",
		errQueueExpired:   "twilio.reason.queue_expired",
	}
}

// reason returns the agent's explanation of a Twilio error code, in the
// server's language; fallback is the catalog key for codes without one.
func (a *Adapter) reason(code int, fallback string) string {
	if key, ok := reasonKeys()[code]; ok {
		return a.t(key)
	}
	return a.t(fallback, "code", strconv.Itoa(code))
}

// sendFailure turns a failed create into the error the outbox acts on:
// CodeUnavailable (retried, with Twilio's Retry-After when it gave one)
// for timeouts, 429 and 5xx; a permanent error whose message the agent
// sees for everything else. A 21610 also records the opt-out, so the next
// send is refused before it is queued.
func (a *Adapter) sendFailure(ctx context.Context, to core.Endpoint, err error) error {
	var se *sendError
	status, retryAfter := 0, ""
	if errors.As(err, &se) {
		status, retryAfter = se.status, se.retryAfter
	}
	re, isREST := restError(err)
	code := 0
	if isREST {
		code = re.Code
		if status == 0 {
			status = re.Status
		}
		// Twilio's messages quote the numbers, and the outbox logs this.
		err = fmt.Errorf("twilio: create message: HTTP %d, error %d: %s", status, code, maskNumbers(re.Message))
	} else {
		err = fmt.Errorf("twilio: create message: %w", err)
	}
	switch {
	case status == http.StatusTooManyRequests || code == errTooManyReqs:
		e := core.Wrap(core.CodeUnavailable, err, a.t("twilio.reason.busy")).(*core.Error)
		e.Retry = parseRetryAfter(retryAfter, a.clock.Now())
		return e
	case status >= 500 || status == 0:
		// No answer (a timeout, a refused connection) or a server error:
		// Twilio may be down for a moment, so the outbox tries again.
		return core.Wrap(core.CodeUnavailable, err, a.t("twilio.reason.unavailable"))
	case status >= 200 && status < 300:
		// Twilio accepted something but its answer was unreadable. Sending
		// again could text the customer twice, so this is final: the
		// outbox retries internal errors, but not conflicts.
		return core.Wrap(core.CodeConflict, err, a.t("twilio.reason.unreadable"))
	case code == errOptedOut:
		if oerr := a.engine.SetOptOut(ctx, to, true); oerr != nil {
			a.log.Error("record opt-out", "channel", core.ChannelSMS, "to", core.Mask(to.Address), "err", oerr)
		}
		return core.Wrap(core.CodeInvalid, err, a.t("twilio.reason.opted_out"))
	case code == errBadTo:
		return core.Wrap(core.CodeInvalid, err, a.t("error.bad_number", "number", core.Mask(to.Address)))
	case status == http.StatusUnauthorized:
		return core.Wrap(core.CodeUnauthorized, err, a.t("twilio.reason.auth"))
	}
	return core.Wrap(core.CodeInvalid, err, a.reason(code, "twilio.reason.refused"))
}

// parseRetryAfter reads a Retry-After header: seconds, or an HTTP date.
// It returns 0 (let the outbox back off on its own) when there is none.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// phoneRE matches what looks like a phone number in a vendor's message.
var phoneRE = regexp.MustCompile(`\+?[0-9][0-9 ().-]{5,}[0-9]`)

// maskNumbers replaces the phone numbers in s by their last four digits.
func maskNumbers(s string) string {
	return phoneRE.ReplaceAllStringFunc(s, core.Mask)
}
