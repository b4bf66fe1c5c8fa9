package meshcentral

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/assistbot/assistbot/core"
)

// Defaults for ClientOptions.
const (
	// DefaultConnectTimeout bounds opening the control socket, TLS and
	// login included. It is short because an agent in a chat waits for
	// the PIN that needs it.
	DefaultConnectTimeout = 2500 * time.Millisecond
	// DefaultRequestTimeout bounds one command and its answer.
	DefaultRequestTimeout = 3 * time.Second
	// DefaultPingInterval is how often an idle socket is pinged, so that
	// a connection that died silently is noticed.
	DefaultPingInterval = 30 * time.Second
	// DefaultBackoff is the first wait before reconnecting; it doubles
	// up to DefaultMaxBackoff while the server stays unreachable.
	DefaultBackoff    = 500 * time.Millisecond
	DefaultMaxBackoff = 30 * time.Second
)

// maxMessage caps one message from the server: a node list of a busy
// account runs to a few megabytes.
const maxMessage = 32 << 20

// retryLater is the wait suggested to a user after a failure to reach
// the server.
const retryLater = 5 * time.Second

// ClientOptions configure a Client. URL and a login (User and Password,
// or LoginToken) are required.
type ClientOptions struct {
	// URL is the server's address, such as "https://mesh.example.com" or
	// "https://mesh.example.com:8443". ws:// and wss:// are accepted too;
	// http:// and ws:// make a plain, unencrypted connection.
	URL string
	// Domain is the MeshCentral domain the account lives in when the
	// server serves it under a path ("/support/"); "" is the default
	// domain, and domains served under their own host name need only URL.
	Domain string
	// User and Password log in an account, sent in the x-meshauth header.
	User     string
	Password string
	// LoginToken is a MeshCentral login token (My account, Login tokens)
	// written as its user name, a colon and its password:
	// "~t:AbCd…:XyZ…". It is used instead of User and Password, and works
	// for accounts that ask people for a second factor.
	LoginToken string
	// CAFile is a PEM file of the certificate authorities to trust for the
	// server's certificate (MeshCentral's own root is
	// meshcentral-data/root-cert-public.crt).
	CAFile string
	// CertSHA256 pins the server's certificate: the SHA-256 of its leaf
	// certificate in hex, colons allowed, as
	// "openssl x509 -noout -fingerprint -sha256" prints it. A pinned
	// certificate is trusted whoever signed it; any other is refused.
	CertSHA256 string
	// ConnectTimeout, RequestTimeout and PingInterval: see the defaults.
	ConnectTimeout time.Duration
	RequestTimeout time.Duration
	PingInterval   time.Duration
	// Backoff and MaxBackoff pace reconnection while the server cannot be
	// reached.
	Backoff    time.Duration
	MaxBackoff time.Duration
	// DialContext, when set, opens the TCP connections (tests).
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// Logger receives connection warnings; by default they are dropped.
	Logger *slog.Logger
}

// Client speaks to one MeshCentral server over its control socket
// (control.ashx): JSON commands answered with the responseid they carried,
// and events the server pushes. It keeps one connection, opened on first
// use and reopened on the next use after it is lost; Listen keeps it open
// and reconnects with backoff. A Client is safe for concurrent use.
type Client struct {
	opt    ClientOptions
	wsURL  string
	base   string // https://host[:port][/domain], for pages a browser opens
	host   string
	header http.Header
	http   *http.Client
	log    *slog.Logger
	token  bool // the login is a login token

	ids  atomic.Uint64
	dial chan struct{} // a one-slot semaphore: one dial at a time

	mu      sync.Mutex
	cur     *conn
	subs    map[*subscriber]struct{}
	closed  bool
	stopped chan struct{}
}

