package api

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	gotoken "go/token"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/assistbot/assistbot/adapters/web/webtest"
	"github.com/assistbot/assistbot/core"
)

// The OpenAPI document (openapi.json) is held to the code both ways:
//
//   - TestOpenAPIConformance sends real requests through the real handler,
//     for every operation and every status the document gives it, and
//     validates each request and each answer against the document; the
//     answers' schemas are strict, so a field the document lacks fails,
//     and a documented field no answer carried fails too, as does a
//     documented status no request got;
//   - TestOpenAPIRoutes checks that the routes Mount registers are the
//     document's operations, and their request bodies, query parameters
//     and answers' fields the document's;
//   - TestOpenAPIErrorCodes checks that every error code of core is in
//     the document, under its status.

// loadDoc loads and validates the document, and makes its router.
func loadDoc(t *testing.T) (*openapi3.T, routers.Router) {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(openAPI)
	if err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Errorf("openapi.json is OpenAPI %s, want 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(t.Context()); err != nil {
		t.Fatalf("openapi.json is not a valid document: %v", err)
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return doc, router
}

// operations returns the document's operations by "METHOD path".
func operations(doc *openapi3.T) map[string]*openapi3.Operation {
	ops := map[string]*openapi3.Operation{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			ops[method+" "+path] = op
		}
	}
	return ops
}

// conformance is the document, and what the test has seen of it.
type conformance struct {
	t      *testing.T
	doc    *openapi3.T
	router routers.Router
	mu     sync.Mutex
	// covered holds the statuses each operation answered.
	covered map[string]map[int]bool
	// seen holds the fields answers carried, as Schema.field.
	seen map[string]bool
	// probed holds the operations and statuses whose answer was shown to
	// fail with a field the document lacks.
	probed map[string]bool
}

// call is a request of the test.
type call struct {
	method, path, body string
	header             http.Header
	// noToken leaves Authorization out; token, when set, is sent instead
	// of the rig's.
	noToken bool
	token   string
}

func (c call) request() *http.Request {
	var body *strings.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	var req *http.Request
	if body != nil {
		req = httptest.NewRequest(c.method, c.path, body)
		req.Header.Set("Content-Type", "application/json")
	} else {
		req = httptest.NewRequest(c.method, c.path, nil)
	}
	if !c.noToken {
		req.Header.Set("Authorization", "Bearer "+cmp.Or(c.token, token))
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	return req
}

// bearer is the document's security check: a bearer token is there. Which
// tokens are right is the server's business.
func bearer(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	scheme, tok, ok := strings.Cut(in.RequestValidationInput.Request.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return errors.New("no bearer token")
	}
	return nil
}

// answer is an answer of the API.
type answer struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any
}

// do sends c through r's server and checks the exchange against the
// document: the request must be one the document takes when docValid,
// and one it refuses otherwise; the answer must have status and be one
// the document gives.
func (cf *conformance) do(t *testing.T, r *rig, c call, status int, docValid bool) answer {
	t.Helper()
	vreq := c.request()
	route, params, err := cf.router.FindRoute(vreq)
	if err != nil {
		t.Fatalf("%s %s: the document has no such operation: %v", c.method, c.path, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: bearer}}
	verr := openapi3filter.ValidateRequest(t.Context(), in)
	switch {
	case docValid && verr != nil:
		t.Errorf("%s %s %s: the document refuses a request the API takes: %v", c.method, c.path, c.body, verr)
	case !docValid && verr == nil:
		t.Errorf("%s %s %s: the document takes a request the API refuses", c.method, c.path, c.body)
	}
	rec := serve(t, r.Server, c.request())
	a := answer{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	if err := json.Unmarshal(a.body, &a.json); err != nil {
		t.Fatalf("%s %s: the answer is not a JSON object: %v\n%s", c.method, c.path, err, a.body)
	}
	if a.status != status {
		t.Fatalf("%s %s %s: status %d, want %d\n%s", c.method, c.path, c.body, a.status, status, a.body)
	}
	cf.check(t, in, a)
	return a
}

// serveTimeout bounds a request of the test, and the test's waits for a
// held request: far more than any takes, far less than go test's
// -timeout (10 minutes by default), which would end the whole run.
const serveTimeout = 30 * time.Second

// serve serves req with h, and fails the test with every goroutine's
// stack when h does not answer within serveTimeout: a request that
// blocks (on a lock, a store that waits, a hold never released) fails
// its own test at once, saying where it is stuck.
func serve(t *testing.T, h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(rec, req)
	}()
	select {
	case <-done:
		return rec
	case <-time.After(serveTimeout):
		t.Fatalf("%s %s: no answer after %s\n%s", req.Method, req.URL, serveTimeout, stacks())
		return nil
	}
}

// stacks returns every goroutine's stack.
func stacks() []byte {
	buf := make([]byte, 1<<20)
	return buf[:runtime.Stack(buf, true)]
}

