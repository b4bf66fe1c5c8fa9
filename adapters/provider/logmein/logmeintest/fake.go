// Package logmeintest is a fake LogMeIn Rescue API for tests. It answers
// requestAuthCode, requestPINCode (and _v3) and getSession (and _v3) in the
// plain-text forms the Rescue API documents, remembers the sessions whose
// PINs it issued, and lets a test script failures and move a session
// through the statuses getSession reports.
package logmeintest

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The credentials the fake accepts for requestAuthCode.
const (
	// Email is the technician's login.
	Email = "tech@example.com"
	// Password is the technician's password.
	Password = "correct horse battery staple"
)

// Answer is a scripted answer to one call.
type Answer struct {
	// Status is the HTTP status; 0 means 200.
	Status int
	// Body is the text answered.
	Body string
	// Header is added to the answer.
	Header http.Header
	// Delay holds the answer back this long, or until the client gives up.
	Delay time.Duration
}

// Call is one request the fake received.
type Call struct {
	// Path is the method's file name, such as "requestPINCode_v3.aspx".
	Path string
	// HTTPMethod is GET or POST.
	HTTPMethod string
	// Query is the raw URL query; the provider must leave it empty.
	Query string
	// Form holds the parameters, from the query and the body.
	Form url.Values
}

// session is a Rescue session created by a PIN.
type session struct {
	rescueID   int
	pin        string
	trackingID string
	form       url.Values
	status     string // "" until the customer entered the PIN
	technician string
}

// Server is a running fake Rescue API. Its methods are safe for
// concurrent use.
type Server struct {
	// URL is the API base URL, ending with "/", for Options.APIURL.
	URL string

	srv      *httptest.Server
	mu       sync.Mutex
	authcode string
	pins     []string
	next     int
	nextLine bool
	minGap   time.Duration
	lastPIN  time.Time
	queue    map[string][]Answer
	sessions []*session
	calls    []Call
}

// New starts a fake that accepts the authcode "fake-authcode-" plus
// random letters and hands out random 6-digit PINs. It stops when the test
// ends.
func New(t testing.TB) *Server {
	s := &Server{
		authcode: "fake-authcode-" + strconv.FormatUint(rand.Uint64(), 36),
		queue:    map[string][]Answer{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL + "/API/"
	t.Cleanup(s.srv.Close)
	return s
}

// AuthCode returns the authcode the fake accepts.
func (s *Server) AuthCode() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.authcode
}

// SetAuthCode replaces the accepted authcode, as a new requestAuthCode
// by another client would.
func (s *Server) SetAuthCode(code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.authcode = code
}

// SetPINs makes the fake hand out pins in turn, cycling.
func (s *Server) SetPINs(pins ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pins, s.next = pins, 0
}

// SetPINOnNextLine puts the digits on the line after "OK PINCODE:".
func (s *Server) SetPINOnNextLine(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextLine = on
}

// SetMinGap makes PIN requests closer together than d answer
// POLLRATEEXCEEDED, as the API does under one second.
func (s *Server) SetMinGap(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.minGap = d
}

// Queue scripts the next answers of a method family: "requestAuthCode",
// "requestPINCode" or "getSession". Scripted answers come first, in order.
func (s *Server) Queue(family string, answers ...Answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue[family] = append(s.queue[family], answers...)
}

// Move sets the getSession status (and technician) of the session whose
// PIN request carried sessionID; it reports whether there is one.
func (s *Server) Move(sessionID, status, technician string) bool {
	return s.move(func(x *session) bool { return x.trackingID == sessionID }, status, technician)
}

// MovePIN is Move for the session of one PIN, as the customer who entered
// it sees it: a session given another code has one Rescue session for
// each.
func (s *Server) MovePIN(pin, status, technician string) bool {
	return s.move(func(x *session) bool { return x.pin == pin }, status, technician)
}

// move sets the status and technician of the first session that is.
func (s *Server) move(is func(*session) bool, status, technician string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.sessions {
		if is(x) {
			x.status, x.technician = status, technician
			return true
		}
	}
	return false
}

// Calls returns the requests of a method family so far, oldest first.
func (s *Server) Calls(family string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if familyOf(c.Path) == family {
			out = append(out, c)
		}
	}
	return out
}

