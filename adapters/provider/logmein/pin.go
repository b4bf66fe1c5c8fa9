package logmein

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/assistbot/assistbot/core"
)

// maxPollRateRetries is how often a PIN request refused with
// POLLRATEEXCEEDED is tried again before the agent is told to wait.
const maxPollRateRetries = 2

// requestPIN asks requestPINCode (or requestPINCode_v3 for a configured
// node) for a PIN. Calls are paced to the API's one PIN per second; a
// POLLRATEEXCEEDED (another client on the same account) is waited out up
// to twice, and an authcode from requestAuthCode that stopped working is
// replaced once.
func (p *Provider) requestPIN(ctx context.Context, req core.IssueRequest, key string) (string, error) {
	method := "requestPINCode.aspx"
	form := url.Values{}
	if p.opt.NodeID != "" {
		method = "requestPINCode_v3.aspx"
		form.Set("NodeId", p.opt.NodeID)
	}
	// tracking0 is Rescue's field for mapping sessions to a CRM (reports
	// and Post-to-URL carry it); getSession lists only the custom fields,
	// so IDField carries the key the watch matches this PIN's session by.
	form.Set("tracking0", fieldValue(req.SessionID, 64))
	form.Set(p.opt.IDField, fieldValue(key, 64))
	if name := fieldValue(req.CustomerName, 64); name != "" {
		form.Set("cfield0", name)
	}
	form.Set("notechconsole", "0")
	if p.opt.NoTechConsole {
		form.Set("notechconsole", "1")
	}
	renewed := false
	for try := 0; ; try++ {
		code, err := p.auth(ctx)
		if err != nil {
			return "", err
		}
		form.Set("authcode", code)
		done, err := p.pins.begin(ctx)
		if err != nil {
			if !errors.Is(err, errTooSoon) {
				return "", err
			}
			return "", &core.Error{Code: core.CodeUnavailable, Retry: max(p.opt.PINInterval, time.Second),
				Message: "LogMeIn Rescue issues about one PIN per second; try again in a moment", Err: err}
		}
		body, err := func() (string, error) {
			defer done()
			return p.call(ctx, method, form)
		}()
		if err != nil {
			return "", err
		}
		pin, err := p.parsePIN(method, body)
		switch {
		case err == nil:
			return pin, nil
		case wordOf(err) == "POLLRATEEXCEEDED" && try < maxPollRateRetries:
			p.log.Debug("logmein: poll rate exceeded; waiting", "session_id", req.SessionID, "wait", p.opt.RetryPause)
			if err := sleep(ctx, p.opt.RetryPause); err != nil {
				return "", err
			}
			continue
		case core.ErrorCode(err) == core.CodeUnauthorized && !renewed && p.forget(code):
			p.log.Info("logmein: authcode refused; requesting a new one", "session_id", req.SessionID, "err", err)
			renewed = true
			continue
		}
		return "", err
	}
}

// parsePIN reads requestPINCode's answer. The documented success is
// "OK PINCODE:012345"; the digits may also come on the next line. The PIN
// stays a string so its leading zeros survive. Anything else is one of
// the documented words or a protocol error.
func (p *Provider) parsePIN(method, body string) (string, error) {
	if rest, ok := okAnswer(body); ok {
		if digits, found := strings.CutPrefix(rest, "PINCODE:"); found {
			if digits = strings.TrimSpace(digits); core.ValidPIN(digits) {
				return digits, nil
			}
		}
		return "", p.protocol(method, "no 6 to 10 digit pin after OK", body)
	}
	return "", p.failure(method, body)
}

// failure turns an answer that is not OK into an error: a documented word
// maps onto core's codes, anything else is a protocol error.
func (p *Provider) failure(method, body string) error {
	w := answerWord(body)
	if w == "" {
		return p.protocol(method, "neither OK nor an error word", body)
	}
	e := wordError(w)
	if e == nil {
		return p.protocol(method, "unknown word "+w, body)
	}
	e.Err = &apiWord{method: method, word: w}
	return e
}

// okAnswer reports whether body is an OK answer and returns what follows
// the OK, trimmed. ASP.NET may start the text with a byte-order mark.
func okAnswer(body string) (string, bool) {
	s := strings.TrimSpace(strings.TrimPrefix(body, "\ufeff"))
	rest, ok := strings.CutPrefix(s, "OK")
	if !ok || (rest != "" && !unicode.IsSpace(rune(rest[0]))) {
		return "", false
	}
	return strings.TrimSpace(rest), true
}

