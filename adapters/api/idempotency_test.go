package api

import (
	"context"
	"crypto/sha256"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/web/webtest"
	"github.com/assistbot/assistbot/core"
)

// countIssues counts the PINs the rig's provider issues.
func countIssues(r *rig) *atomic.Int32 {
	var n atomic.Int32
	issue := r.Provider.IssueFunc
	r.Provider.IssueFunc = func(ctx context.Context, req core.IssueRequest) (core.Ticket, error) {
		n.Add(1)
		return issue(ctx, req)
	}
	return &n
}

// keyed posts body to path with an Idempotency-Key, and the token when
// one is given.
func (r *rig) keyed(path, key, body string, tok ...string) (*http.Response, string) {
	r.T.Helper()
	bearer := token
	if len(tok) > 0 {
		bearer = tok[0]
	}
	h := webtest.Headers("Authorization", "Bearer "+bearer)
	if key != "" {
		h.Set("Idempotency-Key", key)
	}
	return r.Serve(webtest.Request{Method: http.MethodPost, Path: path, Body: body, Header: h})
}

func sessionCount(t *testing.T, r *rig) int {
	t.Helper()
	all, err := r.Engine.Sessions(ctx, core.SessionFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return len(all)
}

// TestIdempotencyReplay: a retry with the key and the same request, even
// spelt otherwise, gets the first answer as it was, and issues no PIN.
func TestIdempotencyReplay(t *testing.T) {
	r := newRig(t)
	issued := countIssues(r)
	const body = `{"customer":{"channel":"sms","address":"+12015550123"},"agent":"alice"}`
	first, firstBody := r.keyed("/api/v1/sessions", "6f0c2a1e-retry", body)
	webtest.WantStatus(t, first, firstBody, http.StatusCreated)
	if first.Header.Get("Idempotent-Replayed") != "" {
		t.Error("the first answer says it is replayed")
	}
	for _, again := range []string{body, ` { "agent" : "alice", "customer":{"address":"+12015550123","channel":"sms"} } `} {
		resp, got := r.keyed("/api/v1/sessions", "6f0c2a1e-retry", again)
		webtest.WantStatus(t, resp, got, http.StatusCreated)
		if got != firstBody || resp.Header.Get("Location") != first.Header.Get("Location") ||
			resp.Header.Get("Idempotent-Replayed") != "true" || resp.Header.Get("Content-Type") != first.Header.Get("Content-Type") {
			t.Errorf("the retry answered %s %v\nnot %s %v", got, resp.Header, firstBody, first.Header)
		}
	}
	if n := issued.Load(); n != 1 {
		t.Errorf("%d PINs issued, want 1", n)
	}
	if n := sessionCount(t, r); n != 1 {
		t.Errorf("%d sessions, want 1", n)
	}
	// The answer stays the first one even when the session changed since.
	id := strings.TrimPrefix(first.Header.Get("Location"), "/api/v1/sessions/")
	if resp, _ := r.call(http.MethodPost, "/api/v1/sessions/"+id+"/send", `{"link":"desktop"}`); resp.StatusCode != http.StatusOK {
		t.Fatalf("send: %d", resp.StatusCode)
	}
	if _, got := r.keyed("/api/v1/sessions", "6f0c2a1e-retry", body); got != firstBody {
		t.Errorf("after a change, the retry answered %s", got)
	}
	// An action's key too: a second send would text the customer twice.
	send := "/api/v1/sessions/" + id + "/send"
	resp, sent := r.keyed(send, "send-1", `{"link":"mobile"}`)
	webtest.WantStatus(t, resp, sent, http.StatusOK)
	if resp, again := r.keyed(send, "send-1", `{"link":"mobile"}`); resp.StatusCode != http.StatusOK || again != sent {
		t.Errorf("the retried send answered %d %s", resp.StatusCode, again)
	}
	ds, err := r.Engine.Deliveries(ctx, id)
	if err != nil || len(ds) != 2 {
		t.Errorf("%d deliveries (%v), want 2", len(ds), err)
	}
}

// TestIdempotencyMismatch: a key used for one request is refused for
// another, on another endpoint too; another token's key is its own.
func TestIdempotencyMismatch(t *testing.T) {
	r := newRig(t)
	issued := countIssues(r)
	resp, body := r.keyed("/api/v1/sessions", "k1", `{"agent":"alice"}`)
	webtest.WantStatus(t, resp, body, http.StatusCreated)
	id := strings.TrimPrefix(resp.Header.Get("Location"), "/api/v1/sessions/")
	for _, c := range []struct{ path, body string }{
		{"/api/v1/sessions", `{"agent":"bob"}`},
		{"/api/v1/sessions", ``},
		{"/api/v1/sessions/" + id + "/close", `{"agent":"alice"}`},
	} {
		resp, got := r.keyed(c.path, "k1", c.body)
		webtest.WantStatus(t, resp, got, http.StatusUnprocessableEntity)
		webtest.WantContains(t, got, `{"error":{"code":"idempotency_mismatch","message":"this Idempotency-Key was used for another request`)
	}
	if got := r.Session(id).State; got != core.StateIssued {
		t.Errorf("the session is %s after a refused close", got)
	}
	resp, body = r.keyed("/api/v1/sessions", "k1", `{"agent":"bob"}`, "other-token")
	webtest.WantStatus(t, resp, body, http.StatusCreated)
	if n := issued.Load(); n != 2 {
		t.Errorf("%d PINs issued, want 2", n)
	}
}

// TestIdempotencyFailureFreesKey: a request that failed did nothing, so
// its key may be used again at once, for the same request or a fixed one.
func TestIdempotencyFailureFreesKey(t *testing.T) {
	r := newRig(t)
	issue := r.Provider.IssueFunc
	r.Provider.IssueFunc = func(context.Context, core.IssueRequest) (core.Ticket, error) {
		return core.Ticket{}, core.Errorf(core.CodeUnavailable, "the provider is down")
	}
	resp, body := r.keyed("/api/v1/sessions", "k", `{}`)
	webtest.WantStatus(t, resp, body, http.StatusServiceUnavailable)
	r.Provider.IssueFunc = issue
	resp, body = r.keyed("/api/v1/sessions", "k", `{}`)
	webtest.WantStatus(t, resp, body, http.StatusCreated)
	if resp.Header.Get("Idempotent-Replayed") != "" {
		t.Error("a retry after a failure was replayed")
	}
	resp, body = r.keyed("/api/v1/sessions", "k2", `{"locale":"xx"}`)
	webtest.WantStatus(t, resp, body, http.StatusBadRequest)
	resp, body = r.keyed("/api/v1/sessions", "k2", `{"locale":"ko"}`)
	webtest.WantStatus(t, resp, body, http.StatusCreated)
}

// TestIdempotencyExpiry: keys are kept 24 hours, and a claim whose
// request never answered (its replica died) lapses after pendingTTL.
func TestIdempotencyExpiry(t *testing.T) {
	r := newRig(t)
	resp, first := r.keyed("/api/v1/sessions", "day", `{}`)
	webtest.WantStatus(t, resp, first, http.StatusCreated)
	r.Clock.Add(idempotencyTTL - time.Second)
	if resp, got := r.keyed("/api/v1/sessions", "day", `{}`); got != first {
		t.Errorf("a day less a second later: %d %s", resp.StatusCode, got)
	}
	r.Clock.Add(time.Second)
	resp, got := r.keyed("/api/v1/sessions", "day", `{"agent":"other"}`)
	webtest.WantStatus(t, resp, got, http.StatusCreated)

	// A claim left by a replica that died.
	name := memoName(sha256.Sum256([]byte(token)), "orphan")
	claim := encodeMemo(keyMemo{Request: fingerprint(http.MethodPost, "/api/v1/sessions", []byte(`{}`)), Pending: true})
	if err := r.Store.PutMemo(ctx, name, claim, r.Clock.Now().Add(pendingTTL)); err != nil {
		t.Fatal(err)
	}
	resp, got = r.keyed("/api/v1/sessions", "orphan", `{}`)
	webtest.WantStatus(t, resp, got, http.StatusConflict)
	if resp.Header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After = %q", resp.Header.Get("Retry-After"))
	}
	webtest.WantContains(t, got, "still running")
	r.Clock.Add(pendingTTL)
	resp, got = r.keyed("/api/v1/sessions", "orphan", `{}`)
	webtest.WantStatus(t, resp, got, http.StatusCreated)
}

