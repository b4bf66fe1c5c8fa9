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
	// Status is the HTTP status the fake answered with (0: the
	// connection was dropped without an answer).
	Status int
	// At is when the fake recorded the call.
	At time.Time
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
	// Delay holds the answer back this long (or until the caller gives
	// up), as a slow or stalled Slack would.
	Delay time.Duration
	// Drop closes the connection without answering, as a network failure
	// would.
	Drop bool
}

// Conversation is what conversations.info tells of a channel.
type Conversation struct {
	// IsIM is a direct message; User is the other person in it.
	IsIM bool
	User string
	// IsPrivate is a private channel.
	IsPrivate bool
	// IsMember: the app is in the conversation.
	IsMember bool
	// IsShared: shared with another workspace; IsExtShared: with another
	// organisation (Slack Connect); IsOrgShared: with workspaces of the
	// same Enterprise Grid organisation.
	IsShared, IsExtShared, IsOrgShared bool
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
	members map[string][]string     // conversations.members, by channel
	groups  map[string][]string     // usergroups.users.list, by group
	users   map[string]User         // users.info
	convs   map[string]Conversation // conversations.info
	holds   map[string]chan struct{}
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
		convs:    map[string]Conversation{},
		holds:    map[string]chan struct{}{},
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

// DM is the ID of the app's direct messages with user.
func DM(user string) string { return "D" + user[1:] }

// isUser reports whether id is a user's ID rather than a conversation's.
func isUser(id string) bool { return strings.HasPrefix(id, "U") || strings.HasPrefix(id, "W") }

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

// SetConversation sets what conversations.info tells of channel; a
// channel it was not told of is channel_not_found.
func (s *Server) SetConversation(channel string, c Conversation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.convs[channel] = c
}

// Hold makes calls of method ("users.info", "response_url") wait until
// the returned release is called (or the test ends) before they are
// answered, as a slow Slack would. Release may be called more than once.
func (s *Server) Hold(method string) (release func()) {
	ch := make(chan struct{})
	s.mu.Lock()
	s.holds[method] = ch
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			if s.holds[method] == ch {
				delete(s.holds, method)
			}
			s.mu.Unlock()
			close(ch)
		})
	}
}

// hold waits while method is held.
func (s *Server) hold(method string) {
	s.mu.Lock()
	ch := s.holds[method]
	s.mu.Unlock()
	if ch == nil {
		return
	}
	select {
	case <-ch:
	case <-s.stopped:
	}
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
	c.At = time.Now()
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
	s.hold(method)
	token := r.Form.Get("token")
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		token = strings.TrimPrefix(h, "Bearer ")
	}
	want := s.BotToken
	if method == "apps.connections.open" {
		want = s.AppToken
	}
	call := Call{Method: method, Form: r.Form, Status: http.StatusOK}
	if f, ok := s.fault(method); ok && s.serveFault(w, r, call, f) {
		return
	}
	if token != want {
		s.record(call)
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}
	switch method {
	case "chat.postMessage", "chat.update", "chat.postEphemeral":
		channel := r.Form.Get("channel")
		call.TS = r.Form.Get("ts")
		if method != "chat.update" {
			call.TS = s.nextTS()
		}
		s.record(call)
		if isUser(channel) {
			// A message posted to a user ID goes to the app's DM with
			// them, which Slack names in its answer; chat.update wants
			// that DM's ID, not the user's.
			if method == "chat.update" {
				writeJSON(w, map[string]any{"ok": false, "error": "channel_not_found"})
				return
			}
			channel = DM(channel)
		}
		resp := map[string]any{"ok": true, "channel": channel, "ts": call.TS, "message_ts": call.TS,
			"message": map[string]any{"text": r.Form.Get("text"), "ts": call.TS, "thread_ts": r.Form.Get("thread_ts")}}
		writeJSON(w, resp)
	case "conversations.open":
		s.record(call)
		users := r.Form.Get("users")
		if !isUser(users) || strings.Contains(users, ",") {
			writeJSON(w, map[string]any{"ok": false, "error": "user_not_found"})
			return
		}
		writeJSON(w, map[string]any{"ok": true, "channel": map[string]any{"id": DM(users)}})
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
	case "conversations.info":
		s.record(call)
		id := r.Form.Get("channel")
		s.mu.Lock()
		c, ok := s.convs[id]
		s.mu.Unlock()
		if !ok {
			writeJSON(w, map[string]any{"ok": false, "error": "channel_not_found"})
			return
		}
		ch := map[string]any{"id": id, "is_im": c.IsIM, "is_private": c.IsPrivate || c.IsIM,
			"is_channel": !c.IsIM && !c.IsPrivate, "is_group": !c.IsIM && c.IsPrivate,
			"is_shared": c.IsShared || c.IsExtShared || c.IsOrgShared, "is_ext_shared": c.IsExtShared, "is_org_shared": c.IsOrgShared,
			"is_member": c.IsMember}
		if c.IsIM {
			ch["user"] = c.User
		}
		writeJSON(w, map[string]any{"ok": true, "channel": ch})
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

// serveFault answers call with fault f, and records it with the status
// it was given. A fault that only delays reports false after the delay:
// the call is then answered as usual.
func (s *Server) serveFault(w http.ResponseWriter, r *http.Request, call Call, f Fault) bool {
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done(): // the caller gave up
			t.Stop()
		case <-s.stopped:
			t.Stop()
		}
	}
	switch {
	case f.Drop:
		call.Status = 0
		s.record(call)
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		}
	case f.Status != 0:
		call.Status = f.Status
		s.record(call)
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
		}
		http.Error(w, http.StatusText(f.Status), f.Status)
	case f.Error != "":
		s.record(call)
		writeJSON(w, map[string]any{"ok": false, "error": f.Error})
	default:
		return false
	}
	return true
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
	s.hold("response_url")
	call := Call{Method: "response_url", JSON: m, Hook: r.PathValue("name"), Status: http.StatusOK}
	if f, ok := s.fault("response_url"); ok && s.serveFault(w, r, call, f) {
		return
	}
	s.record(call)
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
