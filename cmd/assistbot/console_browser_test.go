package main

import (
	"context"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"golang.org/x/crypto/bcrypt"

	"github.com/assistbot/assistbot/config"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
)

// Console agents of the tests. Their hashes are bcrypt at the lowest cost:
// the tests are about the console, not about the cost of a hash.
const (
	alicePassword = "alice-password-1"
	bobPassword   = "bob-password-22"
)

// consoleAgents configures alice and bob.
func consoleAgents(t testing.TB) []config.Agent {
	t.Helper()
	var out []config.Agent
	for name, pw := range map[string]string{"alice": alicePassword, "bob": bobPassword} {
		h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, config.Agent{Name: name, PasswordHash: string(h)})
	}
	return out
}

// startConsole runs Main with the console's agents, on a listener opened
// beforehand so that the builtin provider's links (built from
// server.public_url) lead back to this server.
func startConsole(t *testing.T, pins ...string) *server {
	t.Helper()
	return startConsoleWith(t, nil, pins...)
}

// startConsoleWith is startConsole with edit applied to the config.
func startConsoleWith(t *testing.T, edit func(*config.Config), pins ...string) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	return startMain(t, func(c *config.Config) {
		c.Server.Listen = addr
		c.Server.PublicURL = "http://" + addr
		c.Console.Agents = consoleAgents(t)
		if edit != nil {
			edit(c)
		}
	}, &Main{PINs: coretest.NewPINs(pins...), Listener: ln})
}

// chromium returns the path of a Chromium to drive: skipped without one,
// failed without one in CI, where .ci/run installs it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium found (looked for chromium, chromium-browser, google-chrome); install Debian's chromium package to run the browser tests"
	if os.Getenv("ASSISTBOT_CI") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// newBrowser starts a headless Chromium with a fresh profile and returns
// the context of its first tab. The browser stops when the test ends.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	return startBrowser(t, "agent")
}

// startBrowser starts a headless Chromium with a fresh profile and extra
// flags, whose pages' console goes to the test's log under who.
func startBrowser(t *testing.T, who string, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	path := chromium(t)
	profile := t.TempDir() // removed after the browser is gone: cleanups run last-in first-out
	opts := append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-dev-shm-usage", true), // containers have a small /dev/shm
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
	}, extra...)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(alloc, chromedp.WithErrorf(t.Logf))
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	logConsole(t, ctx, who)
	return ctx
}

// logConsole copies what the pages of a tab write to their console (a
// script's exception, a failed request) into the test's log.
func logConsole(t *testing.T, ctx context.Context, who string) {
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			t.Logf("%s's browser console: %s", who, m.String())
		}
	}()
}

// tab opens another tab in the browser of ctx; with own set, in a
// browser context of its own (its own cookies, as another person's
// browser would have).
func tab(t *testing.T, ctx context.Context, who string, own bool) context.Context {
	t.Helper()
	var opts []chromedp.ContextOption
	if own {
		opts = append(opts, chromedp.WithNewBrowserContext())
	}
	tctx, cancel := chromedp.NewContext(ctx, opts...)
	t.Cleanup(cancel)
	if err := chromedp.Do(tctx); err != nil {
		t.Fatal(err)
	}
	logConsole(t, tctx, who)
	return tctx
}