// NewClient checks o and returns a Client. It makes no request.
func NewClient(o ClientOptions) (*Client, error) {
	o = clientDefaults(o)
	u, err := url.Parse(strings.TrimSpace(o.URL))
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("meshcentral: url %q is not an absolute url", o.URL)
	}
	secure := true
	switch u.Scheme {
	case "https", "wss":
	case "http", "ws":
		secure = false
	default:
		return nil, fmt.Errorf("meshcentral: url %q is not https://, wss://, http:// or ws://", o.URL)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("meshcentral: url %q must be a plain address, without credentials or query", u.Redacted())
	}
	domain := strings.Trim(o.Domain, "/")
	if strings.ContainsAny(domain, "/?#% ") {
		return nil, fmt.Errorf("meshcentral: domain %q is not a MeshCentral domain name", o.Domain)
	}
	path := strings.TrimRight(u.Path, "/")
	if domain != "" {
		path += "/" + domain
	}
	scheme, wsScheme := "https", "wss"
	if !secure {
		scheme, wsScheme = "http", "ws"
	}
	c := &Client{
		opt:     o,
		wsURL:   wsScheme + "://" + u.Host + path + "/control.ashx",
		base:    scheme + "://" + u.Host + path,
		host:    u.Host,
		header:  http.Header{},
		log:     o.Logger,
		dial:    make(chan struct{}, 1),
		subs:    map[*subscriber]struct{}{},
		stopped: make(chan struct{}),
	}
	user, pass := o.User, o.Password
	if o.LoginToken != "" {
		if o.User != "" || o.Password != "" {
			return nil, errors.New("meshcentral: give a login token or a user and password, not both")
		}
		i := strings.LastIndexByte(o.LoginToken, ':')
		user, pass = o.LoginToken[:max(i, 0)], o.LoginToken[i+1:]
		if i < 0 || !strings.HasPrefix(user, "~t:") || len(user) <= 3 || pass == "" {
			return nil, errors.New(`meshcentral: the login token must be its user name and password joined by a colon ("~t:…:…")`)
		}
		c.token = true
	} else if user == "" || pass == "" {
		return nil, errors.New("meshcentral: a user and a password, or a login token, are required")
	}
	c.header.Set("x-meshauth", base64.StdEncoding.EncodeToString([]byte(user))+","+base64.StdEncoding.EncodeToString([]byte(pass)))

	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // the control socket goes straight to the server
	if o.DialContext != nil {
		tr.DialContext = o.DialContext
	}
	if secure {
		cfg, err := tlsConfig(o, u.Hostname())
		if err != nil {
			return nil, err
		}
		tr.TLSClientConfig = cfg
	}
	c.http = &http.Client{
		Transport: tr,
		// A redirect would carry the login header to wherever it points.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c, nil
}

func clientDefaults(o ClientOptions) ClientOptions {
	o.URL = strings.TrimSpace(o.URL)
	o.CertSHA256 = strings.TrimSpace(o.CertSHA256)
	o.CAFile = strings.TrimSpace(o.CAFile)
	o.LoginToken = strings.TrimSpace(o.LoginToken)
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.PingInterval <= 0 {
		o.PingInterval = DefaultPingInterval
	}
	if o.Backoff <= 0 {
		o.Backoff = DefaultBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.MaxBackoff < o.Backoff {
		o.MaxBackoff = o.Backoff
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// tlsConfig builds the trust the options ask for: a pinned leaf, a CA
// file, both, or else the system's roots.
func tlsConfig(o ClientOptions, host string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	var roots *x509.CertPool
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("meshcentral: ca file: %w", err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("meshcentral: ca file %s holds no PEM certificate", o.CAFile)
		}
		cfg.RootCAs = roots
	}
	if o.CertSHA256 == "" {
		return cfg, nil
	}
	pin, err := ParseFingerprint(o.CertSHA256)
	if err != nil {
		return nil, err
	}
	// The chain is checked here instead of by crypto/tls, which would
	// refuse a self-signed certificate before the pin is looked at; the
	// pin is always checked.
	cfg.InsecureSkipVerify = true
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return &pinError{}
		}
		leaf := cs.PeerCertificates[0]
		sum := sha256.Sum256(leaf.Raw)
		if subtle.ConstantTimeCompare(sum[:], pin) != 1 {
			return &pinError{got: sum[:]}
		}
		if roots == nil {
			return nil
		}
		inter := x509.NewCertPool()
		for _, c := range cs.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: host})
		if err != nil {
			return &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: err}
		}
		return nil
	}
	return cfg, nil
}

