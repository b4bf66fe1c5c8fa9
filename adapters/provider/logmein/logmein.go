// Package logmein is the LogMeIn Rescue provider: PINs come from the
// Rescue API's requestPINCode method, the links lead to LogMeIn's own
// customer pages, and the technician works in the Rescue Technician
// Console. It watches the sessions it issued by polling getSession, so the
// agent's thread follows the customer's arrival and the session's end.
//
// The Rescue API is form-encoded requests answered in plain text: a word
// such as OK or NOTLOGGEDIN, then the data. Every call goes by POST, so the
// authcode travels in the body and never in a URL that a proxy or an error
// message could log.
package logmein

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/assistbot/assistbot/core"
)

// Name is the provider's name in config and in sessions.
const Name = "logmein"

// Defaults for Options.
const (
	// DefaultAPIURL is the Rescue API's documented base URL.
	DefaultAPIURL = "https://secure.logmeinrescue.com/API/"
	// DefaultDesktopLink opens Rescue's customer page with the PIN filled in.
	DefaultDesktopLink = "https://secure.logmeinrescue.com/Customer/Code.aspx?Code={pin}"
	// DefaultMobileLink is Rescue's PIN page for phones and tablets.
	DefaultMobileLink = "https://rescuemobile.com/{pin}"
	// DefaultManualURL is where Rescue tells customers to type a PIN.
	DefaultManualURL = "https://www.LogMeIn123.com"
	// DefaultIDField is the custom field that carries the session id:
	// the last one, the least likely to be in use already.
	DefaultIDField = "cfield5"
	// DefaultPollInterval is how often getSession is polled while sessions
	// are live.
	DefaultPollInterval = 10 * time.Second
	// DefaultTimeout bounds one API call.
	DefaultTimeout = 15 * time.Second
	// DefaultPINInterval paces requestPINCode: the API documents "one PIN
	// code per second" and answers POLLRATEEXCEEDED to anything faster.
	DefaultPINInterval = time.Second
	// DefaultRetryPause is the wait after POLLRATEEXCEEDED before asking
	// again.
	DefaultRetryPause = 1500 * time.Millisecond
)

// Options configure a Provider. AuthCode, or Email and Password, are
// required; zero values elsewhere take the defaults above.
type Options struct {
	// APIURL is the Rescue API base URL, ending with "/".
	APIURL string
	// AuthCode is the technician's secret authcode. It does not time out
	// until a new one is requested for the same account.
	AuthCode string
	// Email and Password, used only when AuthCode is empty, obtain an
	// authcode once with requestAuthCode; it is kept in memory.
	Email    string
	Password string
	// NodeID, when set, is the technician node whose PINs are requested
	// (requestPINCode_v3) and whose sessions are polled. Without it PINs
	// belong to the authcode's own technician and status is not polled.
	NodeID string
	// NoTechConsole lets a PIN be issued while the technician's console is
	// not running.
	NoTechConsole bool
	// IDField is the custom field (cfield1 to cfield5) that carries the
	// PIN's key (see pinKey) besides the session id in tracking0:
	// getSession lists custom fields but not the tracking field, so it is
	// how sessions are matched.
	IDField string
	// PollInterval is how often getSession is polled while sessions live.
	PollInterval time.Duration
	// DesktopLink and MobileLink are link templates in which {pin} is
	// replaced by the PIN; ManualURL is where a PIN is typed by hand.
	DesktopLink string
	MobileLink  string
	ManualURL   string
	// Timeout bounds each API call.
	Timeout time.Duration
	// PINInterval is the least time between the answer to one
	// requestPINCode call and the next call; a negative one turns pacing
	// off (calls still go one at a time).
	PINInterval time.Duration
	// RetryPause is the wait after POLLRATEEXCEEDED before a retry.
	RetryPause time.Duration
	// Client sends the requests; by default a client with Timeout.
	Client *http.Client
	// Logger receives warnings about the API; by default they are dropped.
	Logger *slog.Logger
}

// Provider issues LogMeIn Rescue PINs and watches their sessions. It is
// safe for concurrent use.
type Provider struct {
	opt    Options
	base   string
	client *http.Client
	log    *slog.Logger
	pins   *pacer

	requestMu sync.Mutex // held while requestAuthCode runs
	codeMu    sync.Mutex
	authcode  string // the configured one, or the one requestAuthCode gave
}

var (
	_ core.Provider = (*Provider)(nil)
	_ core.Watcher  = (*Provider)(nil)
)