// do runs steps with a deadline, so that a page that never shows what a
// step waits for fails the test instead of hanging it. Each step is
// steady: it runs on the page as its live regions settled.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	for i := range steps {
		steps[i] = steady(steps[i])
	}
	if err := chromedp.Do(tctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// value runs one action that returns a value, with a deadline, steady.
func value[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	v, err := chromedp.Run(tctx, steady(a))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// steady runs a once the live regions of the page (console.js's) have
// settled, and again, on the new nodes, when a region's reload replaced
// the node a found before a could act on it ("Could not find node with
// given id"). Such a failure happens before a's effect (the click, the
// read), so running it again does it once.
func steady[T any](a chromedp.Action[T]) chromedp.Action[T] {
	return func(ctx context.Context, tg *chromedp.Target) (T, error) {
		for try := 0; ; try++ {
			settle(ctx, tg)
			v, err := a(ctx, tg)
			if err == nil || try == 10 || !replaced(err) || ctx.Err() != nil {
				return v, err
			}
		}
	}
}

// settle waits until no region of the page is reloading: console.js marks
// a region aria-busy from the update that asks for its reload until its
// new content is in (the dialog's body too). Reloads wait 100ms before
// they start, and a swap waits for a press of the pointer to end, so a
// step that starts on a settled page acts on what stays. Pages without
// such regions are settled at once; a page that is navigating is left to
// the step.
func settle(ctx context.Context, tg *chromedp.Target) {
	const busy = `!!document.querySelector('[aria-busy="true"]')`
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		reloading, err := chromedp.Evaluate[bool](busy)(ctx, tg)
		if err != nil || !reloading {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// replaced reports whether err says that a node a step had found is gone
// from the document: a region's content was replaced meanwhile.
func replaced(err error) bool {
	msg := strings.ToLower(err.Error())
	for _, s := range []string{"could not find node with given id", "no node with given id", "node with given id does not belong to the document", "node is detached"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

func css(s string) chromedp.CSS { return chromedp.CSS(s) }

// signIn fills the console's sign-in form.
func signIn(t *testing.T, ctx context.Context, base, name, password string) {
	t.Helper()
	do(t, ctx, "sign in as "+name,
		chromedp.Navigate(base+"/console"),
		chromedp.WaitVisible(css("#login")),
		chromedp.SetValue(css("#name"), name),
		chromedp.SetValue(css("#password"), password),
		chromedp.Click(css("#login button[type=submit]")),
	)
}

// TestConsoleAndChatInBrowser walks the whole web-chat flow in headless
// Chromium: an agent signs in; a customer writes in /chat; the agent
// opens the conversation, opens the remote-session dialog and sends the
// desktop link; the chat shows it as a button; the agent mutes the sound;
// the customer clicks the button, which opens a new tab, and presses
// Start; the console lists the session as waiting and notifies, without
// the sound; the agent starts it view only; the chat says the technician
// is viewing; with the sound on, a phone's session waiting plays it. The
// negative cases follow, then the mute switch per agent, the snippet
// on another site, and the chat and the console on a phone and with the
// keyboard only.
func TestConsoleAndChatInBrowser(t *testing.T) {
	start := time.Now()
	s := startConsole(t, "012345", "234567")
	agent := newBrowser(t)
	// The agent is in Seoul: the console shows times in their zone.
	do(t, agent, "the agent's time zone", inZone(agentZone))

	// A wrong password is refused with a message; the right one opens
	// the queue.
	signIn(t, agent, s.url, "alice", "not-the-password")
	msg := value(t, agent, "wrong password message", chromedp.Text(css("#login-error")))
	if !strings.Contains(msg, "not correct") {
		t.Errorf("wrong password: %q", msg)
	}
	do(t, agent, "queue after sign-in",
		chromedp.SetValue(css("#password"), alicePassword),
		chromedp.Click(css("#login button[type=submit]")),
		chromedp.WaitVisible(css("#queue")),
		chromedp.WaitVisible(css("body[data-live=on]")),
	)

	// The customer writes in the web chat, in a second tab.
	customer := tab(t, agent, "customer", false)
	do(t, customer, "customer writes",
		chromedp.Navigate(s.url+"/chat"),
		chromedp.WaitVisible(css("body[data-live=on]")),
		chromedp.SendKeys(css("#chat-name"), "Pat"),
		chromedp.SendKeys(css("#chat-text"), "My printer is offline"),
		chromedp.Click(css("#compose .send")),
		chromedp.WaitVisible(css("#transcript .msg.in")),
	)

	// The agent sees the conversation appear, opens it and its
	// remote-session dialog, and sends the desktop link.
	do(t, agent, "conversation listed live",
		chromedp.WaitVisible(css("#conversations li.conv.fresh a")),
		chromedp.Click(css("#conversations li.conv a")),
		chromedp.WaitVisible(css("#transcript .line.in")),
	)
	if got := value(t, agent, "customer's message", chromedp.Text(css("#transcript .line.in .text"))); got != "My printer is offline" {
		t.Errorf("the console shows %q", got)
	}
	do(t, agent, "remote-session dialog",
		chromedp.Click(css("#remote-support")),
		chromedp.WaitVisible(css("#remote-dialog[open] #card-pin")),
	)
	if pin := value(t, agent, "dialog PIN", chromedp.Text(css("#card-pin"))); pin != "012345" {
		t.Errorf("dialog PIN = %q", pin)
	}
	dialog := value(t, agent, "dialog", chromedp.Text(css("#remote-dialog")))
	for _, want := range []string{"Desktop link", s.url + "/?code=012345", "Mobile link", s.url + "/m/012345",
		"Or enter the PIN at " + s.url + "/", "Send desktop link", "Send mobile link", "Generate another code", "Revoke code", "Done"} {
		if !strings.Contains(dialog, want) {
			t.Errorf("the dialog lacks %q:\n%s", want, dialog)
		}
	}
	wantOneZone(t, agent, s, "the conversation with its dialog")
	// Revoke code, which ends the session, stands apart from Done, which
	// only closes the dialog: below a rule, a row lower.
	apart := value(t, agent, "revoke and done", chromedp.Evaluate[map[string]float64](`(() => {
		const revoke = document.querySelector('#remote-dialog button[value="remote.close"]').getBoundingClientRect();
		const foot = document.querySelector("#remote-dialog .dialog-foot"), done = document.getElementById("dialog-done").getBoundingClientRect();
		return {gap: done.top - revoke.bottom, rule: parseFloat(getComputedStyle(foot).borderTopWidth)};
	})()`))
	if apart["gap"] < 16 || apart["rule"] < 1 {
		t.Errorf("Revoke code and Done are not apart: %v", apart)
	}
	do(t, agent, "send the desktop link",
		chromedp.Click(css(`#remote-dialog button[value="remote.send_desktop"]`)),
		chromedp.WaitVisible(css(`#remote-dialog .card-view[data-state="sent"]`)),
	)
	// The chat is open: the link ends delivered, the dialog's stable
	// state, which the next step finds as it stays.
	wantText(t, agent, "the link's delivery", `#remote-dialog .card-view[data-state="sent"] .delivery`, "Delivered")
	do(t, agent, "close the dialog",
		chromedp.Click(css("#dialog-done")),
		chromedp.WaitNotVisible(css("#remote-dialog")),
	)

	// The link arrives in the chat as a button.
	do(t, customer, "link in the chat", chromedp.WaitVisible(css("#transcript a[data-link]")))
	href := value(t, customer, "link", chromedp.AttributeValue(css("#transcript a[data-link]"), "href"))
	if href.Value != sessionLink(t, s, "012345", core.LinkDesktop) {
		t.Fatalf("the chat's button leads to %q", href.Value)
	}

	// The mute switch is remembered for alice in this browser. Muted,
	// the console shows the notification of a customer starting to wait
	// but plays no sound: the sound call and the notification are hooked
	// (as if notifications were allowed).
	do(t, agent, "mute, reload",
		chromedp.Navigate(s.url+"/console"),
		chromedp.WaitVisible(css("#sound")),
		chromedp.Click(css("#sound")),
		chromedp.Reload(),
		chromedp.WaitVisible(css("#sound")),
		chromedp.WaitVisible(css("body[data-live=on]")),
		chromedp.Evaluate[chromedp.Void](hookAlerts),
	)
	if got := value(t, agent, "sound switch", chromedp.Text(css("#sound"))); got != "Sound: off" {
		t.Errorf("after muting and reloading the switch says %q", got)
	}

	// The customer opens the link by clicking its button in the chat,
	// which opens a tab of its own (target=_blank), and presses Start.
	if target := value(t, customer, "link target", chromedp.AttributeValue(css("#transcript a[data-link]"), "target")); target.Value != "_blank" {
		t.Errorf("the chat's button opens in %q", target.Value)
	}
	portal := clickNewTab(t, customer, "customer", "#transcript a[data-link]")
	do(t, portal, "customer presses Start",
		chromedp.WaitVisible(css(`form[action="/join"] button`)),
		chromedp.Click(css(`form[action="/join"] button`)),
		chromedp.WaitVisible(css(".status-waiting")),
	)
	if loc := value(t, portal, "portal location", chromedp.Location()); !strings.HasPrefix(loc, s.url+"/s/") {
		t.Errorf("after Start the customer's tab is at %s", loc)
	}
	do(t, agent, "waiting in the queue", chromedp.WaitVisible(css("#queue li.row.state-waiting")))
	wantApart(t, agent, "the queue's panels and the snippet's", ".board", ".embed")
	// The notification comes from the same event as the sound would.
	if notes := value(t, agent, "notification", chromedp.Poll[[]string]("window.notes.length ? window.notes : null", chromedp.WithPollingTimeout(5*time.Second))); len(notes) != 1 || notes[0] != "Remote support: Customer is waiting (computer)." {
		t.Errorf("notifications: %q", notes)
	}
	if n := value(t, agent, "sound while muted", chromedp.Evaluate[int]("window.chimes")); n != 0 {
		t.Errorf("muted, the sound was played %d times", n)
	}
	row := value(t, agent, "waiting row", chromedp.Text(css("#queue li.row.state-waiting")))
	for _, want := range []string{"Pat", "web chat", "computer", "This provider offers view only", "Start (view only)"} {
		if !strings.Contains(row, want) {
			t.Errorf("the waiting row lacks %q:\n%s", want, row)
		}
	}
	if n := value(t, agent, "control buttons", chromedp.Evaluate[int](`document.querySelectorAll('#queue button[value="remote.start_control"]').length`)); n != 0 {
		t.Errorf("the builtin provider's session offers remote control (%d buttons)", n)
	}

	// The console, as the agent sees it with a customer waiting.
	shot := value(t, agent, "screenshot", chromedp.CaptureScreenshot())
	path := filepath.Join(os.TempDir(), "assistbot-console-"+strconv.FormatInt(time.Now().UnixNano(), 36)+".png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the console: %s", path)

	sessionID := value(t, agent, "session id", chromedp.AttributeValue(css("#queue li.row.state-waiting"), "data-session")).Value

	// Missing CSRF token: a request from the console's own page without
	// the token is refused, and nothing changes.
	status := value(t, agent, "post without token", chromedp.Evaluate[int](`fetch("/console/sessions/`+sessionID+`/act", {method: "POST", body: new URLSearchParams({action: "remote.end"})}).then(r => r.status)`, chromedp.EvalAwaitPromise))
	if status != http.StatusForbidden {
		t.Errorf("POST without a CSRF token: %d", status)
	}
	var sess apiSession
	s.api("GET", "/api/v1/sessions/"+sessionID, "", &sess)
	if sess.State != "waiting" {
		t.Fatalf("after the refused POST the session is %s", sess.State)
	}

	// The agent starts view only; the customer's chat says so, and that
	// the technician sees nothing until the customer shares.
	do(t, agent, "start view only",
		chromedp.Click(css(`#queue li.row.state-waiting button[value="remote.start_view"]`)),
		chromedp.WaitVisible(css("#queue li.row.state-active")),
	)
	// The status was already showing the wait: the chat's reload comes
	// when it comes.
	wantText(t, customer, "chat status", "#chat-status", s.catalog.T("en", "share.ready_screen"))

	// Sound on again (the switch plays the sound once to show it), a
	// phone's session starts waiting: the sound plays. Its row gives the
	// phone's reason for view only. (That a phone gets no control button
	// from a provider that offers control is TestQueue's, in
	// adapters/console: the builtin provider never offers one.)
	do(t, agent, "unmute", chromedp.Click(css("#sound")))
	if got := value(t, agent, "sound switch", chromedp.Text(css("#sound"))); got != "Sound: on" {
		t.Errorf("after unmuting the switch says %q", got)
	}
	do(t, agent, "reset the count", chromedp.Evaluate[chromedp.Void]("window.chimes = 0"))
	var mobile apiSession
	s.api("POST", "/api/v1/sessions", `{"customer":{"channel":"web","address":"chat-phone"},"agent":"alice"}`, &mobile)
	joinFrom(t, s, mobile.PIN, uaIPhone)
	sel := `#queue li.row.state-waiting[data-session="` + mobile.ID + `"]`
	do(t, agent, "mobile session waiting", chromedp.WaitVisible(css(sel)))
	if n := value(t, agent, "sound played", chromedp.Poll[int]("window.chimes || null", chromedp.WithPollingTimeout(5*time.Second))); n < 1 {
		t.Errorf("the sound was played %d times", n)
	}
	if notes := value(t, agent, "notifications", chromedp.Evaluate[[]string]("window.notes")); len(notes) != 2 || !strings.HasPrefix(notes[1], "Remote support: Customer is waiting (phone") {
		t.Errorf("notifications: %q", notes)
	}
	if row := value(t, agent, "mobile row", chromedp.Text(css(sel))); !strings.Contains(row, "Mobile devices can be viewed but not controlled.") || !strings.Contains(row, "phone or tablet") {
		t.Errorf("the mobile row lacks its reason:\n%s", row)
	}

	// A second agent signs in in a browser of their own, signs out, and
	// their cookie, put back, no longer opens the console.
	bob := tab(t, agent, "bob", true)
	signIn(t, bob, s.url, "bob", bobPassword)
	do(t, bob, "bob's queue", chromedp.WaitVisible(css("#queue")))
	cookies := value(t, bob, "bob's cookies", func(ctx context.Context, tg *chromedp.Target) ([]*network.Cookie, error) {
		res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{s.url + "/console"}})
		return res.Cookies, err
	})
	var token string
	for _, c := range cookies {
		if c.Name == "assistbot_console" {
			token = c.Value
		}
	}
	if token == "" {
		t.Fatalf("no console cookie among %d", len(cookies))
	}
	do(t, bob, "sign out",
		chromedp.Click(css("#sign-out")),
		chromedp.WaitVisible(css("#login")),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: "assistbot_console", Value: token, URL: s.url + "/console", Path: "/console"})
			return err
		}),
		chromedp.Navigate(s.url+"/console"),
		chromedp.WaitVisible(css("#login")),
	)
	if loc := value(t, bob, "location", chromedp.Location()); !strings.HasSuffix(loc, "/console/login") {
		t.Errorf("the reused cookie opened %s", loc)
	}
	req, _ := http.NewRequest("GET", s.url+"/console/queue", nil)
	req.AddCookie(&http.Cookie{Name: "assistbot_console", Value: token})
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the reused cookie from another client: %v %v", err, resp)
	} else {
		resp.Body.Close()
	}
	// Alice, signed in elsewhere, is not affected by bob signing out.
	do(t, agent, "alice still signed in", chromedp.Reload(), chromedp.WaitVisible(css("#queue")))

	// The mute switch is alice's, not the browser's: alice mutes and
	// signs out, bob signs in in the same browser and hears the sound;
	// alice, back, is still muted.
	do(t, agent, "alice mutes", chromedp.WaitVisible(css("#sound")), chromedp.Click(css("#sound")))
	if got := value(t, agent, "alice's sound switch", chromedp.Text(css("#sound"))); got != "Sound: off" {
		t.Errorf("after muting alice's switch says %q", got)
	}
	do(t, agent, "alice signs out", chromedp.Click(css("#sign-out")), chromedp.WaitVisible(css("#login")))
	for _, who := range []struct{ name, password, sound string }{{"bob", bobPassword, "Sound: on"}, {"alice", alicePassword, "Sound: off"}} {
		signIn(t, agent, s.url, who.name, who.password)
		do(t, agent, who.name+"'s queue", chromedp.WaitVisible(css("#sound")))
		if got := value(t, agent, who.name+"'s sound switch", chromedp.Text(css("#sound"))); got != who.sound {
			t.Errorf("after alice muted, %s's switch in the same browser says %q, want %q", who.name, got, who.sound)
		}
		do(t, agent, who.name+" signs out", chromedp.Click(css("#sign-out")), chromedp.WaitVisible(css("#login")))
	}

	// The snippet on another site, which allows the script as the
	// README says: it adds a "Chat with support" button, which opens the
	// chat in a tab of its own, where the customer's conversation is.
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src "+s.url)
		io.WriteString(w, `<!doctype html><html lang="en"><head><title>Shop</title></head><body><h1>Shop</h1>
<script src="`+s.url+`/chat/widget.js" async></script></body></html>`)
	}))
	t.Cleanup(host.Close)
	shop := tab(t, customer, "shop", false)
	do(t, shop, "the shop's page", chromedp.Navigate(strings.Replace(host.URL, "127.0.0.1", "localhost", 1)), chromedp.WaitVisible(css("#assistbot-chat")))
	button := value(t, shop, "chat button", chromedp.Evaluate[map[string]string](`(() => { const a = document.getElementById("assistbot-chat");
		return {text: a.textContent, href: a.href, target: a.target, position: getComputedStyle(a).position, label: a.getAttribute("aria-label")}; })()`))
	if want := (map[string]string{"text": "Chat with support", "href": s.url + "/chat", "target": "_blank", "position": "fixed", "label": "Chat with support (opens in a new tab)"}); !maps.Equal(button, want) {
		t.Errorf("the snippet's button is %v, want %v", button, want)
	}
	chat := clickNewTab(t, shop, "customer", "#assistbot-chat")
	do(t, chat, "the chat from the snippet",
		chromedp.WaitVisible(css("body[data-live=on]")),
		chromedp.WaitVisible(css("#compose .send")),
		chromedp.WaitVisible(css("#transcript .msg.in")),
	)
	if loc := value(t, chat, "chat location", chromedp.Location()); loc != s.url+"/chat" {
		t.Errorf("the snippet's button opened %s", loc)
	}
	if got := value(t, chat, "chat transcript", chromedp.Text(css("#transcript"))); !strings.Contains(got, "My printer is offline") {
		t.Errorf("the chat opened from the snippet lacks the customer's conversation:\n%s", got)
	}

	// On a phone, and with the keyboard only.
	phoneAndKeyboard(t, s, agent)

	t.Logf("browser flow took %s", time.Since(start).Round(time.Millisecond))
}