// check validates an answer against the document and records what it
// covered.
func (cf *conformance) check(t *testing.T, in *openapi3filter.RequestValidationInput, a answer) {
	t.Helper()
	validate := func(body []byte) error {
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: a.status, Header: a.header,
			Options: &openapi3filter.Options{IncludeResponseStatus: true}}
		out.SetBodyBytes(body)
		return openapi3filter.ValidateResponse(t.Context(), out)
	}
	route := in.Route
	op := route.Method + " " + route.Path
	if err := validate(a.body); err != nil {
		t.Errorf("%s: the answer %d is not the document's: %v\n%s", op, a.status, err, a.body)
	}
	resp := route.Operation.Responses.Status(a.status)
	if resp == nil || resp.Value == nil {
		return // refused above
	}
	cf.mu.Lock()
	defer cf.mu.Unlock()
	if cf.covered[op] == nil {
		cf.covered[op] = map[int]bool{}
	}
	cf.covered[op][a.status] = true
	if mt := resp.Value.Content.Get("application/json"); mt != nil && mt.Schema != nil && route.Path != "/api/v1/openapi.json" {
		see(mt.Schema, "", a.json, cf.seen)
		// The schema is strict: a field it lacks fails.
		key := fmt.Sprintf("%s %d", op, a.status)
		if !cf.probed[key] {
			cf.probed[key] = true
			extra := maps.Clone(a.json)
			extra["undocumented_field"] = true
			b, _ := json.Marshal(extra)
			if validate(b) == nil {
				t.Errorf("%s %d: an answer with a field the document lacks passes: make its schema strict", op, a.status)
			}
		}
	}
}

// field is a property of a schema, labelled Schema.field by the component
// (or the path to the inline schema) that declares it.
type field struct {
	label  string
	schema *openapi3.SchemaRef
}

// fields returns the properties of sr, those of its allOf parts included.
func fields(sr *openapi3.SchemaRef, label string) map[string]field {
	if sr == nil || sr.Value == nil {
		return nil
	}
	if sr.Ref != "" {
		label = sr.Ref[strings.LastIndex(sr.Ref, "/")+1:]
	}
	out := map[string]field{}
	for name, p := range sr.Value.Properties {
		out[name] = field{label + "." + name, p}
	}
	// A part declares; a property at the top may only narrow it (the
	// error answers' codes), so the part's declaration counts.
	for _, part := range sr.Value.AllOf {
		maps.Copy(out, fields(part, label))
	}
	return out
}

// see records in seen the fields of v that sr declares, nested ones too.
func see(sr *openapi3.SchemaRef, label string, v any, seen map[string]bool) {
	switch v := v.(type) {
	case map[string]any:
		fs := fields(sr, label)
		for name, val := range v {
			if f, ok := fs[name]; ok {
				seen[f.label] = true
				see(f.schema, f.label, val, seen)
			}
		}
	case []any:
		if sr != nil && sr.Value != nil && sr.Value.Items != nil {
			for _, e := range v {
				see(sr.Value.Items, label+"[]", e, seen)
			}
		}
	}
}

// documented records every field that sr declares, nested ones too.
func documented(sr *openapi3.SchemaRef, label string, out map[string]bool) {
	if sr == nil || sr.Value == nil {
		return
	}
	for _, f := range fields(sr, label) {
		out[f.label] = true
		documented(f.schema, f.label, out)
	}
	if sr.Value.Items != nil {
		documented(sr.Value.Items, label+"[]", out)
	}
}

// faulty is the engine with faults and holds put in: every call fails
// with err when it is set, and a call named in hold waits for its channel
// to close, after saying so on held.
type faulty struct {
	Engine
	mu   sync.Mutex
	err  error
	hold map[string]chan struct{}
	held chan string
}

func (f *faulty) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

// holdOn makes the next call named op wait until release is called, at
// the latest when t ends, so that a test that fails while it holds a
// call leaves nothing waiting; wait returns once the call waits.
func (f *faulty) holdOn(t *testing.T, op string) (wait, release func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := make(chan struct{})
	f.hold[op] = c
	release = sync.OnceFunc(func() { close(c) })
	t.Cleanup(release)
	return func() { <-f.held }, release
}

func (f *faulty) check(op string) error {
	f.mu.Lock()
	err, h := f.err, f.hold[op]
	delete(f.hold, op)
	f.mu.Unlock()
	if h != nil {
		f.held <- op
		<-h
	}
	return err
}

func (f *faulty) Issue(ctx context.Context, req core.Request) (*core.Session, *core.Conversation, error) {
	if err := f.check("Issue"); err != nil {
		return nil, nil, err
	}
	return f.Engine.Issue(ctx, req)
}

func (f *faulty) Session(ctx context.Context, id string) (*core.Session, error) {
	if err := f.check("Session"); err != nil {
		return nil, err
	}
	return f.Engine.Session(ctx, id)
}

func (f *faulty) Sessions(ctx context.Context, sf core.SessionFilter) ([]*core.Session, error) {
	if err := f.check("Sessions"); err != nil {
		return nil, err
	}
	return f.Engine.Sessions(ctx, sf)
}

func (f *faulty) Events(ctx context.Context, id string) ([]core.Event, error) {
	if err := f.check("Events"); err != nil {
		return nil, err
	}
	return f.Engine.Events(ctx, id)
}

func (f *faulty) Regenerate(ctx context.Context, id string, actor core.Actor) (*core.Session, error) {
	if err := f.check("Regenerate"); err != nil {
		return nil, err
	}
	return f.Engine.Regenerate(ctx, id, actor)
}

func (f *faulty) Send(ctx context.Context, id string, actor core.Actor, kind core.LinkKind) (*core.Session, *core.Delivery, error) {
	if err := f.check("Send"); err != nil {
		return nil, nil, err
	}
	return f.Engine.Send(ctx, id, actor, kind)
}

func (f *faulty) Close(ctx context.Context, id string, actor core.Actor) (*core.Session, error) {
	if err := f.check("Close"); err != nil {
		return nil, err
	}
	return f.Engine.Close(ctx, id, actor)
}

