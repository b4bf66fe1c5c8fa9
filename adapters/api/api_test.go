package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/web/webtest"
	"github.com/assistbot/assistbot/core"
)

var ctx = context.Background()

const token = "s3cret-token"

// rig is a webtest rig with the API mounted on its server.
type rig struct {
	*webtest.Rig
	api *API
}

// newRig returns a rig; edit adjusts the API's options before New.
func newRig(t testing.TB, edit ...func(*Options)) *rig {
	t.Helper()
	r := &rig{Rig: webtest.New(t, webtest.Options{})}
	o := Options{Engine: r.Engine, Catalog: r.Catalog, Tokens: []string{"", "other-token", token},
		Idempotency: r.Store, Clock: r.Clock, Logger: r.Logger}
	for _, e := range edit {
		e(&o)
	}
	var err error
	if r.api, err = New(o); err != nil {
		t.Fatal(err)
	}
	r.api.Mount(r.Server)
	return r
}

// call calls the API with the rig's token and decodes the answer.
func (r *rig) call(method, path, body string) (*http.Response, map[string]any) {
	r.T.Helper()
	resp, raw := r.Serve(webtest.Request{Method: method, Path: path, Body: body, Header: webtest.Headers("Authorization", "Bearer "+token)})
	var out map[string]any
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		r.T.Fatalf("%s %s: body is not a JSON object: %v\n%s", method, path, err, raw)
	}
	return resp, out
}

// apiError returns the code and message of a JSON error answer.
func apiError(t *testing.T, body map[string]any) (code, message string) {
	t.Helper()
	e, ok := body["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error object in %v", body)
	}
	code, _ = e["code"].(string)
	message, _ = e["message"].(string)
	return code, message
}

func TestAPIAuth(t *testing.T) {
	tests := []struct {
		name, authorization string
		tokens              []string
		status              int
		message             string
	}{
		{"disabled", "Bearer " + token, nil, http.StatusUnauthorized, "the API is disabled: set api.tokens"},
		{"only empty tokens", "Bearer " + token, []string{"", " "}, http.StatusUnauthorized, "the API is disabled"},
		{"missing", "", []string{token}, http.StatusUnauthorized, "missing bearer token"},
		{"basic scheme", "Basic dXNlcjpwYXNz", []string{token}, http.StatusUnauthorized, "missing bearer token"},
		{"empty bearer", "Bearer ", []string{token}, http.StatusUnauthorized, "missing bearer token"},
		{"wrong token", "Bearer nope", []string{token}, http.StatusUnauthorized, "invalid bearer token"},
		{"prefix of the token", "Bearer " + token[:4], []string{token}, http.StatusUnauthorized, "invalid bearer token"},
		{"right token", "Bearer " + token, []string{"first", token}, http.StatusOK, ""},
		{"lower-case scheme", "bearer " + token, []string{token}, http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, func(o *Options) { o.Tokens = tt.tokens })
			resp, body := r.Serve(webtest.Request{Path: "/api/v1/sessions", Header: webtest.Headers("Authorization", tt.authorization)})
			webtest.WantStatus(t, resp, body, tt.status)
			if tt.status == http.StatusOK {
				return
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != "Bearer" {
				t.Errorf("WWW-Authenticate = %q, want Bearer", got)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			webtest.WantContains(t, body, `{"error":{"code":"unauthorized","message":"`+tt.message)
		})
	}
}

