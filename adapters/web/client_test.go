package web

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientAddr(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	tests := []struct {
		name, remote string
		xff          []string
		want         string
		ok           bool
	}{
		{"direct", "192.0.2.1:1234", nil, "192.0.2.1", true},
		{"untrusted peer's header is ignored", "192.0.2.1:1234", []string{"203.0.113.5"}, "192.0.2.1", true},
		{"trusted proxy without header", "10.0.0.1:1234", nil, "10.0.0.1", true},
		{"trusted proxy", "10.0.0.1:1234", []string{"203.0.113.5"}, "203.0.113.5", true},
		{"chain of trusted proxies", "10.0.0.1:1234", []string{"203.0.113.5, 10.0.0.7"}, "203.0.113.5", true},
		{"spoofed entries on the left", "10.0.0.1:1234", []string{"1.2.3.4, 203.0.113.5"}, "203.0.113.5", true},
		{"several header lines", "10.0.0.1:1234", []string{"1.2.3.4", "203.0.113.5, 10.0.0.9"}, "203.0.113.5", true},
		{"only proxies", "10.0.0.1:1234", []string{"10.0.0.3, 10.0.0.2"}, "10.0.0.3", true},
		{"garbage stops the walk", "10.0.0.1:1234", []string{"203.0.113.5, bogus, 10.0.0.2"}, "10.0.0.2", true},
		{"entry with a port", "10.0.0.1:1234", []string{"203.0.113.5:999"}, "203.0.113.5", true},
		{"ipv6 through proxy", "[fd00::1]:443", []string{"2001:db8::1"}, "2001:db8::1", true},
		{"mapped ipv4 peer", "[::ffff:192.0.2.1]:80", nil, "192.0.2.1", true},
		{"unparsable peer", "pipe", nil, "invalid IP", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			got, ok := clientAddr(r, trusted)
			if got.String() != tt.want || ok != tt.ok {
				t.Errorf("clientAddr = %s %t, want %s %t", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestLimitKey(t *testing.T) {
	tests := []struct{ addr, want string }{
		{"192.0.2.1", "192.0.2.1"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"},
		{"fe80::1%eth0", "fe80::/64"},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			if got := limitKey(netip.MustParseAddr(tt.addr), true, ""); got != tt.want {
				t.Errorf("limitKey = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestClient(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	for _, tc := range []struct{ remote, xff, key, addr string }{
		{"192.0.2.1:1234", "", "192.0.2.1", "192.0.2.1"},
		{"10.0.0.1:1234", "2001:db8:1:2::7", "2001:db8:1:2::/64", "2001:db8:1:2::7"},
		{"pipe", "", "peer:pipe", "pipe"},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = tc.remote
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if key, addr := Client(r, trusted); key != tc.key || addr != tc.addr {
			t.Errorf("Client(%s, %s) = %s, %s; want %s, %s", tc.remote, tc.xff, key, addr, tc.key, tc.addr)
		}
	}
}