func (f *faulty) Start(ctx context.Context, id string, actor core.Actor, mode core.Mode) (*core.Session, error) {
	if err := f.check("Start"); err != nil {
		return nil, err
	}
	return f.Engine.Start(ctx, id, actor, mode)
}

func (f *faulty) End(ctx context.Context, id string, actor core.Actor) (*core.Session, error) {
	if err := f.check("End"); err != nil {
		return nil, err
	}
	return f.Engine.End(ctx, id, actor)
}

func (f *faulty) CloseConversation(ctx context.Context, id string, actor core.Actor) (*core.Conversation, error) {
	if err := f.check("CloseConversation"); err != nil {
		return nil, err
	}
	return f.Engine.CloseConversation(ctx, id, actor)
}

// newFaultyRig returns a rig whose API runs on a faulty engine, and it.
func newFaultyRig(t *testing.T) (*rig, *faulty) {
	r := newRig(t)
	f := &faulty{Engine: r.Engine, hold: map[string]chan struct{}{}, held: make(chan string, 1)}
	r.api.engine = f
	return r, f
}

// TestOpenAPIConformance drives every operation of the document through
// the API, to every status the document gives it, and holds every
// exchange to the document.
func TestOpenAPIConformance(t *testing.T) {
	doc, router := loadDoc(t)
	cf := &conformance{t: t, doc: doc, router: router, covered: map[string]map[int]bool{},
		seen: map[string]bool{}, probed: map[string]bool{}}
	post := func(path, body string) call { return call{method: http.MethodPost, path: path, body: body} }
	get := func(path string) call { return call{method: http.MethodGet, path: path} }
	keyed := func(c call, key string) call {
		c.header = webtest.Headers("Idempotency-Key", key)
		return c
	}
	rateLimited := &core.Error{Code: core.CodeRateLimited, Message: "the provider asks to slow down", Retry: 2 * time.Second}

	t.Run("a session's life", func(t *testing.T) {
		r := newRig(t)
		r.Provider.StartFunc = func(_ context.Context, s *core.Session, _ core.Mode, _ string) (string, error) {
			return "https://mesh.example.com/share?c=" + s.ID, nil
		}
		created := cf.do(t, r, post("/api/v1/sessions",
			`{"customer":{"channel":"sms","address":"(201) 555-0123","name":"Pat"},"agent":"alice","locale":"ko-KR"}`), 201, true)
		if loc := created.header.Get("Location"); loc != "/api/v1/sessions/"+created.json["id"].(string) {
			t.Errorf("Location = %q", loc)
		}
		id := created.json["id"].(string)
		s := "/api/v1/sessions/" + id
		cf.do(t, r, post(s+"/send", `{"link":"mobile","agent":"bob"}`), 200, true)
		cf.do(t, r, post(s+"/regenerate", `{"agent":"bob"}`), 200, true)
		cf.do(t, r, post(s+"/send", `{"link":"desktop"}`), 200, true)
		r.Join(r.Session(id), core.DeviceDesktop)
		cf.do(t, r, post(s+"/send", `{"link":"desktop"}`), 409, true) // waiting: no more links
		cf.do(t, r, post(s+"/start", `{"mode":"control","technician":"tom"}`), 200, true)
		cf.do(t, r, get(s), 200, true) // active, with technician_url and deliveries
		cf.do(t, r, get("/api/v1/sessions?state=active"), 200, true)
		cf.do(t, r, post(s+"/end", `{"agent":"alice"}`), 200, true)
		cf.do(t, r, get(s+"/events"), 200, true)
		cf.do(t, r, post(s+"/regenerate", `{}`), 409, true) // ended
		cf.do(t, r, post(s+"/start", `{"mode":"view"}`), 409, true)
		cf.do(t, r, post(s+"/end", ``), 409, true)

		// No customer: the session has links but nobody to send them to.
		bare := cf.do(t, r, post("/api/v1/sessions", ``), 201, true)
		b := "/api/v1/sessions/" + bare.json["id"].(string)
		cf.do(t, r, post(b+"/send", `{"link":"desktop"}`), 400, true)
		cf.do(t, r, post(b+"/close", `{"agent":"carol"}`), 200, true)

		// For an existing conversation, then closing it.
		conv := created.json["conversation_id"].(string)
		cf.do(t, r, post("/api/v1/sessions", `{"conversation_id":"`+conv+`","agent":"alice"}`), 201, true)
		cf.do(t, r, post("/api/v1/conversations/"+conv+"/close", `{"agent":"alice"}`), 200, true)
		cf.do(t, r, post("/api/v1/conversations/"+conv+"/close", ``), 200, true)
		cf.do(t, r, post("/api/v1/sessions", `{"conversation_id":"`+conv+`"}`), 400, true) // closed

		// An expired PIN.
		old := r.Issue("en")
		r.Clock.Add(time.Hour)
		cf.do(t, r, post("/api/v1/sessions/"+old.ID+"/close", ``), 409, true)
		cf.do(t, r, get("/api/v1/sessions?state=expired&limit=1"), 200, true)
	})

	t.Run("hand-offs", func(t *testing.T) { handoffConformance(t, cf) })

	t.Run("webhooks", func(t *testing.T) { webhookConformance(t, cf) })

	t.Run("a failed delivery", func(t *testing.T) {
		r := newRig(t)
		r.SMS.DeliverFunc = func(context.Context, *core.Delivery) (core.Receipt, error) {
			return core.Receipt{}, core.Errorf(core.CodeInvalid, "the number cannot take messages")
		}
		r.Run()
		s := r.Issue("en")
		cf.do(t, r, post("/api/v1/sessions/"+s.ID+"/send", `{"link":"desktop"}`), 200, true)
		webtest.WaitFor(t, "the delivery to fail", func() bool {
			ds, _ := r.Engine.Deliveries(ctx, s.ID)
			return len(ds) == 1 && ds[0].Status == core.DeliveryFailed
		})
		got := cf.do(t, r, get("/api/v1/sessions/"+s.ID), 200, true)
		if !strings.Contains(string(got.body), `"reason":"the number cannot take messages"`) {
			t.Errorf("no reason in %s", got.body)
		}
	})

	t.Run("listing", func(t *testing.T) {
		r := newRig(t)
		for i := range 3 {
			if _, _, err := r.Engine.Issue(ctx, core.Request{Customer: core.Endpoint{Channel: core.ChannelWeb, Address: fmt.Sprintf("chat-%d", i)},
				Agent: "alice"}); err != nil {
				t.Fatal(err)
			}
			r.Clock.Add(time.Minute)
		}
		since := webtest.T0.Format(time.RFC3339)
		until := webtest.T0.Add(time.Hour).Format(time.RFC3339)
		first := cf.do(t, r, get("/api/v1/sessions?agent=alice&channel=web&state=issued,sent&since="+since+"&until="+until+"&limit=2"), 200, true)
		next, _ := first.json["next_cursor"].(string)
		if next == "" {
			t.Fatalf("no next_cursor after 2 of 3 sessions: %s", first.body)
		}
		last := cf.do(t, r, get("/api/v1/sessions?agent=alice&channel=web&state=issued&state=sent&since="+since+"&until="+until+"&limit=2&cursor="+next), 200, true)
		if l := last.json["sessions"].([]any); len(l) != 1 || last.json["next_cursor"] != nil {
			t.Errorf("the last page: %s", last.body)
		}
		cf.do(t, r, get("/api/v1/sessions?conversation_id=nosuch"), 200, true)
		for _, c := range []struct {
			query    string
			docValid bool
		}{
			{"state=bogus", true},
			{"limit=0", false},
			{"limit=1001", false},
			{"limit=ten", false},
			{"channel=fax", false},
			{"since=yesterday", false},
			{"until=2026-11-25", false},
			{"since=" + until + "&until=" + since, true},
			{"cursor=not-a-cursor", true},
			{"status=waiting", true},
		} {
			got := cf.do(t, r, get("/api/v1/sessions?"+c.query), 400, c.docValid)
			name, _, _ := strings.Cut(c.query, "=")
			if msg := got.json["error"].(map[string]any)["message"].(string); !strings.Contains(msg, name) {
				t.Errorf("%s: the message %q does not name the parameter", c.query, msg)
			}
		}
	})

	t.Run("refused requests", func(t *testing.T) {
		r := newRig(t)
		s := r.Issue("en")
		p := "/api/v1/sessions/" + s.ID
		for _, c := range []struct {
			call     call
			docValid bool
		}{
			{post("/api/v1/sessions", `{"agent":}`), false},
			{post("/api/v1/sessions", `{"agnet":"alice"}`), false},
			{post("/api/v1/sessions", `{"customer":{"phone":"1"}}`), false},
			{post("/api/v1/sessions", `{"locale":"xx"}`), true},
			{post("/api/v1/sessions", `{"customer":{"channel":"fax","address":"1"}}`), true},
			{post("/api/v1/sessions", `{"customer":{"channel":"slack","address":"U0123456"}}`), true}, // not enabled
			{post("/api/v1/sessions", `{"conversation_id":"`+s.ConversationID+`","customer":{"channel":"web","address":"x"}}`), true},
			{keyed(post("/api/v1/sessions", `{}`), strings.Repeat("k", 256)), false},
			{post(p+"/regenerate", `[1]`), false},
			{post(p+"/send", `{"link":"fax"}`), false},
			{post(p+"/close", `{"reason":"x"}`), false},
			{post(p+"/start", `{}`), true}, // the mode is required
			{post(p+"/start", `{"mode":"fly"}`), false},
			{post(p+"/end", `{"agent":5}`), false},
			{post("/api/v1/conversations/"+s.ConversationID+"/close", `{"agent":["a"]}`), false},
		} {
			cf.do(t, r, c.call, 400, c.docValid)
		}
		for _, c := range []call{
			post("/api/v1/sessions", `{"conversation_id":"nosuch"}`),
			get("/api/v1/sessions/nosuch"),
			get("/api/v1/sessions/nosuch/events"),
			post("/api/v1/sessions/nosuch/regenerate", ``),
			post("/api/v1/sessions/nosuch/send", `{"link":"desktop"}`),
			post("/api/v1/sessions/nosuch/close", ``),
			post("/api/v1/sessions/nosuch/start", `{"mode":"view"}`),
			post("/api/v1/sessions/nosuch/end", ``),
			post("/api/v1/conversations/nosuch/close", ``),
		} {
			cf.do(t, r, c, 404, true)
		}
		// A PIN the provider gives again and again is taken.
		issue := r.Provider.IssueFunc
		r.Provider.IssueFunc = func(context.Context, core.IssueRequest) (core.Ticket, error) { return core.Ticket{PIN: s.PIN}, nil }
		cf.do(t, r, post("/api/v1/sessions", `{}`), 409, true)
		r.Provider.IssueFunc = issue
	})

	t.Run("the provider limiting", func(t *testing.T) {
		r := newRig(t)
		s := r.Issue("en")
		waiting := r.Issue("en")
		r.Join(waiting, core.DeviceDesktop)
		issue := r.Provider.IssueFunc
		r.Provider.IssueFunc = func(context.Context, core.IssueRequest) (core.Ticket, error) { return core.Ticket{}, rateLimited }
		for _, c := range []call{post("/api/v1/sessions", `{}`), post("/api/v1/sessions/"+s.ID+"/regenerate", ``)} {
			if got := cf.do(t, r, c, 429, true); got.header.Get("Retry-After") != "2" {
				t.Errorf("%s: Retry-After = %q", c.path, got.header.Get("Retry-After"))
			}
		}
		r.Provider.IssueFunc = issue
		r.Provider.RevokeFunc = func(context.Context, *core.Session) error { return rateLimited }
		cf.do(t, r, post("/api/v1/sessions/"+s.ID+"/close", ``), 429, true)
		r.Provider.RevokeFunc = nil
		r.Provider.StartFunc = func(context.Context, *core.Session, core.Mode, string) (string, error) { return "", rateLimited }
		cf.do(t, r, post("/api/v1/sessions/"+waiting.ID+"/start", `{"mode":"view"}`), 429, true)
		// A customer whose channel is not enabled cannot be sent the link.
		slack, _, err := r.Engine.Issue(ctx, core.Request{Customer: core.Endpoint{Channel: core.ChannelSlack, Address: "U0123456"}})
		if err != nil {
			t.Fatal(err)
		}
		cf.do(t, r, post("/api/v1/sessions/"+slack.ID+"/send", `{"link":"desktop"}`), 503, true)
	})

	t.Run("every operation", func(t *testing.T) {
		r, f := newFaultyRig(t)
		s := r.Issue("en")
		calls := []call{
			post("/api/v1/sessions", `{}`),
			get("/api/v1/sessions"),
			get("/api/v1/sessions/" + s.ID),
			get("/api/v1/sessions/" + s.ID + "/events"),
			post("/api/v1/sessions/"+s.ID+"/regenerate", `{}`),
			post("/api/v1/sessions/"+s.ID+"/send", `{"link":"desktop"}`),
			post("/api/v1/sessions/"+s.ID+"/close", `{}`),
			post("/api/v1/sessions/"+s.ID+"/start", `{"mode":"view"}`),
			post("/api/v1/sessions/"+s.ID+"/end", `{}`),
			post("/api/v1/conversations/"+s.ConversationID+"/close", `{}`),
			post("/api/v1/sessions/"+s.ID+"/handoff", `{"to":""}`),
			post("/api/v1/conversations/"+s.ConversationID+"/handoff", `{"to":""}`),
		}
		for _, c := range calls {
			c.noToken = true
			if got := cf.do(t, r, c, 401, false); got.header.Get("WWW-Authenticate") != "Bearer" {
				t.Errorf("%s %s: WWW-Authenticate = %q", c.method, c.path, got.header.Get("WWW-Authenticate"))
			}
			c.noToken, c.token = false, "wrong-token"
			cf.do(t, r, c, 401, true)
		}
		f.fail(core.Errorf(core.CodeUnavailable, "the database cannot be reached"))
		for _, c := range calls {
			cf.do(t, r, c, 503, true)
		}
		f.fail(errors.New("disk I/O error"))
		for _, c := range calls {
			if got := cf.do(t, r, c, 500, true); strings.Contains(string(got.body), "disk") {
				t.Errorf("the detail of an internal error reached the client: %s", got.body)
			}
		}
		f.fail(nil)
		cf.do(t, r, call{method: http.MethodGet, path: "/api/v1/openapi.json", noToken: true}, 200, true)
	})

	t.Run("Idempotency-Key", func(t *testing.T) {
		r, f := newFaultyRig(t)
		issued := func() *core.Session { return r.Issue("en") }
		waiting := func() *core.Session { s := r.Issue("en"); r.Join(s, core.DeviceDesktop); return s }
		active := func() *core.Session {
			s := waiting()
			if _, err := r.Engine.Start(ctx, s.ID, core.Actor{Kind: core.ActorTechnician, Name: "tom"}, core.ModeView); err != nil {
				t.Fatal(err)
			}
			return s
		}
		for i, c := range []struct {
			path        func() string
			body, other string
			status      int
		}{
			{func() string { return "/api/v1/sessions" }, `{"agent":"alice"}`, `{"agent":"bob"}`, 201},
			{func() string { return "/api/v1/sessions/" + issued().ID + "/regenerate" }, `{}`, `{"agent":"bob"}`, 200},
			{func() string { return "/api/v1/sessions/" + issued().ID + "/send" }, `{"link":"desktop"}`, `{"link":"mobile"}`, 200},
			{func() string { return "/api/v1/sessions/" + issued().ID + "/close" }, ``, `{"agent":"bob"}`, 200},
			{func() string { return "/api/v1/sessions/" + waiting().ID + "/start" }, `{"mode":"view"}`, `{"mode":"control"}`, 200},
			{func() string { return "/api/v1/sessions/" + active().ID + "/end" }, `{"agent":"alice"}`, ``, 200},
			{func() string { return "/api/v1/conversations/" + issued().ConversationID + "/close" }, `{}`, `{"agent":"bob"}`, 200},
			{func() string { return "/api/v1/sessions/" + issued().ID + "/handoff" }, `{"to":""}`, `{"to":null}`, 200},
			{func() string { return "/api/v1/conversations/" + issued().ConversationID + "/handoff" }, `{"to":""}`, `{"to":"","note":"x"}`, 200},
		} {
			key := fmt.Sprintf("key-%d", i)
			path := c.path()
			first := cf.do(t, r, keyed(post(path, c.body), key), c.status, true)
			again := cf.do(t, r, keyed(post(path, c.body), key), c.status, true)
			if !bytes.Equal(first.body, again.body) || again.header.Get("Idempotent-Replayed") != "true" {
				t.Errorf("%s: the retry answered %s (replayed %q), not %s", path, again.body, again.header.Get("Idempotent-Replayed"), first.body)
			}
			got := cf.do(t, r, keyed(post(path, c.other), key), 422, true)
			if code := got.json["error"].(map[string]any)["code"]; code != "idempotency_mismatch" {
				t.Errorf("%s: code %v", path, code)
			}
		}
		// Two requests with one key at once: the second is told to retry.
		for _, c := range []struct{ op, path string }{
			{"Issue", "/api/v1/sessions"},
			{"CloseConversation", "/api/v1/conversations/" + issued().ConversationID + "/close"},
		} {
			wait, release := f.holdOn(t, c.op)
			done := make(chan answer, 1)
			go func() {
				rec := httptest.NewRecorder()
				r.Server.ServeHTTP(rec, keyed(post(c.path, `{}`), "at-once-"+c.op).request())
				done <- answer{status: rec.Code, body: rec.Body.Bytes()}
			}()
			waited := make(chan struct{})
			go func() { wait(); close(waited) }()
			select {
			case <-waited:
			case a := <-done:
				t.Fatalf("%s: the first request was not held: %d %s", c.path, a.status, a.body)
			case <-time.After(serveTimeout):
				t.Fatalf("%s: the first request neither answered nor reached %s within %s\n%s", c.path, c.op, serveTimeout, stacks())
			}
			got := cf.do(t, r, keyed(post(c.path, `{}`), "at-once-"+c.op), 409, true)
			if got.header.Get("Retry-After") != "1" {
				t.Errorf("%s: Retry-After = %q", c.path, got.header.Get("Retry-After"))
			}
			release()
			select {
			case first := <-done:
				if first.status >= 300 {
					t.Errorf("%s: the first request answered %d", c.path, first.status)
				}
			case <-time.After(serveTimeout):
				t.Fatalf("%s: the first request did not answer within %s of its release\n%s", c.path, serveTimeout, stacks())
			}
		}
	})

	t.Run("reports", func(t *testing.T) { reportConformance(t, cf) })

	// Every status of every operation was answered.
	for key, op := range operations(doc) {
		for code := range op.Responses.Map() {
			status, err := strconv.Atoi(code)
			if err != nil {
				t.Errorf("%s: response %q is not a status", key, code)
				continue
			}
			if !cf.covered[key][status] {
				t.Errorf("%s: no request got the documented status %d", key, status)
			}
		}
	}
	// Every field of every answer was carried by one.
	want := map[string]bool{}
	for _, op := range operations(doc) {
		for _, resp := range op.Responses.Map() {
			if mt := resp.Value.Content.Get("application/json"); mt != nil {
				documented(mt.Schema, "", want)
			}
		}
	}
	for _, f := range slices.Sorted(maps.Keys(want)) {
		if !cf.seen[f] {
			t.Errorf("no answer carried the documented field %s", f)
		}
	}
}