// ParseFingerprint reads a SHA-256 certificate fingerprint in hex, with or
// without colons or spaces, and with or without openssl's
// "sha256 Fingerprint=" before it.
func ParseFingerprint(s string) ([]byte, error) {
	if i := strings.LastIndexByte(s, '='); i >= 0 {
		s = s[i+1:]
	}
	s = strings.NewReplacer(":", "", " ", "", "-", "").Replace(strings.TrimSpace(s))
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != sha256.Size {
		return nil, errors.New("meshcentral: cert_sha256 must be a SHA-256 fingerprint: 64 hex digits, colons allowed")
	}
	return b, nil
}

// pinError is a certificate that is not the pinned one.
type pinError struct{ got []byte }

func (e *pinError) Error() string {
	if e.got == nil {
		return "server presented no certificate"
	}
	return "server certificate sha256 " + strings.ToUpper(hex.EncodeToString(e.got)) + " is not the pinned one"
}

// Base returns the server's address for pages a browser opens:
// scheme, host and domain path, without a trailing slash.
func (c *Client) Base() string { return c.base }

// Host returns the server's host and port as configured.
func (c *Client) Host() string { return c.host }

// ServerError is a command the server answered with a refusal: its
// result field, such as "Invalid group id" or "Access denied".
type ServerError struct {
	// Action is the command refused.
	Action string
	// Result is the server's word for why.
	Result string
}

// Error names the command and quotes the server.
func (e *ServerError) Error() string {
	return fmt.Sprintf("meshcentral %s: %s", e.Action, e.Result)
}

// IsResult reports whether err is the server refusing with result.
func IsResult(err error, result string) bool {
	var se *ServerError
	return errors.As(err, &se) && strings.EqualFold(se.Result, result)
}

// Answer is a message from the server: a command's answer or a push.
type Answer struct {
	// Action is the message's action field.
	Action string
	// Raw is the whole message.
	Raw json.RawMessage
}

// Decode unmarshals the message into v.
func (a Answer) Decode(v any) error {
	if err := json.Unmarshal(a.Raw, v); err != nil {
		return fmt.Errorf("meshcentral %s: unexpected answer: %w", a.Action, err)
	}
	return nil
}

// Push is a message the server sent without being asked. The server
// pushes an "event" message for each change the account may see, with
// the change in its event field.
type Push struct {
	Answer
	// Event is the event field of an "event" message.
	Event Event
}

// Event is the part of a pushed event that the provider reads.
type Event struct {
	// Action is the kind of event: "nodeconnect", "addnode", "removenode"…
	Action string `json:"action"`
	// MeshID and NodeID are the device group and the device it concerns.
	MeshID string `json:"meshid"`
	NodeID string `json:"nodeid"`
	// Conn, in a nodeconnect event, is the device's connectivity: bit 1
	// is its agent.
	Conn int `json:"conn"`
	// Node, in addnode and changenode events, is the device as it is now.
	Node *Node `json:"node"`
}

// Request is one command.
type Request struct {
	// Command is the JSON object sent; its responseid is set by Call.
	Command map[string]any
	// Match, when set, also accepts as the answer a message that carries
	// no responseid: some commands answer without it (deviceShares,
	// meshes) or refuse with a notice instead (a taken invite code).
	Match func(Answer) bool
}

