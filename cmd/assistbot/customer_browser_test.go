package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/device"

	"github.com/assistbot/assistbot/adapters/portal"
	"github.com/assistbot/assistbot/adapters/provider/builtin"
	"github.com/assistbot/assistbot/config"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
)

// The customer's side of a session, in a real browser: the web chat,
// the link, the portal's pages, the share page and the page of a
// provider's own program, each saying at every step only what is true.

// sessionLink returns the link of kind of the live session with pin, as
// assistbot sends it: with the proof beside the PIN that the portal
// lets in without counting it as a guess.
func sessionLink(t *testing.T, s *server, pin string, kind core.LinkKind) string {
	t.Helper()
	sess, err := s.engine.SessionByPIN(context.Background(), pin)
	if err != nil {
		t.Fatalf("the session of pin %s: %v", pin, err)
	}
	return sess.Link(kind)
}

// falseClaims are what no customer page may say before it is true (the
// technician sees or controls nothing until the customer shares or
// accepts), nor, about the builtin provider, ever.
var falseClaims = []string{"can see your screen", "can connect to this computer", "is connected", "can control this computer"}

// wantText waits until the element sel of the page of ctx says want,
// and fails with what it says otherwise. The page may load afresh
// meanwhile (it follows its session), so each look is on its own.
func wantText(t *testing.T, ctx context.Context, what, sel, want string) {
	t.Helper()
	q := strconv.Quote(sel)
	expr := `(() => { const e = document.querySelector(` + q + `); return e ? e.textContent.trim() : "nothing: no " + ` + q + `; })()`
	got := ""
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		tctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		text, err := chromedp.Run(tctx, chromedp.Evaluate[string](expr))
		cancel()
		if err != nil {
			continue
		}
		if got = text; got == want {
			return
		}
	}
	t.Fatalf("%s: %s says %q, want %q", what, sel, got, want)
}

// wantNoFalseClaims fails the test if the page of ctx, as the customer
// reads it, says any of falseClaims, or any of more.
func wantNoFalseClaims(t *testing.T, ctx context.Context, what string, more ...string) {
	t.Helper()
	text := value(t, ctx, what, chromedp.Evaluate[string](`document.body.innerText`))
	for _, claim := range append(falseClaims, more...) {
		if strings.Contains(text, claim) {
			t.Errorf("%s: the page says %q:\n%s", what, claim, text)
		}
	}
}