// TestOpenAPIFallback: the answers under /api/v1 that no operation gives
// (no such endpoint, a method it does not take) are the document's error.
func TestOpenAPIFallback(t *testing.T) {
	doc, _ := loadDoc(t)
	r := newRig(t)
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/api/v1/nothing", 404},
		{http.MethodDelete, "/api/v1/sessions", 405},
		{http.MethodGet, "/api/v1/sessions/x/close", 405},
		{http.MethodPut, "/api/v1/webhooks/x", 405},
		{http.MethodPost, "/api/v1/webhooks/x/deliveries", 405},
	} {
		resp, body := r.Serve(webtest.Request{Method: c.method, Path: c.path, Header: webtest.Headers("Authorization", "Bearer "+token)})
		webtest.WantStatus(t, resp, body, c.status)
		var v any
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatal(err)
		}
		if err := doc.Components.Schemas["Error"].Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
			t.Errorf("%s %s: %v\n%s", c.method, c.path, err, body)
		}
	}
}

// patterns is a web.Mux that records what is mounted on it.
type patterns []string

func (p *patterns) Handle(pattern string, _ http.Handler) { *p = append(*p, pattern) }

// TestOpenAPIRoutes checks the document against the code: the routes
// Mount registers are its operations, and what they read and answer is
// what it describes.
func TestOpenAPIRoutes(t *testing.T) {
	doc, _ := loadDoc(t)
	ops := operations(doc)
	var mounted patterns
	newRig(t).api.Mount(&mounted)
	if got, want := slices.Sorted(slices.Values(mounted)), slices.Sorted(maps.Keys(ops)); !slices.Equal(got, want) {
		t.Errorf("Mount registers\n\t%s\nthe document has\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
	for _, rt := range routes {
		key := rt.method + " " + rt.path
		op := ops[key]
		if op == nil {
			continue // told above
		}
		// The request body.
		var docBody *openapi3.SchemaRef
		if op.RequestBody != nil {
			if mt := op.RequestBody.Value.Content.Get("application/json"); mt != nil {
				docBody = mt.Schema
			}
		}
		switch {
		case rt.body == nil && docBody != nil:
			t.Errorf("%s: the document has a body the code does not read", key)
		case rt.body != nil && docBody == nil:
			t.Errorf("%s: the document has no body; the code reads %T", key, rt.body)
		case rt.body != nil:
			sameFields(t, key+" body", goFields(reflect.TypeOf(rt.body)), docFields(docBody))
		}
		// The query parameters, and the Idempotency-Key of a POST.
		var query, headers []string
		for _, p := range op.Parameters {
			switch p.Value.In {
			case "query":
				query = append(query, p.Value.Name)
			case "header":
				headers = append(headers, p.Value.Name)
			}
		}
		if got, want := slices.Sorted(slices.Values(rt.query)), slices.Sorted(slices.Values(query)); !slices.Equal(got, want) {
			t.Errorf("%s: the code reads the query parameters %v, the document has %v", key, got, want)
		}
		wantHeaders := []string{}
		if rt.method == http.MethodPost {
			wantHeaders = []string{"Idempotency-Key"}
		}
		if !slices.Equal(append([]string{}, headers...), wantHeaders) {
			t.Errorf("%s: the document's header parameters are %v, want %v", key, headers, wantHeaders)
		}
		// Only the document itself is public.
		if public := op.Security != nil && len(*op.Security) == 0; public != rt.public {
			t.Errorf("%s: public in the code %v, in the document %v", key, rt.public, public)
		}
	}
	// The answers' fields. Send's answer never has technician_url, which
	// only start and the session's GET give.
	for name, v := range map[string]any{
		"Session": sessionJSON{}, "SessionDetail": sessionDetailJSON{}, "SentSession": sentJSON{},
		"SessionList": sessionListJSON{}, "Delivery": deliveryJSON{}, "Event": eventJSON{},
		"Conversation": conversationJSON{}, "Customer": customerJSON{}, "HandedConversation": handedConversationJSON{},
		"HandoffRequest": handoffRequest{},
		"Webhook":        webhookJSON{}, "WebhookList": webhookListJSON{}, "WebhookDelivery": webhookDeliveryJSON{},
		"WebhookTry": tryJSON{}, "WebhookDeliveryList": webhookDeliveryListJSON{},
		"WebhookCreateRequest": webhookRequest{}, "WebhookUpdateRequest": webhookRequest{},
	} {
		code := goFields(reflect.TypeOf(v))
		if name == "SentSession" {
			delete(code, "technician_url")
		}
		sameFields(t, name, code, docFields(doc.Components.Schemas[name]))
	}
	// Enumerations the code lists.
	enum := func(sr *openapi3.SchemaRef) []string {
		var out []string
		for _, v := range sr.Value.Enum {
			out = append(out, fmt.Sprint(v))
		}
		return slices.Sorted(slices.Values(out))
	}
	states := make([]string, 0, len(core.States))
	for _, s := range core.States {
		states = append(states, string(s))
	}
	if got := enum(doc.Components.Schemas["SessionFields"].Value.Properties["state"]); !slices.Equal(got, slices.Sorted(slices.Values(states))) {
		t.Errorf("the document's states %v, core's %v", got, states)
	}
	actions := enum(doc.Components.Schemas["Event"].Value.Properties["action"])
	for _, a := range core.Actions {
		if !slices.Contains(actions, string(a)) {
			t.Errorf("the document's actions %v lack %s", actions, a)
		}
	}
	// Every action and notice kind core declares may reach a session's
	// log and deliveries, those that change no state too (a hand-off, an
	// escalation, a webhook's event).
	if got, want := actions, coreConstants(t, "Action"); !slices.Equal(got, want) {
		t.Errorf("the document's actions %v, core's %v", got, want)
	}
	if got, want := enum(doc.Components.Schemas["Delivery"].Value.Properties["kind"]), coreConstants(t, "NoticeKind"); !slices.Equal(got, want) {
		t.Errorf("the document's delivery kinds %v, core's %v", got, want)
	}
	if got := enum(doc.Components.Parameters["Channel"].Value.Schema); !slices.Equal(got, slices.Sorted(slices.Values(customerChannels))) {
		t.Errorf("the document's channels %v, the code's %v", got, customerChannels)
	}
}

// goFields returns the JSON fields of a Go type, nested ones as a.b.
func goFields(t reflect.Type) map[string]bool {
	out := map[string]bool{}
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || t == reflect.TypeFor[time.Time]() {
			return
		}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Anonymous && name == "" {
				walk(f.Type, prefix)
				continue
			}
			if name == "-" || !f.IsExported() {
				continue
			}
			out[prefix+name] = true
			walk(f.Type, prefix+name+".")
		}
	}
	walk(t, "")
	return out
}

