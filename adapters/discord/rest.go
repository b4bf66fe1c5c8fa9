package discord

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/assistbot/assistbot/core"
)

// restTimeout bounds one REST request.
const restTimeout = 20 * time.Second

// newSession returns a discordgo session whose REST requests go to
// apiURL. Its rate limiter stays on: requests wait while Discord's
// X-RateLimit headers say a bucket is empty. A 429 is not slept on inside
// the call, though: it comes back as an error with Retry-After, so that
// the outbox reschedules the delivery instead of holding a worker, and
// requests outside the outbox decide for themselves (retryRateLimited).
func newSession(token, apiURL string, next http.RoundTripper, halt func(), halted func() bool) (*discordgo.Session, error) {
	base, err := url.Parse(apiURL)
	if err != nil || base.Scheme == "" || base.Host == "" {
		return nil, fmt.Errorf("discord: api url %q is not an absolute URL", apiURL)
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	fixed, err := url.Parse(discordgo.EndpointAPI)
	if err != nil {
		return nil, fmt.Errorf("discord: discordgo endpoint: %w", err)
	}
	if next == nil {
		next = http.DefaultTransport
	}
	s, err := discordgo.New("Bot " + token)
	if err != nil {
		return nil, fmt.Errorf("discord: %w", err)
	}
	s.Client = &http.Client{Timeout: restTimeout, Transport: &transport{from: fixed, to: base, next: next, halt: halt, halted: halted}}
	s.ShouldRetryOnRateLimit = false
	// A 502 is retried by the outbox with backoff, not at once in a loop.
	s.MaxRestRetries = 0
	s.StateEnabled = false
	// discordgo writes its own log lines with the standard logger; the
	// adapter logs what matters through slog instead.
	s.LogLevel = -1
	return s, nil
}

// transport sends discordgo's requests for its fixed endpoint (from) to
// the configured base URL (to). After Discord refuses the bot token it
// sends nothing at all.
type transport struct {
	from, to *url.URL
	next     http.RoundTripper
	halt     func()
	halted   func() bool
}

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	rest, ok := strings.CutPrefix(req.URL.Path, t.from.Path)
	if !ok || req.URL.Host != t.from.Host {
		return nil, fmt.Errorf("discord: refusing a request outside the API: %s", req.URL.Redacted())
	}
	if t.halted() {
		return nil, errTokenRefused
	}
	out := req.Clone(req.Context())
	u := *t.to
	u.Path = t.to.Path + rest
	u.RawPath = ""
	if req.URL.RawPath != "" {
		u.RawPath = t.to.EscapedPath() + strings.TrimPrefix(req.URL.RawPath, t.from.Path)
	}
	u.RawQuery = req.URL.RawQuery
	out.URL, out.Host = &u, ""
	resp, err := t.next.RoundTrip(out)
	// Interaction tokens authenticate webhook calls; their 401 says the
	// token expired, not that the bot token is wrong.
	if err == nil && resp.StatusCode == http.StatusUnauthorized && !strings.HasPrefix(rest, "webhooks/") && !strings.HasPrefix(rest, "interactions/") {
		t.halt()
	}
	return resp, err
}

// errTokenRefused is what the transport answers once halted.
var errTokenRefused = errors.New("discord: the bot token was refused; not sending")