// Call sends req and waits for its answer, at most RequestTimeout, opening
// the connection first if there is none. An answer whose result is not
// "ok" is a *ServerError; failing to reach the server is a *core.Error
// fit to show a user.
func (c *Client) Call(ctx context.Context, req Request) (Answer, error) {
	action, _ := req.Command["action"].(string)
	id := "ab" + strconv.FormatUint(c.ids.Add(1), 36)
	cmd := make(map[string]any, len(req.Command)+1)
	for k, v := range req.Command {
		cmd[k] = v
	}
	cmd["responseid"] = id
	data, err := json.Marshal(cmd)
	if err != nil {
		return Answer{}, fmt.Errorf("meshcentral %s: %w", action, err)
	}
	p := &pending{id: id, match: req.Match, ch: make(chan reply, 1)}
	// RequestTimeout bounds the whole call, waiting for a connection
	// included, so that an agent hears back within it whatever failed.
	rctx, cancel := context.WithTimeout(ctx, c.opt.RequestTimeout)
	defer cancel()
	// A connection found dead before the command left is replaced once:
	// nothing was sent on it, so sending again repeats nothing.
	for try := 1; ; try++ {
		cn, err := c.connection(rctx)
		if err != nil {
			if rctx.Err() != nil {
				return Answer{}, c.late(ctx, action)
			}
			return Answer{}, err
		}
		if err := cn.add(p); err != nil {
			if try < 2 {
				continue
			}
			return Answer{}, err
		}
		defer cn.remove(p)
		if err := cn.write(rctx, data); err != nil {
			if rctx.Err() != nil {
				// The call's time ran out, not the connection: the
				// write goes on, and other calls still use it.
				return Answer{}, c.late(ctx, action)
			}
			cn.remove(p) // so that closing does not fail this call
			cn.close(err)
			if try < 2 {
				continue
			}
			return Answer{}, c.lost(action, err)
		}
		break
	}
	select {
	case r := <-p.ch:
		if r.err != nil {
			return Answer{}, r.err
		}
		return r.answer, checkResult(r.answer)
	case <-rctx.Done():
		return Answer{}, c.late(ctx, action)
	}
}

// late is a call whose RequestTimeout ran out: ctx's own error when the
// caller gave up first.
func (c *Client) late(ctx context.Context, action string) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return &core.Error{Code: core.CodeUnavailable, Retry: retryLater,
		Message: "MeshCentral at " + c.host + " did not answer in time",
		Err:     fmt.Errorf("meshcentral %s: no answer within %s", action, c.opt.RequestTimeout)}
}

// checkResult turns a refusal into a *ServerError.
func checkResult(a Answer) error {
	var r struct {
		Result json.RawMessage `json:"result"`
	}
	if json.Unmarshal(a.Raw, &r) != nil || len(r.Result) == 0 {
		return nil
	}
	var s string
	if json.Unmarshal(r.Result, &s) != nil {
		return nil // not a word: not a refusal
	}
	if strings.EqualFold(s, "ok") {
		return nil
	}
	return &ServerError{Action: a.Action, Result: s}
}

// lost is a connection that failed under a command.
func (c *Client) lost(action string, err error) error {
	return &core.Error{Code: core.CodeUnavailable, Retry: retryLater,
		Message: "MeshCentral at " + c.host + " closed the connection",
		Err:     fmt.Errorf("meshcentral %s: %w", action, err)}
}

