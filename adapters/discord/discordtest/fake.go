// Package discordtest is a fake Discord REST API for tests: the routes
// assistbot calls, answered as Discord documents them (JSON bodies,
// snowflake ids, error objects with codes such as 50007), with every
// request recorded and failures injectable.
package discordtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Request is one request the fake received.
type Request struct {
	Method string
	// Path is relative to the API base: "channels/123/messages".
	Path string
	Body json.RawMessage
	Auth string
	At   time.Time
}

// Message is a message as the fake keeps it.
type Message struct {
	ID              string          `json:"id"`
	ChannelID       string          `json:"channel_id"`
	Content         string          `json:"content"`
	Flags           int             `json:"flags,omitempty"`
	Embeds          json.RawMessage `json:"embeds,omitempty"`
	Components      json.RawMessage `json:"components,omitempty"`
	AllowedMentions json.RawMessage `json:"allowed_mentions,omitempty"`
	Reference       json.RawMessage `json:"message_reference,omitempty"`
	// Edits counts the times the message was edited.
	Edits int `json:"-"`
}

// Thread is a thread started from a message.
type Thread struct {
	ID, ParentID, Name string
}

// failure is an injected answer.
type failure struct {
	method, prefix string
	status         int
	body           string
	header         http.Header
	times          int
}

// Fake is a running fake Discord API.
type Fake struct {
	srv *httptest.Server
	// Token is the bot token it accepts ("Bot " + Token).
	Token string
	// BotID is the bot user's id.
	BotID string
	// GatewayURL is what GET /gateway answers; set it before the
	// adapter connects.
	GatewayURL string

	mu       sync.Mutex
	next     int64
	requests []Request
	messages []*Message
	threads  []Thread
	dms      map[string]string // DM channel id -> user id
	refused  map[string]bool   // users whose DMs are closed
	members  map[string]Member // guild id + "/" + user id -> member
	failures []*failure
}

// New starts a fake that accepts token and stops it when the test ends.
func New(t testing.TB, token string) *Fake {
	f := &Fake{Token: token, BotID: "1000000000000000001", next: 1100000000000000000,
		dms: map[string]string{}, refused: map[string]bool{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// APIURL is the base URL to configure as discord.api_url.
func (f *Fake) APIURL() string { return f.srv.URL + "/api/v10/" }

// RefuseDMs makes messages to user's DM channel fail with 50007, as
// when the user closed their DMs or shares no server with the bot.
func (f *Fake) RefuseDMs(user string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refused[user] = true
}

// Fail answers the next times requests whose method is method and whose
// path starts with prefix with status, body and header instead.
func (f *Fake) Fail(method, prefix string, status int, body string, header http.Header, times int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures = append(f.failures, &failure{method, prefix, status, body, header, times})
}

// Requests returns every request so far, in order.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.requests...)
}

// Messages returns the messages posted in channel, oldest first, as they
// now read.
func (f *Fake) Messages(channel string) []Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Message
	for _, m := range f.messages {
		if m.ChannelID == channel {
			out = append(out, *m)
		}
	}
	return out
}

// DMChannel returns the id of the DM channel with user, opening it: the
// channel_id of the messages user sends the bot.
func (f *Fake) DMChannel(user string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dmChannel(user)
}

// dmChannel returns user's DM channel; the caller holds f.mu.
func (f *Fake) dmChannel(user string) string {
	for c, u := range f.dms {
		if u == user {
			return c
		}
	}
	c := f.id()
	f.dms[c] = user
	return c
}

// DMs returns the messages posted in the DM channel with user.
func (f *Fake) DMs(user string) []Message {
	f.mu.Lock()
	var ch string
	for c, u := range f.dms {
		if u == user {
			ch = c
		}
	}
	f.mu.Unlock()
	if ch == "" {
		return nil
	}
	return f.Messages(ch)
}

// Threads returns the threads started, in order.
func (f *Fake) Threads() []Thread {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Thread(nil), f.threads...)
}

