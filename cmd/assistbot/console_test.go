package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/store/postgres/pgtest"
	"github.com/assistbot/assistbot/adapters/twilio/twiliotest"
	"github.com/assistbot/assistbot/config"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
)

var csrfRE = regexp.MustCompile(`(?:name="csrf" value|data-csrf)="([^"]+)"`)

// person is a browser without script: it keeps cookies (Secure ones too:
// the tests speak plain HTTP to a server whose public URL may be https)
// and follows no redirects.
type person struct {
	t       *testing.T
	base    string
	hc      *http.Client
	cookies map[string]string
	csrf    string
}

func newPerson(t *testing.T, base string) *person {
	return &person{t: t, base: base, cookies: map[string]string{}, hc: &http.Client{Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (p *person) send(method, path string, form url.Values) (int, string) {
	p.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, p.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for name, value := range p.cookies {
		req.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	resp, err := p.hc.Do(req)
	if err != nil {
		p.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.MaxAge < 0 {
			delete(p.cookies, c.Name)
		} else {
			p.cookies[c.Name] = c.Value
		}
	}
	b, _ := io.ReadAll(resp.Body)
	if m := csrfRE.FindSubmatch(b); m != nil {
		p.csrf = string(m[1])
	}
	return resp.StatusCode, string(b)
}

// signIn signs in and reports whether the console opened.
func (p *person) signIn(name, password string) bool {
	p.t.Helper()
	p.send("GET", "/console/login", nil)
	code, _ := p.send("POST", "/console/login", url.Values{"csrf": {p.csrf}, "name": {name}, "password": {password}})
	if code != http.StatusSeeOther {
		return false
	}
	code, _ = p.send("GET", "/console", nil)
	return code == http.StatusOK
}

// TestFirstAgent starts with no agents configured: serve prints a
// one-time sign-in on its output, never in the log, and it works.
func TestFirstAgent(t *testing.T) {
	var out, logs coretest.Buffer
	s := startMain(t, nil, &Main{Out: &out, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	m := regexp.MustCompile(`name: +admin\n +password: +(\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no one-time sign-in in the output:\n%s", out.String())
	}
	password := m[1]
	if strings.Contains(logs.String(), password) {
		t.Errorf("the password reached the log:\n%s", logs.String())
	}
	if !strings.Contains(out.String(), "/console\n") || !strings.Contains(out.String(), "assistbot agent add NAME") {
		t.Errorf("the output does not say where and what next:\n%s", out.String())
	}
	p := newPerson(t, s.url)
	if p.signIn("admin", "not-it") {
		t.Error("a wrong password opened the console")
	}
	if !p.signIn("admin", password) {
		t.Error("the printed password does not open the console")
	}
}

// TestAgentAdd runs "assistbot agent add" and uses its output as the
// configuration: the agent signs in with the password typed.
func TestAgentAdd(t *testing.T) {
	var out, errOut bytes.Buffer
	const pw = "correct horse battery"
	if code := agentCommand(context.Background(), []string{"add", "carol"}, strings.NewReader(pw+"\n"), &out, &errOut); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if strings.Contains(out.String(), pw) || errOut.Len() != 0 {
		t.Errorf("stdout %q, stderr %q", out.String(), errOut.String())
	}
	cfg, err := config.Load(strings.NewReader(out.String()), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("the output is not a configuration: %v\n%s", err, out.String())
	}
	if err := cfg.Validate(); err != nil || len(cfg.Console.Agents) != 1 || cfg.Console.Agents[0].Name != "carol" {
		t.Fatalf("agents %+v: %v", cfg.Console.Agents, err)
	}
	s := startMain(t, func(c *config.Config) { c.Console.Agents = cfg.Console.Agents }, &Main{})
	if !newPerson(t, s.url).signIn("carol", pw) {
		t.Error("carol cannot sign in with the password she typed")
	}

	for _, tc := range []struct {
		name  string
		args  []string
		stdin string
		code  int
		msg   string
	}{
		{"no subcommand", []string{}, "", exitUsage, "usage: assistbot agent add NAME"},
		{"no name", []string{"add"}, "", exitUsage, "usage"},
		{"name with a space", []string{"add", "carol smith"}, pw + "\n", exitUsage, "without spaces"},
		{"short password", []string{"add", "carol"}, "hunter2\n", exitFailed, "use at least 10"},
		{"nothing on stdin", []string{"add", "carol"}, "", exitFailed, "no password on standard input"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := agentCommand(context.Background(), tc.args, strings.NewReader(tc.stdin), &out, &errOut)
			if code != tc.code || !strings.Contains(errOut.String(), tc.msg) || out.Len() != 0 {
				t.Errorf("exit %d, stderr %q, stdout %q", code, errOut.String(), out.String())
			}
		})
	}
	if code, _, errOut := runCLI(t, nil, "agent"); code != exitUsage || !strings.Contains(errOut, "agent add NAME") {
		t.Errorf("assistbot agent: %d %q", code, errOut)
	}
	if _, helpOut, _ := runCLI(t, nil, "help"); !strings.Contains(helpOut, "agent add NAME") {
		t.Error("the usage does not list agent add")
	}
}

// runMain is startMain for tests that stop and start Main themselves.
func runMain(t *testing.T, cfg *config.Config) (m *Main, stop func()) {
	t.Helper()
	m = &Main{Config: cfg}
	ctx, cancel := context.WithCancel(context.Background())
	if err := m.Open(ctx); err != nil {
		t.Fatalf("Open: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	return m, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		m.Close()
	}
}

// TestChatSurvivesRestart: the customer's chat, with the agent's reply and
// the link sent, is there after assistbot restarts, and the customer goes
// on in the same conversation.
func TestChatSurvivesRestart(t *testing.T) {
	cfg := config.Default()
	cfg.Server.Listen = "127.0.0.1:0"
	cfg.Store.DSN = filepath.Join(t.TempDir(), "assistbot.db")
	cfg.Console.Agents = consoleAgents(t)
	m, stop := runMain(t, cfg)
	customer := newPerson(t, m.URL())
	customer.send("GET", "/chat", nil)
	if code, body := customer.send("POST", "/chat/messages", url.Values{"csrf": {customer.csrf}, "text": {"Is anyone there?"}, "name": {"Pat"}}); code != http.StatusSeeOther {
		t.Fatalf("write: %d %s", code, body)
	}
	convs, err := m.Engine().Conversations(context.Background(), core.ConversationFilter{DeskChannel: core.ChannelConsole})
	if err != nil || len(convs) != 1 {
		t.Fatalf("conversations on the console desk: %v %v", convs, err)
	}
	agent := newPerson(t, m.URL())
	agent.signIn("alice", alicePassword)
	if code, body := agent.send("POST", "/console/conversations/"+convs[0].ID+"/reply", url.Values{"csrf": {agent.csrf}, "text": {"Yes, Pat."}}); code != http.StatusSeeOther {
		t.Fatalf("reply: %d %s", code, body)
	}
	stop()

	m, stop = runMain(t, cfg)
	defer stop()
	customer.base = m.URL()
	code, page := customer.send("GET", "/chat", nil)
	if code != http.StatusOK || !strings.Contains(page, "Is anyone there?") || !strings.Contains(page, "Yes, Pat.") {
		t.Fatalf("after the restart the chat shows (%d):\n%s", code, page)
	}
	// The old page's token no longer verifies; the reloaded page's does.
	if code, _ := customer.send("POST", "/chat/messages", url.Values{"csrf": {customer.csrf}, "text": {"Thanks!"}}); code != http.StatusSeeOther {
		t.Errorf("write after the restart: %d", code)
	}
	msgs, _ := m.Engine().Messages(context.Background(), core.MessageFilter{ConversationID: convs[0].ID})
	if len(msgs) != 3 {
		t.Errorf("the conversation has %d messages, want 3 in one conversation", len(msgs))
	}
	// The agent's sign-in survived too: sign-ins live in the store.
	agent.base = m.URL()
	if code, _ := agent.send("GET", "/console", nil); code != http.StatusOK {
		t.Errorf("the agent was signed out by the restart: %d", code)
	}
}

// TestSMSInConsole runs twilio.desk: console through Main, against the
// fake Twilio API: a customer's text opens a conversation in the console;
// the agent answers it and sends the mobile link from the remote-session
// dialog, both by SMS; the desk's notices need no platform.
func TestSMSInConsole(t *testing.T) {
	var out coretest.Buffer
	s, fake := startSMS(t, &Main{Out: &out, PINs: coretest.NewPINs("345678")})
	m := regexp.MustCompile(`password: +(\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no one-time sign-in in:\n%s", out.String())
	}
	const customer = "+12015550123"
	if code, _ := s.twilioPost("/twilio/sms", twiliotest.Incoming("SM00000000000000000000000000000009", customer, smsNumber, "My screen is black")); code != http.StatusOK {
		t.Fatalf("incoming sms: %d", code)
	}
	agent := newPerson(t, s.url)
	if !agent.signIn("admin", m[1]) {
		t.Fatal("cannot sign in")
	}
	_, home := agent.send("GET", "/console", nil)
	id := regexp.MustCompile(`data-conversation="([^"]+)"`).FindStringSubmatch(home)
	if id == nil || !strings.Contains(home, "SMS") || !strings.Contains(home, "…0123") || strings.Contains(home, customer) {
		t.Fatalf("the console lists:\n%s", home)
	}
	_, page := agent.send("GET", "/console/conversations/"+id[1], nil)
	if !strings.Contains(page, "My screen is black") || !strings.Contains(page, "SMS conversation with …0123 (English)") {
		t.Errorf("the conversation page:\n%s", page)
	}

	if code, body := agent.send("POST", "/console/conversations/"+id[1]+"/reply", url.Values{"csrf": {agent.csrf}, "text": {"Let me look."}}); code != http.StatusSeeOther {
		t.Fatalf("reply: %d %s", code, body)
	}
	if got := fake.WaitSent(t, 1, 5*time.Second)[0].Form; got.Get("To") != customer || got.Get("Body") != "Let me look." {
		t.Errorf("reply sent as %v", got)
	}
	code, _ := agent.send("POST", "/console/conversations/"+id[1]+"/remote", url.Values{"csrf": {agent.csrf}})
	if code != http.StatusSeeOther {
		t.Fatalf("remote support: %d", code)
	}
	_, card := agent.send("GET", "/console/sessions/"+sessionOf(t, s, id[1]), nil)
	if !strings.Contains(card, "345678") || !strings.Contains(card, `class="btn primary">Send mobile link`) {
		t.Errorf("the card for an SMS customer:\n%s", card)
	}
	if code, body := agent.send("POST", "/console/sessions/"+sessionOf(t, s, id[1])+"/act", url.Values{"csrf": {agent.csrf}, "action": {"remote.send_mobile"}}); code != http.StatusSeeOther {
		t.Fatalf("send mobile link: %d %s", code, body)
	}
	link := fake.WaitSent(t, 2, 5*time.Second)[1].Form
	if want := s.catalog.T("en", "customer.link", "link", sessionLink(t, s, "345678", core.LinkMobile), "pin", "345678"); link.Get("Body") != want {
		t.Errorf("link sms %q, want %q", link.Get("Body"), want)
	}
	// The customer presses Start on the phone: the desk's notice goes to
	// the console, which takes it without any platform, and the queue
	// shows the customer waiting, view only.
	joinFrom(t, s, "345678", uaIPhone)
	sid := sessionOf(t, s, id[1])
	deadline := time.Now().Add(5 * time.Second)
	for {
		ds, _ := s.Engine().Deliveries(context.Background(), sid)
		if len(ds) == 2 && ds[0].To.Channel == core.ChannelConsole && ds[0].Status == core.DeliveryDelivered {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("desk notice: %+v", ds)
		}
		time.Sleep(10 * time.Millisecond)
	}
	_, home = agent.send("GET", "/console", nil)
	if !strings.Contains(home, "Mobile devices can be viewed but not controlled.") || strings.Contains(home, "remote.start_control") {
		t.Errorf("the queue with a phone waiting:\n%s", home)
	}
}

// sessionOf returns the id of a conversation's newest session.
func sessionOf(t *testing.T, s *server, convID string) string {
	t.Helper()
	list, err := s.Engine().Sessions(context.Background(), core.SessionFilter{ConversationID: convID, Limit: 1})
	if err != nil || len(list) != 1 {
		t.Fatalf("sessions of %s: %v %v", convID, list, err)
	}
	return list[0].ID
}

// TestConsoleDisabled: with console.enabled false neither the console nor
// the chat is served.
func TestConsoleDisabled(t *testing.T) {
	var out coretest.Buffer
	s := startMain(t, func(c *config.Config) { c.Console.Enabled = false }, &Main{Out: &out})
	for _, path := range []string{"/console", "/console/login", "/chat"} {
		if code, _ := get(t, http.DefaultClient, s.url+path); code != http.StatusNotFound {
			t.Errorf("%s: %d", path, code)
		}
	}
	if strings.Contains(out.String(), "password") {
		t.Errorf("a one-time sign-in was printed:\n%s", out.String())
	}
}

// TestWebChatOff: with console.web_chat false the chat is not served and
// the console does not offer the snippet that embeds it.
func TestWebChatOff(t *testing.T) {
	var out coretest.Buffer
	s := startMain(t, func(c *config.Config) {
		c.Console.WebChat = false
		c.Console.Agents = consoleAgents(t)
	}, &Main{Out: &out})
	for _, path := range []string{"/chat", "/chat/widget.js", "/chat/events", "/assets/chat.js"} {
		if code, _ := get(t, http.DefaultClient, s.url+path); code != http.StatusNotFound {
			t.Errorf("%s: %d", path, code)
		}
	}
	p := newPerson(t, s.url)
	if !p.signIn("alice", alicePassword) {
		t.Fatal("sign in")
	}
	if _, home := p.send("GET", "/console", nil); strings.Contains(home, "widget.js") {
		t.Error("the console offers the chat's snippet")
	}
	if strings.Contains(out.String(), "/chat") {
		t.Errorf("the banner names the chat:\n%s", out.String())
	}
}

// TestConsoleOnTwoReplicas runs two Mains on one PostgreSQL database, as
// two replicas behind a load balancer without sticky sessions: an agent
// signed in on one works on the other, with the first one's CSRF token;
// signing out on the other ends the sign-in on both.
func TestConsoleOnTwoReplicas(t *testing.T) {
	dsn := pgtest.Schema(t)
	agents := consoleAgents(t)
	replica := func() *server {
		return startMain(t, func(c *config.Config) {
			c.Store = config.Store{Driver: "postgres", DSN: dsn}
			c.Console.Agents = agents
		}, &Main{})
	}
	a, b := replica(), replica()
	customer := newPerson(t, a.url)
	customer.send("GET", "/chat", nil)
	if code, body := customer.send("POST", "/chat/messages", url.Values{"csrf": {customer.csrf}, "text": {"Hello?"}}); code != http.StatusSeeOther {
		t.Fatalf("write: %d %s", code, body)
	}
	convs, err := a.Engine().Conversations(context.Background(), core.ConversationFilter{State: core.ConversationOpen})
	if err != nil || len(convs) != 1 {
		t.Fatalf("conversations: %v %v", convs, err)
	}

	agent := newPerson(t, a.url)
	if !agent.signIn("alice", alicePassword) {
		t.Fatal("sign in on the first replica")
	}
	agent.base = b.url
	if code, _ := agent.send("GET", "/console/conversations/"+convs[0].ID, nil); code != http.StatusOK {
		t.Fatalf("the second replica: %d", code)
	}
	agent.base = a.url
	if code, _ := agent.send("GET", "/console", nil); code != http.StatusOK {
		t.Fatalf("back on the first: %d", code)
	}
	token := agent.csrf // the first replica's page's
	agent.base = b.url
	if code, body := agent.send("POST", "/console/conversations/"+convs[0].ID+"/reply", url.Values{"csrf": {token}, "text": {"Yes, here."}}); code != http.StatusSeeOther {
		t.Fatalf("reply on the second replica with the first one's token: %d %s", code, body)
	}
	cookie := agent.cookies["assistbot_console"]
	if code, _ := agent.send("POST", "/console/logout", url.Values{"csrf": {agent.csrf}}); code != http.StatusSeeOther {
		t.Fatalf("sign out on the second replica: %d", code)
	}
	for _, s := range []*server{a, b} {
		replay := newPerson(t, s.url)
		replay.cookies["assistbot_console"] = cookie
		if code, _ := replay.send("GET", "/console", nil); code != http.StatusSeeOther {
			t.Errorf("the cookie replayed at %s after the sign-out: %d", s.url, code)
		}
	}
}
