package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/assistbot/assistbot/core"
)

// apiPrefix is where the JSON API lives.
const apiPrefix = "/api/v1/"

// defaultActor names the actor of API calls that do not name one.
const defaultActor = "api"

// apiHandler is an API endpoint. A returned error becomes the JSON error
// answer, so endpoints only say what went wrong.
type apiHandler func(w http.ResponseWriter, r *http.Request) error

func (s *Server) apiRoutes() {
	s.Handle("POST /api/v1/sessions", s.api(s.handleCreate))
	s.Handle("GET /api/v1/sessions", s.api(s.handleList))
	s.Handle("GET /api/v1/sessions/{id}", s.api(s.handleGet))
	s.Handle("GET /api/v1/sessions/{id}/events", s.api(s.handleEvents))
	s.Handle("POST /api/v1/sessions/{id}/regenerate", s.api(s.handleRegenerate))
	s.Handle("POST /api/v1/sessions/{id}/send", s.api(s.handleSend))
	s.Handle("POST /api/v1/sessions/{id}/close", s.api(s.handleClose))
	s.Handle("POST /api/v1/sessions/{id}/start", s.api(s.handleStart))
	s.Handle("POST /api/v1/sessions/{id}/end", s.api(s.handleEnd))
	s.Handle("POST /api/v1/conversations/{id}/close", s.api(s.handleCloseConversation))
}

// api authenticates the request and turns h's error into the answer.
func (s *Server) api(h apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.authenticate(r); err != nil {
			s.apiError(w, r, err)
			return
		}
		if err := h(w, r); err != nil {
			s.apiError(w, r, err)
		}
	})
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
func (s *Server) authenticate(r *http.Request) error {
	if len(s.tokens) == 0 {
		return core.Errorf(core.CodeUnauthorized, "the API is disabled: set api.tokens")
	}
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return core.Errorf(core.CodeUnauthorized, "missing bearer token: send Authorization: Bearer <token>")
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
	match := 0
	for i := range s.tokens {
		match |= subtle.ConstantTimeCompare(sum[:], s.tokens[i][:])
	}
	if match != 1 {
		return core.Errorf(core.CodeUnauthorized, "invalid bearer token")
	}
	return nil
}