// phoneWidth and phoneHeight are a phone's viewport, in CSS pixels.
const (
	phoneWidth  = 390
	phoneHeight = 844
	// minTouch is the least width and height, in CSS pixels, of a
	// control a finger must hit.
	minTouch = 40
)

// asPhone makes a tab a phone's: a narrow portrait screen with touch,
// where pages are laid out by their viewport meta tag.
func asPhone() chromedp.Action[chromedp.Void] {
	return chromedp.EmulateViewport(phoneWidth, phoneHeight, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait, chromedp.EmulateScale(3))
}

// phoneAndKeyboard walks the chat and the console on a phone and with the
// keyboard only. A customer on a phone finds the chat laid out at the
// phone's width, with controls big enough to touch, and writes with the
// keyboard: Tab to the message, Shift+Enter for a new line, Enter sends.
// An agent without a mouse Tabs to the customer's conversation and to
// its remote-support button, opens the dialog with Enter and finds the
// focus in it, Tabs to the desktop link's button and sends it with
// Space, and closes the dialog with Escape, the focus back on the
// button. On a phone the agent's queue, conversation, dialog and session
// page fit the phone's width and their buttons are big enough to touch.
func phoneAndKeyboard(t *testing.T, s *server, browser context.Context) {
	phone := tab(t, browser, "phone customer", true)
	do(t, phone, "the chat on a phone",
		asPhone(),
		chromedp.Navigate(s.url+"/chat"),
		chromedp.WaitVisible(css("body[data-live=on]")),
	)
	wantFits(t, phone, "the chat")
	wantTouchable(t, phone, "the chat's controls", "#chat-name, #chat-text, #compose .send")
	do(t, phone, "the customer's name", chromedp.SendKeys(css("#chat-name"), "Sam"))
	tabTo(t, phone, "#chat-text", 3)
	do(t, phone, "two lines",
		chromedp.KeyEvent("Wi-Fi drops"),
		chromedp.KeyEvent(kb.Enter, chromedp.KeyModifiers(chromedp.ModifierShift)),
		chromedp.KeyEvent("every hour"),
	)
	const text = "Wi-Fi drops\nevery hour"
	if got := value(t, phone, "the draft", chromedp.Evaluate[string](`document.getElementById("chat-text").value`)); got != text {
		t.Errorf("after Shift+Enter the message box holds %q, want %q", got, text)
	}
	if n := value(t, phone, "messages", chromedp.Evaluate[int](`document.querySelectorAll("#transcript .msg.in").length`)); n != 0 {
		t.Errorf("Shift+Enter sent the message (%d in the transcript)", n)
	}
	do(t, phone, "Enter sends", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(css("#transcript .msg.in")))
	// The transcript is drawn again when the server announces the
	// message: read it once it settles, not from a node being replaced.
	shown := `(() => { const e = document.querySelector("#transcript .msg.in .text"); return e && e.innerText === ` + strconv.Quote(text) + ` || null; })()`
	if _, err := chromedp.Run(phone, chromedp.Poll[bool](shown, chromedp.WithPollingTimeout(5*time.Second))); err != nil {
		got := value(t, phone, "the message sent", chromedp.Evaluate[string](`(document.querySelector("#transcript .msg.in .text") || {}).innerText || ""`))
		t.Errorf("the chat shows %q, want %q", got, text)
	}
	waitFocus(t, phone, "the message box, emptied, for the next message", `a.id === "chat-text" && a.value === ""`)
	var conv *core.Conversation
	convs, err := s.Engine().Conversations(context.Background(), core.ConversationFilter{DeskChannel: core.ChannelConsole})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range convs {
		if c.CustomerName == "Sam" {
			conv = c
		}
	}
	if conv == nil {
		t.Fatalf("no conversation of Sam's among %d", len(convs))
	}
	if msgs, err := s.Engine().Messages(context.Background(), core.MessageFilter{ConversationID: conv.ID}); err != nil || len(msgs) != 1 || msgs[0].Text != text {
		t.Errorf("Sam's conversation holds %v %v, want the one message %q", msgs, err, text)
	}

	// Alice, keyboard only: Tab to Sam's conversation, Enter.
	keys := tab(t, browser, "alice with the keyboard", true)
	signIn(t, keys, s.url, "alice", alicePassword)
	link := `#conversations a[href="/console/conversations/` + conv.ID + `"]`
	do(t, keys, "Sam's conversation listed", chromedp.WaitVisible(css("#queue")), chromedp.WaitVisible(css(link)))
	tabTo(t, keys, link, 60)
	do(t, keys, "Enter opens the conversation", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(css("#remote-support")))
	if loc := value(t, keys, "location", chromedp.Location()); loc != s.url+"/console/conversations/"+conv.ID {
		t.Fatalf("Enter on the conversation's link opened %s", loc)
	}
	tabTo(t, keys, "#remote-support", 15)
	do(t, keys, "Enter opens the dialog", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(css("#remote-dialog[open] #card-pin")))
	waitFocus(t, keys, "the focus in the dialog", `d.open && a !== d && d.contains(a)`)
	send := `#remote-dialog button[value="remote.send_desktop"]`
	tabTo(t, keys, send, 10)
	do(t, keys, "Space sends the desktop link", chromedp.KeyEvent(" "), chromedp.WaitVisible(css(`#remote-dialog .card-view[data-state="sent"]`)))
	sid := sessionOf(t, s, conv.ID)
	var sess apiSession
	s.api("GET", "/api/v1/sessions/"+sid, "", &sess)
	if sess.State != "sent" {
		t.Errorf("after Space on the send button the session is %s", sess.State)
	}
	do(t, phone, "the link in the chat", chromedp.WaitVisible(css("#transcript a[data-link]")))
	if href := value(t, phone, "link", chromedp.AttributeValue(css("#transcript a[data-link]"), "href")); href.Value != sess.DesktopURL {
		t.Errorf("the chat's button leads to %q, want %q", href.Value, sess.DesktopURL)
	}
	wantTouchable(t, phone, "the chat's link button", "#transcript a[data-link]")
	// The dialog reloads with the new state; the focus stays in it.
	waitFocus(t, keys, "the focus still in the dialog", `d.open && a !== d && d.contains(a)`)
	// "Generate another code" from the keyboard: a new PIN, and the focus
	// stays on the button.
	pin := value(t, keys, "the pin", chromedp.Evaluate[string](`document.getElementById("card-pin").textContent`))
	tabTo(t, keys, `#remote-dialog button[value="remote.regenerate"]`, 10)
	do(t, keys, "Enter generates another code", chromedp.KeyEvent(kb.Enter))
	value(t, keys, "another code shown", chromedp.Poll[bool](`document.getElementById("card-pin").textContent !== `+strconv.Quote(pin)+` || null`))
	waitFocus(t, keys, "the focus on the new card's button", `d.open && a.matches('button[value="remote.regenerate"]')`)
	do(t, keys, "Escape closes the dialog", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotVisible(css("#remote-dialog")))
	waitFocus(t, keys, "the focus back on the remote-support button", `!d.open && a.id === "remote-support"`)

	// Alice on a phone.
	do(t, keys, "the queue on a phone",
		asPhone(),
		chromedp.Navigate(s.url+"/console"),
		chromedp.WaitVisible(css("#queue li.row.state-waiting")),
	)
	wantFits(t, keys, "the queue")
	wantTouchable(t, keys, "a waiting row's buttons", "#queue li.row.state-waiting .actions .btn")
	wantTouchable(t, keys, "the header's sound and sign-out buttons", ".tools .tool:not([hidden])")
	wantApart(t, keys, "the queue and the conversations", "#queue", "#conversations")
	wantApart(t, keys, "the conversations and the snippet", "#conversations", ".embed")
	do(t, keys, "the conversation on a phone",
		chromedp.Navigate(s.url+"/console/conversations/"+conv.ID),
		chromedp.WaitVisible(css("#remote-support")),
	)
	wantFits(t, keys, "the conversation")
	wantTouchable(t, keys, "the conversation's buttons", "#conversation .btn")
	do(t, keys, "the dialog on a phone", chromedp.Click(css("#remote-support")), chromedp.WaitVisible(css("#remote-dialog[open] #card-pin")))
	wantFits(t, keys, "the dialog")
	wantTouchable(t, keys, "the dialog's buttons", "#remote-dialog button")
	do(t, keys, "the session page on a phone",
		chromedp.Navigate(s.url+"/console/sessions/"+sid),
		chromedp.WaitVisible(css("#card .actions")),
	)
	wantFits(t, keys, "the session page")
	wantTouchable(t, keys, "the session's buttons", "#card .actions .btn")
}