// id returns a new snowflake-like id.
func (f *Fake) id() string {
	f.next++
	return strconv.FormatInt(f.next, 10)
}

// Routes, relative to the API base.
var (
	reChannelMessages = regexp.MustCompile(`^channels/(\d+)/messages$`)
	reChannelMessage  = regexp.MustCompile(`^channels/(\d+)/messages/(\d+)$`)
	reMessageThread   = regexp.MustCompile(`^channels/(\d+)/messages/(\d+)/threads$`)
	reCallback        = regexp.MustCompile(`^interactions/([^/]+)/([^/]+)/callback$`)
	reWebhookOriginal = regexp.MustCompile(`^webhooks/([^/]+)/([^/]+)/messages/@original$`)
	reWebhook         = regexp.MustCompile(`^webhooks/([^/]+)/([^/]+)$`)
	reCommands        = regexp.MustCompile(`^applications/(\d+)(/guilds/(\d+))?/commands$`)
	reGuildMember     = regexp.MustCompile(`^guilds/(\d+)/members/(\d+)$`)
)

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	path, ok := strings.CutPrefix(r.URL.Path, "/api/v10/")
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, Request{Method: r.Method, Path: path, Body: json.RawMessage(body), Auth: r.Header.Get("Authorization"), At: time.Now()})
	if !ok {
		writeError(w, http.StatusNotFound, 0, "404: Not Found")
		return
	}
	for _, fl := range f.failures {
		if fl.times > 0 && fl.method == r.Method && strings.HasPrefix(path, fl.prefix) {
			fl.times--
			for k, v := range fl.header {
				w.Header()[k] = v
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(fl.status)
			io.WriteString(w, fl.body)
			return
		}
	}
	tokenAuth := strings.HasPrefix(path, "webhooks/") || strings.HasPrefix(path, "interactions/")
	if !tokenAuth && r.Header.Get("Authorization") != "Bot "+f.Token {
		writeError(w, http.StatusUnauthorized, 0, "401: Unauthorized")
		return
	}
	switch {
	case r.Method == "GET" && path == "users/@me":
		writeJSON(w, http.StatusOK, map[string]any{"id": f.BotID, "username": "assistbot", "bot": true})
	case r.Method == "GET" && reGuildMember.MatchString(path):
		sub := reGuildMember.FindStringSubmatch(path)
		m, ok := f.members[sub[1]+"/"+sub[2]] // serve holds f.mu
		if !ok {
			writeError(w, http.StatusNotFound, 10007, "Unknown Member")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"user": map[string]any{"id": sub[2], "username": m.Username, "bot": m.Bot},
			"roles": m.Roles, "nick": m.Nick, "joined_at": "2026-01-01T00:00:00Z"})
	case r.Method == "GET" && path == "gateway":
		u := f.GatewayURL
		if u == "" {
			u = "wss://gateway.invalid"
		}
		writeJSON(w, http.StatusOK, map[string]any{"url": u})
	case r.Method == "POST" && path == "users/@me/channels":
		var in struct {
			RecipientID string `json:"recipient_id"`
		}
		if json.Unmarshal(body, &in) != nil || in.RecipientID == "" {
			writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body")
			return
		}
		ch := f.dmChannel(in.RecipientID)
		writeJSON(w, http.StatusOK, map[string]any{"id": ch, "type": 1, "recipients": []any{map[string]any{"id": in.RecipientID}}})
	case r.Method == "POST" && reChannelMessages.MatchString(path):
		ch := reChannelMessages.FindStringSubmatch(path)[1]
		if f.refused[f.dms[ch]] {
			writeError(w, http.StatusForbidden, 50007, "Cannot send messages to this user")
			return
		}
		m := &Message{}
		if json.Unmarshal(body, m) != nil {
			writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body")
			return
		}
		m.ID, m.ChannelID = f.id(), ch
		f.messages = append(f.messages, m)
		writeJSON(w, http.StatusOK, m)
	case r.Method == "PATCH" && reChannelMessage.MatchString(path):
		sub := reChannelMessage.FindStringSubmatch(path)
		m := f.find(sub[1], sub[2])
		if m == nil {
			writeError(w, http.StatusNotFound, 10008, "Unknown Message")
			return
		}
		f.apply(m, body)
		writeJSON(w, http.StatusOK, m)
	case r.Method == "POST" && reMessageThread.MatchString(path):
		sub := reMessageThread.FindStringSubmatch(path)
		if f.find(sub[1], sub[2]) == nil {
			writeError(w, http.StatusNotFound, 10008, "Unknown Message")
			return
		}
		var in struct {
			Name string `json:"name"`
		}
		json.Unmarshal(body, &in)
		// A thread started from a message has the message's id.
		f.threads = append(f.threads, Thread{ID: sub[2], ParentID: sub[1], Name: in.Name})
		writeJSON(w, http.StatusCreated, map[string]any{"id": sub[2], "type": 11, "parent_id": sub[1], "name": in.Name})
	case r.Method == "POST" && reCallback.MatchString(path):
		w.WriteHeader(http.StatusNoContent)
	case r.Method == "PATCH" && reWebhookOriginal.MatchString(path):
		sub := reWebhookOriginal.FindStringSubmatch(path)
		m := f.find("webhook:"+sub[2], "original")
		if m == nil {
			m = &Message{ID: "original", ChannelID: "webhook:" + sub[2]}
			f.messages = append(f.messages, m)
		}
		f.apply(m, body)
		writeJSON(w, http.StatusOK, m)
	case r.Method == "POST" && reWebhook.MatchString(path):
		sub := reWebhook.FindStringSubmatch(path)
		m := &Message{}
		json.Unmarshal(body, m)
		m.ID, m.ChannelID = f.id(), "webhook:"+sub[2]
		f.messages = append(f.messages, m)
		if r.URL.Query().Get("wait") == "true" {
			writeJSON(w, http.StatusOK, m)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case r.Method == "PUT" && reCommands.MatchString(path):
		var cmds []map[string]any
		if json.Unmarshal(body, &cmds) != nil {
			writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body")
			return
		}
		sub := reCommands.FindStringSubmatch(path)
		for _, c := range cmds {
			c["id"], c["application_id"], c["version"] = f.id(), sub[1], "1"
			if sub[3] != "" {
				c["guild_id"] = sub[3]
			}
		}
		writeJSON(w, http.StatusOK, cmds)
	default:
		writeError(w, http.StatusNotFound, 0, fmt.Sprintf("404: no route for %s %s", r.Method, path))
	}
}