func TestAPISessionLifecycle(t *testing.T) {
	r := newRig(t)

	resp, created := r.call(http.MethodPost, "/api/v1/sessions",
		`{"customer":{"channel":"sms","address":"+12015550123","name":"Pat"},"agent":"alice","locale":"ko-KR"}`)
	webtest.WantStatus(t, resp, "", http.StatusCreated)
	id, _ := created["id"].(string)
	pin, _ := created["pin"].(string)
	if id == "" || !core.ValidPIN(pin) {
		t.Fatalf("created session has id %q pin %q", id, pin)
	}
	if loc := resp.Header.Get("Location"); loc != "/api/v1/sessions/"+id {
		t.Errorf("Location = %q", loc)
	}
	wantFields(t, created, map[string]any{
		"state": "issued", "agent": "alice", "locale": "ko", "device": "unknown", "provider": "fake",
		"desktop_url": r.URL() + "/?code=" + pin, "mobile_url": r.URL() + "/m/" + pin, "manual_url": r.URL() + "/",
		"expires_at": webtest.T0.Add(core.DefaultPINTTL).Format(time.RFC3339), "created_at": webtest.T0.Format(time.RFC3339),
		"customer": map[string]any{"channel": "sms", "address": "+12015550123", "name": "Pat"},
	})
	for _, absent := range []string{"mode", "technician", "joined_at", "started_at", "ended_at"} {
		if v, ok := created[absent]; ok {
			t.Errorf("%s = %v, want it omitted before it happens", absent, v)
		}
	}

	t.Run("get", func(t *testing.T) {
		resp, got := r.call(http.MethodGet, "/api/v1/sessions/"+id, "")
		webtest.WantStatus(t, resp, "", http.StatusOK)
		wantFields(t, got, map[string]any{"id": id, "state": "issued", "deliveries": []any{}})
	})

	t.Run("send", func(t *testing.T) {
		resp, got := r.call(http.MethodPost, "/api/v1/sessions/"+id+"/send", `{"link":"mobile","agent":"bob"}`)
		webtest.WantStatus(t, resp, "", http.StatusOK)
		wantFields(t, got, map[string]any{"state": "sent"})
		d, _ := got["delivery"].(map[string]any)
		wantFields(t, d, map[string]any{"kind": "link", "channel": "sms", "status": "queued", "link": r.URL() + "/m/" + pin})
		_, got = r.call(http.MethodGet, "/api/v1/sessions/"+id, "")
		if ds, _ := got["deliveries"].([]any); len(ds) != 1 {
			t.Errorf("deliveries = %v, want the one queued", got["deliveries"])
		}
	})

	t.Run("regenerate", func(t *testing.T) {
		resp, got := r.call(http.MethodPost, "/api/v1/sessions/"+id+"/regenerate", ``)
		webtest.WantStatus(t, resp, "", http.StatusOK)
		wantFields(t, got, map[string]any{"state": "issued"})
		if got["pin"] == pin {
			t.Error("regenerate kept the pin")
		}
		pin, _ = got["pin"].(string)
	})

	t.Run("start before join", func(t *testing.T) {
		resp, got := r.call(http.MethodPost, "/api/v1/sessions/"+id+"/start", `{"mode":"view"}`)
		webtest.WantStatus(t, resp, "", http.StatusConflict)
		code, msg := apiError(t, got)
		if code != "invalid_transition" || !strings.Contains(msg, "the session is issued") {
			t.Errorf("error = %s %q, want invalid_transition naming the state", code, msg)
		}
	})

	if _, _, err := r.Engine.Join(ctx, pin, core.DeviceMobile); err != nil {
		t.Fatalf("join: %v", err)
	}

	t.Run("list", func(t *testing.T) {
		for _, q := range []string{"?state=waiting", "?state=issued&state=waiting", "?state=issued,+waiting", "?limit=1", ""} {
			resp, got := r.call(http.MethodGet, "/api/v1/sessions"+q, "")
			webtest.WantStatus(t, resp, "", http.StatusOK)
			list, _ := got["sessions"].([]any)
			if len(list) != 1 || list[0].(map[string]any)["id"] != id {
				t.Errorf("%s: sessions = %v, want just %s", q, list, id)
			}
		}
		_, got := r.call(http.MethodGet, "/api/v1/sessions?state=issued", "")
		if list, _ := got["sessions"].([]any); len(list) != 0 {
			t.Errorf("issued sessions = %v, want none", list)
		}
	})

	t.Run("start", func(t *testing.T) {
		resp, got := r.call(http.MethodPost, "/api/v1/sessions/"+id+"/start", `{"mode":"view","technician":"tom"}`)
		webtest.WantStatus(t, resp, "", http.StatusOK)
		wantFields(t, got, map[string]any{"state": "active", "mode": "view", "technician": "tom", "device": "mobile",
			"joined_at": webtest.T0.Format(time.RFC3339), "started_at": webtest.T0.Format(time.RFC3339)})
	})

	t.Run("end", func(t *testing.T) {
		resp, got := r.call(http.MethodPost, "/api/v1/sessions/"+id+"/end", `{}`)
		webtest.WantStatus(t, resp, "", http.StatusOK)
		wantFields(t, got, map[string]any{"state": "ended", "ended_at": webtest.T0.Format(time.RFC3339)})
	})

	t.Run("events", func(t *testing.T) {
		resp, got := r.call(http.MethodGet, "/api/v1/sessions/"+id+"/events", "")
		webtest.WantStatus(t, resp, "", http.StatusOK)
		evs, _ := got["events"].([]any)
		var actions []string
		for _, e := range evs {
			actions = append(actions, e.(map[string]any)["action"].(string))
		}
		if strings.Join(actions, ",") != "issue,send,regenerate,join,start,end" {
			t.Fatalf("actions = %v", actions)
		}
		wantFields(t, evs[0].(map[string]any), map[string]any{"actor": "agent:alice", "to": "issued", "at": webtest.T0.Format(time.RFC3339)})
		if _, ok := evs[0].(map[string]any)["from"]; ok {
			t.Error("the issue event has a from state")
		}
		wantFields(t, evs[1].(map[string]any), map[string]any{"actor": "agent:bob", "from": "issued", "to": "sent"})
		wantFields(t, evs[2].(map[string]any), map[string]any{"actor": "agent:api"})
		wantFields(t, evs[4].(map[string]any), map[string]any{"actor": "technician:tom", "detail": "view"})
	})

	t.Run("close", func(t *testing.T) {
		resp, other := r.call(http.MethodPost, "/api/v1/sessions", ``)
		webtest.WantStatus(t, resp, "", http.StatusCreated)
		if _, ok := other["customer"]; ok {
			t.Errorf("a session without customer has customer %v", other["customer"])
		}
		resp, got := r.call(http.MethodPost, "/api/v1/sessions/"+other["id"].(string)+"/close", `{"agent":"carol"}`)
		webtest.WantStatus(t, resp, "", http.StatusOK)
		wantFields(t, got, map[string]any{"state": "closed"})
	})

	t.Run("expired reads as expired", func(t *testing.T) {
		_, fresh := r.call(http.MethodPost, "/api/v1/sessions", `{}`)
		r.Clock.Add(core.DefaultPINTTL)
		_, got := r.call(http.MethodGet, "/api/v1/sessions/"+fresh["id"].(string), "")
		wantFields(t, got, map[string]any{"state": "expired"})
		_, list := r.call(http.MethodGet, "/api/v1/sessions?state=expired", "")
		if l, _ := list["sessions"].([]any); len(l) != 1 {
			t.Errorf("expired sessions = %v, want one", l)
		}
	})
}

