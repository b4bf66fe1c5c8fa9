// Package webhook sends webhook requests: signed JSON POSTs to the
// endpoints of core/webhook, over a client that will not call loopback,
// link-local or private addresses unless told to, whatever a name
// resolves to when it is sent and wherever a redirect points.
package webhook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/assistbot/assistbot/core"
	hooks "github.com/assistbot/assistbot/core/webhook"
)

// Headers of every request.
const (
	HeaderSignature = "Assistbot-Signature"
	HeaderDelivery  = "Assistbot-Delivery"
	HeaderEvent     = "Assistbot-Event"
)

// maxRedirects bounds the redirects a request follows.
const maxRedirects = 3

// Options configure a Sender.
type Options struct {
	// AllowPrivate lets requests go to loopback, link-local and private
	// addresses (webhooks_allow_private): tests, and receivers on the
	// same network.
	AllowPrivate bool
	// Clock dates the signatures; default core.SystemClock.
	Clock core.Clock
	// UserAgent is sent with every request.
	UserAgent string
}

// Sender makes the requests; it is core/webhook's Sender.
type Sender struct {
	client *http.Client
	clock  core.Clock
	agent  string
}

var _ hooks.Sender = (*Sender)(nil)

// errRefused is a connection to an address the Sender does not call.
var errRefused = errors.New("refused")

// errRedirects is a chain of redirects longer than maxRedirects: a
// receiver set up wrongly, which trying again does not mend.
var errRedirects = fmt.Errorf("the endpoint redirected more than %d times", maxRedirects)

// New returns a Sender.
func New(o Options) *Sender {
	if o.Clock == nil {
		o.Clock = core.SystemClock{}
	}
	if o.UserAgent == "" {
		o.UserAgent = "assistbot-webhooks/1"
	}
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if !o.AllowPrivate {
		// The address checked is the one connected to, after the name
		// was resolved: a name that resolves to a private address now,
		// or a redirect to one, is refused alike.
		d.Control = func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || hooks.Refused(ap.Addr()) {
				return fmt.Errorf("%w: %s is a loopback, link-local or private address", errRefused, ap.Addr())
			}
			return nil
		}
	}
	t := &http.Transport{
		// No proxy from the environment: a proxy would connect on the
		// request's behalf, past the check above.
		Proxy:                 nil,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
	}
	c := &http.Client{Transport: t, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.Method != http.MethodPost {
			// 301, 302 and 303 turn the POST into a GET without the
			// event: only 307 and 308 are followed.
			return http.ErrUseLastResponse
		}
		if len(via) > maxRedirects {
			return errRedirects
		}
		if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
			return fmt.Errorf("%w: a redirect to a %s URL", errRefused, req.URL.Scheme)
		}
		return nil
	}}
	return &Sender{client: c, clock: o.Clock, agent: o.UserAgent}
}

// Send implements core/webhook's Sender: one POST of r to ep, signed with
// ep's secret.
func (s *Sender) Send(ctx context.Context, ep *hooks.Endpoint, r *hooks.Request) hooks.Result {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, strings.NewReader(string(r.Body)))
	if err != nil {
		return hooks.Result{Err: errors.New("the url is not valid"), Permanent: true}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", s.agent)
	req.Header.Set(HeaderEvent, r.Event)
	req.Header.Set(HeaderDelivery, r.Delivery)
	req.Header.Set(HeaderSignature, hooks.Sign(ep.Secret, s.clock.Now(), r.Body))
	resp, err := s.client.Do(req)
	if err != nil {
		return hooks.Result{Err: describe(ctx, err), Permanent: errors.Is(err, errRefused) || errors.Is(err, errRedirects)}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	res := hooks.Result{Status: resp.StatusCode}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		res.Err, res.Permanent = fmt.Errorf("the endpoint answered %d and a redirect that was not followed", resp.StatusCode), true
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		res.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return res
}

// describe says why a request got no answer, without the URL, which may
// hold a token of the receiver's.
func describe(ctx context.Context, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	switch {
	case errors.Is(err, errRefused), errors.Is(err, errRedirects):
		return err
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
		return errors.New("timed out waiting for the endpoint")
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return fmt.Errorf("the host %s does not resolve", dnsErr.Name)
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return fmt.Errorf("could not connect: %v", opErr.Err)
	}
	return err
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