// New checks o and returns a Provider. It makes no request: a wrong
// authcode shows on the first PIN, with a message for the agent.
func New(o Options) (*Provider, error) {
	o = withDefaults(o)
	u, err := url.Parse(o.APIURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("logmein: api url %q is not an absolute http(s) url", o.APIURL)
	}
	if o.AuthCode == "" && (o.Email == "" || o.Password == "") {
		return nil, errors.New("logmein: an authcode, or an email and a password, are required")
	}
	for name, link := range map[string]string{"desktop link": o.DesktopLink, "mobile link": o.MobileLink} {
		if !strings.Contains(link, "{pin}") {
			return nil, fmt.Errorf("logmein: %s %q does not contain {pin}", name, link)
		}
	}
	if !validIDField(o.IDField) {
		return nil, fmt.Errorf("logmein: id field %q is not cfield1 to cfield5", o.IDField)
	}
	p := &Provider{
		opt:      o,
		base:     strings.TrimRight(o.APIURL, "/") + "/",
		client:   o.Client,
		log:      o.Logger.With("provider", Name),
		pins:     newPacer(o.PINInterval),
		authcode: o.AuthCode,
	}
	if p.client == nil {
		p.client = &http.Client{
			Timeout: o.Timeout,
			// A redirect means api_url is wrong; following a 307 would
			// resend the form, authcode included, somewhere else.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return p, nil
}

func withDefaults(o Options) Options {
	def := func(v *string, d string) {
		if strings.TrimSpace(*v) == "" {
			*v = d
		}
	}
	def(&o.APIURL, DefaultAPIURL)
	def(&o.DesktopLink, DefaultDesktopLink)
	def(&o.MobileLink, DefaultMobileLink)
	def(&o.ManualURL, DefaultManualURL)
	def(&o.IDField, DefaultIDField)
	o.AuthCode = strings.TrimSpace(o.AuthCode)
	o.NodeID = strings.TrimSpace(o.NodeID)
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.PINInterval == 0 {
		o.PINInterval = DefaultPINInterval
	}
	if o.RetryPause <= 0 {
		o.RetryPause = DefaultRetryPause
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

func validIDField(f string) bool {
	return len(f) == 7 && strings.HasPrefix(f, "cfield") && f[6] >= '1' && f[6] <= '5'
}

// Name implements core.Provider.
func (p *Provider) Name() string { return Name }

// Modes implements core.Provider: the Technician Console offers remote
// control and view only.
func (p *Provider) Modes() []core.Mode { return []core.Mode{core.ModeControl, core.ModeView} }

// Issue implements core.Provider: it asks requestPINCode for a PIN whose
// session carries req.SessionID (tracking0), the PIN's key (IDField, and
// the ticket's Ref) and the customer's name (cfield0, which the console
// shows as the session's name).
func (p *Provider) Issue(ctx context.Context, req core.IssueRequest) (core.Ticket, error) {
	key := pinKey(req.SessionID)
	pin, err := p.requestPIN(ctx, req, key)
	if err != nil {
		return core.Ticket{}, fmt.Errorf("logmein: request pin: %w", err)
	}
	return core.Ticket{
		PIN:        pin,
		DesktopURL: strings.ReplaceAll(p.opt.DesktopLink, "{pin}", pin),
		MobileURL:  strings.ReplaceAll(p.opt.MobileLink, "{pin}", pin),
		ManualURL:  p.opt.ManualURL,
		Ref:        key,
	}, nil
}

// pinKey is what one PIN's Rescue session is matched by: the assistbot
// session's id and a part of its own, so that after "Generate another
// code" the Rescue session of the code given up on (a customer may still
// enter it) is not taken for the session's.
func pinKey(sessionID string) string {
	id := core.NewID()
	return sessionID + "." + id[len(id)-10:] // random bits: its first are the time
}

// matchKey is the key the Rescue session of s's PIN carries: its Ref, or
// for a session issued before PINs had keys of their own, its id.
func matchKey(s *core.Session) string {
	if strings.HasPrefix(s.ProviderRef, s.ID+".") {
		return s.ProviderRef
	}
	return s.ID
}

// Revoke implements core.Provider. The Rescue API has no call that
// withdraws an unused PIN (closeSession needs a Rescue session, which
// exists only once the customer entered the PIN), so there is nothing to
// do: the engine already refuses the PIN and Rescue lets it lapse at its
// own expiry.
func (p *Provider) Revoke(ctx context.Context, s *core.Session) error { return nil }
