package webchat

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/web/webtest"
	"github.com/assistbot/assistbot/core"
)

// testStream is an event stream a test opened from one client address.
type testStream struct {
	resp *http.Response
	r    *bufio.Reader
	stop context.CancelFunc
}

// openStream opens /chat/events in browser c as a client at address
// addr (the rig trusts the loopback proxy's X-Forwarded-For).
func openStream(t *testing.T, c *webtest.Visitor, addr string) *testStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.Base+"/chat/events", nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("X-Forwarded-For", addr)
	hc := *c.HC
	hc.Timeout = 0
	resp, err := hc.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	s := &testStream{resp: resp, r: bufio.NewReader(resp.Body), stop: cancel}
	t.Cleanup(func() { cancel(); resp.Body.Close() })
	return s
}

// next returns the next event's name, skipping comments; "" when the
// stream ends.
func (s *testStream) next(t *testing.T) string {
	t.Helper()
	got := make(chan string, 1)
	go func() {
		for {
			line, err := s.r.ReadString('\n')
			if err != nil {
				got <- ""
				return
			}
			if name, ok := strings.CutPrefix(strings.TrimSpace(line), "event: "); ok {
				got <- name
				return
			}
		}
	}()
	select {
	case name := <-got:
		return name
	case <-time.After(eventWait):
		t.Fatal("no event")
		return ""
	}
}

// newProxiedRig is a rig whose server trusts its loopback peer as a
// proxy, so that each test client has the address it claims.
func newProxiedRig(t *testing.T, edit ...func(*Options)) *rig {
	t.Helper()
	return newRig(t, append([]func(*Options){func(o *Options) {
		o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	}}, edit...)...)
}

// TestChatStreamCaps fills one client address's share of event streams:
// another address still gets one; the same address's next stream opens
// too, and its oldest is told it was superseded and closes, so a
// customer reopening a tab is never locked out. A cookie assistbot did
// not sign gets no stream at all.
func TestChatStreamCaps(t *testing.T) {
	r := newProxiedRig(t)
	office := "198.51.100.7"
	var first *testStream
	for i := range maxClientStreams {
		c := r.openChat("en")
		s := openStream(t, c, office)
		webtest.WantStatus(t, s.resp, "", http.StatusOK)
		if i == 0 {
			first = s
		}
	}
	if all, mine := r.chat.streams.count(office); all != maxClientStreams || mine != maxClientStreams {
		t.Fatalf("%d streams, %d of the office", all, mine)
	}

	other := openStream(t, r.openChat("en"), "203.0.113.9")
	webtest.WantStatus(t, other.resp, "", http.StatusOK)

	again := openStream(t, r.openChat("en"), office)
	webtest.WantStatus(t, again.resp, "", http.StatusOK)
	if name := first.next(t); name != "superseded" {
		t.Fatalf("the oldest stream got %q", name)
	}
	if name := first.next(t); name != "" {
		t.Errorf("the superseded stream goes on: %q", name)
	}
	webtest.WaitFor(t, "the oldest stream to be forgotten", func() bool {
		all, mine := r.chat.streams.count(office)
		return all == maxClientStreams+1 && mine == maxClientStreams
	})

	t.Run("invented cookies", func(t *testing.T) {
		for name, value := range map[string]string{
			"unsigned":    "AAAAAAAAAAAAAAAAAAAAAAAAAA",
			"forged":      "AAAAAAAAAAAAAAAAAAAAAAAAAA.bm90IGEgc2lnbmF0dXJl",
			"other's sig": "AAAAAAAAAAAAAAAAAAAAAAAAAA." + strings.SplitN(r.chat.signedID(context.Background(), "BBBBBBBBBBBBBBBBBBBBBBBBBB"), ".", 2)[1],
		} {
			t.Run(name, func(t *testing.T) {
				v := r.Visitor()
				v.SetCookie("/chat", chatCookie, value)
				s := openStream(t, v, "192.0.2.99")
				if s.resp.StatusCode != http.StatusForbidden {
					t.Errorf("status %d", s.resp.StatusCode)
				}
				if ct := s.resp.Header.Get("Content-Type"); strings.HasPrefix(ct, "text/event-stream") {
					t.Errorf("an event stream for an invented cookie")
				}
			})
		}
		if all, _ := r.chat.streams.count(""); all != maxClientStreams+1 {
			t.Errorf("%d streams open", all)
		}
	})
}