// wantFits checks that the page in the tab of ctx, a phone's, is laid
// out at the phone's width (as its viewport meta tag asks) and scrolls
// only up and down.
func wantFits(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	type layout struct {
		Width, Scroll int
		Wide          []string
	}
	l := value(t, ctx, what+"'s layout", chromedp.Evaluate[layout](`((phone) => {
		const wide = [];
		for (const el of document.querySelectorAll("body *")) {
			const r = el.getBoundingClientRect();
			if (r.right > phone + 0.5 && wide.length < 5) wide.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className ? "." + String(el.className).trim().replace(/\s+/g, ".") : "") + " to " + Math.round(r.right) + "px");
		}
		return {width: window.innerWidth, scroll: document.documentElement.scrollWidth, wide: wide};
	})(`+strconv.Itoa(phoneWidth)+`)`))
	// A page wider than the phone makes the phone lay it out wider,
	// at a smaller scale, or scroll it sideways.
	if l.Width != phoneWidth || l.Scroll > l.Width {
		t.Errorf("%s does not fit a %dpx phone: laid out %dpx wide, %dpx of content; too wide: %v", what, phoneWidth, l.Width, l.Scroll, l.Wide)
	}
}

// wantTouchable checks the controls sel selects in the tab of ctx: at
// least one; each, scrolled to, on the screen, not covered by another
// element, and at least minTouch pixels wide and tall.
func wantTouchable(t *testing.T, ctx context.Context, what, sel string) {
	t.Helper()
	problems := value(t, ctx, what, chromedp.Evaluate[[]string](`((sel, min) => {
		const els = document.querySelectorAll(sel), out = [];
		if (!els.length) return ["nothing matches " + sel];
		for (const el of els) {
			el.scrollIntoView({block: "center", inline: "nearest"});
			const r = el.getBoundingClientRect(), cs = getComputedStyle(el);
			const name = (el.id ? "#" + el.id + " " : "") + JSON.stringify((el.textContent || el.getAttribute("aria-label") || el.tagName).trim().slice(0, 30));
			if (cs.display === "none" || cs.visibility !== "visible" || r.width === 0 || r.height === 0) {
				out.push(name + " is not shown");
				continue;
			}
			if (r.width < min || r.height < min) out.push(name + " is " + Math.round(r.width) + "x" + Math.round(r.height) + "px");
			if (r.left < 0 || r.top < 0 || r.right > innerWidth || r.bottom > innerHeight) out.push(name + " is off the screen");
			const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
			if (!hit || !el.contains(hit)) out.push(name + " is covered by " + (hit ? hit.tagName.toLowerCase() : "nothing"));
		}
		return out;
	})(`+strconv.Quote(sel)+`, `+strconv.Itoa(minTouch)+`)`))
	for _, p := range problems {
		t.Errorf("%s on a phone: %s", what, p)
	}
}

