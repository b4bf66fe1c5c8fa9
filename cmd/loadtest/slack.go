package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"
)

// command builds signed slash commands as Slack sends them: a form body,
// X-Slack-Request-Timestamp and X-Slack-Signature, HMAC-SHA256 over
// "v0:timestamp:body" with the app's signing secret.
type command struct {
	secret []byte
	team   string
	user   string
	text   string
	seq    atomic.Int64
}

// next returns the body, timestamp and signature of one more command,
// with its own trigger id and response URL, as every real one has.
func (c *command) next(now time.Time) (body []byte, ts, sig string) {
	n := strconv.FormatInt(c.seq.Add(1), 10)
	body = []byte("token=unused&team_id=" + url.QueryEscape(c.team) + "&team_domain=load&channel_id=C0LOAD" +
		"&channel_name=support&user_id=" + url.QueryEscape(c.user) + "&user_name=alice&command=%2Fremote" +
		"&text=" + url.QueryEscape(c.text) + "&api_app_id=A0LOAD" +
		"&response_url=" + url.QueryEscape("https://hooks.slack.com/commands/"+c.team+"/"+n+"/load") +
		"&trigger_id=" + strconv.FormatInt(now.UnixNano(), 10) + "." + n + ".load")
	ts = strconv.FormatInt(now.Unix(), 10)
	mac := hmac.New(sha256.New, c.secret)
	mac.Write([]byte("v0:" + ts + ":"))
	mac.Write(body)
	return body, ts, "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// verify checks a request's signature as Slack's documentation says, for
// the bare server.
func verify(secret []byte, h http.Header, body []byte) bool {
	ts := h.Get("X-Slack-Request-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("v0:" + ts + ":"))
	mac.Write(body)
	want := "v0=" + hex.EncodeToString(mac.Sum(nil))
	return hmac.Equal([]byte(want), []byte(h.Get("X-Slack-Signature")))
}