// Listen keeps the connection open until ctx ends, reconnecting with
// backoff when it is lost and logging (without secrets) while the server
// cannot be reached. It calls onConnect after each connection opens,
// whoever opened it, and onPush for each message the server pushes, in
// order and from one goroutine, which may call the Client. It returns nil
// when ctx ends.
func (c *Client) Listen(ctx context.Context, onConnect func(context.Context), onPush func(context.Context, Push)) error {
	sub := c.subscribe(ctx, onConnect, onPush)
	defer sub.stop()
	wait := c.opt.Backoff
	failures := 0
	for {
		cn, err := c.connection(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, errClosed) {
				<-ctx.Done()
				return nil
			}
			failures++
			c.log.Warn("meshcentral: cannot open the control connection", "host", c.host,
				"err", err, "failures", failures, "retry_in", wait)
			if !sleep(ctx, wait) {
				return nil
			}
			wait = min(wait*2, c.opt.MaxBackoff)
			continue
		}
		if failures > 0 {
			c.log.Info("meshcentral: control connection open again", "host", c.host, "failures", failures)
		}
		failures, wait = 0, c.opt.Backoff
		select {
		case <-ctx.Done():
			return nil
		case <-cn.done:
			c.log.Warn("meshcentral: control connection lost", "host", c.host, "err", cn.cause())
			if !sleep(ctx, wait) {
				return nil
			}
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Close closes the connection; the Client is unusable after.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	close(c.stopped)
	cn := c.cur
	c.cur = nil
	c.mu.Unlock()
	if cn != nil {
		cn.close(errClosed)
	}
	return nil
}

var errClosed = errors.New("meshcentral: client closed")

// connection returns the open connection, opening one if there is none.
func (c *Client) connection(ctx context.Context) (*conn, error) {
	if cn, err := c.current(); cn != nil || err != nil {
		return cn, err
	}
	select {
	case c.dial <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-c.dial }()
	if cn, err := c.current(); cn != nil || err != nil {
		return cn, err
	}
	cn, err := c.open(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		cn.close(errClosed)
		return nil, errClosed
	}
	c.cur = cn
	// Subscribers hear of the connection before any of its pushes, which
	// the reader only starts reading now.
	for s := range c.subs {
		s.enqueue(item{connected: true})
	}
	c.mu.Unlock()
	go cn.read(c)
	go cn.ping(c)
	return cn, nil
}

func (c *Client) current() (*conn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, errClosed
	}
	if c.cur != nil && !c.cur.isDone() {
		return c.cur, nil
	}
	c.cur = nil
	return nil, nil
}

// open dials, logs in and waits for the server to say who we are, all
// within ConnectTimeout.
func (c *Client) open(ctx context.Context) (*conn, error) {
	dctx, cancel := context.WithTimeout(ctx, c.opt.ConnectTimeout)
	defer cancel()
	ws, resp, err := websocket.Dial(dctx, c.wsURL, &websocket.DialOptions{HTTPClient: c.http, HTTPHeader: c.header.Clone()})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, c.dialError(resp, err)
	}
	ws.SetReadLimit(maxMessage)
	for {
		typ, data, err := ws.Read(dctx)
		if err != nil {
			ws.CloseNow()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if dctx.Err() != nil {
				return nil, &core.Error{Code: core.CodeUnavailable, Retry: retryLater,
					Message: "MeshCentral at " + c.host + " did not answer in time",
					Err:     fmt.Errorf("meshcentral: login: no answer within %s", c.opt.ConnectTimeout)}
			}
			return nil, &core.Error{Code: core.CodeUnavailable, Retry: retryLater,
				Message: "MeshCentral at " + c.host + " closed the connection",
				Err:     fmt.Errorf("meshcentral: login: %w", err)}
		}
		if typ != websocket.MessageText {
			continue
		}
		var m struct {
			Action string `json:"action"`
			Cause  string `json:"cause"`
			Msg    string `json:"msg"`
		}
		if json.Unmarshal(data, &m) != nil {
			continue
		}
		switch m.Action {
		case "userinfo":
			cctx, stop := context.WithCancel(context.Background())
			return &conn{ws: ws, host: c.host, ctx: cctx, stop: stop, done: make(chan struct{}), pending: map[string]*pending{}}, nil
		case "close":
			ws.CloseNow()
			return nil, c.refused(m.Cause, m.Msg)
		}
	}
}

