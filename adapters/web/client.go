package web

import (
	"net/http"
	"net/netip"
	"strings"
)

// Client returns the key that r's client is limited under and its
// address for logs. The client is the peer or, when the peer is one of
// the trusted proxies, the right-most X-Forwarded-For address that is not
// itself a trusted proxy. An IPv6 client is keyed by its /64, which it
// usually holds whole.
func Client(r *http.Request, trusted []netip.Prefix) (key, addr string) {
	a, ok := clientAddr(r, trusted)
	if !ok {
		return limitKey(a, ok, r.RemoteAddr), r.RemoteAddr
	}
	return limitKey(a, ok, r.RemoteAddr), a.String()
}

// clientAddr returns the address of the client behind r: the peer, or,
// when the peer is a trusted proxy, the right-most X-Forwarded-For address
// that is not itself a trusted proxy. Addresses to the left of that one
// were written by the client and cannot be believed.
func clientAddr(r *http.Request, trusted []netip.Prefix) (netip.Addr, bool) {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, false
	}
	addr := peer.Addr().Unmap()
	if !isTrusted(addr, trusted) {
		return addr, true
	}
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		parts := strings.Split(hops[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			hop, ok := parseHop(parts[j])
			if !ok {
				// Garbage inserted by someone: the last address a
				// trusted proxy vouched for is as far as we can see.
				return addr, true
			}
			addr = hop
			if !isTrusted(hop, trusted) {
				return hop, true
			}
		}
	}
	return addr, true
}

// parseHop parses one X-Forwarded-For entry, which some proxies write with
// a port.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// limitKey is the key a client is limited under. An IPv6 client usually
// holds a whole /64, so that is the unit: otherwise each of its addresses
// would get a fresh allowance.
func limitKey(a netip.Addr, ok bool, remoteAddr string) string {
	if !ok {
		return "peer:" + remoteAddr
	}
	if a.Is6() && !a.Is4In6() {
		return netip.PrefixFrom(a.WithZone(""), 64).Masked().String()
	}
	return a.String()
}