// familyOf names a method without its version and extension.
func familyOf(path string) string {
	name := strings.TrimSuffix(path, ".aspx")
	if i := strings.Index(name, "_v"); i > 0 {
		name = name[:i]
	}
	return name
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	path := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	family := familyOf(path)
	s.mu.Lock()
	s.calls = append(s.calls, Call{Path: path, HTTPMethod: r.Method, Query: r.URL.RawQuery, Form: cloneValues(r.Form)})
	var a *Answer
	if q := s.queue[family]; len(q) > 0 {
		a, s.queue[family] = &q[0], q[1:]
	}
	s.mu.Unlock()
	if a != nil {
		answer(w, r, *a)
		return
	}
	var body string
	switch family {
	case "requestAuthCode":
		body = s.requestAuthCode(r.Form)
	case "requestPINCode":
		body = s.requestPINCode(r.Form)
	case "getSession":
		body = s.getSession(r.Form)
	default:
		http.NotFound(w, r)
		return
	}
	answer(w, r, Answer{Body: body})
}

func answer(w http.ResponseWriter, r *http.Request, a Answer) {
	if a.Delay > 0 {
		t := time.NewTimer(a.Delay)
		defer t.Stop()
		select {
		case <-r.Context().Done():
			return
		case <-t.C:
		}
	}
	for k, v := range a.Header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(orDefault(a.Status, http.StatusOK))
	fmt.Fprint(w, a.Body)
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func (s *Server) requestAuthCode(f url.Values) string {
	if f.Get("email") != Email || f.Get("pwd") != Password {
		return "INVALID"
	}
	return "OK AUTHCODE: " + s.AuthCode()
}

// checkAuth answers the API's words for a missing or wrong authcode.
func (s *Server) checkAuth(f url.Values) string {
	switch code := f.Get("authcode"); {
	case code == "":
		return "NOTLOGGEDIN"
	case code != s.authcode:
		return "INVALID_SECRETAUTHCODE"
	}
	return ""
}

func (s *Server) requestPINCode(f url.Values) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if word := s.checkAuth(f); word != "" {
		return word
	}
	now := time.Now()
	if s.minGap > 0 && now.Sub(s.lastPIN) < s.minGap {
		return "POLLRATEEXCEEDED"
	}
	s.lastPIN = now
	pin := fmt.Sprintf("%06d", rand.IntN(1000000))
	if len(s.pins) > 0 {
		pin = s.pins[s.next%len(s.pins)]
		s.next++
	}
	s.sessions = append(s.sessions, &session{rescueID: 1053624800 + len(s.sessions), pin: pin, trackingID: f.Get("tracking0"), form: cloneValues(f)})
	if s.nextLine {
		return "OK PINCODE:\r\n" + pin + "\r\n"
	}
	return "OK PINCODE:" + pin
}

// sessionHeader is getSession_v3's header line.
const sessionHeader = "ID|Status|Entry ID|Entry|Technician ID|Technician|Start Time|Waiting Time|" +
	"Custom Field 0|Custom Field 1|Custom Field 2|Custom Field 3|Custom Field 4|Custom Field 5|" +
	"Language|Transferred To|Transferred Comment|Is Lead Technician|HandingOff|"

func (s *Server) getSession(f url.Values) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if word := s.checkAuth(f); word != "" {
		return word
	}
	if f.Get("node") == "" {
		return "INVALIDPARAM_NODE"
	}
	var b strings.Builder
	b.WriteString("OK\r\n\r\n" + sessionHeader + "\r\n")
	for _, x := range s.sessions {
		if x.status == "" {
			continue
		}
		cols := []string{strconv.Itoa(x.rescueID), x.status, "0", "", f.Get("node"), x.technician,
			"11/25/2026 9:00 AM", "13"}
		for i := range 6 {
			cols = append(cols, x.form.Get("cfield"+strconv.Itoa(i)))
		}
		cols = append(cols, "en", "", "", "yes", "")
		b.WriteString(strings.Join(cols, "|") + "|\r\n")
	}
	return b.String()
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