// chatWithSupport opens the web chat in the browser of customer and
// writes, and returns the conversation it opened.
func chatWithSupport(t *testing.T, s *server, customer context.Context) *core.Conversation {
	t.Helper()
	do(t, customer, "write in the chat",
		chromedp.Navigate(s.url+"/chat"),
		chromedp.WaitVisible(css("#chat-text")),
		chromedp.SendKeys(css("#chat-text"), "My screen is frozen"),
		chromedp.Click(css("#compose button.send")),
		chromedp.WaitVisible(css("#transcript li.msg.in")),
	)
	value(t, customer, "the chat listens", chromedp.Poll[bool](`document.body.dataset.live === "on"`, chromedp.WithPollingTimeout(10*time.Second)))
	convs, err := s.engine.Conversations(context.Background(), core.ConversationFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range convs {
		if c.Customer.Channel == core.ChannelWeb {
			return c
		}
	}
	t.Fatal("the chat opened no conversation")
	return nil
}

// sendLink issues a session for the conversation, as alice, and sends
// its link of kind; it returns the session.
func sendLink(t *testing.T, s *server, conv *core.Conversation, kind core.LinkKind) *core.Session {
	t.Helper()
	ctx := context.Background()
	alice := core.Actor{Kind: core.ActorAgent, Name: "alice"}
	sess, _, err := s.engine.Issue(ctx, core.Request{ConversationID: conv.ID, Agent: alice.Name})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.engine.Send(ctx, sess.ID, alice, kind); err != nil {
		t.Fatal(err)
	}
	return sess
}

// chatLink waits for the link in the chat and returns where it leads.
func chatLink(t *testing.T, customer context.Context) string {
	t.Helper()
	do(t, customer, "link in the chat", chromedp.WaitVisible(css("#transcript a[data-link]")))
	return value(t, customer, "link", chromedp.AttributeValue(css("#transcript a[data-link]"), "href")).Value
}

// TestCustomerPagesBuiltinInBrowser walks a web chat customer's session
// with the builtin provider, from the invitation to its end, in a real
// browser with a fake screen: the chat, the landing page, the status
// page and the share page each say what is true at every step: invited
// (press Start, then share your screen), waiting for the technician,
// watching what you share but seeing nothing yet, sharing, not sharing,
// ended — when the open share page drops its prompt at once.
func TestCustomerPagesBuiltinInBrowser(t *testing.T) {
	s := startConsole(t, "246802")
	T := func(key string) string { return s.catalog.T("en", key) }
	customer := mediaBrowser(t, "customer")
	conv := chatWithSupport(t, s, customer)
	sess := sendLink(t, s, conv, core.LinkDesktop)

	link := chatLink(t, customer)
	if want := sessionLink(t, s, "246802", core.LinkDesktop); link != want || !strings.Contains(link, "&k=") {
		t.Fatalf("the chat's link is %q, want %q with its proof", link, want)
	}
	if n := value(t, customer, "chat status before joining", chromedp.Evaluate[int](`document.querySelectorAll("#chat-status").length`)); n != 0 {
		t.Errorf("before the customer joined, the chat has a status line")
	}

	// Invited: the landing page says what Start will do with this
	// provider: share the screen, which the technician only watches.
	portal := tab(t, customer, "customer's portal", false)
	do(t, portal, "open the link", chromedp.Navigate(link), chromedp.WaitVisible(css(`form[action="/join"] button`)))
	wantText(t, portal, "landing", "main h1", T("portal.landing.heading"))
	landing := value(t, portal, "landing text", chromedp.Evaluate[string](`document.body.innerText`))
	if !strings.Contains(landing, T("portal.landing.next_share")) {
		t.Errorf("the landing page does not say the customer will be asked to share:\n%s", landing)
	}
	wantNoFalseClaims(t, portal, "landing")

	// Waiting for the technician, on the page and in the chat.
	do(t, portal, "press Start", chromedp.Click(css(`form[action="/join"] button`)), chromedp.WaitVisible(css(".status-waiting")))
	wantText(t, portal, "waiting", "#status", T("portal.status.waiting"))
	wantText(t, customer, "chat while waiting", "#chat-status", T("portal.status.waiting"))
	wantNoFalseClaims(t, portal, "waiting")

	// The technician starts view only: the open page turns into the
	// share page by itself, and says that nothing is seen yet.
	if code := s.api("POST", "/api/v1/sessions/"+sess.ID+"/start", `{"mode":"view"}`, nil); code != http.StatusOK {
		t.Fatalf("start: %d", code)
	}
	do(t, portal, "the share page", chromedp.WaitVisible(css("#share-start")))
	wantText(t, portal, "started, nothing shared", "#status", T("share.ready_screen"))
	wantText(t, customer, "chat, nothing shared", "#chat-status", T("share.ready_screen"))
	do(t, customer, "the chat's way to the share page", chromedp.WaitVisible(css("#chat-share")))
	wantNoFalseClaims(t, portal, "started, nothing shared")

	// Sharing, then not.
	do(t, portal, "share", chromedp.Click(css("#share-start")), chromedp.WaitVisible(css("#share-indicator")))
	wantText(t, portal, "sharing", "#status", T("share.sharing_screen"))
	wantText(t, customer, "chat while sharing", "#chat-status", T("share.sharing_screen"))
	// The preview's picture arriving moves the buttons: Stop is pressed
	// where it is, not where it was.
	do(t, portal, "stop", chromedp.WaitVisible(css("#share-stop")),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("share-stop").click()`), chromedp.WaitVisible(css("#share-start")))
	wantText(t, portal, "stopped", "#status", T("share.not_sharing"))
	wantText(t, customer, "chat after stopping", "#chat-status", T("share.not_sharing"))
	wantNoFalseClaims(t, portal, "stopped")

	// Sharing again, and the technician ends the session: the open share
	// page drops its prompt at once and says so.
	do(t, portal, "share again", chromedp.Click(css("#share-start")), chromedp.WaitVisible(css("#share-indicator")))
	if code := s.api("POST", "/api/v1/sessions/"+sess.ID+"/end", "", nil); code != http.StatusOK {
		t.Fatalf("end: %d", code)
	}
	do(t, portal, "the share page ends", chromedp.WaitVisible(css(`#share[data-state="ended"]`)))
	wantText(t, portal, "ended", "#status", T("portal.status.ended"))
	for _, sel := range []string{"#share-h", "#share-explain", "#share-start", "#share-stop", "#share-decline", "#share-indicator", "#handoff"} {
		if shown := value(t, portal, sel, chromedp.Evaluate[bool](`(() => { const e = document.querySelector("`+sel+`"); return !!e && e.getClientRects().length > 0; })()`)); shown {
			t.Errorf("after the end the share page still shows %s", sel)
		}
	}
	wantNoFalseClaims(t, portal, "ended", T("share.title"), T("share.start_screen"))
	wantText(t, customer, "chat after the end", "#chat-status", T("portal.status.ended"))
	// The page then reloads into the status page of an ended session.
	do(t, portal, "the status page after the end", chromedp.WaitVisible(css(".status-ended")))
	wantNoFalseClaims(t, portal, "the status page after the end", T("share.title"))
}

// startProgramServer runs Main with a provider that has remote control
// and, like MeshCentral, a page of its own where the customer gets a
// program (a fake: meshURL+"/invite?c=PIN"), its links carrying their
// proof as the builtin provider's do.
func startProgramServer(t *testing.T, meshURL string, pins ...string) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	var s *server
	links := func(req core.IssueRequest, pin string) (core.Ticket, error) {
		key, _, err := s.store.Key(context.Background(), portal.LinkKeyName, portal.LinkKeySize)
		if err != nil {
			return core.Ticket{}, err
		}
		b, err := builtin.New(builtin.Options{PublicURL: s.Config.Server.PublicURL, PINs: coretest.NewPINs(pin), Digits: 6, LinkKey: key})
		if err != nil {
			return core.Ticket{}, err
		}
		return b.Issue(context.Background(), req)
	}
	src := coretest.NewPINs(pins...)
	fake := &coretest.Provider{ProviderName: "program", IssueFunc: func(ctx context.Context, req core.IssueRequest) (core.Ticket, error) {
		pin, err := src.PIN(6)
		if err != nil {
			return core.Ticket{}, err
		}
		tk, err := links(req, pin)
		tk.CustomerURL = meshURL + "/invite?c=" + pin
		return tk, err
	}}
	s = startMain(t, func(c *config.Config) {
		c.Server.Listen = addr
		c.Server.PublicURL = "http://" + addr
		c.Console.Agents = consoleAgents(t)
	}, &Main{Provider: fake, Listener: ln})
	return s
}

// TestCustomerPagesProgramInBrowser walks a web chat customer's session
// with a provider that has remote control and its own program for the
// customer (as MeshCentral), from the invitation to its end: the link's
// page explains the program and leads to the provider's page, without a
// Start of its own; on an iPhone it says plainly that iPhones are not
// supported; a typed code leads to the same page; and the open page and
// the chat follow the session: the program connected, the technician
// started (control once the customer accepts), ended.
func TestCustomerPagesProgramInBrowser(t *testing.T) {
	mesh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><title>MeshCentral</title><h1 id="mesh">Invitation ` + r.URL.Query().Get("c") + `</h1>`))
	}))
	t.Cleanup(mesh.Close)
	s := startProgramServer(t, mesh.URL, "135791")
	T := func(key string) string { return s.catalog.T("en", key) }
	customer := newBrowser(t)
	conv := chatWithSupport(t, s, customer)
	sess := sendLink(t, s, conv, core.LinkDesktop)
	link := chatLink(t, customer)
	page := s.url + "/s/" + sess.ID + "?k="

	// Invited: what will happen, and the way to the provider's page.
	portal := tab(t, customer, "customer's portal", false)
	do(t, portal, "open the link", chromedp.Navigate(link), chromedp.WaitVisible(css("#program-get")))
	if u := value(t, portal, "address", chromedp.Evaluate[string](`location.href`)); !strings.HasPrefix(u, page) {
		t.Errorf("the link's page is at %s, want %s…", u, page)
	}
	wantText(t, portal, "invited", "#status", T("portal.landing.intro"))
	wantText(t, portal, "explanation", "#program-explain", T("portal.program.explain"))
	if href := value(t, portal, "the program's link", chromedp.AttributeValue(css("#program-get"), "href")).Value; href != mesh.URL+"/invite?c=135791" {
		t.Errorf("the page leads to %q", href)
	}
	if n := value(t, portal, "forms", chromedp.Evaluate[int](`document.querySelectorAll('form[action="/join"]').length`)); n != 0 {
		t.Errorf("the page has a Start that joins the session")
	}
	wantNoFalseClaims(t, portal, "invited")

	// The provider's page opens from the button.
	mpage := tab(t, customer, "MeshCentral's page", false)
	do(t, mpage, "MeshCentral's page", chromedp.Navigate(value(t, portal, "href", chromedp.AttributeValue(css("#program-get"), "href")).Value), chromedp.WaitVisible(css("#mesh")))
	wantText(t, mpage, "MeshCentral's page", "#mesh", "Invitation 135791")

	// On an iPhone the mobile link says it plainly, instead of a dead end.
	phone := startBrowser(t, "phone")
	do(t, phone, "the mobile link on an iPhone", chromedp.Emulate(device.IPhone13),
		chromedp.Navigate(sessionLink(t, s, "135791", core.LinkMobile)), chromedp.WaitVisible(css("#program-ios")))
	wantText(t, phone, "iPhone", "#program-ios", T("portal.program.ios"))
	if n := value(t, phone, "buttons on an iPhone", chromedp.Evaluate[int](`document.querySelectorAll("#program-get, #program-android-get").length`)); n != 0 {
		t.Errorf("an iPhone is offered a program it cannot run")
	}

	// A typed code leads to the same page.
	typed := tab(t, customer, "typed code", true)
	do(t, typed, "type the code",
		chromedp.Navigate(s.url+"/"),
		chromedp.WaitVisible(css("#code")),
		chromedp.SendKeys(css("#code"), "135791"),
		chromedp.Click(css(`form[action="/join"] button`)),
		chromedp.WaitVisible(css("#program-get")),
	)
	if st, err := s.engine.Session(context.Background(), sess.ID); err != nil || st.State != core.StateSent {
		t.Errorf("after the typed code the session is %v (%v), want sent", st, err)
	}

	// The program connects: the open page and the chat follow.
	ctx := context.Background()
	if _, err := s.engine.Report(ctx, core.StatusReport{SessionID: sess.ID, Action: core.ActionJoin, Device: core.DeviceDesktop}); err != nil {
		t.Fatal(err)
	}
	wantText(t, portal, "the program connected", "#status", T("portal.status.waiting_program"))
	wantText(t, customer, "chat, the program connected", "#chat-status", T("portal.status.waiting_program"))
	wantNoFalseClaims(t, portal, "the program connected", T("portal.program.explain"))

	// The technician starts remote control: once the customer accepts.
	if code := s.api("POST", "/api/v1/sessions/"+sess.ID+"/start", `{"mode":"control"}`, nil); code != http.StatusOK {
		t.Fatalf("start: %d", code)
	}
	wantText(t, portal, "remote control started", "#status", T("portal.status.active_control"))
	wantText(t, customer, "chat, remote control started", "#chat-status", T("portal.status.active_control"))

	// Ended.
	if code := s.api("POST", "/api/v1/sessions/"+sess.ID+"/end", "", nil); code != http.StatusOK {
		t.Fatalf("end: %d", code)
	}
	wantText(t, portal, "ended", "#status", T("portal.status.ended"))
	wantText(t, customer, "chat, ended", "#chat-status", T("portal.status.ended"))
	wantNoFalseClaims(t, portal, "ended", T("portal.status.active_control"))
}

// TestChatWhenTheNetworkMisbehaves: the web chat keeps what happens
// before its event stream connects (the agent's reply written between
// the page's load and its subscription shows once it is connected), and
// a message whose answer the network lost, sent again, is recorded once;
// so is an agent's reply in the console.
func TestChatWhenTheNetworkMisbehaves(t *testing.T) {
	s := startConsole(t)
	customer := newBrowser(t)
	networkSwitches(t, customer)
	do(t, customer, "write in the chat",
		chromedp.Navigate(s.url+"/chat"),
		chromedp.WaitVisible(css("#chat-text")),
		chromedp.SendKeys(css("#chat-text"), "My screen is frozen"),
		chromedp.Click(css("#compose button.send")),
		chromedp.WaitVisible(css("#transcript li.msg.in")),
	)
	convs, err := s.engine.Conversations(context.Background(), core.ConversationFilter{})
	if err != nil || len(convs) != 1 {
		t.Fatalf("conversations %v, %v", convs, err)
	}
	conv := convs[0]
	if _, _, err := s.engine.AgentMessage(context.Background(), conv.ID, core.Actor{Kind: core.ActorAgent, Name: "alice"}, "Restart it, please", ""); err != nil {
		t.Fatal(err)
	}
	do(t, customer, "the stream connects", chromedp.Evaluate[chromedp.Void]("window.releaseEvents()"))
	wantText(t, customer, "the reply written before the stream connected", "#transcript li.msg.out .text", "Restart it, please")

	do(t, customer, "a message whose answer is lost",
		chromedp.Evaluate[chromedp.Void]("window.loseAnswer = true"),
		chromedp.SendKeys(css("#chat-text"), "It is still frozen"),
		chromedp.Click(css("#compose button.send")),
		chromedp.WaitVisible(css("#flash")),
	)
	do(t, customer, "sent again", chromedp.Click(css("#compose button.send")))
	// The page takes the answer to the second send once the server has
	// dealt with it: the box is empty then.
	value(t, customer, "sent", chromedp.Poll[bool](`document.getElementById("chat-text").value === "" || null`, chromedp.WithPollingTimeout(10*time.Second)))
	recordedOnce := func(what, text string) {
		t.Helper()
		msgs, _ := s.engine.Messages(context.Background(), core.MessageFilter{ConversationID: conv.ID})
		n := 0
		for _, m := range msgs {
			if m.Text == text {
				n++
			}
		}
		if n != 1 {
			t.Errorf("the %s sent again after a lost answer was recorded %d times", what, n)
		}
	}
	recordedOnce("message", "It is still frozen")

	// The agent's reply, the same way, in the console.
	agent := tab(t, customer, "agent", true)
	networkSwitches(t, agent)
	signIn(t, agent, s.url, "alice", alicePassword)
	do(t, agent, "a reply whose answer is lost",
		chromedp.WaitVisible(css("#queue")),
		chromedp.Navigate(s.url+"/console/conversations/"+conv.ID),
		chromedp.WaitVisible(css("#reply-text")),
		chromedp.Evaluate[chromedp.Void]("window.loseAnswer = true"),
		chromedp.SendKeys(css("#reply-text"), "Hold the power button"),
		chromedp.Click(css("#reply button[type=submit]")),
		chromedp.WaitVisible(css("#flash")),
	)
	do(t, agent, "sent again", chromedp.Click(css("#reply button[type=submit]")))
	value(t, agent, "sent", chromedp.Poll[bool](`document.getElementById("reply-text").value === "" || null`, chromedp.WithPollingTimeout(10*time.Second)))
	recordedOnce("reply", "Hold the power button")
}

// networkSwitches installs, in the pages ctx opens from now on, two
// switches over their network: while window.holdEvents is set (it is at
// first), an event stream connects only when window.releaseEvents() is
// called; window.loseAnswer makes the next chat message's or reply's
// answer lost after the server got the request.
func networkSwitches(t *testing.T, ctx context.Context) {
	t.Helper()
	do(t, ctx, "switches for the page's network", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `(() => {
			const ES = window.EventSource;
			window.holdEvents = true;
			const Held = function (url) {
				const self = this, listeners = [];
				this.readyState = ES.CONNECTING;
				this.addEventListener = (type, fn) => listeners.push([type, fn]);
				this.close = () => { self.closed = true; if (self.real) self.real.close(); };
				const start = () => {
					if (self.closed) return;
					const r = new ES(url);
					self.real = r;
					for (const [type, fn] of listeners) r.addEventListener(type, fn);
					r.onopen = (e) => { self.readyState = r.readyState; if (self.onopen) self.onopen(e); };
					r.onerror = (e) => { self.readyState = r.readyState; if (self.onerror) self.onerror(e); };
				};
				if (window.holdEvents) window.releaseEvents = start; else start();
			};
			for (const k of ["CONNECTING", "OPEN", "CLOSED"]) Held[k] = ES[k];
			window.EventSource = Held;
			const fetch0 = window.fetch;
			window.fetch = function (url, opts) {
				const p = fetch0.apply(this, arguments);
				if (window.loseAnswer && /\/(chat\/messages|reply)$/.test(String(url))) {
					window.loseAnswer = false;
					return p.then(() => { throw new TypeError("Failed to fetch"); });
				}
				return p;
			};
		})()`})
		return err
	}))
}
