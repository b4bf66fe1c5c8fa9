package main

import (
	"context"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/config"
	"github.com/assistbot/assistbot/core/coretest"
)

func TestStartTURN(t *testing.T) {
	for _, tc := range []struct {
		name      string
		publicURL string
		publicIP  string
		wantURL   string // prefix of the first turn: URL
	}{
		{"public_url with an IP", "http://127.0.0.1:8080", "", "turn:127.0.0.1:"},
		{"public_url with a name", "https://localhost/support", "", "turn:localhost:"},
		{"public_ip set", "https://host.invalid", "127.0.0.1", "turn:127.0.0.1:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Default()
			c.Server.PublicURL = tc.publicURL
			c.WebRTC.TURN.Enabled = true
			c.WebRTC.TURN.Listen = "127.0.0.1:0"
			c.WebRTC.TURN.PublicIP = tc.publicIP
			if err := c.Validate(); err != nil {
				t.Fatalf("test config: %v", err)
			}
			s, err := startTURN(context.Background(), c, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatalf("startTURN: %v", err)
			}
			if s == nil {
				t.Fatal("startTURN returned no server")
			}
			defer s.Close()
			if u := s.Credentials().URLs[0]; !strings.HasPrefix(u, tc.wantURL) {
				t.Errorf("URL %q; want it to start with %q", u, tc.wantURL)
			}
			if a, ok := s.Addr().(*net.UDPAddr); !ok || !a.IP.IsLoopback() || a.Port == 0 {
				t.Errorf("bound to %v; want 127.0.0.1 with a port", s.Addr())
			}
		})
	}
}

func TestStartTURNDisabled(t *testing.T) {
	s, err := startTURN(context.Background(), config.Default(), slog.New(slog.DiscardHandler))
	if s != nil || err != nil {
		t.Fatalf("startTURN = %v, %v; want nil, nil", s, err)
	}
}

// TestTURNWithoutConsole: the TURN server serves the console's screen
// share; turned on with the console off, it does not start, and the log
// says why rather than leaving the admin to wonder.
func TestTURNWithoutConsole(t *testing.T) {
	var logs coretest.Buffer
	s := startMain(t, func(c *config.Config) {
		c.Console.Enabled = false
		c.WebRTC.TURN.Enabled, c.WebRTC.TURN.Listen = true, "127.0.0.1:0"
	}, &Main{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if s.turn != nil {
		t.Error("a TURN server started without the console")
	}
	if !strings.Contains(logs.String(), "webrtc.turn.enabled is ignored") {
		t.Errorf("the log does not say the TURN server is off:\n%s", logs.String())
	}
}

func TestStartTURNErrors(t *testing.T) {
	busy, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, tc := range []struct {
		name      string
		publicURL string
		listen    string
		want      string
	}{
		{"host does not resolve", "https://host.invalid", "127.0.0.1:0", "webrtc.turn.public_ip"},
		{"IPv6 public_url host", "https://[2001:db8::1]", "127.0.0.1:0", "webrtc.turn.public_ip"},
		{"port in use", "http://127.0.0.1:8080", busy.LocalAddr().String(), "webrtc.turn.listen: turn: listen udp " + busy.LocalAddr().String()},
		{"bad listen", "http://127.0.0.1:8080", "nope", "webrtc.turn.listen: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Default()
			c.Server.PublicURL = tc.publicURL
			c.WebRTC.TURN.Enabled = true
			c.WebRTC.TURN.Listen = tc.listen
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			s, err := startTURN(ctx, c, nil)
			if err == nil {
				s.Close()
				t.Fatal("startTURN succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

// TestICEServers: the share pages get the configured servers, then the
// embedded TURN server with credentials made for each page.
func TestICEServers(t *testing.T) {
	configured := []config.ICEServer{{URLs: []string{"stun:stun.example.org:3478"}}, {URLs: []string{"turns:turn.example.org:5349"}, Username: "u", Credential: "p"}}
	if got := iceServers(configured, nil)(); len(got) != 2 || got[1].URLs[0] != "turns:turn.example.org:5349" || got[1].Credential != "p" {
		t.Errorf("without the embedded server: %+v", got)
	}
	c := config.Default()
	c.Server.PublicURL = "http://127.0.0.1:8080"
	c.WebRTC.TURN = config.TURN{Enabled: true, Listen: "127.0.0.1:0", Realm: "assistbot"}
	s, err := startTURN(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ice := iceServers(configured, s)
	got := ice()
	if len(got) != 3 || !strings.HasPrefix(got[2].URLs[0], "turn:127.0.0.1:") || got[2].Username == "" || got[2].Credential == "" {
		t.Fatalf("with the embedded server: %+v", got)
	}
	exp, _, _ := strings.Cut(got[2].Username, ":")
	if n, err := strconv.ParseInt(exp, 10, 64); err != nil || time.Until(time.Unix(n, 0)) < 11*time.Hour {
		t.Errorf("the credential's user name %q does not hold an expiry hours away", got[2].Username)
	}
	// The list handed out is the page's own: changing it changes no other.
	got[0].URLs = nil
	if again := ice(); len(again[0].URLs) != 1 {
		t.Error("one page's list changed the next one's")
	}
}

// TestSecureContext: the start-up warning about screen sharing over
// plain http is for hosts other than the local machine.
func TestSecureContext(t *testing.T) {
	for base, want := range map[string]bool{
		"https://support.example.com": true,
		"http://localhost:8080":       true,
		"http://app.localhost":        true,
		"http://127.0.0.1:8080":       true,
		"http://[::1]:8080":           true,
		"http://support.example.com":  false,
		"http://192.0.2.10:8080":      false,
	} {
		if got := secureContext(base); got != want {
			t.Errorf("secureContext(%q) = %v; want %v", base, got, want)
		}
	}
}