// refused explains a login the server turned down.
func (c *Client) refused(cause, msg string) error {
	detail := fmt.Errorf("meshcentral: login refused (cause %q, msg %q)", cause, msg)
	e := &core.Error{Code: core.CodeUnauthorized, Err: detail}
	switch {
	case msg == "tokenrequired":
		e.Message = "MeshCentral asks the service account for a second factor; give assistbot a login token instead (meshcentral.login_token)"
	case cause == "notools":
		e.Message = "MeshCentral does not let the service account connect tools such as assistbot (meshcentral.user)"
	case cause == "emailvalidation":
		e.Message = "MeshCentral wants the service account's email address verified first (meshcentral.user)"
	case c.token:
		e.Message = "MeshCentral refused the login token (meshcentral.login_token)"
	default:
		e.Message = "MeshCentral refused the service account (meshcentral.user / meshcentral.password)"
	}
	return e
}

// dialError explains a failed dial: refused trust, a wrong address, or a
// server that cannot be reached.
func (c *Client) dialError(resp *http.Response, err error) error {
	detail := fmt.Errorf("meshcentral: dial %s: %w", c.wsURL, err)
	var pin *pinError
	var verify *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &pin):
		return &core.Error{Code: core.CodeUnavailable, Err: detail,
			Message: "MeshCentral at " + c.host + " presented a certificate whose SHA-256 fingerprint is not meshcentral.cert_sha256"}
	case errors.As(err, &verify), errors.As(err, &unknown), errors.As(err, &hostErr), errors.As(err, &invalid):
		msg := "MeshCentral at " + c.host + " presented a certificate this system does not trust; set meshcentral.ca_file or meshcentral.cert_sha256"
		if c.opt.CAFile != "" {
			msg = "MeshCentral at " + c.host + " presented a certificate that meshcentral.ca_file does not trust"
		}
		return &core.Error{Code: core.CodeUnavailable, Err: detail, Message: msg}
	case resp != nil && resp.StatusCode != http.StatusSwitchingProtocols:
		return &core.Error{Code: core.CodeUnavailable, Err: detail,
			Message: "MeshCentral at " + c.host + " did not accept the control connection; check meshcentral.url and meshcentral.domain"}
	}
	return &core.Error{Code: core.CodeUnavailable, Retry: retryLater, Err: detail,
		Message: "MeshCentral at " + c.host + " cannot be reached"}
}

// conn is one open control socket.
type conn struct {
	ws   *websocket.Conn
	host string
	ctx  context.Context // lives as long as the socket
	stop context.CancelFunc
	done chan struct{}

	mu      sync.Mutex
	pending map[string]*pending
	matches []*pending // pending calls with a Match, oldest first
	err     error
	ended   bool
}

// pending is a call waiting for its answer.
type pending struct {
	id    string
	match func(Answer) bool
	ch    chan reply
}

type reply struct {
	answer Answer
	err    error
}

func (cn *conn) add(p *pending) error {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	if cn.ended {
		return &core.Error{Code: core.CodeUnavailable, Retry: retryLater,
			Message: "MeshCentral at " + cn.host + " closed the connection", Err: fmt.Errorf("meshcentral: connection lost: %w", cn.err)}
	}
	cn.pending[p.id] = p
	if p.match != nil {
		cn.matches = append(cn.matches, p)
	}
	return nil
}

func (cn *conn) remove(p *pending) {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	cn.drop(p)
}

func (cn *conn) drop(p *pending) {
	delete(cn.pending, p.id)
	for i, q := range cn.matches {
		if q == p {
			cn.matches = append(cn.matches[:i], cn.matches[i+1:]...)
			break
		}
	}
}

