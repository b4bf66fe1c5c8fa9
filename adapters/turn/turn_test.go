package turn

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // the TURN REST scheme is defined with HMAC-SHA1
	"encoding/base64"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	pionturn "github.com/pion/turn/v4"
)

const testSecret = "0123456789abcdef-test-secret"

var loopback = netip.MustParseAddr("127.0.0.1")

// syncBuffer is a bytes.Buffer safe for the server's goroutines, which may
// still log after a test has finished.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// start runs a server on 127.0.0.1 with PublicIP 127.0.0.1.
func start(t *testing.T, change func(*Options)) *Server {
	t.Helper()
	o := Options{Listen: "127.0.0.1:0", Realm: "assistbot", PublicIP: loopback, Secret: testSecret}
	if change != nil {
		change(&o)
	}
	s, err := Start(o)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// restCredential builds a TURN REST credential independently of the
// package: HMAC-SHA1 of "<expiry>:<user>" under the secret.
func restCredential(secret string, expiry time.Time) (username, credential string) {
	username = strconv.FormatInt(expiry.Unix(), 10) + ":assistbot"
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(username))
	return username, base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// client returns a pion TURN client of s, listening on 127.0.0.1.
func client(t *testing.T, s *Server, username, credential string) *pionturn.Client {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	c, err := pionturn.NewClient(&pionturn.ClientConfig{
		STUNServerAddr: s.Addr().String(),
		TURNServerAddr: s.Addr().String(),
		Username:       username,
		Password:       credential,
		Realm:          "assistbot",
		RTO:            100 * time.Millisecond,
		Conn:           conn,
		LoggerFactory:  loggerFactory{slog.New(slog.DiscardHandler)},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	return c
}

// allocate allocates a relay and returns it.
func allocate(t *testing.T, c *pionturn.Client) net.PacketConn {
	t.Helper()
	relay, err := c.Allocate()
	if err != nil {
		t.Fatalf("Allocate: %v", err)
	}
	t.Cleanup(func() { _ = relay.Close() })
	return relay
}

func TestAllocateWithCredentials(t *testing.T) {
	logs := &syncBuffer{}
	s := start(t, func(o *Options) {
		o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: levelTrace}))
	})
	cred := s.Credentials()
	relay := allocate(t, client(t, s, cred.Username, cred.Credential))
	addr, ok := relay.LocalAddr().(*net.UDPAddr)
	if !ok || !addr.IP.Equal(net.IP(loopback.AsSlice())) || addr.Port == 0 {
		t.Fatalf("relay address %v; want 127.0.0.1 with a port", relay.LocalAddr())
	}
	if logs.String() == "" {
		t.Error("pion logged nothing at trace level")
	}
	for _, secret := range []string{cred.Credential, testSecret} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("logs contain the secret %q:\n%s", secret, logs)
		}
	}
}

func TestCredentials(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 600, time.UTC)
	s := start(t, func(o *Options) { o.TTL = time.Hour })
	s.now = func() time.Time { return now }
	c := s.Credentials()
	port := s.Addr().(*net.UDPAddr).Port
	wantUser, wantCred := restCredential(testSecret, now.Add(time.Hour))
	if want := "turn:127.0.0.1:" + strconv.Itoa(port) + "?transport=udp"; len(c.URLs) != 1 || c.URLs[0] != want {
		t.Errorf("URLs = %q; want [%q]", c.URLs, want)
	}
	if c.Username != wantUser || c.Credential != wantCred {
		t.Errorf("credentials %q/%q; want %q/%q", c.Username, c.Credential, wantUser, wantCred)
	}
	if want := now.Add(time.Hour).Truncate(time.Second); !c.Expires.Equal(want) {
		t.Errorf("Expires = %v; want %v", c.Expires, want)
	}

	// The signature is the one pion's own generator makes.
	user, pass, err := pionturn.GenerateLongTermTURNRESTCredentials(testSecret, "assistbot", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if got := sign(testSecret, user); got != pass {
		t.Errorf("sign(%q) = %q; pion generates %q", user, got, pass)
	}
}

func TestCredentialsHost(t *testing.T) {
	s := start(t, func(o *Options) { o.Host = "turn.example.org"; o.TTL = 0 })
	c := s.Credentials()
	if !strings.HasPrefix(c.URLs[0], "turn:turn.example.org:") {
		t.Errorf("URL %q does not use Options.Host", c.URLs[0])
	}
	if d := time.Until(c.Expires); d < DefaultTTL-time.Minute || d > DefaultTTL {
		t.Errorf("expires in %s; want about DefaultTTL", d)
	}
}

func TestRandomSecret(t *testing.T) {
	a := start(t, func(o *Options) { o.Secret = "" })
	b := start(t, func(o *Options) { o.Secret = "" })
	if a.secret == "" || a.secret == b.secret {
		t.Fatal("servers without a secret must each draw their own")
	}
	ca, cb := a.Credentials(), b.Credentials()
	allocate(t, client(t, a, ca.Username, ca.Credential))
	if _, err := client(t, a, cb.Username, cb.Credential).Allocate(); err == nil {
		t.Error("a server accepted another process's credentials")
	}
}