// docFields returns the fields of a schema of the document, nested ones
// as a.b.
func docFields(sr *openapi3.SchemaRef) map[string]bool {
	out := map[string]bool{}
	var walk func(sr *openapi3.SchemaRef, prefix string)
	walk = func(sr *openapi3.SchemaRef, prefix string) {
		if sr == nil || sr.Value == nil {
			return
		}
		if sr.Value.Items != nil {
			walk(sr.Value.Items, prefix)
		}
		for name, f := range fields(sr, "") {
			out[prefix+name] = true
			walk(f.schema, prefix+name+".")
		}
	}
	walk(sr, "")
	return out
}

func sameFields(t *testing.T, what string, code, doc map[string]bool) {
	t.Helper()
	for f := range code {
		if !doc[f] {
			t.Errorf("%s: the code has the field %s, the document does not", what, f)
		}
	}
	for f := range doc {
		if !code[f] {
			t.Errorf("%s: the document has the field %s, the code does not", what, f)
		}
	}
}

// coreCodes reads the error codes core declares: the constants of type
// Code in its sources.
func coreCodes(t *testing.T) []core.Code {
	t.Helper()
	var codes []core.Code
	for _, c := range coreConstants(t, "Code") {
		codes = append(codes, core.Code(c))
	}
	if len(codes) < 9 {
		t.Fatalf("found only the codes %v in core", codes)
	}
	return codes
}

