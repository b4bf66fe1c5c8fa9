package twilio

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	twclient "github.com/twilio/twilio-go/client"
	twapi "github.com/twilio/twilio-go/rest/api/v2010"
)

// apiTimeout bounds one call to the Messages API. The outbox gives a whole
// delivery 30 seconds; a slow Twilio should fail the attempt (and be
// retried) well before that.
const apiTimeout = 15 * time.Second

// outgoing is one SMS to create with the Messages API.
type outgoing struct {
	To                  string
	From                string
	MessagingServiceSID string
	Body                string
	StatusCallback      string
	// ValidityPeriod, when positive, is how many seconds Twilio may keep
	// the message queued before it gives up on it.
	ValidityPeriod int
}

// created is Twilio's answer to a successful create.
type created struct {
	SID    string
	Status string
}

// sender creates messages. The twilio-go implementation is restSender;
// the interface keeps the SDK out of the rest of the package.
type sender interface {
	send(ctx context.Context, m outgoing) (created, error)
}

// restSender sends through twilio-go's Messages API.
type restSender struct {
	accountSID string
	authToken  string
	apiURL     *url.URL
	base       http.RoundTripper
}

var _ sender = (*restSender)(nil)

// newRestSender returns a sender for the account that talks to apiURL
// (https://api.twilio.com, or a proxy, a regional edge or a test fake)
// through base (nil means http.DefaultTransport).
func newRestSender(accountSID, authToken, apiURL string, base http.RoundTripper) (*restSender, error) {
	u, err := url.Parse(strings.TrimRight(apiURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("api url %q is not an http:// or https:// URL", apiURL)
	}
	if base == nil {
		base = http.DefaultTransport
	}
	return &restSender{accountSID: accountSID, authToken: authToken, apiURL: u, base: base}, nil
}

// send creates the message. Every call builds its own twilio-go client:
// the SDK sends with context.Background() and has no base-URL option, so
// a per-call transport is what carries ctx, points the request at apiURL
// and keeps the HTTP status and Retry-After that the SDK's error drops.
func (s *restSender) send(ctx context.Context, m outgoing) (created, error) {
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	rt := &callTransport{ctx: ctx, base: s.base, apiURL: s.apiURL}
	c := &twclient.Client{
		Credentials: twclient.NewCredentials(s.accountSID, s.authToken),
		HTTPClient: &http.Client{
			Transport:     rt,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	c.SetAccountSid(s.accountSID)
	// A RequestHandler built by hand leaves Edge and Region empty, so
	// TWILIO_EDGE and TWILIO_REGION in the environment cannot redirect
	// the request away from the configured api_url.
	api := twapi.NewApiService(&twclient.RequestHandler{Client: c})

	p := &twapi.CreateMessageParams{}
	p.SetTo(m.To).SetBody(m.Body)
	if m.From != "" {
		p.SetFrom(m.From)
	}
	if m.MessagingServiceSID != "" {
		p.SetMessagingServiceSid(m.MessagingServiceSID)
	}
	if m.StatusCallback != "" {
		p.SetStatusCallback(m.StatusCallback)
	}
	if m.ValidityPeriod > 0 {
		p.SetValidityPeriod(m.ValidityPeriod)
	}
	msg, err := api.CreateMessage(p)
	status, header := rt.answer()
	if err != nil {
		return created{}, &sendError{err: err, status: status, retryAfter: header.Get("Retry-After")}
	}
	out := created{}
	if msg.Sid != nil {
		out.SID = *msg.Sid
	}
	if msg.Status != nil {
		out.Status = *msg.Status
	}
	return out, nil
}

// sendError is a failed create with what the HTTP exchange said: status
// is 0 when no answer arrived at all.
type sendError struct {
	err        error
	status     int
	retryAfter string
}

func (e *sendError) Error() string { return e.err.Error() }
func (e *sendError) Unwrap() error { return e.err }

// restError returns the Twilio REST error inside err, if Twilio answered
// with one.
func restError(err error) (*twclient.TwilioRestError, bool) {
	var re *twclient.TwilioRestError
	if errors.As(err, &re) {
		return re, true
	}
	return nil, false
}

// callTransport is the transport of one Messages API call.
type callTransport struct {
	ctx    context.Context
	base   http.RoundTripper
	apiURL *url.URL

	mu     sync.Mutex
	status int
	header http.Header
}

// RoundTrip sends req to the configured API URL under ctx and remembers
// the answer's status and headers.
func (t *callTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(t.ctx)
	out.URL.Scheme = t.apiURL.Scheme
	out.URL.Host = t.apiURL.Host
	out.URL.Path = t.apiURL.Path + req.URL.Path
	out.URL.RawPath = ""
	out.Host = ""
	resp, err := t.base.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.status, t.header = resp.StatusCode, resp.Header.Clone()
	t.mu.Unlock()
	return resp, nil
}

// answer returns the status and headers of the last answer (0 and an
// empty header when none arrived).
func (t *callTransport) answer() (int, http.Header) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.header == nil {
		return t.status, http.Header{}
	}
	return t.status, t.header
}
