package console

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/web/webtest"
	"github.com/assistbot/assistbot/core"
)

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
	r := newRig(t)
	c := r.Visitor()
	signInAs(c, "alice", alicePW)

	desktop := r.waiting(pat, core.DeviceDesktop)
	r.Clock.Add(time.Minute)
	phone := r.waiting(core.Endpoint{Channel: core.ChannelSMS, Address: "+12015550199"}, core.DeviceMobile)
	pending, _, _ := r.Engine.Issue(ctx, issueFor(core.Endpoint{Channel: core.ChannelWeb, Address: "chat-1"}))
	r.Clock.Add(2 * time.Minute)

	resp, page := c.Get("/console/queue", csrfHeader, c.CSRF)
	webtest.WantStatus(t, resp, page, http.StatusOK)
	d, p := row(t, page, desktop.ID), row(t, page, phone.ID)
	webtest.WantContains(t, d, `value="remote.start_control"`, "Start (remote control)", "Start (view only)", "computer", "SMS", "Pat", "agent alice", "3 min")
	webtest.WantContains(t, p, `value="remote.start_view"`, "Mobile devices can be viewed but not controlled.", "phone or tablet", "2 min")
	webtest.WantNotContains(t, p, "remote.start_control", "Start (remote control)")
	// The provider offers remote control: only the device takes it away,
	// and the computer's row has no reason to give.
	webtest.WantNotContains(t, d, "Mobile devices can be viewed", "This provider offers view only")
	webtest.WantNotContains(t, p, "This provider offers view only")
	webtest.WantNotContains(t, page, "+12015550123", "+12015550199") // only masked numbers
	// Newest waiting first, then the link not used yet in its own group.
	if strings.Index(page, phone.ID) > strings.Index(page, desktop.ID) {
		t.Error("the older waiting session is listed first")
	}
	webtest.WantContains(t, row(t, page, pending.ID), "PIN issued", "web chat")
	if strings.Index(page, `data-group="pending"`) > strings.Index(page, pending.ID) {
		t.Error("the issued session is not under the links not used yet")
	}
	webtest.WantContains(t, page, `Customers waiting <span class="count some">2</span>`)
}

// TestQueueLogLink: each row of the queue links to its session's event
// log, the #log section of the session's page, which lists what happened.
func TestQueueLogLink(t *testing.T) {
	r := newRig(t)
	c := r.Visitor()
	signInAs(c, "alice", alicePW)
	s := r.waiting(pat, core.DeviceDesktop)
	_, page := c.Get("/console")
	link := regexp.MustCompile(`<a [^>]*href="([^"]*)"[^>]*>Event log</a>`).FindStringSubmatch(row(t, page, s.ID))
	if link == nil {
		t.Fatalf("the row has no Event log link:\n%s", row(t, page, s.ID))
	}
	u, err := url.Parse(link[1])
	if err != nil || u.Path != "/console/sessions/"+s.ID || u.Fragment != "log" {
		t.Fatalf("the Event log link leads to %q", link[1])
	}
	resp, target := c.Get(u.Path)
	webtest.WantStatus(t, resp, target, http.StatusOK)
	section := regexp.MustCompile(`(?s)<section [^>]*id="` + u.Fragment + `"[^>]*>.*?</section>`).FindString(target)
	if section == "" {
		t.Fatalf("the session's page has no element #%s:\n%s", u.Fragment, target)
	}
	webtest.WantContains(t, section, "Event log", "PIN issued", "Customer joined", "PIN issued → Customer is waiting", "from a desktop device")
}

// TestQueueViewOnlyProvider: a provider without remote control (the
// builtin one) offers view only, and says why, naming the providers that
// do offer it.
func TestQueueViewOnlyProvider(t *testing.T) {
	r := newRig(t)
	r.Provider.ModeList = []core.Mode{core.ModeView}
	c := r.Visitor()
	signInAs(c, "alice", alicePW)
	s := r.waiting(pat, core.DeviceDesktop)
	_, page := c.Get("/console")
	d := row(t, page, s.ID)
	webtest.WantContains(t, d, "This provider offers view only; remote control needs MeshCentral or LogMeIn Rescue.", `value="remote.start_view"`)
	webtest.WantNotContains(t, d, "remote.start_control")
}