func TestAPIListQuery(t *testing.T) {
	r := newRig(t)
	tests := []struct {
		query, message string
	}{
		{"?state=bogus", `unknown state "bogus"`},
		{"?state=waiting,bogus", `unknown state "bogus"`},
		{"?limit=0", "limit must be a whole number from 1 to 1000"},
		{"?limit=1001", "limit must be"},
		{"?limit=ten", "limit must be"},
		{"?status=waiting", `unknown query parameter "status"`},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			resp, got := r.call(http.MethodGet, "/api/v1/sessions"+tt.query, "")
			webtest.WantStatus(t, resp, "", http.StatusBadRequest)
			if code, msg := apiError(t, got); code != "invalid" || !strings.Contains(msg, tt.message) {
				t.Errorf("error = %s %q, want invalid containing %q", code, msg, tt.message)
			}
		})
	}
	t.Run("conversation_id", func(t *testing.T) {
		a := r.Issue("en")
		other, _, err := r.Engine.Issue(ctx, core.Request{Customer: core.Endpoint{Channel: "sms", Address: "+12015550199"}})
		if err != nil {
			t.Fatal(err)
		}
		_, got := r.call(http.MethodGet, "/api/v1/sessions?conversation_id="+a.ConversationID, "")
		list, _ := got["sessions"].([]any)
		if len(list) != 1 || list[0].(map[string]any)["id"] != a.ID {
			t.Errorf("sessions = %v, want only %s (not %s)", list, a.ID, other.ID)
		}
	})
}

