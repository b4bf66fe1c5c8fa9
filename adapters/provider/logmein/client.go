package logmein

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/assistbot/assistbot/core"
)

// maxBody caps what is read of an answer: a getSession table for a busy
// channel is a few hundred kilobytes at most.
const maxBody = 4 << 20

// call posts form to the API method and returns the answer's text. A
// transport failure, a timeout or a 5xx is CodeUnavailable; any status
// other than 200 is a protocol error. Answers of 200 are the caller's to
// read, whatever they say.
func (p *Provider) call(ctx context.Context, method string, form url.Values) (string, error) {
	cctx, cancel := context.WithTimeout(ctx, p.opt.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, http.MethodPost, p.base+method, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("%s: %w", method, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/plain")
	resp, err := p.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("%s: %w", method, ctx.Err())
		}
		// The request's URL holds no secret (the form is the body), so
		// the transport's error can travel as the detail.
		if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			return "", &core.Error{Code: core.CodeUnavailable, Retry: retryLater,
				Message: "LogMeIn Rescue did not answer in time; try again in a moment", Err: fmt.Errorf("%s: %w", method, err)}
		}
		return "", &core.Error{Code: core.CodeUnavailable, Retry: retryLater,
			Message: "LogMeIn Rescue cannot be reached; try again in a moment", Err: fmt.Errorf("%s: %w", method, err)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return "", &core.Error{Code: core.CodeUnavailable, Retry: retryLater,
			Message: "LogMeIn Rescue's answer was cut off; try again in a moment", Err: fmt.Errorf("%s: read answer: %w", method, err)}
	}
	body := string(b)
	switch {
	case resp.StatusCode >= 500:
		p.log.Warn("logmein: server error", "method", method, "status", resp.StatusCode, "body", p.redact(body))
		retry := retryLater
		if d, ok := retryAfter(resp.Header.Get("Retry-After")); ok {
			retry = d
		}
		return "", &core.Error{Code: core.CodeUnavailable, Retry: retry,
			Message: "LogMeIn Rescue is having trouble; try again in a moment", Err: fmt.Errorf("%s: http status %d", method, resp.StatusCode)}
	case resp.StatusCode != http.StatusOK:
		return "", p.protocol(method, fmt.Sprintf("http status %d", resp.StatusCode), body)
	}
	return body, nil
}

// retryLater is the wait suggested after a failure that says nothing of
// its own about when to come back.
const retryLater = 5 * time.Second

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// retryAfter reads a Retry-After header in seconds.
func retryAfter(v string) (time.Duration, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 {
		return 0, false
	}
	return min(time.Duration(n)*time.Second, 10*time.Minute), true
}

// protocol reports an answer that is not what the API documents: the body
// goes to the log (redacted and truncated), never into the error, which
// reaches the agent's chat and the request log.
func (p *Provider) protocol(method, what, body string) error {
	p.log.Warn("logmein: unexpected answer", "method", method, "what", what, "body", p.redact(body))
	return &core.Error{Code: core.CodeUnavailable,
		Message: "LogMeIn Rescue gave an answer assistbot does not understand; ask an admin to check the logs",
		Err:     fmt.Errorf("%s: unexpected answer (%s)", method, what)}
}

var codeInText = regexp.MustCompile(`(?i)((?:PINCODE|AUTHCODE):\s*)[^\s|]+`)

// redact prepares an answer for the log: the secrets it might echo (an
// HTML error page can quote the request) and whatever follows PINCODE: or
// AUTHCODE: are masked, and it is cut to a readable length.
func (p *Provider) redact(body string) string {
	for _, s := range []string{p.currentAuthcode(), p.opt.AuthCode, p.opt.Password} {
		if len(s) >= 4 {
			body = strings.ReplaceAll(body, s, "[redacted]")
		}
	}
	body = codeInText.ReplaceAllString(body, "${1}[redacted]")
	const limit = 512
	if len(body) > limit {
		cut := limit
		for cut > 0 && !isRuneStart(body[cut]) {
			cut--
		}
		body = body[:cut] + "…"
	}
	return body
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// currentAuthcode returns the authcode in use, if any, without asking for
// one.
func (p *Provider) currentAuthcode() string {
	p.codeMu.Lock()
	defer p.codeMu.Unlock()
	return p.authcode
}

// auth returns the authcode: the configured one, or one requested with
// the email and password the first time it is needed and kept in memory.
// Concurrent callers wait for one request rather than each making one:
// every requestAuthCode replaces the account's previous authcode.
func (p *Provider) auth(ctx context.Context) (string, error) {
	if code := p.currentAuthcode(); code != "" {
		return code, nil
	}
	p.requestMu.Lock()
	defer p.requestMu.Unlock()
	if code := p.currentAuthcode(); code != "" {
		return code, nil
	}
	body, err := p.call(ctx, "requestAuthCode.aspx", url.Values{"email": {p.opt.Email}, "pwd": {p.opt.Password}})
	if err != nil {
		return "", fmt.Errorf("request authcode: %w", err)
	}
	rest, ok := okAnswer(body)
	if !ok {
		if answerWord(body) == "INVALID" {
			return "", core.Wrap(core.CodeUnauthorized, &apiWord{method: "requestAuthCode.aspx", word: "INVALID"},
				"LogMeIn Rescue refused logmein.email and logmein.password — ask an admin")
		}
		return "", p.failure("requestAuthCode.aspx", body)
	}
	code, found := strings.CutPrefix(rest, "AUTHCODE:")
	code = strings.TrimSpace(code)
	if !found || code == "" || strings.ContainsAny(code, " \t\r\n") {
		return "", p.protocol("requestAuthCode.aspx", "no authcode after OK", body)
	}
	p.codeMu.Lock()
	p.authcode = code
	p.codeMu.Unlock()
	return code, nil
}

// forget drops an authcode that the API refused, if it came from
// requestAuthCode: the next call asks for a fresh one. A configured
// authcode stays; only an admin can replace it.
func (p *Provider) forget(code string) bool {
	if p.opt.AuthCode != "" {
		return false
	}
	p.codeMu.Lock()
	defer p.codeMu.Unlock()
	if p.authcode == code {
		p.authcode = ""
	}
	return true
}
