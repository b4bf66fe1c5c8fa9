package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/core"
)

// waiting issues a session for customer and joins it from a browser with
// User-Agent ua, so it waits in the queue.
func (r *consoleRig) waiting(customer core.Endpoint, ua string) *core.Session {
	r.t.Helper()
	s, _, err := r.engine.Issue(ctx, issueFor(customer))
	if err != nil {
		r.t.Fatal(err)
	}
	resp, body := r.join(s.PIN, "User-Agent", ua)
	if resp.StatusCode != http.StatusSeeOther {
		r.t.Fatalf("join: %d %s", resp.StatusCode, body)
	}
	return r.session(s.ID)
}

// row returns the queue row of session id in page.
func row(t *testing.T, page, id string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<li class="row[^"]*" data-session="` + id + `".*?</li>`).FindString(page)
	if m == "" {
		t.Fatalf("no row for %s in:\n%s", id, page)
	}
	return m
}

// TestQueue checks the queue's groups and the start buttons each waiting
// session offers: remote control for a computer, view only with the
// reason for a phone.
func TestQueue(t *testing.T) {
	r := newConsoleRig(t)
	c := r.visitor()
	c.signIn("alice", alicePW)

	desktop := r.waiting(pat, uaDesktop)
	r.clock.Add(time.Minute)
	phone := r.waiting(core.Endpoint{Channel: core.ChannelSMS, Address: "+12015550199"}, uaIPhone)
	pending, _, _ := r.engine.Issue(ctx, issueFor(core.Endpoint{Channel: core.ChannelWeb, Address: "chat-1"}))
	r.clock.Add(2 * time.Minute)

	resp, page := c.get("/console/queue", csrfHeader, c.csrf)
	wantStatus(t, resp, page, http.StatusOK)
	d, p := row(t, page, desktop.ID), row(t, page, phone.ID)
	wantContains(t, d, `value="remote.start_control"`, "Start (remote control)", "Start (view only)", "computer", "SMS", "Pat", "agent alice", "3 min")
	wantContains(t, p, `value="remote.start_view"`, "Mobile devices can be viewed but not controlled.", "phone or tablet", "2 min")
	wantNotContains(t, p, "remote.start_control", "Start (remote control)")
	// The provider offers remote control: only the device takes it away,
	// and the computer's row has no reason to give.
	wantNotContains(t, d, "Mobile devices can be viewed", "This provider offers view only")
	wantNotContains(t, p, "This provider offers view only")
	wantNotContains(t, page, "+12015550123", "+12015550199") // only masked numbers
	// Newest waiting first, then the link not used yet in its own group.
	if strings.Index(page, phone.ID) > strings.Index(page, desktop.ID) {
		t.Error("the older waiting session is listed first")
	}
	wantContains(t, row(t, page, pending.ID), "PIN issued", "web chat")
	if strings.Index(page, `data-group="pending"`) > strings.Index(page, pending.ID) {
		t.Error("the issued session is not under the links not used yet")
	}
	wantContains(t, page, `Customers waiting <span class="count some">2</span>`)
}

// TestQueueLogLink: each row of the queue links to its session's event
// log, the #log section of the session's page, which lists what happened.
func TestQueueLogLink(t *testing.T) {
	r := newConsoleRig(t)
	c := r.visitor()
	c.signIn("alice", alicePW)
	s := r.waiting(pat, uaDesktop)
	_, page := c.get("/console")
	link := regexp.MustCompile(`<a [^>]*href="([^"]*)"[^>]*>Event log</a>`).FindStringSubmatch(row(t, page, s.ID))
	if link == nil {
		t.Fatalf("the row has no Event log link:\n%s", row(t, page, s.ID))
	}
	u, err := url.Parse(link[1])
	if err != nil || u.Path != "/console/sessions/"+s.ID || u.Fragment != "log" {
		t.Fatalf("the Event log link leads to %q", link[1])
	}
	resp, target := c.get(u.Path)
	wantStatus(t, resp, target, http.StatusOK)
	section := regexp.MustCompile(`(?s)<section [^>]*id="` + u.Fragment + `"[^>]*>.*?</section>`).FindString(target)
	if section == "" {
		t.Fatalf("the session's page has no element #%s:\n%s", u.Fragment, target)
	}
	wantContains(t, section, "Event log", "PIN issued", "Customer joined", "PIN issued → Customer is waiting", "from a desktop device")
}

