package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MinSecret is the shortest secret an endpoint may have.
const MinSecret = 16

// Tolerance is how far from its receiver's clock a signature's time may
// be, as docs/webhooks.md advises receivers.
const Tolerance = 5 * time.Minute

// configID is what a configured endpoint's id looks like; the API's are
// "wh_" and random letters, so the two never meet.
var configID = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)

// CheckConfigID says what is wrong with a configured endpoint's id.
func CheckConfigID(id string) error {
	if !configID.MatchString(id) {
		return errors.New("must be 1 to 40 lowercase letters, digits and dashes, starting with a letter or digit")
	}
	return nil
}

// CheckSecret says what is wrong with a secret.
func CheckSecret(s string) error {
	if len(s) < MinSecret {
		return fmt.Errorf("the secret must be at least %d characters", MinSecret)
	}
	return nil
}

// CheckEvents says what is wrong with an endpoint's list of events.
func CheckEvents(list []string) error {
	for _, p := range list {
		if p == "*" {
			continue
		}
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("event %q is not a valid pattern", p)
		}
		if !slices.ContainsFunc(Types(), (&Endpoint{Events: []string{p}}).Wants) {
			return fmt.Errorf("event %q matches no event type (see docs/webhooks.md)", p)
		}
	}
	return nil
}

// CheckURL says what is wrong with an endpoint's URL, before any name is
// resolved: it must be absolute http or https, with a host, and carry no
// user name or password. A host written as an address, or "localhost",
// must not be one Refused names, unless allowPrivate.
func CheckURL(raw string, allowPrivate bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil || raw == "":
		return nil, errors.New("the url is not a valid URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, errors.New("the url must start with http:// or https://")
	case u.Host == "" || u.Hostname() == "":
		return nil, errors.New("the url has no host")
	case u.User != nil:
		return nil, errors.New("the url must not carry a user name or password; use the secret")
	case u.Fragment != "":
		return nil, errors.New("the url must not have a #fragment")
	}
	if allowPrivate {
		return u, nil
	}
	host := strings.ToLower(u.Hostname())
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return nil, refusedErr(host)
	}
	if ip, err := netip.ParseAddr(host); err == nil && Refused(ip) {
		return nil, refusedErr(host)
	}
	return u, nil
}

// refusedErr says that host is an address assistbot does not call.
func refusedErr(host string) error {
	return fmt.Errorf("the url points at a loopback, link-local or private address (%s); webhooks_allow_private allows it", host)
}

// CheckHost resolves host and says whether any of its addresses is one
// Refused names.
func CheckHost(ctx context.Context, r *net.Resolver, host string) error {
	if ip, err := netip.ParseAddr(host); err == nil {
		if Refused(ip) {
			return refusedErr(host)
		}
		return nil
	}
	if r == nil {
		r = net.DefaultResolver
	}
	ips, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return fmt.Errorf("the url's host %s does not resolve", host)
	}
	for _, ip := range ips {
		if Refused(ip) {
			return refusedErr(host + " is " + ip.Unmap().String())
		}
	}
	return nil
}

// Refused reports whether ip is an address webhooks are not sent to
// unless allowed: loopback, link-local, private (RFC 1918, unique local),
// shared (RFC 6598), unspecified, multicast, and the like.
func Refused(ip netip.Addr) bool {
	ip = ip.Unmap()
	if ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() ||
		ip.IsPrivate() || ip.IsUnspecified() || ip.IsMulticast() || !ip.IsValid() {
		return true
	}
	for _, p := range refusedPrefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

var refusedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("2001:db8::/32"),
}

// Sign returns the Assistbot-Signature header of body sent at t:
// "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>".
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + mac(secret, ts, body)
}

func mac(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Verify checks an Assistbot-Signature header as a receiver should: one
// of its v1 signatures is body's under secret, and its time is within
// tolerance of now.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return errors.New("webhook: malformed signature header")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return errors.New("webhook: signature time outside the tolerance")
	}
	want := mac(secret, ts, body)
	for _, s := range sigs {
		if hmac.Equal([]byte(s), []byte(want)) {
			return nil
		}
	}
	return errors.New("webhook: signature does not match")
}
