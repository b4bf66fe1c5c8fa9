package web

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
)

// The console agents of the tests, with bcrypt hashes at the lowest cost.
const (
	alicePW = "alice-password-1"
	bobPW   = "bob-password-22"
)

// consoleRig is a rig with the console and the web chat mounted, the
// engine's outbox running and the console's Run running.
type consoleRig struct {
	*rig
	bot     *remote.Bot
	console *Console
}

func bcryptHash(t testing.TB, pw string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

// newConsoleRig mounts the console on a new rig; edit adjusts the
// server's and the console's options.
func newConsoleRig(t testing.TB, edit ...func(*Options, *ConsoleOptions)) *consoleRig {
	t.Helper()
	return newConsoleRigWith(t, nil, edit...)
}

// newConsoleRigWith is newConsoleRig with more channels for the engine,
// which takes them only before it runs.
func newConsoleRigWith(t testing.TB, channels []core.Channel, edit ...func(*Options, *ConsoleOptions)) *consoleRig {
	t.Helper()
	co := ConsoleOptions{
		Agents:  []Agent{{Name: "alice", PasswordHash: bcryptHash(t, alicePW)}, {Name: "bob", PasswordHash: bcryptHash(t, bobPW)}},
		WebChat: true,
	}
	r := newRig(t, func(o *Options) {
		for _, e := range edit {
			e(o, &co)
		}
	})
	co.Bot = remote.New(r.engine, r.catalog)
	if co.PublicURL == "" {
		co.PublicURL = r.ts.URL
	}
	c, err := NewConsole(r.server, co)
	if err != nil {
		t.Fatalf("NewConsole: %v", err)
	}
	for _, ch := range append(c.Channels(), channels...) {
		if err := r.engine.AddChannel(ch); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { r.engine.Run(ctx); done <- struct{}{} }()
	go func() { c.Run(ctx); done <- struct{}{} }()
	t.Cleanup(func() {
		cancel()
		<-done
		<-done
	})
	return &consoleRig{rig: r, bot: co.Bot, console: c}
}

// visitor is one person's browser: its own cookies, no redirects
// followed, and the CSRF token of the last console or chat page it saw.
type visitor struct {
	t    testing.TB
	base string
	hc   *http.Client
	csrf string
	lang string
}

// openDialog opens the remote-session dialog of conversation convID as
// agent: it checks that a session was issued for that conversation by
// that agent and returns it with the dialog's card.
func (r *consoleRig) openDialog(c *visitor, convID, agent string) (*core.Session, string) {
	r.t.Helper()
	resp, out := c.fetch("/console/conversations/"+convID+"/remote", url.Values{})
	if resp.StatusCode != http.StatusOK {
		r.t.Fatalf("remote: %d %v", resp.StatusCode, out)
	}
	id, _ := out["session"].(string)
	s := r.session(id)
	if s.ConversationID != convID || s.Agent != agent || s.State != core.StateIssued {
		r.t.Fatalf("issued %+v", s)
	}
	resp, card := c.get(out["card"].(string), csrfHeader, c.csrf)
	if resp.StatusCode != http.StatusOK {
		r.t.Fatalf("dialog card: %d %s", resp.StatusCode, card)
	}
	return s, card
}

func (r *consoleRig) visitor() *visitor {
	jar, err := cookiejar.New(nil)
	if err != nil {
		r.t.Fatal(err)
	}
	return &visitor{t: r.t, base: r.ts.URL, hc: &http.Client{
		Jar:           jar,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

var (
	formTokenRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	pageTokenRE = regexp.MustCompile(`data-csrf="([^"]+)"`)
)

// do sends a request and returns the answer with its body read. Any page
// that carries a CSRF token updates the client's.
func (c *visitor) do(method, path string, body io.Reader, header ...string) (*http.Response, string) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c.lang != "" {
		req.Header.Set("Accept-Language", c.lang)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if m := pageTokenRE.FindSubmatch(b); m != nil {
		c.csrf = string(m[1])
	} else if m := formTokenRE.FindSubmatch(b); m != nil {
		c.csrf = string(m[1])
	}
	return resp, string(b)
}

func (c *visitor) get(path string, header ...string) (*http.Response, string) {
	c.t.Helper()
	return c.do(http.MethodGet, path, nil, header...)
}

// post submits a form as a browser without script does: the token in
// the csrf field.
func (c *visitor) post(path string, form url.Values, header ...string) (*http.Response, string) {
	c.t.Helper()
	return c.do(http.MethodPost, path, strings.NewReader(form.Encode()), header...)
}

// fetch posts as the pages' scripts do: the token in X-CSRF-Token, JSON
// back.
func (c *visitor) fetch(path string, form url.Values) (*http.Response, map[string]any) {
	c.t.Helper()
	resp, body := c.do(http.MethodPost, path, strings.NewReader(form.Encode()), csrfHeader, c.csrf, "Accept", "application/json")
	var out map[string]any
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		c.t.Fatalf("POST %s: %d, not JSON: %s", path, resp.StatusCode, body)
	}
	return resp, out
}

// signIn signs the client in and leaves it on the queue.
func (c *visitor) signIn(name, pw string) {
	c.t.Helper()
	c.get("/console/login")
	resp, body := c.post("/console/login", url.Values{"csrf": {c.csrf}, "name": {name}, "password": {pw}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console" {
		c.t.Fatalf("sign in as %s: %d\n%s", name, resp.StatusCode, body)
	}
	if resp, body := c.get("/console"); resp.StatusCode != http.StatusOK {
		c.t.Fatalf("queue after sign-in: %d\n%s", resp.StatusCode, body)
	}
}

// cookie returns the value of the client's cookie name for path.
func (c *visitor) cookie(path, name string) string {
	u, _ := url.Parse(c.base + path)
	for _, ck := range c.hc.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// stream is an open event stream.
type stream struct {
	t    testing.TB
	resp *http.Response
	r    *bufio.Reader
	body context.CancelFunc
}

// events opens the event stream at path with the client's cookies.
func (c *visitor) events(path string) *stream {
	c.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	req.Header.Set("Accept", "text/event-stream")
	hc := *c.hc
	hc.Timeout = 0
	resp, err := hc.Do(req)
	if err != nil {
		cancel()
		c.t.Fatal(err)
	}
	s := &stream{t: c.t, resp: resp, r: bufio.NewReader(resp.Body), body: cancel}
	c.t.Cleanup(s.close)
	return s
}

func (s *stream) close() {
	s.body()
	s.resp.Body.Close()
}

// next returns the next event's name and data, skipping comments and the
// retry line; it fails the test after wait.
func (s *stream) next(wait time.Duration) (event, data string) {
	s.t.Helper()
	type ev struct{ name, data string }
	got := make(chan ev, 1)
	fail := make(chan error, 1)
	go func() {
		var e ev
		for {
			line, err := s.r.ReadString('\n')
			if err != nil {
				fail <- err
				return
			}
			line = strings.TrimRight(line, "\n")
			switch {
			case strings.HasPrefix(line, "event: "):
				e.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				e.data = strings.TrimPrefix(line, "data: ")
			case line == "" && e.name != "":
				got <- e
				return
			}
		}
	}()
	select {
	case e := <-got:
		return e.name, e.data
	case err := <-fail:
		return "", "error: " + err.Error()
	case <-time.After(wait):
		s.t.Fatalf("no event within %s", wait)
		return "", ""
	}
}

// conversationOf reads a conversation back from the engine.
func (r *consoleRig) conversationOf(id string) *core.Conversation {
	r.t.Helper()
	c, err := r.engine.Conversation(ctx, id)
	if err != nil {
		r.t.Fatal(err)
	}
	return c
}

// issueFor is the request an agent makes for customer.
func issueFor(customer core.Endpoint) core.Request {
	return core.Request{Customer: customer, CustomerName: "Pat", Agent: "alice"}
}

// messagesOf selects a conversation's transcript.
func messagesOf(convID string) core.MessageFilter { return core.MessageFilter{ConversationID: convID} }

// remoteBot is the bot over a rig's engine.
func remoteBot(r *rig) *remote.Bot { return remote.New(r.engine, r.catalog) }
