// Package twiliotest is a fake Twilio for tests: a REST API that accepts
// Messages.json creates the way api.twilio.com does (Basic auth with the
// account SID and auth token, a form body, a JSON answer or a JSON error
// with Twilio's code), records what it was sent and can be scripted to
// fail; and the signing of webhook requests as Twilio signs them.
package twiliotest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The account the fake serves. The SDK accepts only letters and digits in
// credentials, as real ones are.
const (
	AccountSID = "AC0123456789abcdef0123456789abcdef"
	AuthToken  = "0123456789abcdef0123456789abcdef"
)

// Answer scripts the answer to one create call.
type Answer struct {
	// Status is the HTTP status (an error when 400 or more).
	Status int
	// Code and Message make Twilio's JSON error body.
	Code    int
	Message string
	// RetryAfter, when set, is sent as the Retry-After header.
	RetryAfter string
	// Raw, when set, is the body as is (say, an HTML page from a proxy).
	Raw string
}

// Errors Twilio answers, for Queue.
var (
	// OptedOut is the answer for a number that replied STOP.
	OptedOut = Answer{Status: 400, Code: 21610, Message: "Attempt to send to unsubscribed recipient"}
	// TooMany is the answer when the account sends too fast.
	TooMany = Answer{Status: 429, Code: 20429, Message: "Too Many Requests", RetryAfter: "7"}
	// ServerError is an internal error of Twilio's.
	ServerError = Answer{Status: 500, Code: 20500, Message: "Internal Server Error"}
)

// Message is one create call the fake accepted or refused.
type Message struct {
	// SID is the message's id; empty when the call was refused.
	SID string
	// Form is the body: To, From, MessagingServiceSid, Body,
	// StatusCallback, ValidityPeriod.
	Form url.Values
	// Path is the request path.
	Path string
	At   time.Time
	// Cut is set when the sender went away before the answer (it
	// crashed while the message was in flight): Twilio sends such a
	// message all the same.
	Cut bool
}

// Fake is a running fake Twilio REST API.
type Fake struct {
	// URL is the base URL to configure as twilio.api_url.
	URL string
	// Delay, when set before the first call, is how long the fake takes
	// to answer an accepted message, as a slow API does.
	Delay time.Duration
	// Hold, when set before the first call, is the number of an accepted
	// message (1 for the first) that the fake does not answer: it waits
	// for its sender to go away, as an API that hung would.
	Hold int

	mu     sync.Mutex
	queue  []Answer
	calls  []Message
	notify chan struct{}
}

// accepted is how many messages the fake had accepted up to call i, that
// one included.
func (f *Fake) accepted(i int) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, m := range f.calls[:i+1] {
		if m.SID != "" {
			n++
		}
	}
	return n
}

// New starts a fake API and stops it when the test ends.
func New(t testing.TB) *Fake {
	f := &Fake{notify: make(chan struct{}, 1)}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// Queue makes the next create calls get these answers, in order; after
// them the fake accepts messages again.
func (f *Fake) Queue(a ...Answer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queue = append(f.queue, a...)
}

// Calls returns every create call so far, accepted or not.
func (f *Fake) Calls() []Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Message(nil), f.calls...)
}

// Sent returns the messages the fake accepted.
func (f *Fake) Sent() []Message {
	var out []Message
	for _, m := range f.Calls() {
		if m.SID != "" {
			out = append(out, m)
		}
	}
	return out
}