// coreConstants reads the string constants of the type called typ that
// core declares in its sources, sorted.
func coreConstants(t *testing.T, typ string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "core", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var consts []string
	fset := gotoken.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != gotoken.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != typ {
					continue
				}
				for _, v := range vs.Values {
					if lit, ok := v.(*ast.BasicLit); ok {
						s, _ := strconv.Unquote(lit.Value)
						consts = append(consts, s)
					}
				}
			}
		}
	}
	return slices.Sorted(slices.Values(consts))
}

// TestOpenAPIErrorCodes: every error code of core, which the engine's
// errors may carry to the API, is in the document, under the status the
// API answers it with, and the document has no other.
func TestOpenAPIErrorCodes(t *testing.T) {
	doc, _ := loadDoc(t)
	codes := coreCodes(t)
	// The codes each status's answers may carry, from the operations.
	byStatus := map[int]map[string]bool{}
	for key, op := range operations(doc) {
		for st, resp := range op.Responses.Map() {
			status, _ := strconv.Atoi(st)
			if status < 400 {
				continue
			}
			mt := resp.Value.Content.Get("application/json")
			if mt == nil {
				t.Errorf("%s %d: no JSON error", key, status)
				continue
			}
			code := fields(mt.Schema, "")["error"]
			narrowed := mt.Schema.Value.Properties["error"]
			if code.schema == nil || narrowed == nil || narrowed.Value.Properties["code"] == nil {
				t.Errorf("%s %d: the error does not list its codes", key, status)
				continue
			}
			if byStatus[status] == nil {
				byStatus[status] = map[string]bool{}
			}
			for _, c := range narrowed.Value.Properties["code"].Value.Enum {
				byStatus[status][fmt.Sprint(c)] = true
				if s := statusOf(core.Code(fmt.Sprint(c))); s != status {
					t.Errorf("%s: the document answers %v with %d; the API with %d", key, c, status, s)
				}
			}
		}
	}
	all := map[string]bool{}
	for _, c := range doc.Components.Schemas["Error"].Value.Properties["error"].Value.Properties["code"].Value.Enum {
		all[fmt.Sprint(c)] = true
	}
	for _, c := range codes {
		if !byStatus[statusOf(c)][string(c)] {
			t.Errorf("core's code %s (status %d) is in no answer of the document", c, statusOf(c))
		}
		if !all[string(c)] {
			t.Errorf("core's code %s is not in the document's Error", c)
		}
		delete(all, string(c))
	}
	for c := range all {
		t.Errorf("the document's Error has the code %s, which core lacks", c)
	}
}