// tabTo presses Tab in the tab of ctx until the element sel has the
// keyboard focus, failing after max presses.
func tabTo(t *testing.T, ctx context.Context, sel string, max int) {
	t.Helper()
	focused := `document.activeElement && document.activeElement.matches(` + strconv.Quote(sel) + `)`
	for range max {
		if value(t, ctx, "focus on "+sel, chromedp.Evaluate[bool](focused)) {
			return
		}
		do(t, ctx, "press Tab", chromedp.KeyEvent(kb.Tab))
	}
	if !value(t, ctx, "focus on "+sel, chromedp.Evaluate[bool](focused)) {
		t.Fatalf("%d presses of Tab did not reach %s; the focus is on %s", max, sel, focusedElement(t, ctx))
	}
}

// waitFocus waits until cond, a JavaScript expression over a (the
// focused element) and d (the remote-session dialog, if any), holds.
func waitFocus(t *testing.T, ctx context.Context, what, cond string) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := chromedp.Run(tctx, chromedp.Poll[bool](`(() => { const a = document.activeElement || document.body, d = document.getElementById("remote-dialog") || {}; return (`+cond+`) || null; })()`))
	if err != nil {
		t.Fatalf("%s: %v; the focus is on %s", what, err, focusedElement(t, ctx))
	}
}

