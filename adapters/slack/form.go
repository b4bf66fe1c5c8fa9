package slack

import (
	"bytes"
	"errors"
	"net/url"
	"strings"

	slackapi "github.com/slack-go/slack"
)

// errMalformed is an authenticated body that is not what Slack sends.
var errMalformed = errors.New("malformed payload")

// parseCommand reads the application/x-www-form-urlencoded body of a slash
// command into slack-go's SlashCommand. It walks the body once and
// decodes only the fields assistbot reads, where slack.SlashCommandParse
// (through Request.ParseForm) would read the body a second time and build
// a map of every field; the body is copied into one string, which the
// fields without escapes (IDs, mostly) share. A field given twice counts
// once, the first time, as url.Values.Get does.
func parseCommand(body []byte) (slackapi.SlashCommand, error) {
	var c slackapi.SlashCommand
	var seen uint16
	rest := string(body)
	for rest != "" {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		key, raw, _ := strings.Cut(pair, "=")
		var dst *string
		var bit uint16
		switch key {
		case "team_id":
			dst, bit = &c.TeamID, 1<<0
		case "team_domain":
			dst, bit = &c.TeamDomain, 1<<1
		case "enterprise_id":
			dst, bit = &c.EnterpriseID, 1<<2
		case "channel_id":
			dst, bit = &c.ChannelID, 1<<3
		case "channel_name":
			dst, bit = &c.ChannelName, 1<<4
		case "user_id":
			dst, bit = &c.UserID, 1<<5
		case "user_name":
			dst, bit = &c.UserName, 1<<6
		case "command":
			dst, bit = &c.Command, 1<<7
		case "text":
			dst, bit = &c.Text, 1<<8
		case "response_url":
			dst, bit = &c.ResponseURL, 1<<9
		case "trigger_id":
			dst, bit = &c.TriggerID, 1<<10
		case "api_app_id":
			dst, bit = &c.APIAppID, 1<<11
		default:
			continue
		}
		if seen&bit != 0 {
			continue
		}
		seen |= bit
		v := raw
		if strings.ContainsAny(raw, "%+") {
			var err error
			if v, err = url.QueryUnescape(raw); err != nil {
				return slackapi.SlashCommand{}, errMalformed
			}
		}
		*dst = v
	}
	if c.TeamID == "" || c.UserID == "" || c.ChannelID == "" || c.Command == "" {
		return slackapi.SlashCommand{}, errMalformed
	}
	return c, nil
}

// formValue decodes one form value.
func formValue(raw []byte) (string, error) {
	if bytes.IndexByte(raw, '%') < 0 && bytes.IndexByte(raw, '+') < 0 {
		return string(raw), nil
	}
	return url.QueryUnescape(string(raw))
}

// formField returns the first value of key in a form body, for the one
// field interaction payloads carry ("payload") and for ssl_check.
func formField(body []byte, key string) (string, bool, error) {
	for len(body) > 0 {
		var pair []byte
		pair, body, _ = bytes.Cut(body, []byte{'&'})
		k, raw, _ := bytes.Cut(pair, []byte{'='})
		if string(k) != key {
			continue
		}
		v, err := formValue(raw)
		if err != nil {
			return "", true, errMalformed
		}
		return v, true, nil
	}
	return "", false, nil
}

// isSSLCheck reports whether body is Slack's certificate check of a
// command URL ("ssl_check=1&token=..."), which may come unsigned. It is
// answered 200 and goes no further; only the exact value 1 counts, so a
// forged request cannot use it to skip verification of anything else.
func isSSLCheck(body []byte) bool {
	v, ok, err := formField(body, "ssl_check")
	return ok && err == nil && v == "1"
}