// apiError maps a REST failure to a core error whose message the agent
// reads as a delivery's reason. Rate limits, 5xx and network failures
// are CodeUnavailable (retried by the outbox); once the bot token was
// refused, CodeUnauthorized; anything else Discord refused fails at once.
func (a *Adapter) apiError(op string, err error) error {
	if err == nil {
		return nil
	}
	var rl *discordgo.RateLimitError
	var re *discordgo.RESTError
	switch {
	case errors.As(err, &rl):
		// RateLimitError's text holds the URL, and so an interaction's token.
		return &core.Error{Code: core.CodeUnavailable, Message: a.t("discord.reason.rate_limited"), Retry: rl.RetryAfter,
			Err: fmt.Errorf("discord: %s: rate limited, retry after %v", op, rl.RetryAfter)}
	case errors.Is(err, errTokenRefused) || a.isHalted():
		return a.errHalted()
	case errors.As(err, &re) && re.Response != nil:
		status := re.Response.StatusCode
		wrapped := fmt.Errorf("discord: %s: HTTP %d: %w", op, status, err)
		// A 401 that did not halt the adapter came from an interaction
		// webhook: the interaction's token expired. It is refused like
		// any other request below.
		switch {
		case status == http.StatusTooManyRequests || status >= 500:
			return &core.Error{Code: core.CodeUnavailable, Message: a.t("discord.reason.unavailable"), Retry: retryAfter(re.Response), Err: wrapped}
		}
		detail := http.StatusText(status)
		if re.Message != nil && re.Message.Message != "" {
			detail = fmt.Sprintf("%s (%d)", re.Message.Message, re.Message.Code)
		}
		return &core.Error{Code: core.CodeInvalid, Message: a.t("discord.reason.refused", "error", detail), Err: wrapped}
	}
	return &core.Error{Code: core.CodeUnavailable, Message: a.t("discord.reason.unavailable"), Err: fmt.Errorf("discord: %s: %w", op, redact(err))}
}

// redact removes the URL from a network error: the URLs of interaction
// webhooks carry the interaction's token, which must not reach a log.
func redact(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	path := ue.URL
	if u, perr := url.Parse(ue.URL); perr == nil {
		path = u.Path
		for _, p := range []string{"/webhooks/", "/interactions/"} {
			if i := strings.Index(path, p); i >= 0 {
				path = path[:i+len(p)] + "…"
			}
		}
	}
	return fmt.Errorf("%s %s: %w", ue.Op, path, ue.Err)
}

// maxRetryWait bounds how long a request made outside the outbox (an
// interaction's answer, a card's edit, a note in a desk thread) waits
// for its one retry after Discord answered 429. The outbox retries its
// deliveries itself; these have nobody to retry them, and a longer wait
// would hold up the handler that made them.
const maxRetryWait = 2 * time.Second

// retryRateLimited makes a request with do and, when Discord answers 429
// asking for a wait of at most maxRetryWait, waits as asked and makes it
// once more. It does not retry when the answer would then come after by
// (when an interaction's token stops working; zero for never) or after
// ctx ends.
func (a *Adapter) retryRateLimited(ctx context.Context, by time.Time, do func() error) error {
	err := do()
	wait, limited := rateLimitWait(err)
	if !limited || wait > maxRetryWait || (!by.IsZero() && time.Now().Add(wait).After(by)) {
		return err
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return err
	case <-t.C:
	}
	return do()
}

// rateLimitWait reports whether err is Discord's 429, and how long it
// asked to wait.
func rateLimitWait(err error) (time.Duration, bool) {
	var rl *discordgo.RateLimitError
	if errors.As(err, &rl) && rl.RateLimit != nil && rl.TooManyRequests != nil {
		return max(rl.RetryAfter, 0), true
	}
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode == http.StatusTooManyRequests {
		return retryAfter(re.Response), true
	}
	return 0, false
}

// retryAfter reads a Retry-After header in seconds.
func retryAfter(resp *http.Response) time.Duration {
	var secs float64
	if _, err := fmt.Sscanf(resp.Header.Get("Retry-After"), "%g", &secs); err != nil || secs <= 0 || secs > 3600 {
		return 0
	}
	return time.Duration(secs * float64(time.Second))
}

// errorCode returns Discord's JSON error code of a REST failure, or 0.
func errorCode(err error) int {
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Message != nil {
		return re.Message.Code
	}
	return 0
}

// httpStatus returns the HTTP status of a REST failure, or 0.
func httpStatus(err error) int {
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Response != nil {
		return re.Response.StatusCode
	}
	return 0
}