// Every error code reaches the client with its status.
func TestAPIErrorMapping(t *testing.T) {
	fail := func(err error) func(context.Context, core.IssueRequest) (core.Ticket, error) {
		return func(context.Context, core.IssueRequest) (core.Ticket, error) { return core.Ticket{}, err }
	}
	tests := []struct {
		name    string
		setup   func(r *rig) (method, path, body string)
		status  int
		code    string
		message string
		header  [2]string
	}{
		{"not found", func(r *rig) (string, string, string) {
			return http.MethodGet, "/api/v1/sessions/nosuchsession", ""
		}, 404, "not_found", "session not found", [2]string{}},
		{"not found events", func(r *rig) (string, string, string) {
			return http.MethodGet, "/api/v1/sessions/nosuchsession/events", ""
		}, 404, "not_found", "session not found", [2]string{}},
		{"invalid link", func(r *rig) (string, string, string) {
			return http.MethodPost, "/api/v1/sessions/" + r.Issue("en").ID + "/send", `{"link":"fax"}`
		}, 400, "invalid", `link must be desktop or mobile, not "fax"`, [2]string{}},
		{"invalid mode", func(r *rig) (string, string, string) {
			return http.MethodPost, "/api/v1/sessions/" + r.Issue("en").ID + "/start", `{}`
		}, 400, "invalid", "mode must be control or view", [2]string{}},
		{"invalid channel", func(r *rig) (string, string, string) {
			return http.MethodPost, "/api/v1/sessions", `{"customer":{"channel":"fax","address":"1"}}`
		}, 400, "invalid", `unknown customer channel "fax"`, [2]string{}},
		{"invalid transition", func(r *rig) (string, string, string) {
			return http.MethodPost, "/api/v1/sessions/" + r.Issue("en").ID + "/end", ``
		}, 409, "invalid_transition", "cannot end the session: the session is issued", [2]string{}},
		{"expired", func(r *rig) (string, string, string) {
			s := r.Issue("en")
			r.Clock.Add(time.Hour)
			return http.MethodPost, "/api/v1/sessions/" + s.ID + "/close", ``
		}, 409, "expired", "the pin has expired", [2]string{}},
		{"conflict", func(r *rig) (string, string, string) {
			s := r.Issue("en")
			r.Provider.IssueFunc = func(context.Context, core.IssueRequest) (core.Ticket, error) {
				return core.Ticket{PIN: s.PIN}, nil
			}
			return http.MethodPost, "/api/v1/sessions", `{}`
		}, 409, "conflict", "could not find a free pin", [2]string{}},
		// The provider refusing assistbot's credentials is not the API
		// client's fault: its own token was fine.
		{"provider refuses its credentials", func(r *rig) (string, string, string) {
			r.Provider.IssueFunc = fail(core.Errorf(core.CodeUnauthorized, "the provider refused our credentials"))
			return http.MethodPost, "/api/v1/sessions", ``
		}, 503, "unavailable", "the provider refused our credentials", [2]string{}},
		{"rate limited", func(r *rig) (string, string, string) {
			r.Provider.IssueFunc = fail(&core.Error{Code: core.CodeRateLimited, Message: "slow down", Retry: 1500 * time.Millisecond})
			return http.MethodPost, "/api/v1/sessions", ``
		}, 429, "rate_limited", "slow down", [2]string{"Retry-After", "2"}},
		{"unavailable", func(r *rig) (string, string, string) {
			r.Provider.IssueFunc = fail(core.Errorf(core.CodeUnavailable, "the provider is down"))
			return http.MethodPost, "/api/v1/sessions", ``
		}, 503, "unavailable", "the provider is down", [2]string{}},
		{"internal", func(r *rig) (string, string, string) {
			r.Provider.IssueFunc = fail(errors.New("dial tcp 10.1.2.3: secret detail"))
			return http.MethodPost, "/api/v1/sessions", ``
		}, 500, "internal", "internal error", [2]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			method, path, body := tt.setup(r)
			resp, got := r.call(method, path, body)
			webtest.WantStatus(t, resp, "", tt.status)
			code, msg := apiError(t, got)
			if code != tt.code || !strings.Contains(msg, tt.message) {
				t.Errorf("error = %s %q, want %s containing %q", code, msg, tt.code, tt.message)
			}
			if tt.header[0] != "" && resp.Header.Get(tt.header[0]) != tt.header[1] {
				t.Errorf("%s = %q, want %q", tt.header[0], resp.Header.Get(tt.header[0]), tt.header[1])
			}
			logs := r.Logs.String()
			if tt.status >= 500 {
				webtest.WantContains(t, logs, `route="POST /api/v1/sessions"`)
			}
			if tt.code == "internal" {
				webtest.WantContains(t, logs, "secret detail", "level=ERROR")
				webtest.WantNotContains(t, msg, "secret")
			}
			if tt.status < 500 {
				webtest.WantNotContains(t, logs, "request failed")
			}
		})
	}
}