// TestOpenAPIStrictSchemas: every object an answer holds is closed to
// fields the document does not name, so that the conformance test fails
// on one.
func TestOpenAPIStrictSchemas(t *testing.T) {
	doc, _ := loadDoc(t)
	// A schema is closed by unevaluatedProperties: false, or by
	// additionalProperties: false on it or on an allOf part that names
	// every field (the errors' Error).
	var closed func(s *openapi3.Schema) bool
	closed = func(s *openapi3.Schema) bool {
		no := func(b openapi3.BoolSchema) bool { return b.Has != nil && !*b.Has }
		if no(s.AdditionalProperties) || no(s.UnevaluatedProperties) {
			return true
		}
		for _, part := range s.AllOf {
			if no(part.Value.AdditionalProperties) && len(part.Value.Properties) >= len(s.Properties) {
				for name := range s.Properties {
					if part.Value.Properties[name] == nil {
						return false
					}
				}
				return true
			}
		}
		return false
	}
	var check func(where string, sr *openapi3.SchemaRef)
	check = func(where string, sr *openapi3.SchemaRef) {
		if sr == nil || sr.Value == nil {
			return
		}
		s := sr.Value
		if s.Items != nil {
			check(where+"[]", s.Items)
		}
		fs := fields(sr, "")
		if len(fs) == 0 {
			return
		}
		if !closed(s) {
			t.Errorf("%s (%s) takes fields it does not name: set additionalProperties or unevaluatedProperties to false", where, sr.Ref)
		}
		for name, f := range fs {
			check(where+"."+name, f.schema)
		}
	}
	for key, op := range operations(doc) {
		if key == "GET /api/v1/openapi.json" {
			continue
		}
		for st, resp := range op.Responses.Map() {
			if mt := resp.Value.Content.Get("application/json"); mt != nil {
				check(key+" "+st, mt.Schema)
			}
		}
		if op.RequestBody != nil {
			check(key+" request", op.RequestBody.Value.Content.Get("application/json").Schema)
		}
	}
}

// TestOpenAPIServed: the document is served as it is in the repository,
// to anyone.
func TestOpenAPIServed(t *testing.T) {
	r := newRig(t, func(o *Options) { o.Tokens = nil })
	resp, body := r.Serve(webtest.Request{Path: "/api/v1/openapi.json"})
	webtest.WantStatus(t, resp, body, http.StatusOK)
	if body != string(openAPI) || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("GET /api/v1/openapi.json answered %s with another document", resp.Header.Get("Content-Type"))
	}
}
