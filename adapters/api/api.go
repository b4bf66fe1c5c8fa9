// Package api is assistbot's JSON API under /api/v1, for operators and
// scripts: issuing, listing and acting on remote-support sessions and
// closing conversations. Every request but the OpenAPI document's needs a
// bearer token; every answer, errors and unknown routes included, is
// JSON. openapi.json describes it all, and its test holds the code to it.
package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"

	"golang.org/x/text/language"

	"github.com/assistbot/assistbot/adapters/web"
	"github.com/assistbot/assistbot/bots/i18n"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/report"
)

// Prefix is where the API lives.
const Prefix = "/api/v1/"

// defaultActor names the actor of API calls that do not name one.
const defaultActor = "api"

// Engine is what the API needs of core.Engine.
type Engine interface {
	Issue(ctx context.Context, req core.Request) (*core.Session, *core.Conversation, error)
	Delivers(channel string) bool
	Session(ctx context.Context, id string) (*core.Session, error)
	Sessions(ctx context.Context, f core.SessionFilter) ([]*core.Session, error)
	Conversation(ctx context.Context, id string) (*core.Conversation, error)
	Events(ctx context.Context, id string) ([]core.Event, error)
	Deliveries(ctx context.Context, id string) ([]*core.Delivery, error)
	Regenerate(ctx context.Context, id string, actor core.Actor) (*core.Session, error)
	Send(ctx context.Context, id string, actor core.Actor, kind core.LinkKind) (*core.Session, *core.Delivery, error)
	Close(ctx context.Context, id string, actor core.Actor) (*core.Session, error)
	Start(ctx context.Context, id string, actor core.Actor, mode core.Mode) (*core.Session, error)
	End(ctx context.Context, id string, actor core.Actor) (*core.Session, error)
	CloseConversation(ctx context.Context, id string, actor core.Actor) (*core.Conversation, error)
	HandOver(ctx context.Context, id string, h core.Handover) (*core.Session, error)
}

// Options configure the API. Engine and Catalog are required.
type Options struct {
	// Engine runs the sessions the API acts on.
	Engine Engine
	// Catalog matches the locale a session is asked for.
	Catalog *i18n.Catalog
	// Tokens are the bearer tokens; empty entries are ignored. With none,
	// every request is refused.
	Tokens []string
	// Idempotency keeps the answers to requests sent with an
	// Idempotency-Key, and locks a key while its first request runs. Give
	// the store that every replica shares, so that a retry that reaches
	// another replica is answered alike; the default keeps them in this
	// process's memory, which suits a single replica only.
	Idempotency IdempotencyStore
	// Clock tells the time keys expire by; default core.SystemClock.
	Clock  core.Clock
	Logger *slog.Logger // default discards
	// Webhooks manages the webhook endpoints; nil answers 503 there.
	Webhooks *Webhooks
	// Reports computes /api/v1/reports (the store); nil answers 503 there.
	Reports report.Store
}

// API serves the JSON API.
type API struct {
	engine  Engine
	catalog *i18n.Catalog
	tokens  [][32]byte // SHA-256 of each token
	keys    IdempotencyStore
	clock   core.Clock
	// claiming lets one request at a time of this process hold a key's
	// lock (see lockKey).
	claiming chan struct{}
	// pruned is when this process last deleted expired memos (UnixNano).
	pruned atomic.Int64
	log    *slog.Logger
	// directory knows the colleagues of hand-offs (HandoffTo).
	directory Directory
	// webhooks manages the webhook endpoints, when set.
	webhooks *Webhooks
	reports  report.Store
}

// handler is an API endpoint. A returned error becomes the JSON error
// answer, so endpoints only say what went wrong.
type handler func(w http.ResponseWriter, r *http.Request) error