// TestAct performs card buttons from the console, both ways a browser
// sends them.
func TestAct(t *testing.T) {
	r := newRig(t)
	c := r.Visitor()
	signInAs(c, "alice", alicePW)

	t.Run("form, start view only", func(t *testing.T) {
		s := r.waiting(pat, core.DeviceDesktop)
		resp, body := c.Post("/console/sessions/"+s.ID+"/act", url.Values{"csrf": {c.CSRF}, "action": {"remote.start_view"}, "return": {"/console"}})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console" {
			t.Fatalf("%d to %q: %s", resp.StatusCode, resp.Header.Get("Location"), body)
		}
		got := r.Session(s.ID)
		if got.State != core.StateActive || got.Mode != core.ModeView || got.Technician != "alice" {
			t.Errorf("after start: %+v", got)
		}
		resp, out := c.Fetch("/console/sessions/"+s.ID+"/act", url.Values{"action": {"remote.end"}})
		if resp.StatusCode != http.StatusOK || out["session"] != s.ID || r.Session(s.ID).State != core.StateEnded {
			t.Errorf("end: %d %v", resp.StatusCode, out)
		}
	})
	t.Run("refusals are explained", func(t *testing.T) {
		phone := r.waiting(core.Endpoint{Channel: core.ChannelSMS, Address: "+12015550198"}, core.DeviceMobile)
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
			resp, out := c.Fetch("/console/sessions/"+phone.ID+"/act", url.Values{"action": {tc.action}})
			if resp.StatusCode != tc.status || !strings.Contains(out["error"].(string), tc.msg) {
				t.Errorf("%s: %d %v", tc.action, resp.StatusCode, out)
			}
		}
		if r.Session(phone.ID).State != core.StateWaiting {
			t.Error("a refused action changed the session")
		}
		resp, body := c.Post("/console/sessions/"+phone.ID+"/act", url.Values{"csrf": {c.CSRF}, "action": {"remote.start_control"}})
		webtest.WantStatus(t, resp, body, http.StatusBadRequest)
		webtest.WantContains(t, body, "That did not work", `href="/console"`)
	})
	t.Run("unknown session", func(t *testing.T) {
		resp, out := c.Fetch("/console/sessions/nope/act", url.Values{"action": {"remote.end"}})
		if resp.StatusCode != http.StatusNotFound || out["error"] != "That remote support session no longer exists." {
			t.Errorf("%d %v", resp.StatusCode, out)
		}
		resp, body := c.Get("/console/sessions/nope")
		webtest.WantStatus(t, resp, body, http.StatusNotFound)
	})
	t.Run("GET changes nothing", func(t *testing.T) {
		s := r.waiting(pat, core.DeviceDesktop)
		resp, _ := c.Get("/console/sessions/" + s.ID + "/act?action=remote.close")
		if resp.StatusCode != http.StatusMethodNotAllowed || r.Session(s.ID).State != core.StateWaiting {
			t.Errorf("GET act: %d, session %s", resp.StatusCode, r.Session(s.ID).State)
		}
	})
}