// focusedElement describes the element that has the keyboard focus.
func focusedElement(t *testing.T, ctx context.Context) string {
	t.Helper()
	return value(t, ctx, "the focused element", chromedp.Evaluate[string](`(() => { const a = document.activeElement;
		return a ? a.tagName.toLowerCase() + (a.id ? "#" + a.id : "") + " " + JSON.stringify((a.textContent || "").trim().slice(0, 30)) : "nothing"; })()`))
}

// hookAlerts counts the console's calls to play its sound and collects
// its notifications, with notifications allowed.
const hookAlerts = `window.chimes = 0;
	const start = OscillatorNode.prototype.start;
	OscillatorNode.prototype.start = function () { window.chimes++; return start.apply(this, arguments); };
	window.notes = [];
	window.Notification = class { constructor(title, o) { window.notes.push(title + ": " + o.body); } static get permission() { return "granted"; } };`

// clickNewTab clicks the link sel in the tab of ctx, a link that opens a
// new tab (target=_blank), and returns that tab's context, whose pages'
// console goes to the log under who.
func clickNewTab(t *testing.T, ctx context.Context, who, sel string) context.Context {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	opened := chromedp.WaitNewTarget(wctx, func(info *target.Info) bool { return info.Type == "page" })
	do(t, ctx, "click "+sel, chromedp.Click(css(sel)))
	var id target.ID
	select {
	case id = <-opened:
	case <-wctx.Done():
	}
	if id == "" {
		t.Fatalf("clicking %s opened no tab", sel)
	}
	nctx, ncancel := chromedp.NewContext(ctx, chromedp.WithTargetID(id))
	t.Cleanup(ncancel)
	if err := chromedp.Do(nctx); err != nil {
		t.Fatalf("attach to the tab %s opened: %v", sel, err)
	}
	logConsole(t, nctx, who)
	return nctx
}