// TestIdempotencyBadKeys: a key that cannot be one is refused, naming the
// header, before anything is done.
func TestIdempotencyBadKeys(t *testing.T) {
	r := newRig(t)
	issued := countIssues(r)
	for _, c := range []struct {
		name    string
		keys    []string
		message string
	}{
		{"too long", []string{strings.Repeat("k", 256)}, "Idempotency-Key is 256 characters long; the most is 255"},
		{"empty", []string{""}, "Idempotency-Key is empty"},
		{"not ASCII", []string{"clé"}, "Idempotency-Key must be printable ASCII"},
		{"a control character", []string{"a\tb"}, "Idempotency-Key must be printable ASCII"},
		{"twice", []string{"a", "b"}, "send one Idempotency-Key header, not 2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := webtest.Headers("Authorization", "Bearer "+token)
			h["Idempotency-Key"] = c.keys
			resp, body := r.Serve(webtest.Request{Method: http.MethodPost, Path: "/api/v1/sessions", Body: `{}`, Header: h})
			webtest.WantStatus(t, resp, body, http.StatusBadRequest)
			webtest.WantContains(t, body, `"code":"invalid"`, c.message)
		})
	}
	if n := issued.Load(); n != 0 {
		t.Errorf("%d PINs issued for bad keys", n)
	}
	resp, body := r.keyed("/api/v1/sessions", strings.Repeat("k", 255), `{}`)
	webtest.WantStatus(t, resp, body, http.StatusCreated)
	// A body over the limit is refused as without a key.
	resp, body = r.keyed("/api/v1/sessions", "big", `{"agent":"`+strings.Repeat("a", maxBodyBytes)+`"}`)
	webtest.WantStatus(t, resp, body, http.StatusBadRequest)
	webtest.WantContains(t, body, "request body is larger than 1 MiB")
}