func TestAPIBadInput(t *testing.T) {
	r := newRig(t)
	id := r.Issue("en").ID
	tests := []struct {
		name, path, body, message string
	}{
		{"oversized", "/api/v1/sessions", `{"agent":"` + strings.Repeat("a", maxBodyBytes) + `"}`, "request body is larger than 1 MiB"},
		{"malformed", "/api/v1/sessions", `{"agent":}`, "malformed JSON at byte 10"},
		{"truncated", "/api/v1/sessions", `{"agent":"al`, "malformed JSON"},
		{"unknown field", "/api/v1/sessions", `{"agnet":"alice"}`, `unknown field "agnet"`},
		{"unknown nested field", "/api/v1/sessions", `{"customer":{"phone":"1"}}`, `unknown field "phone"`},
		{"wrong type", "/api/v1/sessions", `{"agent":5}`, `field "agent" must be a string, not number`},
		{"wrong nested type", "/api/v1/sessions", `{"customer":{"name":true}}`, `field "customer.name" must be a string, not bool`},
		{"wrong object type", "/api/v1/sessions", `{"customer":"pat"}`, `field "customer" must be an object, not string`},
		{"not an object", "/api/v1/sessions", `[1,2]`, "the body must be a JSON object"},
		{"trailing garbage", "/api/v1/sessions", `{"agent":"a"} x`, "unexpected data after the JSON object"},
		{"two objects", "/api/v1/sessions", `{}{}`, "unexpected data after the JSON object"},
		{"action unknown field", "/api/v1/sessions/" + id + "/close", `{"reason":"x"}`, `unknown field "reason"`},
		{"start wrong type", "/api/v1/sessions/" + id + "/start", `{"mode":1}`, `field "mode" must be a string`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, got := r.call(http.MethodPost, tt.path, tt.body)
			webtest.WantStatus(t, resp, "", http.StatusBadRequest)
			if code, msg := apiError(t, got); code != "invalid" || !strings.Contains(msg, tt.message) {
				t.Errorf("error = %s %q, want invalid containing %q", code, msg, tt.message)
			}
		})
	}
	if got := r.Session(id).State; got != core.StateIssued {
		t.Errorf("state after bad requests = %s, want issued", got)
	}
}

