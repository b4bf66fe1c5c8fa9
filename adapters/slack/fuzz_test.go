package slack

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/assistbot/assistbot/adapters/slack/slackfake"
)

// FuzzInbound feeds arbitrary bodies, signed with the right secret, to
// the three routes: whatever a signed sender puts in them, the answer is
// a 2xx or a 4xx, never a 5xx or a panic. It also runs the pure parsers
// on the same bytes. Run it with
//
//	go test ./adapters/slack -run '^$' -fuzz FuzzInbound -fuzztime 1m
func FuzzInbound(f *testing.F) {
	cmd := commandForm("<@U0CUSTOMER|pat> mobile", "http://127.0.0.1:1/hooks/x").Encode()
	click, _ := json.Marshal(map[string]any{"type": "block_actions", "team": map[string]any{"id": testTeam},
		"user": map[string]any{"id": testAgent}, "channel": map[string]any{"id": testChannel},
		"actions": []map[string]any{{"action_id": "remote.send_desktop", "value": "06h15k.AAAA"}}})
	ev, _ := json.Marshal(map[string]any{"type": "event_callback", "team_id": testTeam, "event_id": "Ev1",
		"event": threadReply(testAgent, "<https://x|y> &amp;", "1.2", "1.1")})
	for _, seed := range []struct {
		route uint8
		body  string
	}{
		{0, cmd}, {0, "ssl_check=1"}, {0, "text=%ZZ"}, {0, "team_id=T&user_id=U&channel_id=C&command=/remote&text=%2B1+201+555+0123"},
		{1, url.Values{"payload": {string(click)}}.Encode()}, {1, "payload=%7B%22type%22%3A%22message_action%22%7D"}, {1, "payload=null"},
		{2, string(ev)}, {2, `{"type":"url_verification","challenge":"c"}`}, {2, `{"type":"event_callback","event":{"type":"message","channel_type":"im"}}`},
	} {
		f.Add(seed.route, []byte(seed.body))
	}
	r := newRig(f, func(o *Options) { o.Logger = nil })
	routes := []struct {
		path string
		h    http.HandlerFunc
	}{{"/slack/commands", r.a.serveCommand}, {"/slack/interactions", r.a.serveInteraction}, {"/slack/events", r.a.serveEvent}}
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		parseCommand(body)
		parseInteraction(body)
		parseEvent(body)
		plainText(string(body))
		r.a.render.keys.open(string(body), "C1")
		rt := routes[int(route)%len(routes)]
		req := slackfake.Request("http://assistbot.test"+rt.path, testSecret, "application/x-www-form-urlencoded", body)
		req.Pattern = "POST " + rt.path
		w := httptest.NewRecorder()
		rt.h(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s answered %d %q for %q", rt.path, w.Code, w.Body, body)
		}
	})
}