// uaIPhone is the User-Agent of a phone.
const uaIPhone = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"

// joinFrom presses Start on the portal for pin from a browser whose
// User-Agent is ua.
func joinFrom(t *testing.T, s *server, pin, ua string) {
	t.Helper()
	req, err := http.NewRequest("POST", s.url+"/join", strings.NewReader(url.Values{"code": {pin}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", ua)
	resp, err := browser(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("join %s: %d", pin, resp.StatusCode)
	}
}

// agentZone is the time zone of the agent's browser in the tests: not
// UTC, so that a time the console shows in UTC shows as what it is.
const agentZone = "Asia/Seoul"

// inZone makes the tab's clock run in the time zone zone.
func inZone(zone string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: zone})
		return err
	})
}

// wantOneZone checks that the console page of ctx shows its times in
// one zone, the agent's (agentZone): nothing says UTC, and each expiry
// says it is the agent's time, converted from the ISO time it carries.
func wantOneZone(t *testing.T, ctx context.Context, s *server, what string) {
	t.Helper()
	type shown struct {
		Text    string
		Expires [][2]string
	}
	got := value(t, ctx, what, chromedp.Evaluate[shown](`({
		text: document.getElementById("main").innerText,
		expires: Array.from(document.querySelectorAll("time[data-expires]"), (e) => [e.getAttribute("datetime"), e.textContent]),
	})`))
	if strings.Contains(got.Text, "UTC") {
		t.Errorf("%s shows a time in UTC:\n%s", what, got.Text)
	}
	zone, err := time.LoadLocation(agentZone)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range got.Expires {
		at, err := time.Parse(time.RFC3339, e[0])
		if err != nil {
			t.Fatalf("%s: expiry %q: %v", what, e[0], err)
		}
		// Chromium writes "06:20 PM" with a narrow no-break space.
		text := strings.ReplaceAll(e[1], "\u202f", " ")
		if want := s.catalog.T("en", "console.card.expires_local", "time", at.In(zone).Format("03:04 PM")); text != want {
			t.Errorf("%s: the expiry says %q, want %q", what, text, want)
		}
	}
	if len(got.Expires) == 0 {
		t.Errorf("%s shows no expiry", what)
	}
}

// wantApart checks that the first element upper selects in the page of
// ctx ends at least half a line (8px) above where the first lower
// selects starts: two cards do not touch.
func wantApart(t *testing.T, ctx context.Context, what, upper, lower string) {
	t.Helper()
	gap := value(t, ctx, what, chromedp.Evaluate[float64](`((a, b) => {
		const up = document.querySelector(a), low = document.querySelector(b);
		if (!up || !low) return -1000;
		return low.getBoundingClientRect().top - up.getBoundingClientRect().bottom;
	})(`+strconv.Quote(upper)+`, `+strconv.Quote(lower)+`)`))
	if gap == -1000 {
		t.Fatalf("%s: nothing matches %s or %s", what, upper, lower)
	}
	if gap < 8 {
		t.Errorf("%s touch: %s ends %.0fpx from where %s starts", what, upper, gap, lower)
	}
}

// shareProvider is a provider whose technician works through a link of
// its own, made when they start, as MeshCentral's share: its links lead
// to share, a stand-in for MeshCentral's page. While refusing is set it
// cannot start yet, as MeshCentral while the customer's agent connects.
type shareProvider struct {
	*coretest.Provider
	share    string
	refusing atomic.Bool
}

func (p *shareProvider) Start(ctx context.Context, s *core.Session, mode core.Mode, technician string) (string, error) {
	if p.refusing.Load() {
		return "", &core.Error{Code: core.CodeUnavailable, Retry: 2 * time.Second, Message: "the customer's device is still connecting; try again in a moment"}
	}
	return p.share + "/share?c=" + string(mode) + "-" + s.ID, nil
}