// New returns the API for o.
func New(o Options) (*API, error) {
	if o.Engine == nil || o.Catalog == nil {
		return nil, fmt.Errorf("api: Options.Engine and Options.Catalog are required")
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &API{engine: o.Engine, catalog: o.Catalog, tokens: hashTokens(o.Tokens), keys: o.Idempotency,
		clock: o.Clock, claiming: make(chan struct{}, 1), log: log.With("component", "api"), webhooks: o.Webhooks,
		reports: o.Reports}
	if a.keys == nil {
		a.keys = newLocalKeys()
	}
	if a.clock == nil {
		a.clock = core.SystemClock{}
	}
	return a, nil
}

// route is one endpoint of the API.
type route struct {
	method string
	// path is as the mux pattern and the OpenAPI document both write it.
	path   string
	handle func(a *API, w http.ResponseWriter, r *http.Request) error
	// body is the type of the JSON body the endpoint reads, nil for none.
	body any
	// query lists the query parameters the endpoint reads.
	query []string
	// public endpoints need no token.
	public bool
}

// routes is every endpoint of the API, the one list of them: Mount
// registers it, and the OpenAPI document's test checks that the document
// describes exactly these, their bodies and their query parameters.
var routes = []route{
	{method: http.MethodPost, path: "/api/v1/sessions", handle: (*API).handleCreate, body: createRequest{}},
	{method: http.MethodGet, path: "/api/v1/sessions", handle: (*API).handleList, query: listParams},
	{method: http.MethodGet, path: "/api/v1/sessions/{id}", handle: (*API).handleGet},
	{method: http.MethodGet, path: "/api/v1/sessions/{id}/events", handle: (*API).handleEvents},
	{method: http.MethodPost, path: "/api/v1/sessions/{id}/regenerate", handle: (*API).handleRegenerate, body: actionRequest{}},
	{method: http.MethodPost, path: "/api/v1/sessions/{id}/send", handle: (*API).handleSend, body: sendRequest{}},
	{method: http.MethodPost, path: "/api/v1/sessions/{id}/close", handle: (*API).handleClose, body: actionRequest{}},
	{method: http.MethodPost, path: "/api/v1/sessions/{id}/start", handle: (*API).handleStart, body: startRequest{}},
	{method: http.MethodPost, path: "/api/v1/sessions/{id}/end", handle: (*API).handleEnd, body: actionRequest{}},
	{method: http.MethodPost, path: "/api/v1/conversations/{id}/close", handle: (*API).handleCloseConversation, body: actionRequest{}},
	{method: http.MethodPost, path: "/api/v1/sessions/{id}/handoff", handle: (*API).handleHandoff, body: handoffRequest{}},
	{method: http.MethodPost, path: "/api/v1/conversations/{id}/handoff", handle: (*API).handleHandoffConversation, body: handoffRequest{}},
	{method: http.MethodGet, path: "/api/v1/reports", handle: (*API).handleReports, query: reportParams},
	{method: http.MethodGet, path: "/api/v1/openapi.json", handle: (*API).handleOpenAPI, public: true},
}

// Mount mounts the API's routes on mux. When mux is a web.FallbackMux,
// requests under /api/v1 that match no route, and panics, are answered in
// JSON too.
func (a *API) Mount(mux web.Mux) {
	for _, rt := range routes {
		mux.Handle(rt.method+" "+rt.path, a.serve(rt))
	}
	if f, ok := mux.(web.FallbackMux); ok {
		f.HandleFallback(Prefix, fallback)
	}
}

// serve answers the requests to rt, turning an error into the answer.
func (a *API) serve(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.run(rt, w, r); err != nil {
			a.fail(w, r, err)
		}
	})
}

// run authenticates a request to rt, unless rt is public, and runs it,
// with its Idempotency-Key when it is a POST.
func (a *API) run(rt route, w http.ResponseWriter, r *http.Request) error {
	if rt.public {
		return rt.handle(a, w, r)
	}
	who, err := a.authenticate(r)
	if err != nil {
		return err
	}
	h := func(w http.ResponseWriter, r *http.Request) error { return rt.handle(a, w, r) }
	if rt.method == http.MethodPost {
		return a.idempotent(w, r, who, h)
	}
	return h(w, r)
}

// fallback answers, in JSON, what the server answers for the API: 405
// with Allow when the path exists under another method, 404 for a path
// that does not, and 500 for a panic.
func fallback(w http.ResponseWriter, r *http.Request, status int, allow string) {
	switch status {
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", allow)
		web.WriteError(w, status, core.CodeInvalid, fmt.Sprintf("method %s is not allowed here; use %s", web.MethodLabel(r.Method), allow))
	case http.StatusNotFound:
		web.WriteError(w, status, core.CodeNotFound, "no such API endpoint")
	default:
		web.WriteError(w, http.StatusInternalServerError, core.CodeInternal, "internal error")
	}
}

// fail answers a request with err. This is the edge: server errors are
// logged here, once, with the route and session, and their detail never
// reaches the client.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := core.ErrorCode(err)
	status := statusOf(code)
	web.LogFailure(a.log, r, status, err)
	switch code {
	case core.CodeUnauthorized:
		w.Header().Set("WWW-Authenticate", "Bearer")
	case core.CodeRateLimited, core.CodeUnavailable, core.CodeConflict:
		if d, ok := core.RetryAfter(err); ok {
			w.Header().Set("Retry-After", web.RetryAfter(d))
		}
	}
	web.WriteError(w, status, code, core.ErrorMessage(err))
}