// Webhook returns the message an interaction token's original response
// now shows, after edits through the webhook.
func (f *Fake) Webhook(token string) (Message, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if m := f.find("webhook:"+token, "original"); m != nil {
		return *m, true
	}
	return Message{}, false
}

// find returns the message id in channel; the caller holds f.mu.
func (f *Fake) find(channel, id string) *Message {
	for _, m := range f.messages {
		if m.ChannelID == channel && m.ID == id {
			return m
		}
	}
	return nil
}

// apply edits m with the fields present in body; the caller holds f.mu.
func (f *Fake) apply(m *Message, body []byte) {
	var in map[string]json.RawMessage
	if json.Unmarshal(body, &in) != nil {
		return
	}
	if v, ok := in["content"]; ok {
		json.Unmarshal(v, &m.Content)
	}
	if v, ok := in["components"]; ok {
		m.Components = v
	}
	if v, ok := in["embeds"]; ok {
		m.Embeds = v
	}
	if v, ok := in["allowed_mentions"]; ok {
		m.AllowedMentions = v
	}
	m.Edits++
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

func writeError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, map[string]any{"message": msg, "code": code})
}

// Member is a guild member the fake knows (GET /guilds/{id}/members/{id}).
type Member struct {
	Username string
	Nick     string
	Roles    []string
	Bot      bool
}

// SetMember makes user a member of guild.
func (f *Fake) SetMember(guild, user string, m Member) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.members == nil {
		f.members = map[string]Member{}
	}
	f.members[guild+"/"+user] = m
}