func (cn *conn) write(ctx context.Context, data []byte) error {
	// A cancelled write closes a coder/websocket connection, so the
	// caller's context only bounds the wait for the answer.
	wctx, cancel := context.WithTimeout(cn.ctx, 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- cn.ws.Write(wctx, websocket.MessageText, data) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (cn *conn) isDone() bool {
	select {
	case <-cn.done:
		return true
	default:
		return false
	}
}

func (cn *conn) cause() error {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	return cn.err
}

// close ends the connection and fails the calls still waiting on it.
func (cn *conn) close(err error) {
	cn.mu.Lock()
	if cn.ended {
		cn.mu.Unlock()
		return
	}
	cn.ended, cn.err = true, err
	waiting := cn.pending
	cn.pending, cn.matches = map[string]*pending{}, nil
	cn.mu.Unlock()
	for _, p := range waiting {
		p.ch <- reply{err: &core.Error{Code: core.CodeUnavailable, Retry: retryLater,
			Message: "MeshCentral at " + cn.host + " closed the connection", Err: fmt.Errorf("meshcentral: connection lost: %w", err)}}
	}
	cn.stop()
	cn.ws.CloseNow()
	close(cn.done)
}

// read hands each message to the call it answers or to the subscribers.
func (cn *conn) read(c *Client) {
	for {
		typ, data, err := cn.ws.Read(cn.ctx)
		if err != nil {
			cn.close(err)
			return
		}
		if typ != websocket.MessageText {
			continue
		}
		var head struct {
			Action     string          `json:"action"`
			ResponseID json.RawMessage `json:"responseid"`
			Event      json.RawMessage `json:"event"`
		}
		if json.Unmarshal(data, &head) != nil {
			c.log.Debug("meshcentral: ignored a message that is not JSON", "host", c.host)
			continue
		}
		a := Answer{Action: head.Action, Raw: json.RawMessage(data)}
		var id string
		json.Unmarshal(head.ResponseID, &id)
		if cn.deliver(id, a) {
			continue
		}
		p := Push{Answer: a}
		if head.Action == "event" && len(head.Event) > 0 {
			json.Unmarshal(head.Event, &p.Event)
		}
		c.publish(p)
	}
}

// deliver gives a to the call it answers, by responseid or by Match; it
// reports whether there was one.
func (cn *conn) deliver(id string, a Answer) bool {
	cn.mu.Lock()
	var p *pending
	if id != "" {
		p = cn.pending[id]
	}
	// A message that carries one of our ids but matches no call (a
	// second answer some commands send) is not offered to Match.
	if p == nil && !strings.HasPrefix(id, "ab") {
		for _, q := range cn.matches {
			if q.match(a) {
				p = q
				break
			}
		}
	}
	if p != nil {
		cn.drop(p)
	}
	cn.mu.Unlock()
	if p == nil {
		return false
	}
	p.ch <- reply{answer: a}
	return true
}

// ping keeps checking that the server is still there.
func (cn *conn) ping(c *Client) {
	t := time.NewTicker(c.opt.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-cn.done:
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(cn.ctx, max(c.opt.RequestTimeout, time.Second))
		err := cn.ws.Ping(pctx)
		cancel()
		if err != nil {
			cn.close(fmt.Errorf("ping: %w", err))
			return
		}
	}
}

// item is what a subscriber is handed: a push, or news of a connection.
type item struct {
	push      Push
	connected bool
}

// subscriber runs one listener's callbacks in order on its own goroutine,
// so that the reader never waits for them and they may call the Client.
type subscriber struct {
	c         *Client
	mu        sync.Mutex
	queue     []item
	wake      chan struct{}
	quit      chan struct{}
	finished  chan struct{}
	onConnect func(context.Context)
	onPush    func(context.Context, Push)
}

func (c *Client) subscribe(ctx context.Context, onConnect func(context.Context), onPush func(context.Context, Push)) *subscriber {
	s := &subscriber{c: c, wake: make(chan struct{}, 1), quit: make(chan struct{}), finished: make(chan struct{}),
		onConnect: onConnect, onPush: onPush}
	c.mu.Lock()
	c.subs[s] = struct{}{}
	if c.cur != nil && !c.cur.isDone() {
		// Opened before this listener came: it still hears of it.
		s.enqueue(item{connected: true})
	}
	c.mu.Unlock()
	go s.run(ctx)
	return s
}

func (s *subscriber) stop() {
	s.c.mu.Lock()
	delete(s.c.subs, s)
	s.c.mu.Unlock()
	close(s.quit)
	<-s.finished
}

func (s *subscriber) enqueue(it item) {
	s.mu.Lock()
	s.queue = append(s.queue, it)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *subscriber) run(ctx context.Context) {
	defer close(s.finished)
	for {
		select {
		case <-s.quit:
			return
		case <-ctx.Done():
			return
		case <-s.wake:
		}
		for {
			s.mu.Lock()
			if len(s.queue) == 0 {
				s.mu.Unlock()
				break
			}
			it := s.queue[0]
			s.queue[0] = item{}
			s.queue = s.queue[1:]
			s.mu.Unlock()
			if ctx.Err() != nil {
				return
			}
			if it.connected {
				if s.onConnect != nil {
					s.onConnect(ctx)
				}
			} else if s.onPush != nil {
				s.onPush(ctx, it.push)
			}
		}
	}
}

func (c *Client) publish(p Push) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for s := range c.subs {
		s.enqueue(item{push: p})
	}
}

// awaitGone starts following the pushes and returns a function that waits,
// at most d, until each of the devices has disconnected or been removed;
// it returns those that have not. Call it before causing the departures.
// onReady, when set, is called (on the listener's goroutine) when one of
// the devices reports that its agent's core runs.
func (c *Client) awaitGone(ctx context.Context, nodeIDs []string, onReady func(context.Context, string)) func(d time.Duration) []string {
	var mu sync.Mutex
	left := map[string]bool{}
	for _, id := range nodeIDs {
		left[id] = true
	}
	all := make(chan struct{})
	if len(left) == 0 {
		close(all)
	}
	sctx, cancel := context.WithCancel(ctx)
	s := c.subscribe(sctx, nil, func(ctx context.Context, p Push) {
		e := p.Event
		if p.Action != "event" {
			return
		}
		if e.Action == "changenode" && e.Node != nil && e.Node.Ready() && onReady != nil {
			mu.Lock()
			waiting := left[e.NodeID]
			mu.Unlock()
			if waiting {
				onReady(ctx, e.NodeID)
			}
			return
		}
		if !(e.Action == "removenode" || e.Action == "nodeconnect" && e.Conn&1 == 0) {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if left[e.NodeID] {
			delete(left, e.NodeID)
			if len(left) == 0 {
				close(all)
			}
		}
	})
	return func(d time.Duration) []string {
		defer s.stop()
		defer cancel() // first, so that a callback in flight ends now
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-all:
		case <-t.C:
		case <-ctx.Done():
		}
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for id := range left {
			out = append(out, id)
		}
		return out
	}
}

// awaitNode starts following the pushes and returns a function that
// waits, at most d, until a change of the device makes cond true. Call it
// before looking at the device, so that no change is missed.
func (c *Client) awaitNode(ctx context.Context, nodeID string, cond func(Node) bool) func(d time.Duration) bool {
	met := make(chan struct{})
	var once sync.Once
	sctx, cancel := context.WithCancel(ctx)
	s := c.subscribe(sctx, nil, func(_ context.Context, p Push) {
		e := p.Event
		if p.Action == "event" && e.Action == "changenode" && e.NodeID == nodeID && e.Node != nil && cond(*e.Node) {
			once.Do(func() { close(met) })
		}
	})
	return func(d time.Duration) bool {
		defer s.stop()
		defer cancel() // first, so that a callback in flight ends now
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-met:
			return true
		case <-t.C:
		case <-ctx.Done():
		}
		return false
	}
}