// TestRemoteDialog opens the remote-session dialog of a conversation:
// the first time it issues a session, then it shows the same one, and it
// carries everything the agent needs.
func TestRemoteDialog(t *testing.T) {
	r := newRig(t)
	c := r.Visitor()
	signInAs(c, "alice", alicePW)
	conv, _, err := r.Engine.CustomerMessage(ctx, core.Inbound{Customer: pat, Text: "help", Desk: core.Endpoint{Channel: core.ChannelConsole}})
	if err != nil {
		t.Fatal(err)
	}
	s, card := r.openDialog(c, conv.ID, "alice")
	id := s.ID
	if _, again := c.Fetch("/console/conversations/"+conv.ID+"/remote", url.Values{}); again["session"] != id {
		t.Errorf("a second click issued %v", again["session"])
	}
	webtest.WantContains(t, card, s.PIN, "Desktop link", esc(s.DesktopURL), "Mobile link", esc(s.MobileURL), "Or enter the PIN at "+esc(s.ManualURL),
		`value="remote.send_desktop"`, `value="remote.send_mobile"`, `value="remote.regenerate"`, `value="remote.close"`,
		`method="dialog"`, "Done", "Customer: …0123", "Expires at 09:20 UTC")

	// Without script, the button leads to the session's page.
	resp, body := c.Post("/console/conversations/"+conv.ID+"/remote", url.Values{"csrf": {c.CSRF}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/sessions/"+id {
		t.Errorf("form: %d %s %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	resp, page := c.Get("/console/sessions/" + id)
	webtest.WantStatus(t, resp, page, http.StatusOK)
	webtest.WantContains(t, page, s.PIN, `id="session-chat"`, `id="log"`, "Event log", "PIN issued", "Agent alice")
}

// TestConversationPage shows a conversation with its transcript, replies
// from the console and the links sent, and closes it.
func TestConversationPage(t *testing.T) {
	r := newRig(t)
	c := r.Visitor()
	signInAs(c, "alice", alicePW)
	chat := core.Endpoint{Channel: core.ChannelWeb, Address: "AAAAAAAAAAAAAAAAAAAAAAAAAA"}
	conv, _, err := r.Engine.CustomerMessage(ctx, core.Inbound{Customer: chat, Name: "Pat", Text: "my <b>printer</b>", Desk: core.Endpoint{Channel: core.ChannelConsole}})
	if err != nil {
		t.Fatal(err)
	}
	_, list := c.Get("/console/conversations", csrfHeader, c.CSRF)
	webtest.WantContains(t, list, `data-conversation="`+conv.ID+`"`, "Pat", "web chat", "English")

	resp, out := c.Fetch("/console/conversations/"+conv.ID+"/reply", url.Values{"text": {"  On it.  "}, "id": {"r1"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("reply: %d %v", resp.StatusCode, out)
	}
	c.Fetch("/console/conversations/"+conv.ID+"/reply", url.Values{"text": {"On it."}, "id": {"r1"}}) // a retry
	for _, tc := range []struct{ text, msg string }{
		{"   ", "Please write a reply first."},
		{strings.Repeat("x", core.MaxMessageRunes+1), "The reply is too long"},
	} {
		resp, out := c.Fetch("/console/conversations/"+conv.ID+"/reply", url.Values{"text": {tc.text}})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(out["error"].(string), tc.msg) {
			t.Errorf("reply %q: %d %v", tc.text[:min(len(tc.text), 8)], resp.StatusCode, out)
		}
	}
	s, _, err := r.Engine.Issue(ctx, core.Request{ConversationID: conv.ID, Agent: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Engine.Send(ctx, s.ID, core.Actor{Kind: core.ActorAgent, Name: "alice"}, core.LinkDesktop); err != nil {
		t.Fatal(err)
	}
	resp, page := c.Get("/console/conversations/" + conv.ID)
	webtest.WantStatus(t, resp, page, http.StatusOK)
	webtest.WantContains(t, page, "web chat conversation with Pat (English)", "my &lt;b&gt;printer&lt;/b&gt;", "On it.", "alice",
		"Desktop link sent:", esc(s.DesktopURL), `id="remote-support"`, `id="reply-text"`, "Remote support sessions")
	if n := strings.Count(page, "On it."); n != 1 {
		t.Errorf("the reply shows %d times", n)
	}
	if msgs, _ := r.Engine.Messages(ctx, messagesOf(conv.ID)); len(msgs) != 2 || msgs[1].Author != "alice" || msgs[1].Direction != core.FromAgent {
		t.Errorf("transcript: %+v", msgs)
	}
	// The longest reply there may be, in Japanese (9 bytes a character in
	// the form).
	if resp, out := c.Fetch("/console/conversations/"+conv.ID+"/reply", url.Values{"text": {strings.Repeat("あ", core.MaxMessageRunes)}, "id": {"r2"}}); resp.StatusCode != http.StatusOK {
		t.Fatalf("a reply of %d Japanese characters: %d %v", core.MaxMessageRunes, resp.StatusCode, out)
	}

	resp, out = c.Fetch("/console/conversations/"+conv.ID+"/close", url.Values{})
	if resp.StatusCode != http.StatusOK || r.Conversation(conv.ID).State != core.ConversationClosed {
		t.Fatalf("close: %d %v", resp.StatusCode, out)
	}
	_, page = c.Get("/console/conversations/" + conv.ID)
	webtest.WantContains(t, page, "Conversation closed.")
	webtest.WantNotContains(t, page, `id="remote-support"`, `id="reply-text"`)
	_, list = c.Get("/console/conversations", csrfHeader, c.CSRF)
	webtest.WantNotContains(t, list, conv.ID)
}

// TestConsoleDesk: a conversation followed on the console desk (web chat,
// or SMS with twilio.desk console) gets its desk notices delivered
// without any platform, and shows in the console.
func TestConsoleDesk(t *testing.T) {
	r := newRig(t)
	c := r.Visitor()
	signInAs(c, "alice", alicePW)
	conv, _, err := r.Engine.CustomerMessage(ctx, core.Inbound{Customer: pat, Text: "STOP? no, help", Desk: core.Endpoint{Channel: core.ChannelConsole}})
	if err != nil {
		t.Fatal(err)
	}
	_, list := c.Get("/console/conversations", csrfHeader, c.CSRF)
	webtest.WantContains(t, list, conv.ID, "SMS", "…0123")
	webtest.WantNotContains(t, list, "+12015550123")
	s, _, err := r.Engine.Issue(ctx, core.Request{ConversationID: conv.ID, Agent: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Engine.Join(ctx, s.PIN, core.DeviceDesktop); err != nil {
		t.Fatal(err)
	}
	webtest.WaitFor(t, "the desk notice delivered", func() bool {
		ds, _ := r.Engine.Deliveries(ctx, s.ID)
		return len(ds) == 1 && ds[0].To.Channel == core.ChannelConsole && ds[0].Status == core.DeliveryDelivered
	})
}

// TestConsoleLanguage renders the console in the agent's language.
func TestConsoleLanguage(t *testing.T) {
	r := newRig(t)
	c := r.Visitor()
	c.Lang = "ko-KR,ko;q=0.9"
	signInAs(c, "alice", alicePW)
	s := r.waiting(pat, core.DeviceMobile)
	_, page := c.Get("/console")
	webtest.WantContains(t, page, `<html lang="ko">`, "원격 지원 대기열", "대기 중인 고객", r.Catalog.T("ko", "alert.view_only_mobile"), r.Catalog.T("ko", "alert.start_view"), "로그아웃")
	_, card := c.Get("/console/sessions/"+s.ID, csrfHeader, c.CSRF)
	webtest.WantContains(t, card, r.Catalog.T("ko", "console.action.join"), r.Catalog.T("ko", "console.actor.customer"))
}

// TestEventLog shows a session's audit trail in the agent's words,
// including entries that change no state.
func TestEventLog(t *testing.T) {
	r := newRig(t)
	c := r.Visitor()
	signInAs(c, "alice", alicePW)
	s := r.waiting(pat, core.DeviceDesktop)
	if _, err := r.Engine.Start(ctx, s.ID, core.Actor{Kind: core.ActorTechnician, Name: "tom"}, core.ModeView); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Engine.Record(ctx, s.ID, core.Actor{Kind: core.ActorCustomer}, core.ActionShareStart, "screen"); err != nil {
		t.Fatal(err)
	}
	resp, log := c.Get("/console/sessions/"+s.ID+"/log", csrfHeader, c.CSRF)
	webtest.WantStatus(t, resp, log, http.StatusOK)
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

// TestCloseSaysWhatItDoes: the card's Close says what it does in the
// console, where the remote-session dialog also has Done (which only
// closes the dialog, in its foot): "Revoke code" while the code works,
// "Cancel session" for a customer waiting, and nothing for an expired
// code, which has nothing left to close.
func TestCloseSaysWhatItDoes(t *testing.T) {
	r := newRig(t)
	c := r.Visitor()
	signInAs(c, "alice", alicePW)
	conv, _, err := r.Engine.CustomerMessage(ctx, core.Inbound{Customer: pat, Text: "help", Desk: core.Endpoint{Channel: core.ChannelConsole}})
	if err != nil {
		t.Fatal(err)
	}
	s, card := r.openDialog(c, conv.ID, "alice")
	webtest.WantContains(t, card, `value="remote.close" class="btn danger">Revoke code</button>`,
		`<div class="dialog-foot">`, `id="dialog-done">Done</button>`)
	webtest.WantNotContains(t, card, ">Close<")

	waiting := r.waiting(core.Endpoint{Channel: core.ChannelSMS, Address: "+12015550177"}, core.DeviceDesktop)
	_, page := c.Get("/console")
	webtest.WantContains(t, row(t, page, waiting.ID), `value="remote.close" class="btn danger">Cancel session</button>`)

	r.Clock.Add(time.Hour)
	_, expired := c.Get("/console/sessions/" + s.ID)
	webtest.WantContains(t, expired, `value="remote.regenerate"`)
	webtest.WantNotContains(t, expired, `value="remote.close"`)
}

// TestTimesSayTheirZone: the server writes every time in UTC and says so;
// the page's script shows them in the agent's zone, the expiry as "(your
// time)", from the ISO time each carries.
func TestTimesSayTheirZone(t *testing.T) {
	r := newRig(t)
	c := r.Visitor()
	signInAs(c, "alice", alicePW)
	s := r.waiting(pat, core.DeviceDesktop)
	issued, _, err := r.Engine.Issue(ctx, issueFor(core.Endpoint{Channel: core.ChannelSMS, Address: "+12015550166"}))
	if err != nil {
		t.Fatal(err)
	}
	_, card := c.Get("/console/sessions/"+issued.ID+"/card", csrfHeader, c.CSRF)
	webtest.WantContains(t, card, `<time datetime="2026-11-25T09:20:00Z" data-expires>Expires at 09:20 UTC</time>`)
	_, page := c.Get("/console/sessions/" + s.ID)
	webtest.WantContains(t, page, `<th scope="col" data-zone="Time (your time)">Time (UTC)</th>`,
		`<time datetime="2026-11-25T09:00:00Z" data-clock="seconds">09:00:00 UTC</time>`,
		`"expires_local":"Expires at {time} (your time)"`)
}

// TestSessionPageHeadings: a session's page has a main heading and no
// heading without content under it; the conversation's list of sessions
// is on the conversation's page, not on a session's, which is about one.
func TestSessionPageHeadings(t *testing.T) {
	r := newRig(t)
	c := r.Visitor()
	signInAs(c, "alice", alicePW)
	s := r.waiting(pat, core.DeviceDesktop)
	emptyHeading := regexp.MustCompile(`<h[1-6][^>]*>\s*</h[1-6]>`)
	_, page := c.Get("/console/sessions/" + s.ID)
	webtest.WantContains(t, page, `<h1 class="visually-hidden">Remote support · Customer is waiting</h1>`,
		`data-region="/console/conversations/`+s.ConversationID+`/transcript?sessions=0"`)
	webtest.WantNotContains(t, page, "Remote support sessions")
	_, region := c.Get("/console/conversations/"+s.ConversationID+"/transcript?sessions=0", csrfHeader, c.CSRF)
	webtest.WantNotContains(t, region, "Remote support sessions")
	_, conv := c.Get("/console/conversations/" + s.ConversationID)
	webtest.WantContains(t, conv, `<h2 class="sub">Remote support sessions</h2>`, `href="/console/sessions/`+s.ID+`"`,
		// The id a script gives the API as conversation_id.
		`<p class="meta" id="conversation-id">Conversation id for the API: `+s.ConversationID+`</p>`)
	for name, p := range map[string]string{"session": page, "conversation": conv, "region": region} {
		if m := emptyHeading.FindString(p); m != "" {
			t.Errorf("the %s page has an empty heading: %s", name, m)
		}
	}
}