// statusOf is the HTTP status of an error code: the web server's, and 422
// for an Idempotency-Key used before for another request, which only the
// API answers.
func statusOf(code core.Code) int {
	if code == core.CodeIdempotencyMismatch {
		return http.StatusUnprocessableEntity
	}
	return web.StatusOf(code)
}

// hashTokens keeps the SHA-256 of each non-empty token: comparing
// fixed-length digests in constant time hides the tokens' lengths too.
func hashTokens(tokens []string) [][32]byte {
	var out [][32]byte
	for _, t := range tokens {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, sha256.Sum256([]byte(t)))
		}
	}
	return out
}

// authenticate checks the bearer token against every configured token,
// without stopping at a match, so timing says nothing about which matched.
// It returns the token's SHA-256, which tells its holder's idempotency
// keys from another's.
func (a *API) authenticate(r *http.Request) ([32]byte, error) {
	if len(a.tokens) == 0 {
		return [32]byte{}, core.Errorf(core.CodeUnauthorized, "the API is disabled: set api.tokens")
	}
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return [32]byte{}, core.Errorf(core.CodeUnauthorized, "missing bearer token: send Authorization: Bearer <token>")
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
	match := 0
	for i := range a.tokens {
		match |= subtle.ConstantTimeCompare(sum[:], a.tokens[i][:])
	}
	if match != 1 {
		return [32]byte{}, core.Errorf(core.CodeUnauthorized, "invalid bearer token")
	}
	return sum, nil
}

// handleCreate issues a session: for a customer (found or new), for an
// existing conversation (conversation_id, as the console shows it: a
// web-chat customer's), or for nobody yet. A customer that could never be
// sent the link is refused before a PIN is made.
func (a *API) handleCreate(w http.ResponseWriter, r *http.Request) error {
	var req createRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	cr := core.Request{ConversationID: strings.TrimSpace(req.ConversationID), Agent: actorName(req.Agent)}
	if req.Locale != "" {
		locale, err := a.locale(req.Locale)
		if err != nil {
			return err
		}
		cr.Locale = locale
	}
	if c := req.Customer; c != nil {
		if cr.ConversationID != "" {
			return core.Errorf(core.CodeInvalid, "give conversation_id or customer, not both: the conversation has its customer")
		}
		cr.Customer = core.Endpoint{Channel: c.Channel, Address: c.Address}
		cr.CustomerName = c.Name
		if err := a.deliverable(c.Channel); err != nil {
			return err
		}
	}
	if cr.ConversationID != "" {
		conv, err := a.engine.Conversation(r.Context(), cr.ConversationID)
		if err != nil {
			return err
		}
		if err := a.deliverable(conv.Customer.Channel); err != nil {
			return err
		}
	}
	sess, conv, err := a.engine.Issue(r.Context(), cr)
	if err != nil {
		return err
	}
	out, err := a.toSession(r.Context(), sess, map[string]*core.Conversation{conv.ID: conv})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/sessions/"+url.PathEscape(sess.ID))
	web.WriteJSON(w, http.StatusCreated, out)
	return nil
}

// channelSettings names the setting that lets assistbot reach the
// customers of each channel.
var channelSettings = map[string]string{
	core.ChannelSMS:     "twilio.enabled",
	core.ChannelSlack:   "slack.enabled",
	core.ChannelDiscord: "discord.enabled",
	core.ChannelWeb:     "console.web_chat",
}

// deliverable refuses a customer channel this server cannot send to, so
// that no session is made whose link could never reach its customer. An
// unknown channel is left to the engine, which names the known ones.
func (a *API) deliverable(channel string) error {
	channel = strings.ToLower(strings.TrimSpace(channel))
	setting, known := channelSettings[channel]
	if !known || a.engine.Delivers(channel) {
		return nil
	}
	return core.Errorf(core.CodeInvalid, "%s customers cannot be reached from this server: set %s: true", channel, setting)
}

// locale returns the catalog's code ("ko") for a BCP 47 tag whose
// language is supported ("ko", "ko-KR"), so every adapter renders the
// session in the same language; any other tag is refused with the list.
func (a *API) locale(tag string) (string, error) {
	supported := a.catalog.Supported()
	if t, err := language.Parse(strings.ReplaceAll(strings.TrimSpace(tag), "_", "-")); err == nil {
		if base, conf := t.Base(); conf != language.No && slices.Contains(supported, base.String()) {
			return base.String(), nil
		}
	}
	return "", core.Errorf(core.CodeInvalid, "unknown locale %q; use one of %s (a region may follow, as in ko-KR)", tag, strings.Join(supported, ", "))
}

