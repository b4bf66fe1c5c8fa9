package slack

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"
)

// How a response_url post treats the message it came from.
type respondMode int

const (
	// newEphemeral posts a new message only the user sees.
	newEphemeral respondMode = iota
	// replaceOriginal replaces the message (the card) in place.
	replaceOriginal
	// deleteOriginal removes it.
	deleteOriginal
)

// maxRetryWait is the longest Retry-After a card update waits out before
// trying once more; a longer one fails the update (the next one will
// carry the same state).
const maxRetryWait = 10 * time.Second

var errResponseURL = errors.New("slack: response_url is not a Slack URL")

// respond posts msg through a response_url: valid 30 minutes, five
// times, and the only way to change an ephemeral message.
func (a *Adapter) respond(ctx context.Context, responseURL string, mode respondMode, msg message) error {
	if !a.slackURL(responseURL) {
		return errResponseURL
	}
	if mode == deleteOriginal {
		msg.blocks = nil
	}
	opts := msg.options()
	switch mode {
	case replaceOriginal:
		opts = append(opts, slackapi.MsgOptionReplaceOriginal(responseURL))
	case deleteOriginal:
		opts = append(opts, slackapi.MsgOptionDeleteOriginal(responseURL))
	default:
		opts = append(opts, slackapi.MsgOptionResponseURL(responseURL, slackapi.ResponseTypeEphemeral))
	}
	return a.retry(ctx, "response_url", func() error {
		_, _, err := a.api.PostMessageContext(ctx, "", opts...)
		return err
	})
}

// ephemeral shows msg to user in channel (in thread, when set) with
// chat.postEphemeral.
func (a *Adapter) ephemeral(ctx context.Context, channel, user, thread string, msg message) error {
	opts := msg.options()
	if thread != "" {
		opts = append(opts, slackapi.MsgOptionTS(thread))
	}
	return a.retry(ctx, "chat.postEphemeral", func() error {
		_, err := a.api.PostEphemeralContext(ctx, channel, user, opts...)
		return err
	})
}

// retry makes call, and once more after a short Retry-After.
func (a *Adapter) retry(ctx context.Context, op string, call func() error) error {
	err := call()
	var rl *slackapi.RateLimitedError
	if errors.As(err, &rl) && rl.RetryAfter <= maxRetryWait {
		t := time.NewTimer(rl.RetryAfter)
		select {
		case <-ctx.Done():
			t.Stop()
			return a.classify(op, err)
		case <-t.C:
		}
		err = call()
	}
	return a.classify(op, err)
}

// slackURL reports whether u may receive a post: Slack's own hosts over
// https, or the host of the configured API URL (a proxy, or the fake in
// tests). A response_url comes inside a verified payload, but assistbot
// still never posts to an arbitrary address.
func (a *Adapter) slackURL(u string) bool {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return false
	}
	if p.Scheme == a.apiURL.Scheme && p.Host == a.apiURL.Host {
		return true
	}
	h := strings.ToLower(p.Hostname())
	return p.Scheme == "https" && (h == "slack.com" || strings.HasSuffix(h, ".slack.com") ||
		h == "slack-gov.com" || strings.HasSuffix(h, ".slack-gov.com"))
}