// handleCreate issues a session.
func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request) error {
	var req createRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	cr := core.Request{ConversationID: req.ConversationID, Agent: actorName(req.Agent)}
	if req.Locale != "" {
		// Store the catalog's code ("ko"), not the caller's tag ("ko-KR"),
		// so every adapter renders the session in the same language.
		cr.Locale = s.catalog.Match(req.Locale)
	}
	if c := req.Customer; c != nil {
		cr.Customer = core.Endpoint{Channel: c.Channel, Address: c.Address}
		cr.CustomerName = c.Name
	}
	sess, conv, err := s.engine.Issue(r.Context(), cr)
	if err != nil {
		return err
	}
	out, err := s.toSession(r.Context(), sess, map[string]*core.Conversation{conv.ID: conv})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/sessions/"+url.PathEscape(sess.ID))
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// handleList lists sessions, newest first.
func (s *Server) handleList(w http.ResponseWriter, r *http.Request) error {
	f, err := parseFilter(r.URL.Query())
	if err != nil {
		return err
	}
	list, err := s.engine.Sessions(r.Context(), f)
	if err != nil {
		return err
	}
	convs := map[string]*core.Conversation{}
	out := make([]sessionJSON, 0, len(list))
	for _, sess := range list {
		j, err := s.toSession(r.Context(), sess, convs)
		if err != nil {
			return err
		}
		out = append(out, j)
	}
	writeJSON(w, http.StatusOK, struct {
		Sessions []sessionJSON `json:"sessions"`
	}{out})
	return nil
}

// parseFilter reads the list query: state (repeated or comma-separated),
// conversation_id and limit. Unknown parameters are refused rather than
// ignored, so a misspelt filter does not silently list everything.
func parseFilter(q url.Values) (core.SessionFilter, error) {
	var f core.SessionFilter
	for name, values := range q {
		switch name {
		case "state":
			for _, v := range values {
				for st := range strings.SplitSeq(v, ",") {
					st = strings.TrimSpace(st)
					if st == "" {
						continue
					}
					if !core.State(st).Valid() {
						return f, core.Errorf(core.CodeInvalid, "unknown state %q; use %s", st, stateList())
					}
					f.States = append(f.States, core.State(st))
				}
			}
		case "conversation_id":
			f.ConversationID = values[len(values)-1]
		case "limit":
			n, err := strconv.Atoi(values[len(values)-1])
			if err != nil || n < 1 || n > 1000 {
				return f, core.Errorf(core.CodeInvalid, "limit must be a whole number from 1 to 1000")
			}
			f.Limit = n
		default:
			return f, core.Errorf(core.CodeInvalid, "unknown query parameter %q; use state, conversation_id or limit", name)
		}
	}
	return f, nil
}

func stateList() string {
	names := make([]string, len(core.States))
	for i, s := range core.States {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// handleGet returns a session with its deliveries.
func (s *Server) handleGet(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.engine.Session(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	ds, err := s.engine.Deliveries(r.Context(), sess.ID)
	if err != nil {
		return err
	}
	out := sessionDetailJSON{Deliveries: make([]deliveryJSON, 0, len(ds))}
	if out.sessionJSON, err = s.toSession(r.Context(), sess, map[string]*core.Conversation{}); err != nil {
		return err
	}
	for _, d := range ds {
		out.Deliveries = append(out.Deliveries, toDelivery(d))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// handleEvents returns a session's event log, oldest first.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) error {
	evs, err := s.engine.Events(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	out := make([]eventJSON, 0, len(evs))
	for _, e := range evs {
		out = append(out, toEvent(e))
	}
	writeJSON(w, http.StatusOK, struct {
		Events []eventJSON `json:"events"`
	}{out})
	return nil
}

func (s *Server) handleRegenerate(w http.ResponseWriter, r *http.Request) error {
	var req actionRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	return s.answer(w, r)(s.engine.Regenerate(r.Context(), r.PathValue("id"), agent(req.Agent)))
}

func (s *Server) handleSend(w http.ResponseWriter, r *http.Request) error {
	var req sendRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	sess, d, err := s.engine.Send(r.Context(), r.PathValue("id"), agent(req.Agent), req.Link)
	if err != nil {
		return err
	}
	out := sentJSON{Delivery: toDelivery(d)}
	if out.sessionJSON, err = s.toSession(r.Context(), sess, map[string]*core.Conversation{}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) handleClose(w http.ResponseWriter, r *http.Request) error {
	var req actionRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	return s.answer(w, r)(s.engine.Close(r.Context(), r.PathValue("id"), agent(req.Agent)))
}

func (s *Server) handleStart(w http.ResponseWriter, r *http.Request) error {
	var req startRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	tech := core.Actor{Kind: core.ActorTechnician, Name: actorName(req.Technician)}
	return s.answer(w, r)(s.engine.Start(r.Context(), r.PathValue("id"), tech, req.Mode))
}

func (s *Server) handleEnd(w http.ResponseWriter, r *http.Request) error {
	var req actionRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	return s.answer(w, r)(s.engine.End(r.Context(), r.PathValue("id"), agent(req.Agent)))
}

// handleCloseConversation ends a conversation: the customer's next
// message opens a new one. Closing a closed conversation is no error.
func (s *Server) handleCloseConversation(w http.ResponseWriter, r *http.Request) error {
	var req actionRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	c, err := s.engine.CloseConversation(r.Context(), r.PathValue("id"), agent(req.Agent))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toConversation(c))
	return nil
}

// answer returns a function that writes an action's resulting session,
// so each action reads as one call.
func (s *Server) answer(w http.ResponseWriter, r *http.Request) func(*core.Session, error) error {
	return func(sess *core.Session, err error) error {
		if err != nil {
			return err
		}
		out, err := s.toSession(r.Context(), sess, map[string]*core.Conversation{})
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, out)
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

// apiUnmatched answers a request under the API prefix that no route
// matched, in JSON: 405 with Allow when the path exists under another
// method, else 404. h is the mux's own answer, run only to learn which.
func (s *Server) apiUnmatched(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		probe := &headerProbe{header: http.Header{}}
		h.ServeHTTP(probe, r)
		switch probe.code {
		case http.StatusMethodNotAllowed:
			allow := probe.header.Get("Allow")
			w.Header().Set("Allow", allow)
			writeError(w, http.StatusMethodNotAllowed, core.CodeInvalid, fmt.Sprintf("method %s is not allowed here; use %s", methodLabel(r.Method), allow))
		case http.StatusNotFound:
			writeError(w, http.StatusNotFound, core.CodeNotFound, "no such API endpoint")
		default:
			// A redirect to the cleaned path: let the mux give it.
			s.mux.ServeHTTP(w, r)
		}
	})
}

func isAPIPath(p string) bool {
	return p == strings.TrimSuffix(apiPrefix, "/") || strings.HasPrefix(p, apiPrefix)
}

// headerProbe is a ResponseWriter that keeps only the status and headers.
type headerProbe struct {
	header http.Header
	code   int
}

func (p *headerProbe) Header() http.Header         { return p.header }
func (p *headerProbe) Write(b []byte) (int, error) { return len(b), nil }
func (p *headerProbe) WriteHeader(code int)        { p.code = code }