// TestConsoleTechnicianLinkInBrowser starts sessions of a provider that
// hands the technician a link (MeshCentral) from the console in
// Chromium: Start (remote control) opens the link in a new tab, from the
// click, without a way back to the console; the queue and the session's
// page then offer "Open remote control" to that technician, and to no one
// else. A start the provider refuses says why, and leaves no tab open.
func TestConsoleTechnicianLinkInBrowser(t *testing.T) {
	share := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!doctype html><title>MeshCentral</title><h1 id="share">Desktop `+r.URL.Query().Get("c")+`</h1>
<p id="opener"></p><script>document.getElementById("opener").textContent = window.opener === null ? "none" : "some";</script>`)
	}))
	t.Cleanup(share.Close)
	p := &shareProvider{Provider: &coretest.Provider{ProviderName: "meshcentral"}, share: share.URL}
	s := startMain(t, func(c *config.Config) { c.Console.Agents = consoleAgents(t) }, &Main{Provider: p})
	waiting := func() string {
		t.Helper()
		var sess apiSession
		if code := s.api("POST", "/api/v1/sessions", `{"agent":"alice"}`, &sess); code != http.StatusCreated {
			t.Fatalf("create: %d %+v", code, sess)
		}
		if _, _, err := s.Engine().Join(context.Background(), sess.PIN, core.DeviceDesktop); err != nil {
			t.Fatal(err)
		}
		return sess.ID
	}

	agent := newBrowser(t)
	signIn(t, agent, s.url, "alice", alicePassword)
	do(t, agent, "alice's queue", chromedp.WaitVisible(css("#queue")), chromedp.WaitVisible(css("body[data-live=on]")))
	id := waiting()
	row := `#queue li.row.state-waiting[data-session="` + id + `"]`
	do(t, agent, "waiting", chromedp.WaitVisible(css(row)))
	if n := value(t, agent, "start buttons that open a tab", chromedp.Evaluate[int](`document.querySelectorAll('`+row+` button[data-opens]').length`)); n != 2 {
		t.Errorf("%d start buttons open the technician's link, want both", n)
	}
	if text := value(t, agent, "the row", chromedp.Text(css(row))); strings.Contains(text, "offers view only") {
		t.Errorf("the row says the provider offers view only:\n%s", text)
	}
	tech := clickNewTab(t, agent, "the technician's link", row+` button[value="remote.start_control"]`)
	want := share.URL + "/share?c=control-" + id
	do(t, tech, "the share's page", chromedp.WaitVisible(css("#share")))
	if loc := value(t, tech, "the tab's address", chromedp.Location()); loc != want {
		t.Errorf("the tab opened %s, want %s", loc, want)
	}
	wantText(t, tech, "the tab's opener", "#opener", "none")

	var sess struct {
		apiSession
		TechnicianURL string `json:"technician_url"`
	}
	s.api("GET", "/api/v1/sessions/"+id, "", &sess)
	if sess.State != "active" || sess.Mode != "control" || sess.TechnicianURL != want {
		t.Errorf("after the start: %+v", sess)
	}
	active := `#queue li.row.state-active[data-session="` + id + `"] a[data-technician-link]`
	do(t, agent, "the queue's link", chromedp.WaitVisible(css(active)))
	if got := value(t, agent, "the queue's link", chromedp.AttributeValue(css(active), "href")); got.Value != want {
		t.Errorf("the queue links to %q", got.Value)
	}
	do(t, agent, "the session's page", chromedp.Navigate(s.url+"/console/sessions/"+id), chromedp.WaitVisible(css("#technician-link")))
	wantText(t, agent, "the session's link", "#technician-link", "Open remote control")
	wantText(t, agent, "the log's time column", "#log th[data-zone]", "Time (your time)")
	if got := value(t, agent, "the session's link", chromedp.AttributeValue(css("#technician-link"), "href")); got.Value != want {
		t.Errorf("the session's page links to %q", got.Value)
	}

	// Bob, another agent, sees the session but never the link.
	bob := tab(t, agent, "bob", true)
	signIn(t, bob, s.url, "bob", bobPassword)
	do(t, bob, "bob's queue", chromedp.WaitVisible(css("#queue")))
	for _, path := range []string{"/console", "/console/sessions/" + id} {
		do(t, bob, "bob at "+path, chromedp.Navigate(s.url+path), chromedp.WaitVisible(css("main")))
		if html := value(t, bob, "bob's page", chromedp.Evaluate[string](`document.documentElement.outerHTML`)); strings.Contains(html, share.URL) || strings.Contains(html, "Open remote control") {
			t.Errorf("bob sees the technician's link at %s", path)
		}
	}

	// The provider cannot start yet: the console says so in its words,
	// and the tab opened for the link closes.
	p.refusing.Store(true)
	next := waiting()
	row = `#queue li.row.state-waiting[data-session="` + next + `"]`
	do(t, agent, "the second session", chromedp.Navigate(s.url+"/console"), chromedp.WaitVisible(css(row)))
	pages := func() int {
		infos, err := chromedp.Targets(agent)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, info := range infos {
			if info.Type == "page" {
				n++
			}
		}
		return n
	}
	before := pages()
	do(t, agent, "start, refused", chromedp.Click(css(row+` button[value="remote.start_view"]`)), chromedp.WaitVisible(css("#flash")))
	wantText(t, agent, "the refusal", "#flash", "The session did not start: the customer's device is still connecting; try again in a moment")
	for deadline := time.Now().Add(5 * time.Second); pages() != before && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
	}
	if n := pages(); n != before {
		t.Errorf("%d tabs after a refused start, %d before", n, before)
	}
	s.api("GET", "/api/v1/sessions/"+next, "", &sess)
	if sess.State != "waiting" {
		t.Errorf("after the refusal the session is %s", sess.State)
	}
}