// TestQueueViewOnlyProvider: a provider without remote control (the
// builtin one) offers view only, and says why.
func TestQueueViewOnlyProvider(t *testing.T) {
	r := newConsoleRig(t)
	r.provider.ModeList = []core.Mode{core.ModeView}
	c := r.visitor()
	c.signIn("alice", alicePW)
	s := r.waiting(pat, uaDesktop)
	_, page := c.get("/console")
	d := row(t, page, s.ID)
	wantContains(t, d, "This provider offers view only; remote control needs LogMeIn Rescue.", `value="remote.start_view"`)
	wantNotContains(t, d, "remote.start_control")
}

// TestAct performs card buttons from the console, both ways a browser
// sends them.
func TestAct(t *testing.T) {
	r := newConsoleRig(t)
	c := r.visitor()
	c.signIn("alice", alicePW)

	t.Run("form, start view only", func(t *testing.T) {
		s := r.waiting(pat, uaDesktop)
		resp, body := c.post("/console/sessions/"+s.ID+"/act", url.Values{"csrf": {c.csrf}, "action": {"remote.start_view"}, "return": {"/console"}})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console" {
			t.Fatalf("%d to %q: %s", resp.StatusCode, resp.Header.Get("Location"), body)
		}
		got := r.session(s.ID)
		if got.State != core.StateActive || got.Mode != core.ModeView || got.Technician != "alice" {
			t.Errorf("after start: %+v", got)
		}
		resp, out := c.fetch("/console/sessions/"+s.ID+"/act", url.Values{"action": {"remote.end"}})
		if resp.StatusCode != http.StatusOK || out["session"] != s.ID || r.session(s.ID).State != core.StateEnded {
			t.Errorf("end: %d %v", resp.StatusCode, out)
		}
	})
	t.Run("refusals are explained", func(t *testing.T) {
		phone := r.waiting(core.Endpoint{Channel: core.ChannelSMS, Address: "+12015550198"}, uaIPhone)
		for _, tc := range []struct {
			action string
			status int
			msg    string
		}{
			{"remote.start_control", http.StatusBadRequest, "a mobile device can be viewed but not controlled"},
			{"remote.send_desktop", http.StatusConflict, "This session is Customer is waiting, so that is not possible now."},
			{"remote.frobnicate", http.StatusBadRequest, "unknown action"},
			{"", http.StatusBadRequest, "The form could not be read."},
		} {
			resp, out := c.fetch("/console/sessions/"+phone.ID+"/act", url.Values{"action": {tc.action}})
			if resp.StatusCode != tc.status || !strings.Contains(out["error"].(string), tc.msg) {
				t.Errorf("%s: %d %v", tc.action, resp.StatusCode, out)
			}
		}
		if r.session(phone.ID).State != core.StateWaiting {
			t.Error("a refused action changed the session")
		}
		resp, body := c.post("/console/sessions/"+phone.ID+"/act", url.Values{"csrf": {c.csrf}, "action": {"remote.start_control"}})
		wantStatus(t, resp, body, http.StatusBadRequest)
		wantContains(t, body, "That did not work", `href="/console"`)
	})
	t.Run("unknown session", func(t *testing.T) {
		resp, out := c.fetch("/console/sessions/nope/act", url.Values{"action": {"remote.end"}})
		if resp.StatusCode != http.StatusNotFound || out["error"] != "That remote support session no longer exists." {
			t.Errorf("%d %v", resp.StatusCode, out)
		}
		resp, body := c.get("/console/sessions/nope")
		wantStatus(t, resp, body, http.StatusNotFound)
	})
	t.Run("GET changes nothing", func(t *testing.T) {
		s := r.waiting(pat, uaDesktop)
		resp, _ := c.get("/console/sessions/" + s.ID + "/act?action=remote.close")
		if resp.StatusCode != http.StatusMethodNotAllowed || r.session(s.ID).State != core.StateWaiting {
			t.Errorf("GET act: %d, session %s", resp.StatusCode, r.session(s.ID).State)
		}
	})
}

