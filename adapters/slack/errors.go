package slack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/assistbot/assistbot/core"
)

// defaultRetry is how long to wait after a 429 that did not say.
const defaultRetry = 30 * time.Second

// classify maps a failed Web API call, op, to a core error, so that the
// outbox knows what to do with it: a rate limit, a 5xx, a timeout or a
// network failure is CodeUnavailable (with the Retry-After Slack asked
// for) and is tried again; Slack refusing the call ("channel_not_found",
// "invalid_auth") is CodeInvalid and fails the delivery at once, with a
// reason the agent can act on. Messages are in the agents' language.
func (a *Adapter) classify(op string, err error) error {
	if err == nil {
		return nil
	}
	t := func(key string, kv ...string) string { return a.render.t(a.locale, key, kv...) }
	detail := fmt.Errorf("slack: %s: %w", op, redacted(err))
	unavailable := func(key string) error {
		return &core.Error{Code: core.CodeUnavailable, Message: t(key), Err: detail}
	}
	invalid := func(msg string) error {
		return &core.Error{Code: core.CodeInvalid, Message: msg, Err: detail}
	}
	var rl *slackapi.RateLimitedError
	var sc slackapi.StatusCodeError
	var se slackapi.SlackErrorResponse
	var ne net.Error
	switch {
	case errors.As(err, &rl):
		retry := rl.RetryAfter
		if retry <= 0 {
			retry = defaultRetry
		}
		return &core.Error{Code: core.CodeUnavailable, Message: t("slack.reason.rate_limited"), Err: detail, Retry: retry}
	case errors.As(err, &sc), errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne):
		return unavailable("slack.reason.unreachable")
	case errors.As(err, &se):
		switch code := se.Err; code {
		case "ratelimited":
			return &core.Error{Code: core.CodeUnavailable, Message: t("slack.reason.rate_limited"), Err: detail, Retry: defaultRetry}
		case "fatal_error", "internal_error", "service_unavailable", "request_timeout", "team_added_to_org":
			return unavailable("slack.reason.unreachable")
		case "not_in_channel", "channel_not_found", "is_archived", "restricted_action", "ekm_access_denied":
			return invalid(t("slack.reason.not_in_channel"))
		case "user_not_found", "user_not_visible", "user_disabled", "users_not_found":
			return invalid(t("slack.reason.user_not_found"))
		case "cannot_dm_bot":
			return invalid(t("slack.reason.cannot_dm_bot"))
		case "invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "missing_scope", "no_permission", "not_allowed_token_type":
			return invalid(t("slack.reason.token", "code", code))
		default:
			return invalid(t("slack.reason.other", "code", code))
		}
	}
	return unavailable("slack.reason.unreachable")
}

// redacted is err with the URL of a request that got no answer cut to
// its host, and for the Web API its method: the path of a response_url is
// what lets anyone post to the agent's card, and must not reach a log.
func redacted(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	where := "a Slack URL"
	if u, perr := url.Parse(ue.URL); perr == nil {
		where = u.Host + "/…"
		if strings.HasPrefix(u.Path, "/api/") {
			where = u.Host + u.Path
		}
	}
	return fmt.Errorf("%s %s: %w", ue.Op, where, ue.Err)
}