// answerWord returns the answer when it is a single upper-case word such
// as NOTLOGGEDIN, or "".
func answerWord(body string) string {
	f := strings.Fields(strings.TrimPrefix(body, "\ufeff"))
	if len(f) != 1 {
		return ""
	}
	for _, r := range f[0] {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return ""
		}
	}
	return f[0]
}

// apiWord is the detail of an error the API answered with a word.
type apiWord struct{ method, word string }

func (e *apiWord) Error() string { return e.method + " answered " + e.word }

// wordOf returns the API's word behind err, if it has one.
func wordOf(err error) string {
	var w *apiWord
	if errors.As(err, &w) {
		return w.word
	}
	return ""
}

// wordError maps the API's documented failure words onto core's codes,
// with a message the agent can act on; nil for an unknown word.
func wordError(w string) *core.Error {
	e := func(code core.Code, retry time.Duration, msg string) *core.Error {
		return &core.Error{Code: code, Retry: retry, Message: msg, Err: &apiWord{word: w}}
	}
	switch {
	case w == "NOTLOGGEDIN" || w == "INVALID_SECRETAUTHCODE":
		return e(core.CodeUnauthorized, 0, "the Rescue authcode is invalid — ask an admin")
	case w == "NOTECHCONSOLERUNNING":
		return e(core.CodeUnavailable, 0, "the technician is offline — log in to the LogMeIn Rescue Technician Console, then try again")
	case w == "POLLRATEEXCEEDED":
		return e(core.CodeUnavailable, 2*time.Second, "LogMeIn Rescue is busy; try again in a few seconds")
	case w == "OUTOFPINCODES":
		return e(core.CodeUnavailable, 0, "LogMeIn Rescue has no PIN codes left for this account — ask an admin")
	case w == "NOTTECHNICIAN":
		return e(core.CodeUnauthorized, 0, "the Rescue authcode does not belong to a technician — ask an admin")
	case strings.HasPrefix(w, "USER_"):
		return e(core.CodeUnauthorized, 0, "the Rescue user behind the authcode is deleted or disabled — ask an admin")
	case strings.HasPrefix(w, "INVALIDPARAM"):
		return e(core.CodeUnavailable, 0, "LogMeIn Rescue refused a parameter — ask an admin to check logmein.node_id")
	case w == "ERROR":
		return e(core.CodeUnavailable, retryLater, "LogMeIn Rescue could not do it right now; try again in a moment")
	}
	return nil
}

// fieldValue prepares a value for a Rescue field: getSession answers a
// pipe-delimited table without escaping, so a "|" or a line break in a
// field would shift or split its row; they become spaces. The value is
// cut to the field's documented maximum length.
func fieldValue(s string, maxRunes int) string {
	s = strings.Map(func(r rune) rune {
		if r == '|' || unicode.IsControl(r) || unicode.IsSpace(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > maxRunes {
		s = string([]rune(s)[:maxRunes])
		s = strings.TrimSpace(s)
	}
	return s
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("logmein: %w", ctx.Err())
	case <-t.C:
		return nil
	}
}

// errTooSoon says a call could not wait for its turn within its deadline.
var errTooSoon = errors.New("the next PIN may be asked for only after the caller's deadline")

// pacer spaces requestPINCode calls: one at a time, each sent at least
// interval after the answer to the one before. Spacing from the answer,
// not from when the previous call was allowed to go, keeps two calls
// apart at Rescue however late the first one left.
type pacer struct {
	interval time.Duration
	turn     chan struct{} // holds a token while a call is under way
	last     time.Time     // when the previous call was answered
}

func newPacer(interval time.Duration) *pacer {
	return &pacer{interval: max(interval, 0), turn: make(chan struct{}, 1)}
}

// begin waits for the caller's turn; done, called once the answer is in,
// lets the next call go interval later. A turn that would come after
// ctx's deadline is refused with errTooSoon: at once when the spacing
// says so, or when the deadline passes while an earlier call is under
// way. A ctx cancelled meanwhile returns its error.
func (p *pacer) begin(ctx context.Context) (done func(), err error) {
	select {
	case p.turn <- struct{}{}:
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, errTooSoon
		}
		return nil, ctx.Err()
	}
	release := func() { <-p.turn }
	if wait := time.Until(p.last.Add(p.interval)); wait > 0 {
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			release()
			return nil, errTooSoon
		}
		if err := sleep(ctx, wait); err != nil {
			release()
			if errors.Is(err, context.DeadlineExceeded) {
				return nil, errTooSoon
			}
			return nil, err
		}
	}
	return func() {
		p.last = time.Now()
		release()
	}, nil
}