// TestRemoteDialog opens the remote-session dialog of a conversation:
// the first time it issues a session, then it shows the same one, and it
// carries everything the agent needs.
func TestRemoteDialog(t *testing.T) {
	r := newConsoleRig(t)
	c := r.visitor()
	c.signIn("alice", alicePW)
	conv, _, err := r.engine.CustomerMessage(ctx, core.Inbound{Customer: pat, Text: "help", Desk: core.Endpoint{Channel: core.ChannelConsole}})
	if err != nil {
		t.Fatal(err)
	}
	s, card := r.openDialog(c, conv.ID, "alice")
	id := s.ID
	if _, again := c.fetch("/console/conversations/"+conv.ID+"/remote", url.Values{}); again["session"] != id {
		t.Errorf("a second click issued %v", again["session"])
	}
	wantContains(t, card, s.PIN, "Desktop link", esc(s.DesktopURL), "Mobile link", esc(s.MobileURL), "Or enter the PIN at "+esc(s.ManualURL),
		`value="remote.send_desktop"`, `value="remote.send_mobile"`, `value="remote.regenerate"`, `value="remote.close"`,
		`method="dialog"`, "Done", "Customer: …0123", "Expires at 09:20 UTC")

	// Without script, the button leads to the session's page.
	resp, body := c.post("/console/conversations/"+conv.ID+"/remote", url.Values{"csrf": {c.csrf}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/sessions/"+id {
		t.Errorf("form: %d %s %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	resp, page := c.get("/console/sessions/" + id)
	wantStatus(t, resp, page, http.StatusOK)
	wantContains(t, page, s.PIN, `id="session-chat"`, `id="log"`, "Event log", "PIN issued", "Agent alice")
}

// TestConversationPage shows a conversation with its transcript, replies
// from the console and the links sent, and closes it.
func TestConversationPage(t *testing.T) {
	r := newConsoleRig(t)
	c := r.visitor()
	c.signIn("alice", alicePW)
	chat := core.Endpoint{Channel: core.ChannelWeb, Address: "AAAAAAAAAAAAAAAAAAAAAAAAAA"}
	conv, _, err := r.engine.CustomerMessage(ctx, core.Inbound{Customer: chat, Name: "Pat", Text: "my <b>printer</b>", Desk: core.Endpoint{Channel: core.ChannelConsole}})
	if err != nil {
		t.Fatal(err)
	}
	_, list := c.get("/console/conversations", csrfHeader, c.csrf)
	wantContains(t, list, `data-conversation="`+conv.ID+`"`, "Pat", "web chat", "English")

	resp, out := c.fetch("/console/conversations/"+conv.ID+"/reply", url.Values{"text": {"  On it.  "}, "id": {"r1"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("reply: %d %v", resp.StatusCode, out)
	}
	c.fetch("/console/conversations/"+conv.ID+"/reply", url.Values{"text": {"On it."}, "id": {"r1"}}) // a retry
	for _, tc := range []struct{ text, msg string }{
		{"   ", "Please write a reply first."},
		{strings.Repeat("x", core.MaxMessageRunes+1), "The reply is too long"},
	} {
		resp, out := c.fetch("/console/conversations/"+conv.ID+"/reply", url.Values{"text": {tc.text}})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(out["error"].(string), tc.msg) {
			t.Errorf("reply %q: %d %v", tc.text[:min(len(tc.text), 8)], resp.StatusCode, out)
		}
	}
	s, _, err := r.engine.Issue(ctx, core.Request{ConversationID: conv.ID, Agent: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.engine.Send(ctx, s.ID, core.Actor{Kind: core.ActorAgent, Name: "alice"}, core.LinkDesktop); err != nil {
		t.Fatal(err)
	}
	resp, page := c.get("/console/conversations/" + conv.ID)
	wantStatus(t, resp, page, http.StatusOK)
	wantContains(t, page, "web chat conversation with Pat (English)", "my &lt;b&gt;printer&lt;/b&gt;", "On it.", "alice",
		"Desktop link sent:", esc(s.DesktopURL), `id="remote-support"`, `id="reply-text"`, "Remote support sessions")
	if n := strings.Count(page, "On it."); n != 1 {
		t.Errorf("the reply shows %d times", n)
	}
	if msgs, _ := r.engine.Messages(ctx, messagesOf(conv.ID)); len(msgs) != 2 || msgs[1].Author != "alice" || msgs[1].Direction != core.FromAgent {
		t.Errorf("transcript: %+v", msgs)
	}

	resp, out = c.fetch("/console/conversations/"+conv.ID+"/close", url.Values{})
	if resp.StatusCode != http.StatusOK || r.conversationOf(conv.ID).State != core.ConversationClosed {
		t.Fatalf("close: %d %v", resp.StatusCode, out)
	}
	_, page = c.get("/console/conversations/" + conv.ID)
	wantContains(t, page, "Conversation closed.")
	wantNotContains(t, page, `id="remote-support"`, `id="reply-text"`)
	_, list = c.get("/console/conversations", csrfHeader, c.csrf)
	wantNotContains(t, list, conv.ID)
}

// TestConsoleDesk: a conversation followed on the console desk (web chat,
// or SMS with twilio.desk console) gets its desk notices delivered
// without any platform, and shows in the console.
func TestConsoleDesk(t *testing.T) {
	r := newConsoleRig(t)
	c := r.visitor()
	c.signIn("alice", alicePW)
	conv, _, err := r.engine.CustomerMessage(ctx, core.Inbound{Customer: pat, Text: "STOP? no, help", Desk: core.Endpoint{Channel: core.ChannelConsole}})
	if err != nil {
		t.Fatal(err)
	}
	_, list := c.get("/console/conversations", csrfHeader, c.csrf)
	wantContains(t, list, conv.ID, "SMS", "…0123")
	wantNotContains(t, list, "+12015550123")
	s, _, err := r.engine.Issue(ctx, core.Request{ConversationID: conv.ID, Agent: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.engine.Join(ctx, s.PIN, core.DeviceDesktop); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the desk notice delivered", func() bool {
		ds, _ := r.engine.Deliveries(ctx, s.ID)
		return len(ds) == 1 && ds[0].To.Channel == core.ChannelConsole && ds[0].Status == core.DeliveryDelivered
	})
}

// TestConsoleLanguage renders the console in the agent's language.
func TestConsoleLanguage(t *testing.T) {
	r := newConsoleRig(t)
	c := r.visitor()
	c.lang = "ko-KR,ko;q=0.9"
	c.signIn("alice", alicePW)
	s := r.waiting(pat, uaIPhone)
	_, page := c.get("/console")
	wantContains(t, page, `<html lang="ko">`, "원격 지원 대기열", "대기 중인 고객", r.catalog.T("ko", "alert.view_only_mobile"), r.catalog.T("ko", "alert.start_view"), "로그아웃")
	_, card := c.get("/console/sessions/"+s.ID, csrfHeader, c.csrf)
	wantContains(t, card, r.catalog.T("ko", "console.action.join"), r.catalog.T("ko", "console.actor.customer"))
}

// waitFor polls cond until it holds, failing the test after a deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestEventLog shows a session's audit trail in the agent's words,
// including entries that change no state.
func TestEventLog(t *testing.T) {
	r := newConsoleRig(t)
	c := r.visitor()
	c.signIn("alice", alicePW)
	s := r.waiting(pat, uaDesktop)
	if _, err := r.engine.Start(ctx, s.ID, core.Actor{Kind: core.ActorTechnician, Name: "tom"}, core.ModeView); err != nil {
		t.Fatal(err)
	}
	if _, err := r.engine.Record(ctx, s.ID, core.Actor{Kind: core.ActorCustomer}, core.ActionShareStart, "screen"); err != nil {
		t.Fatal(err)
	}
	resp, log := c.get("/console/sessions/"+s.ID+"/log", csrfHeader, c.csrf)
	wantStatus(t, resp, log, http.StatusOK)
	rows := regexp.MustCompile(`(?s)<tr><td>.*?</tr>`).FindAllString(log, -1)
	want := []string{
		"Agent alice</td><td>PIN issued</td><td>PIN issued</td><td>customer sms:…0123",
		"Customer</td><td>Customer joined</td><td>PIN issued → Customer is waiting</td><td>from a desktop device",
		"Technician tom</td><td>Session started</td><td>Customer is waiting → In progress</td><td>view",
		"Customer</td><td>Screen sharing started</td><td>In progress</td><td>screen",
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows:\n%s", len(rows), log)
	}
	for i, w := range want {
		if !strings.Contains(rows[i], w) {
			t.Errorf("row %d = %s\nwant %s", i, rows[i], w)
		}
	}
}