// TestChatStreamsFull: past the server's cap a page is refused with 429
// and Retry-After, never a server error; it falls back to reloading.
func TestChatStreamsFull(t *testing.T) {
	r := newProxiedRig(t)
	r.chat.streams = newStreams(2, maxClientStreams)
	for i := range 2 {
		s := openStream(t, r.openChat("en"), fmt.Sprintf("198.51.100.%d", i+1))
		webtest.WantStatus(t, s.resp, "", http.StatusOK)
	}
	s := openStream(t, r.openChat("en"), "198.51.100.3")
	if s.resp.StatusCode != http.StatusTooManyRequests || s.resp.Header.Get("Retry-After") == "" {
		t.Errorf("over the cap: %d, Retry-After %q", s.resp.StatusCode, s.resp.Header.Get("Retry-After"))
	}
}

// TestChatRateLimitKeepsText: a message refused for its rate, sent by a
// browser without script, comes back in the box with the reason; the
// page's script gets JSON and keeps it itself.
func TestChatRateLimitKeepsText(t *testing.T) {
	r := newRig(t)
	c := r.openChat("en")
	for i := range messagesPerMinute {
		if resp, out := say(c, fmt.Sprintf("message %d", i)); resp.StatusCode != http.StatusOK {
			t.Fatalf("message %d: %d %v", i, resp.StatusCode, out)
		}
	}
	typed := "My printer <still> says \"paper jam\" & won't print"
	resp, body := c.Post("/chat/messages", url.Values{"text": {typed}, "csrf": {c.CSRF}})
	webtest.WantStatus(t, resp, body, http.StatusTooManyRequests)
	if resp.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	webtest.WantContains(t, body, `<p id="flash" class="flash" role="alert">`+esc(r.Catalog.T("en", "console.chat.slow"))+`</p>`,
		`required>`+esc(typed)+`</textarea>`, `id="compose"`)
	resp, out := say(c, typed)
	if resp.StatusCode != http.StatusTooManyRequests || out["error"] != r.Catalog.T("en", "console.chat.slow") {
		t.Errorf("script: %d %v", resp.StatusCode, out)
	}
	if msgs, _ := r.Engine.Messages(ctx, messagesOf(r.chatConv(c).ID)); len(msgs) != messagesPerMinute {
		t.Errorf("%d messages recorded", len(msgs))
	}

	t.Run("too long keeps it too", func(t *testing.T) {
		r.Clock.Add(time.Minute)
		long := strings.Repeat("a", core.MaxMessageRunes+1)
		resp, body := c.Post("/chat/messages", url.Values{"text": {long}, "csrf": {c.CSRF}})
		webtest.WantStatus(t, resp, body, http.StatusBadRequest)
		webtest.WantContains(t, body, ">"+long+"</textarea>", esc(r.Catalog.T("en", "console.chat.too_long")))
	})
}

// TestChatRateLimitPerChat: the message limit is each chat's, so several
// customers behind one address (an office) each write at the full rate;
// one address minting a chat per message meets its address's limit.
func TestChatRateLimitPerChat(t *testing.T) {
	r := newProxiedRig(t)
	office := "198.51.100.20"
	post := func(c *webtest.Visitor, addr, text string) int {
		resp, _ := c.Do(http.MethodPost, "/chat/messages", strings.NewReader(url.Values{"text": {text}}.Encode()),
			"X-CSRF-Token", c.CSRF, "Accept", "application/json", "X-Forwarded-For", addr)
		return resp.StatusCode
	}
	chats := clientMessagesPerMinute / messagesPerMinute
	for i := range chats {
		c := r.openChat("en")
		for j := range messagesPerMinute {
			if code := post(c, office, fmt.Sprintf("customer %d, message %d", i, j)); code != http.StatusOK {
				t.Fatalf("customer %d, message %d: %d", i, j, code)
			}
		}
	}
	if code := post(r.openChat("en"), office, "one more chat"); code != http.StatusTooManyRequests {
		t.Errorf("past the address's limit: %d", code)
	}
	if code := post(r.openChat("en"), "203.0.113.1", "elsewhere"); code != http.StatusOK {
		t.Errorf("another address: %d", code)
	}
}
