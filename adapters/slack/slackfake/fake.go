// Package slackfake is a stand-in for Slack in tests: an httptest server
// that answers the Web API methods assistbot calls (as documented at
// api.slack.com/methods, in slack-go's wire format), takes posts to
// response_urls, serves Socket Mode over a WebSocket, and signs requests
// the way Slack signs them. It records every call so that tests can
// assert what Slack would have received, and it can be told to fail.
package slackfake

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Call is one request the fake received.
type Call struct {
	// Method is the Web API method ("chat.postMessage"), or "response_url"
	// for a post to a response_url.
	Method string
	// Form holds the form fields of a Web API call.
	Form url.Values
	// JSON holds the body of a response_url post.
	JSON map[string]any
	// Hook names the response_url a post went to.
	Hook string
	// TS is the timestamp the fake gave a message it posted.
	TS string
}

// Field returns a form field of a Web API call, or a top-level string or
// boolean of a response_url post.
func (c Call) Field(name string) string {
	if c.Form != nil {
		return c.Form.Get(name)
	}
	switch v := c.JSON[name].(type) {
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case nil:
		return ""
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

// Fault makes the next call of a method fail.
type Fault struct {
	// Status is the HTTP status to answer with (429, 500, ...); zero
	// answers 200 with {"ok":false,"error":Error}.
	Status int
	// RetryAfter is the Retry-After header of a 429, in seconds.
	RetryAfter int
	// Error is Slack's error code ("channel_not_found").
	Error string
}

// User is what users.info tells of a user.
type User struct {
	Name, RealName, DisplayName, Locale string
	IsBot                               bool
}

// Server is a fake Slack.
type Server struct {
	*httptest.Server
	// BotToken and AppToken are the tokens it accepts.
	BotToken, AppToken string

	mu      sync.Mutex
	members map[string][]string // conversations.members, by channel
	groups  map[string][]string // usergroups.users.list, by group
	users   map[string]User     // users.info
	calls   []Call
	faults  map[string][]Fault
	seq     int
	changed chan struct{}

	sockMu  sync.Mutex
	sock    *websocket.Conn
	acks    map[string]json.RawMessage
	sockUp  chan struct{}
	stopped chan struct{}
}

// New starts a fake Slack; it stops when the test ends.
func New(t testing.TB) *Server {
	s := &Server{
		BotToken: "xoxb-test-token",
		AppToken: "xapp-test-token",
		members:  map[string][]string{},
		groups:   map[string][]string{},
		users:    map[string]User{},
		faults:   map[string][]Fault{},
		changed:  make(chan struct{}),
		acks:     map[string]json.RawMessage{},
		sockUp:   make(chan struct{}),
		stopped:  make(chan struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/{method}", s.serveAPI)
	mux.HandleFunc("POST /hooks/{name}", s.serveHook)
	mux.HandleFunc("GET /link", s.serveSocket)
	s.Server = httptest.NewServer(mux)
	t.Cleanup(func() {
		close(s.stopped)
		s.sockMu.Lock()
		if s.sock != nil {
			s.sock.Close()
		}
		s.sockMu.Unlock()
		s.Server.Close()
	})
	return s
}

// SetMembers sets the members of a channel (conversations.members).
func (s *Server) SetMembers(channel string, users ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.members[channel] = users
}

// SetGroup sets the members of a user group (usergroups.users.list).
func (s *Server) SetGroup(group string, users ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[group] = users
}

// SetUser sets what users.info tells of id.
func (s *Server) SetUser(id string, u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[id] = u
}

// APIURL is the Web API base URL to give slack.OptionAPIURL.
func (s *Server) APIURL() string { return s.URL + "/api/" }

// ResponseURL returns a response_url named name.
func (s *Server) ResponseURL(name string) string { return s.URL + "/hooks/" + name }

// Fail queues faults for method's next calls, one per call.
func (s *Server) Fail(method string, f ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[method] = append(s.faults[method], f...)
}

// Calls returns the calls of method so far ("" for all).
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if method == "" || c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// Wait returns the first call of method that ok accepts, waiting for it
// up to timeout; the test fails if none comes.
func (s *Server) Wait(t testing.TB, method string, timeout time.Duration, ok func(Call) bool) Call {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		changed := s.changed
		for _, c := range s.calls {
			if c.Method == method && (ok == nil || ok(c)) {
				s.mu.Unlock()
				return c
			}
		}
		s.mu.Unlock()
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("slackfake: no matching %s call within %s; calls: %s", method, timeout, s.describe())
			return Call{}
		}
	}
}

func (s *Server) describe() string {
	var b strings.Builder
	for _, c := range s.Calls("") {
		fmt.Fprintf(&b, "\n  %s %v%v", c.Method, c.Form, c.JSON)
	}
	return b.String()
}

func (s *Server) record(c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) fault(method string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.faults[method]
	if len(q) == 0 {
		return Fault{}, false
	}
	s.faults[method] = q[1:]
	return q[0], true
}

func (s *Server) nextTS() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return fmt.Sprintf("1700000000.%06d", s.seq)
}

// serveAPI answers a Web API method.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	method := r.PathValue("method")
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	token := r.Form.Get("token")
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		token = strings.TrimPrefix(h, "Bearer ")
	}
	want := s.BotToken
	if method == "apps.connections.open" {
		want = s.AppToken
	}
	call := Call{Method: method, Form: r.Form}
	if f, ok := s.fault(method); ok {
		s.record(call)
		if f.Status != 0 {
			if f.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
			}
			http.Error(w, http.StatusText(f.Status), f.Status)
			return
		}
		writeJSON(w, map[string]any{"ok": false, "error": f.Error})
		return
	}
	if token != want {
		s.record(call)
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}
	switch method {
	case "chat.postMessage", "chat.update", "chat.postEphemeral":
		call.TS = r.Form.Get("ts")
		if method != "chat.update" {
			call.TS = s.nextTS()
		}
		s.record(call)
		resp := map[string]any{"ok": true, "channel": r.Form.Get("channel"), "ts": call.TS, "message_ts": call.TS,
			"message": map[string]any{"text": r.Form.Get("text"), "ts": call.TS, "thread_ts": r.Form.Get("thread_ts")}}
		writeJSON(w, resp)
	case "conversations.members":
		s.record(call)
		s.mu.Lock()
		m, ok := s.members[r.Form.Get("channel")]
		s.mu.Unlock()
		if !ok {
			writeJSON(w, map[string]any{"ok": false, "error": "channel_not_found"})
			return
		}
		writeJSON(w, map[string]any{"ok": true, "members": m, "response_metadata": map[string]any{"next_cursor": ""}})
	case "usergroups.users.list":
		s.record(call)
		s.mu.Lock()
		m, ok := s.groups[r.Form.Get("usergroup")]
		s.mu.Unlock()
		if !ok {
			writeJSON(w, map[string]any{"ok": false, "error": "no_such_subteam"})
			return
		}
		writeJSON(w, map[string]any{"ok": true, "users": m})
	case "users.info":
		s.record(call)
		s.mu.Lock()
		u, ok := s.users[r.Form.Get("user")]
		s.mu.Unlock()
		if !ok {
			writeJSON(w, map[string]any{"ok": false, "error": "user_not_found"})
			return
		}
		writeJSON(w, map[string]any{"ok": true, "user": map[string]any{"id": r.Form.Get("user"), "name": u.Name,
			"real_name": u.RealName, "is_bot": u.IsBot, "locale": u.Locale,
			"profile": map[string]any{"display_name": u.DisplayName, "real_name": u.RealName}}})
	case "apps.connections.open":
		s.record(call)
		writeJSON(w, map[string]any{"ok": true, "url": "ws" + strings.TrimPrefix(s.URL, "http") + "/link"})
	case "auth.test":
		s.record(call)
		writeJSON(w, map[string]any{"ok": true, "user_id": "UBOT", "team_id": "T1", "bot_id": "BBOT"})
	default:
		s.record(call)
		writeJSON(w, map[string]any{"ok": false, "error": "unknown_method"})
	}
}

// serveHook takes a post to a response_url.
func (s *Server) serveHook(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	s.record(Call{Method: "response_url", JSON: m, Hook: r.PathValue("name")})
	if f, ok := s.fault("response_url"); ok && f.Status != 0 {
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
		}
		http.Error(w, http.StatusText(f.Status), f.Status)
		return
	}
	writeJSON(w, map[string]any{"ok": true})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

// Sign returns the headers Slack sends with body at time at, signed with
// secret: X-Slack-Request-Timestamp and X-Slack-Signature
// (v0=hex(HMAC-SHA256(secret, "v0:<timestamp>:<body>"))).
func Sign(secret string, at time.Time, body []byte) http.Header {
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + ts + ":"))
	mac.Write(body)
	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", ts)
	h.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	return h
}

// Request returns a POST of body to u with contentType, signed by secret
// now, as Slack sends it.
func Request(u, secret, contentType string, body []byte) *http.Request {
	r, err := http.NewRequest(http.MethodPost, u, strings.NewReader(string(body)))
	if err != nil {
		panic(err)
	}
	for k, v := range Sign(secret, time.Now(), body) {
		r.Header[k] = v
	}
	r.Header.Set("Content-Type", contentType)
	return r
}