// handleGet returns a session with its deliveries.
func (a *API) handleGet(w http.ResponseWriter, r *http.Request) error {
	sess, err := a.engine.Session(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	ds, err := a.engine.Deliveries(r.Context(), sess.ID)
	if err != nil {
		return err
	}
	out := sessionDetailJSON{Deliveries: make([]deliveryJSON, 0, len(ds))}
	if out.sessionJSON, err = a.toSession(r.Context(), sess, map[string]*core.Conversation{}); err != nil {
		return err
	}
	out.TechnicianURL = technicianURL(sess)
	for _, d := range ds {
		out.Deliveries = append(out.Deliveries, toDelivery(d))
	}
	web.WriteJSON(w, http.StatusOK, out)
	return nil
}

// handleEvents returns a session's event log, oldest first.
func (a *API) handleEvents(w http.ResponseWriter, r *http.Request) error {
	evs, err := a.engine.Events(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	out := make([]eventJSON, 0, len(evs))
	for _, e := range evs {
		out = append(out, toEvent(e))
	}
	web.WriteJSON(w, http.StatusOK, struct {
		Events []eventJSON `json:"events"`
	}{out})
	return nil
}

func (a *API) handleRegenerate(w http.ResponseWriter, r *http.Request) error {
	var req actionRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	return a.answer(w, r)(a.engine.Regenerate(r.Context(), r.PathValue("id"), agent(req.Agent)))
}

func (a *API) handleSend(w http.ResponseWriter, r *http.Request) error {
	var req sendRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	sess, d, err := a.engine.Send(r.Context(), r.PathValue("id"), agent(req.Agent), req.Link)
	if err != nil {
		return err
	}
	out := sentJSON{Delivery: toDelivery(d)}
	if out.sessionJSON, err = a.toSession(r.Context(), sess, map[string]*core.Conversation{}); err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) handleClose(w http.ResponseWriter, r *http.Request) error {
	var req actionRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	return a.answer(w, r)(a.engine.Close(r.Context(), r.PathValue("id"), agent(req.Agent)))
}

func (a *API) handleStart(w http.ResponseWriter, r *http.Request) error {
	var req startRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	tech := core.Actor{Kind: core.ActorTechnician, Name: actorName(req.Technician)}
	sess, err := a.engine.Start(r.Context(), r.PathValue("id"), tech, req.Mode)
	if err != nil {
		return err
	}
	out, err := a.toSession(r.Context(), sess, map[string]*core.Conversation{})
	if err != nil {
		return err
	}
	out.TechnicianURL = technicianURL(sess)
	web.WriteJSON(w, http.StatusOK, out)
	return nil
}

// technicianURL returns the provider's link through which the technician
// of an active session reaches the customer's computer (MeshCentral's
// share), for the start answer and the session's GET: API tokens are
// operators' credentials. It is never logged.
func technicianURL(s *core.Session) string {
	if s.State != core.StateActive {
		return ""
	}
	return s.TechnicianURL
}

func (a *API) handleEnd(w http.ResponseWriter, r *http.Request) error {
	var req actionRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	return a.answer(w, r)(a.engine.End(r.Context(), r.PathValue("id"), agent(req.Agent)))
}

// handleCloseConversation ends a conversation: the customer's next
// message opens a new one. Closing a closed conversation is no error.
func (a *API) handleCloseConversation(w http.ResponseWriter, r *http.Request) error {
	var req actionRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	c, err := a.engine.CloseConversation(r.Context(), r.PathValue("id"), agent(req.Agent))
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, toConversation(c))
	return nil
}

// answer returns a function that writes an action's resulting session,
// so each action reads as one call.
func (a *API) answer(w http.ResponseWriter, r *http.Request) func(*core.Session, error) error {
	return func(sess *core.Session, err error) error {
		if err != nil {
			return err
		}
		out, err := a.toSession(r.Context(), sess, map[string]*core.Conversation{})
		if err != nil {
			return err
		}
		web.WriteJSON(w, http.StatusOK, out)
		return nil
	}
}

func agent(name string) core.Actor {
	return core.Actor{Kind: core.ActorAgent, Name: actorName(name)}
}

func actorName(name string) string {
	if name = strings.TrimSpace(name); name != "" {
		return name
	}
	return defaultActor
}