func TestAPIUnmatched(t *testing.T) {
	r := newRig(t)
	tests := []struct {
		name, method, path string
		status             int
		code, allow        string
	}{
		{"unknown route", http.MethodGet, "/api/v1/nothing", 404, "not_found", ""},
		{"unknown action", http.MethodPost, "/api/v1/sessions/x/explode", 404, "not_found", ""},
		{"api root", http.MethodGet, "/api/v1", 404, "not_found", ""},
		{"wrong method on a collection", http.MethodDelete, "/api/v1/sessions", 405, "invalid", "GET, HEAD, POST"},
		{"wrong method on an action", http.MethodGet, "/api/v1/sessions/x/close", 405, "invalid", "POST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, got := r.call(tt.method, tt.path, "")
			webtest.WantStatus(t, resp, "", tt.status)
			if code, _ := apiError(t, got); code != tt.code {
				t.Errorf("code = %s, want %s", code, tt.code)
			}
			if allow := resp.Header.Get("Allow"); allow != tt.allow {
				t.Errorf("Allow = %q, want %q", allow, tt.allow)
			}
		})
	}
}

// wantFields checks that got has each of want's fields with its value;
// nested objects are compared field by field.
func wantFields(t *testing.T, got map[string]any, want map[string]any) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("field %s missing in %v", k, got)
			continue
		}
		switch w := w.(type) {
		case map[string]any:
			gm, _ := g.(map[string]any)
			wantFields(t, gm, w)
		case []any:
			if ga, ok := g.([]any); !ok || len(ga) != len(w) {
				t.Errorf("%s = %v, want %v", k, g, w)
			}
		default:
			if g != w {
				t.Errorf("%s = %v, want %v", k, g, w)
			}
		}
	}
}

// TestAPICloseConversation closes a customer's conversation: the next
// session for that customer opens a new one. Closing twice is harmless,
// and an unknown conversation is a 404.
func TestAPICloseConversation(t *testing.T) {
	r := newRig(t)
	const customer = `{"customer":{"channel":"sms","address":"+12015550123"},"agent":"alice"}`
	_, first := r.call(http.MethodPost, "/api/v1/sessions", customer)
	conv, _ := first["conversation_id"].(string)
	if conv == "" {
		t.Fatalf("no conversation_id in %v", first)
	}
	for range 2 {
		resp, got := r.call(http.MethodPost, "/api/v1/conversations/"+conv+"/close", `{"agent":"alice"}`)
		webtest.WantStatus(t, resp, "", http.StatusOK)
		wantFields(t, got, map[string]any{"id": conv, "state": "closed",
			"customer": map[string]any{"channel": "sms", "address": "+12015550123"}})
	}
	_, second := r.call(http.MethodPost, "/api/v1/sessions", customer)
	if next, _ := second["conversation_id"].(string); next == "" || next == conv {
		t.Errorf("after closing, a new session went to conversation %q, want a new one", next)
	}
	resp, body := r.Serve(webtest.Request{Method: http.MethodPost, Path: "/api/v1/conversations/nosuch/close",
		Header: webtest.Headers("Authorization", "Bearer "+token)})
	webtest.WantStatus(t, resp, body, http.StatusNotFound)
	webtest.WantContains(t, body, `"code":"not_found"`)
}

// The engine is what the API needs.
var _ Engine = (*core.Engine)(nil)

// TestAPIPanic: a panic under /api/v1 is answered in JSON too.
func TestAPIPanic(t *testing.T) {
	r := newRig(t)
	r.Server.Handle("GET /api/v1/boom", http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("kaboom") }))
	resp, got := r.call(http.MethodGet, "/api/v1/boom", "")
	webtest.WantStatus(t, resp, "", http.StatusInternalServerError)
	if code, msg := apiError(t, got); code != "internal" || msg != "internal error" {
		t.Errorf("error = %s %q", code, msg)
	}
}