func TestRefusedCredentials(t *testing.T) {
	s := start(t, func(o *Options) { o.TTL = time.Second })
	for _, tc := range []struct {
		name        string
		credentials func() (username, credential string)
		ok          bool
	}{
		{"wrong credential", func() (string, string) {
			c := s.Credentials()
			return c.Username, base64.StdEncoding.EncodeToString(make([]byte, 20))
		}, false},
		{"other secret", func() (string, string) {
			return restCredential("another-secret-0123456789", time.Now().Add(time.Hour))
		}, false},
		{"expired", func() (string, string) {
			return restCredential(testSecret, time.Now().Add(-time.Minute))
		}, false},
		{"same scheme, not expired", func() (string, string) {
			return restCredential(testSecret, time.Now().Add(time.Minute))
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, p := tc.credentials()
			relay, err := client(t, s, u, p).Allocate()
			if err == nil {
				_ = relay.Close()
			}
			if (err == nil) != tc.ok {
				t.Fatalf("Allocate() error = %v; want success %v", err, tc.ok)
			}
		})
	}
}

func TestPermissions(t *testing.T) {
	s := start(t, nil)
	cred := s.Credentials()
	c := client(t, s, cred.Username, cred.Credential)
	allocate(t, c)
	for _, tc := range []struct {
		peer string
		ok   bool
	}{
		{"127.0.0.2", false},
		{"169.254.169.254", false},
		{"127.0.0.1", true}, // the relay's own address
		{"192.0.2.10", true},
	} {
		t.Run(tc.peer, func(t *testing.T) {
			err := c.CreatePermission(&net.UDPAddr{IP: net.ParseIP(tc.peer), Port: 9})
			if (err == nil) != tc.ok {
				t.Fatalf("CreatePermission(%s) error = %v; want success %v", tc.peer, err, tc.ok)
			}
		})
	}
}

// TestRelayBetweenBrowsers relays a packet between two clients of the same
// server, as two browsers that both fall back to it do.
func TestRelayBetweenBrowsers(t *testing.T) {
	s := start(t, nil)
	ca, cb := s.Credentials(), s.Credentials()
	a := client(t, s, ca.Username, ca.Credential)
	b := client(t, s, cb.Username, cb.Credential)
	relayA, relayB := allocate(t, a), allocate(t, b)
	if err := b.CreatePermission(relayA.LocalAddr()); err != nil {
		t.Fatalf("permission for the other relay: %v", err)
	}
	if _, err := relayA.WriteTo([]byte("hello"), relayB.LocalAddr()); err != nil {
		t.Fatalf("WriteTo: %v", err)
	}
	_ = relayB.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64)
	n, from, err := relayB.ReadFrom(buf)
	if err != nil {
		t.Fatalf("ReadFrom: %v", err)
	}
	if string(buf[:n]) != "hello" || from.String() != relayA.LocalAddr().String() {
		t.Errorf("got %q from %v; want \"hello\" from %v", buf[:n], from, relayA.LocalAddr())
	}
}

func TestAllowedPeer(t *testing.T) {
	own := netip.MustParseAddr("203.0.113.7")
	for _, tc := range []struct {
		peer string
		ok   bool
	}{
		{"203.0.113.7", true},
		{"::ffff:203.0.113.7", true},
		{"198.51.100.1", true},
		{"10.1.2.3", true},
		{"192.168.1.20", true},
		{"2001:db8::1", true},
		{"127.0.0.1", false},
		{"127.9.9.9", false},
		{"::1", false},
		{"::ffff:127.0.0.1", false},
		{"0.0.0.0", false},
		{"0.1.2.3", false},
		{"::", false},
		{"169.254.169.254", false},
		{"::ffff:169.254.169.254", false},
		{"fe80::1", false},
		{"224.0.0.251", false},
		{"239.255.255.250", false},
		{"ff02::1", false},
		{"255.255.255.255", false},
	} {
		t.Run(tc.peer, func(t *testing.T) {
			if got := allowedPeer(netip.MustParseAddr(tc.peer), own); got != tc.ok {
				t.Errorf("allowedPeer(%s) = %v; want %v", tc.peer, got, tc.ok)
			}
		})
	}
	t.Run("own address in a refused range", func(t *testing.T) {
		if !allowedPeer(loopback, loopback) || allowedPeer(netip.MustParseAddr("127.0.0.2"), loopback) {
			t.Error("only the relay's own loopback address may be allowed")
		}
	})
	t.Run("not an IP", func(t *testing.T) {
		if permissionHandler(own)(nil, net.IP{1, 2, 3}) {
			t.Error("a 3-byte IP was allowed")
		}
	})
}

func TestCloseReleasesPort(t *testing.T) {
	s := start(t, nil)
	addr := s.Addr().String()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	conn, err := net.ListenPacket("udp4", addr)
	if err != nil {
		t.Fatalf("port not released: %v", err)
	}
	_ = conn.Close()
}

func TestStartErrors(t *testing.T) {
	busy, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, tc := range []struct {
		name   string
		change func(*Options)
		want   string
	}{
		{"no realm", func(o *Options) { o.Realm = "" }, "Options.Realm"},
		{"no public ip", func(o *Options) { o.PublicIP = netip.Addr{} }, "Options.PublicIP"},
		{"ipv6 public ip", func(o *Options) { o.PublicIP = netip.MustParseAddr("2001:db8::1") }, "IPv4"},
		{"unspecified public ip", func(o *Options) { o.PublicIP = netip.IPv4Unspecified() }, "Options.PublicIP"},
		{"negative ttl", func(o *Options) { o.TTL = -time.Second }, "Options.TTL"},
		{"no listen", func(o *Options) { o.Listen = "" }, "Options.Listen"},
		{"bad listen", func(o *Options) { o.Listen = "nope" }, `turn: listen udp: address nope`},
		{"port in use", func(o *Options) { o.Listen = busy.LocalAddr().String() }, "turn: listen udp " + busy.LocalAddr().String()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := Options{Listen: "127.0.0.1:0", Realm: "assistbot", PublicIP: loopback}
			tc.change(&o)
			s, err := Start(o)
			if err == nil {
				_ = s.Close()
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}