// TestIdempotencyConcurrent: requests with one key at once issue one PIN;
// each is answered with the session, or told to retry.
func TestIdempotencyConcurrent(t *testing.T) {
	r := newRig(t)
	issued := countIssues(r)
	slow := r.Provider.IssueFunc
	r.Provider.IssueFunc = func(ctx context.Context, req core.IssueRequest) (core.Ticket, error) {
		time.Sleep(20 * time.Millisecond)
		return slow(ctx, req)
	}
	const n = 16
	var wg sync.WaitGroup
	var mu sync.Mutex
	bodies := map[string]int{}
	statuses := map[int]int{}
	for range n {
		wg.Go(func() {
			resp, body := r.keyed("/api/v1/sessions", "at-once", `{"agent":"alice"}`)
			mu.Lock()
			defer mu.Unlock()
			statuses[resp.StatusCode]++
			if resp.StatusCode == http.StatusCreated {
				bodies[body]++
			} else if resp.StatusCode != http.StatusConflict || resp.Header.Get("Retry-After") != "1" {
				t.Errorf("%d %v %s", resp.StatusCode, resp.Header, body)
			}
		})
	}
	wg.Wait()
	if issued.Load() != 1 || len(bodies) != 1 || statuses[http.StatusCreated] == 0 {
		t.Errorf("%d PINs issued, answers %v, %d distinct bodies; want 1 PIN, one body", issued.Load(), statuses, len(bodies))
	}
	// Once the first has answered, every retry gets its answer.
	resp, body := r.keyed("/api/v1/sessions", "at-once", `{"agent":"alice"}`)
	webtest.WantStatus(t, resp, body, http.StatusCreated)
	if bodies[body] == 0 {
		t.Errorf("the retry answered %s", body)
	}
}

// TestIdempotencyInProcess: without a store, the API keeps keys in its
// own memory.
func TestIdempotencyInProcess(t *testing.T) {
	r := newRig(t, func(o *Options) { o.Idempotency = nil })
	issued := countIssues(r)
	_, first := r.keyed("/api/v1/sessions", "k", `{}`)
	resp, again := r.keyed("/api/v1/sessions", "k", `{}`)
	webtest.WantStatus(t, resp, again, http.StatusCreated)
	if again != first || issued.Load() != 1 {
		t.Errorf("the retry answered %s, %d PINs issued", again, issued.Load())
	}
	resp, got := r.keyed("/api/v1/sessions", "k", `{"agent":"bob"}`)
	webtest.WantStatus(t, resp, got, http.StatusUnprocessableEntity)
}