// WaitSent waits until n messages were accepted and returns them; it
// fails the test when that takes longer than timeout.
func (f *Fake) WaitSent(t testing.TB, n int, timeout time.Duration) []Message {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		if got := f.Sent(); len(got) >= n {
			return got
		}
		select {
		case <-f.notify:
		case <-deadline.C:
			t.Fatalf("twiliotest: %d messages accepted after %v, want %d: %+v", len(f.Sent()), timeout, n, f.Calls())
			return nil
		}
	}
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	want := "/2010-04-01/Accounts/" + AccountSID + "/Messages.json"
	user, pass, ok := r.BasicAuth()
	switch {
	case !ok || user != AccountSID || pass != AuthToken:
		writeError(w, Answer{Status: 401, Code: 20003, Message: "Authenticate"})
		return
	case r.URL.Path != want:
		writeError(w, Answer{Status: 404, Code: 20404, Message: "The requested resource " + r.URL.Path + " was not found"})
		return
	case r.Method != http.MethodPost:
		writeError(w, Answer{Status: 405, Code: 20004, Message: "Method not allowed"})
		return
	}
	if err := r.ParseForm(); err != nil {
		writeError(w, Answer{Status: 400, Code: 20001, Message: "Bad request"})
		return
	}
	m := Message{Form: r.PostForm, Path: r.URL.Path, At: time.Now()}
	answer := checkCreate(r.PostForm)
	f.mu.Lock()
	if answer == nil && len(f.queue) > 0 {
		answer = &f.queue[0]
		f.queue = f.queue[1:]
	}
	if answer == nil {
		m.SID = newSID()
	}
	f.calls = append(f.calls, m)
	at := len(f.calls) - 1
	f.mu.Unlock()
	select {
	case f.notify <- struct{}{}:
	default:
	}
	if answer == nil && (f.Delay > 0 || f.Hold > 0) {
		var answered <-chan time.Time // nil, never, for the held message
		if f.Hold == 0 || f.accepted(at) != f.Hold {
			answered = time.After(f.Delay)
		}
		select {
		case <-answered:
		case <-r.Context().Done():
			f.mu.Lock()
			f.calls[at].Cut = true
			f.mu.Unlock()
			return
		}
	}
	if answer != nil {
		writeError(w, *answer)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"sid": m.SID, "account_sid": AccountSID, "status": "queued", "direction": "outbound-api",
		"to": m.Form.Get("To"), "from": m.Form.Get("From"), "body": m.Form.Get("Body"),
		"messaging_service_sid": m.Form.Get("MessagingServiceSid"), "num_segments": "1",
		"api_version": "2010-04-01", "uri": want[:len(want)-len(".json")] + "/" + m.SID + ".json",
	})
}

// checkCreate refuses a create that Twilio would refuse whatever the
// script says: no To, no Body, no sender, an invalid ValidityPeriod.
func checkCreate(form url.Values) *Answer {
	switch {
	case form.Get("To") == "":
		return &Answer{Status: 400, Code: 21604, Message: "A 'To' phone number is required."}
	case form.Get("Body") == "":
		return &Answer{Status: 400, Code: 21602, Message: "Message body is required."}
	case form.Get("From") == "" && form.Get("MessagingServiceSid") == "":
		return &Answer{Status: 400, Code: 21603, Message: "A 'From' phone number is required."}
	}
	if v := form.Get("ValidityPeriod"); v != "" {
		if n, err := strconv.Atoi(v); err != nil || n < 1 || n > 36000 {
			return &Answer{Status: 400, Code: 90007, Message: "Invalid validity period value"}
		}
	}
	return nil
}

func writeError(w http.ResponseWriter, a Answer) {
	if a.RetryAfter != "" {
		w.Header().Set("Retry-After", a.RetryAfter)
	}
	if a.Raw != "" {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(a.Status)
		_, _ = w.Write([]byte(a.Raw))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.Status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"code": a.Code, "message": a.Message, "status": a.Status,
		"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", a.Code),
	})
}

func newSID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "SM" + hex.EncodeToString(b)
}

// Signature returns the X-Twilio-Signature Twilio sends with a webhook
// POST to fullURL with form: the base64 HMAC-SHA1, keyed with the auth
// token, of the URL followed by each parameter's name and value, sorted
// by name. It is written from Twilio's description, independently of the
// SDK that the adapter validates with.
func Signature(authToken, fullURL string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range keys {
		for _, v := range form[k] {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Webhook returns a signed POST of form to base+path, as Twilio sends
// it when base is the URL configured for the number.
func Webhook(base, path string, form url.Values) *http.Request {
	body := form.Encode()
	r, err := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
	if err != nil {
		panic(err)
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-Twilio-Signature", Signature(AuthToken, base+path, form))
	r.Header.Set("User-Agent", "TwilioProxy/1.1")
	return r
}

// Incoming returns the form of an incoming SMS webhook from a customer.
func Incoming(sid, from, to, body string) url.Values {
	return url.Values{
		"MessageSid": {sid}, "SmsMessageSid": {sid}, "SmsSid": {sid}, "AccountSid": {AccountSID},
		"From": {from}, "To": {to}, "Body": {body}, "NumMedia": {"0"}, "NumSegments": {"1"},
		"SmsStatus": {"received"}, "ApiVersion": {"2010-04-01"},
	}
}

// Status returns the form of a message status callback.
func Status(sid, to, status string, errorCode int) url.Values {
	v := url.Values{
		"MessageSid": {sid}, "SmsSid": {sid}, "AccountSid": {AccountSID}, "To": {to},
		"MessageStatus": {status}, "SmsStatus": {status}, "ApiVersion": {"2010-04-01"},
	}
	if errorCode != 0 {
		v.Set("ErrorCode", strconv.Itoa(errorCode))
	}
	return v
}
