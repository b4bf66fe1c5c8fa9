package main

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/device"

	"github.com/assistbot/assistbot/config"
)

// mediaBrowser starts a headless Chromium whose camera and screen are
// Chromium's fake devices (a test pattern that moves) and whose
// permission prompts say yes, so that a page can share without a person
// at the keyboard.
func mediaBrowser(t *testing.T, who string) context.Context {
	t.Helper()
	return startBrowser(t, who,
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("auto-select-desktop-capture-source", "Entire screen"),
		// Background tabs must keep decoding and rendering video.
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
	)
}

type videoState struct {
	Width int     `json:"width"`
	Time  float64 `json:"time"`
	Live  bool    `json:"live"`
}

// wantFrames waits until the technician's video has a picture and its
// time moves on.
func wantFrames(t *testing.T, agent context.Context, what string) {
	t.Helper()
	first := value(t, agent, what, chromedp.Poll[videoState](`(() => { const v = document.getElementById("screen-video");
		return v.videoWidth > 0 && v.currentTime > 0 ? {width: v.videoWidth, time: v.currentTime, live: !!v.srcObject} : null; })()`,
		chromedp.WithPollingTimeout(12*time.Second)))
	later := value(t, agent, what+": time advances", chromedp.Poll[videoState](`(() => { const v = document.getElementById("screen-video");
		return v.currentTime > `+formatFloat(first.Time)+` + 0.5 ? {width: v.videoWidth, time: v.currentTime, live: !!v.srcObject} : null; })()`,
		chromedp.WithPollingTimeout(12*time.Second)))
	if later.Width <= 0 {
		t.Errorf("%s: the video is %d pixels wide", what, later.Width)
	}
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', 3, 64) }

// recordTracks makes every page of the tab of ctx keep the tracks that
// getDisplayMedia and getUserMedia hand it in window.capturedTracks,
// before the page's own scripts run, so that the test can tell whether
// the page stopped them (readyState "ended") or only let go of them.
func recordTracks(t *testing.T, ctx context.Context) {
	t.Helper()
	do(t, ctx, "record captured tracks", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `(() => {
			window.capturedTracks = [];
			const md = navigator.mediaDevices;
			if (!md) return;
			for (const name of ["getDisplayMedia", "getUserMedia"]) {
				const get = md[name];
				if (!get) continue;
				md[name] = function () {
					return get.apply(this, arguments).then((s) => { window.capturedTracks.push(...s.getTracks()); return s; });
				};
			}
		})();`})
		return err
	}))
}

type trackCount struct {
	Live  int `json:"live"`
	Ended int `json:"ended"`
}

// capturedTracks counts the tracks the page of ctx captured in this
// document by their state.
func capturedTracks(t *testing.T, ctx context.Context, what string) trackCount {
	t.Helper()
	return value(t, ctx, what, chromedp.Evaluate[trackCount](`({
		live: window.capturedTracks.filter((t) => t.readyState === "live").length,
		ended: window.capturedTracks.filter((t) => t.readyState === "ended").length,
	})`))
}

// wantTracksStopped fails the test unless the page of ctx captured
// tracks and all of them are stopped.
func wantTracksStopped(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	if n := capturedTracks(t, ctx, what); n.Live != 0 || n.Ended == 0 {
		t.Errorf("%s: %d captured tracks still live, %d stopped", what, n.Live, n.Ended)
	}
}

// logRows returns the rows of the event log on the console's session
// page, once one of them contains want: "who | what | state | detail".
func logRows(t *testing.T, agent context.Context, want string) []string {
	t.Helper()
	return value(t, agent, "event log with "+want, chromedp.Poll[[]string](`(() => {
		const rows = Array.from(document.querySelectorAll("#log tbody tr"), (r) => Array.from(r.cells).slice(1).map((c) => c.textContent.trim()).join(" | "));
		return rows.some((r) => r.includes(`+strconv.Quote(want)+`)) ? rows : null; })()`,
		chromedp.WithPollingTimeout(10*time.Second)))
}

// TestScreenShareInBrowser shares a screen from a customer's browser to
// the technician's console in two headless Chromiums with fake media:
// the customer joins, the technician starts view only, the customer
// declines (the console and the log say so), then shares, and the
// console plays the picture, which Full screen enlarges; stopping halts
// it on both sides (the customer's captured tracks end), sharing again
// brings it back, ending the session halts it for good. A third browser with neither the customer's cookie nor a sign-in
// cannot open either signaling socket, and the server refuses a signaling
// message that is too large or malformed.
func TestScreenShareInBrowser(t *testing.T) {
	start := time.Now()
	s := startConsole(t, "345678")
	agent := mediaBrowser(t, "technician")
	customer := mediaBrowser(t, "customer")

	sess := startSharing(t, s, agent, customer)

	// A stranger's browser can open neither socket, and the agent's own
	// sockets refuse bad messages.
	stranger := tab(t, customer, "stranger", true)
	do(t, stranger, "stranger's page", chromedp.Navigate(s.url+"/"))
	for _, path := range []string{"/s/" + sess.ID + "/signal", "/console/sessions/" + sess.ID + "/signal"} {
		got := value(t, stranger, "stranger's socket", chromedp.Evaluate[string](socketProbe(path, ""), chromedp.EvalAwaitPromise))
		if got != "refused" {
			t.Errorf("a browser with no cookie and no sign-in opened %s: %s", path, got)
		}
	}

	// The customer first declines: the technician is told, the log
	// records it, and the customer can still share.
	do(t, customer, "decline",
		chromedp.Click(css("#share-decline")),
		chromedp.WaitVisible(css(`#share[data-state="declined"]`)),
		chromedp.WaitNotVisible(css("#share-decline")),
	)
	if got := value(t, customer, "declined note", chromedp.Text(css("#share-note"))); !strings.Contains(got, "You chose not to share, and the technician has been told") {
		t.Errorf("after declining the customer's page says %q", got)
	}
	value(t, agent, "console told of the decline", chromedp.Poll[bool](`document.getElementById("screen-status").textContent === "The customer chose not to share."`,
		chromedp.WithPollingTimeout(10*time.Second)))
	rows := logRows(t, agent, "Screen sharing declined")
	if !slices.Contains(rows, "Customer | Screen sharing declined | In progress | declined") {
		t.Errorf("the event log's decline is not the customer's, with the reason:\n%s", strings.Join(rows, "\n"))
	}
	if n := value(t, customer, "tracks after declining", chromedp.Evaluate[int]("window.capturedTracks.length")); n != 0 {
		t.Errorf("declining captured %d tracks", n)
	}

	// The customer shares after all; the console plays the picture.
	do(t, customer, "share the screen",
		chromedp.WaitVisible(css("#share-start")),
		chromedp.Click(css("#share-start")),
		chromedp.WaitVisible(css("#share-indicator")),
		chromedp.WaitVisible(css("#share-stop")),
	)
	if got := value(t, customer, "indicator", chromedp.Text(css("#share-indicator"))); !strings.Contains(got, "You are sharing your screen") {
		t.Errorf("the indicator says %q", got)
	}
	if n := capturedTracks(t, customer, "tracks while sharing"); n.Live == 0 {
		t.Errorf("while sharing no captured track is live: %+v", n)
	}
	wantFrames(t, agent, "frames after sharing")

	// Full screen: the button works once the picture plays, and puts the
	// video in full screen.
	do(t, agent, "full screen",
		chromedp.WaitEnabled(css("#screen-full")),
		chromedp.Evaluate[chromedp.Void](`window.fullscreenCalls = [];
			const requestFullscreen = Element.prototype.requestFullscreen;
			Element.prototype.requestFullscreen = function () { window.fullscreenCalls.push(this.id); return requestFullscreen.apply(this, arguments); };`),
		chromedp.Click(css("#screen-full")),
	)
	if got := value(t, agent, "full screen element", chromedp.Poll[string](`document.fullscreenElement ? document.fullscreenElement.id : null`,
		chromedp.WithPollingTimeout(5*time.Second))); got != "screen-video" {
		t.Errorf("in full screen: #%s", got)
	}
	if calls := value(t, agent, "full screen calls", chromedp.Evaluate[[]string]("window.fullscreenCalls")); !slices.Equal(calls, []string{"screen-video"}) {
		t.Errorf("requestFullscreen was called on %q", calls)
	}
	value(t, agent, "leave full screen", chromedp.Evaluate[bool](`document.exitFullscreen().then(() => !document.fullscreenElement)`, chromedp.EvalAwaitPromise))
	stats := value(t, agent, "connection quality", chromedp.Poll[string](`(() => { const t = document.getElementById("screen-stats").textContent; return /\d+×\d+ · [1-9]\d* fps · round trip \d+ ms/.test(t) ? t : null; })()`,
		chromedp.WithPollingTimeout(10*time.Second)))
	t.Logf("connection quality: %s", stats)
	if got := value(t, agent, "live status", chromedp.Text(css("#screen-status"))); got != "Live: the customer's screen" {
		t.Errorf("while sharing the console says %q", got)
	}

	// The customer stops: their tracks end and the console's picture goes.
	do(t, customer, "stop sharing",
		chromedp.Click(css("#share-stop")),
		chromedp.WaitNotVisible(css("#share-indicator")),
		chromedp.WaitVisible(css("#share-start")),
	)
	if n := value(t, customer, "live tracks", chromedp.Evaluate[int](`document.getElementById("share-preview").srcObject ? 1 : 0`)); n != 0 {
		t.Errorf("the customer's preview still holds a stream after stopping")
	}
	wantTracksStopped(t, customer, "tracks after Stop sharing")
	value(t, agent, "picture gone", chromedp.Poll[bool](`!document.getElementById("screen-video").srcObject && document.getElementById("screen-status").textContent === "The customer stopped sharing."`,
		chromedp.WithPollingTimeout(10*time.Second)))
	if disabled := value(t, agent, "full screen without a picture", chromedp.Evaluate[bool](`document.getElementById("screen-full").disabled`)); !disabled {
		t.Errorf("with no picture the full screen button is enabled")
	}

	// Sharing again brings the picture back.
	do(t, customer, "share again", chromedp.Click(css("#share-start")), chromedp.WaitVisible(css("#share-indicator")))
	wantFrames(t, agent, "frames after sharing again")

	// Bad messages, sent from the customer's own browser on a socket of
	// its own (which replaces the share page's, so this comes last but
	// one): too large, and malformed.
	big := value(t, customer, "oversized message", chromedp.Evaluate[string](socketProbe("/s/"+sess.ID+"/signal",
		`JSON.stringify({type: "offer", sdp: "v=0" + "a".repeat(70000)})`), chromedp.EvalAwaitPromise))
	if big != "closed 1009 malformed message: larger than 65536 bytes" {
		t.Errorf("an oversized message: %s", big)
	}
	bad := value(t, customer, "malformed message", chromedp.Evaluate[string](socketProbe("/s/"+sess.ID+"/signal", `"{\"type\":\"offer\",\"sdp\":1}"`), chromedp.EvalAwaitPromise))
	if !strings.HasPrefix(bad, "closed 1008 malformed message") {
		t.Errorf("a malformed message: %s", bad)
	}
	// The share page was replaced by the probes: it says so and stopped
	// sharing.
	do(t, customer, "share page replaced", chromedp.WaitVisible(css(`#share[data-state="replaced"]`)))
	if n := value(t, customer, "tracks after replacement", chromedp.Evaluate[int](`document.getElementById("share-preview").srcObject ? 1 : 0`)); n != 0 {
		t.Errorf("the replaced page still shares")
	}
	wantTracksStopped(t, customer, "tracks after replacement")

	// The customer reloads and shares once more; the technician ends the
	// session: both sides stop.
	do(t, customer, "reload and share",
		chromedp.Reload(),
		chromedp.WaitVisible(css("#share-start")),
		chromedp.Click(css("#share-start")),
		chromedp.WaitVisible(css("#share-indicator")),
	)
	wantFrames(t, agent, "frames after the reload")
	do(t, agent, "end the session",
		chromedp.Click(css(`#card button[value="remote.end"]`)),
		chromedp.WaitVisible(css(`#card .card-view[data-state="ended"]`)),
	)
	value(t, agent, "picture gone after the end", chromedp.Poll[bool](`!document.getElementById("screen-video").srcObject && document.getElementById("screen-status").textContent === "The session has ended."`,
		chromedp.WithPollingTimeout(10*time.Second)))
	do(t, customer, "customer sees the end", chromedp.WaitVisible(css(`#share[data-state="ended"]`)))
	// The share's prompt is gone at once; the page says only that the
	// session ended.
	wantText(t, customer, "status after the end", "#status", s.catalog.T("en", "portal.status.ended"))
	if shown := value(t, customer, "prompt after the end", chromedp.Evaluate[[]string](`["#share-h", "#share-explain", "#share-start", "#share-decline", "#handoff"]
		.filter((sel) => { const e = document.querySelector(sel); return e && e.getClientRects().length > 0; })`)); len(shown) != 0 {
		t.Errorf("after the end the share page still shows %v", shown)
	}
	wantNoFalseClaims(t, customer, "share page after the end", "Show the technician your screen")
	if n := value(t, customer, "tracks after the end", chromedp.Evaluate[int](`document.getElementById("share-preview").srcObject ? 1 : 0`)); n != 0 {
		t.Errorf("the customer still shares after the end")
	}
	wantTracksStopped(t, customer, "tracks after the end")
	do(t, customer, "status page after the end", chromedp.WaitVisible(css(".status-ended")))

	// The log tells the story.
	log := value(t, agent, "event log", chromedp.Text(css("#log")))
	for _, want := range []string{"Screen sharing declined", "Screen sharing started", "Screen sharing stopped", "stopped by the customer", "replaced by another device"} {
		if !strings.Contains(log, want) {
			t.Errorf("the event log lacks %q:\n%s", want, log)
		}
	}
	t.Logf("screen share flow took %s", time.Since(start).Round(time.Millisecond))
}

// startSharing walks a session up to the customer's share page: made by
// the API for alice, who signs in; the customer joins in their browser;
// alice starts it view only from its page, which then watches; the
// customer's page turns into the share page.
func startSharing(t *testing.T, s *server, agent, customer context.Context) apiSession {
	t.Helper()
	recordTracks(t, customer)
	sess := startViewOnly(t, s, agent, customer)
	if n := value(t, agent, "control buttons", chromedp.Evaluate[int](`document.querySelectorAll('button[value="remote.start_control"]').length`)); n != 0 {
		t.Errorf("the console offers remote control for the builtin provider")
	}
	if got := value(t, agent, "screen status", chromedp.Poll[string](`(() => { const t = document.getElementById("screen-status").textContent; return t.includes("Waiting") ? t : null; })()`,
		chromedp.WithPollingTimeout(10*time.Second))); got != "Waiting for the customer to share their screen…" {
		t.Errorf("before the share the console says %q", got)
	}
	if disabled := value(t, agent, "full screen before the share", chromedp.Evaluate[bool](`document.getElementById("screen-full").disabled`)); !disabled {
		t.Errorf("before the share the full screen button is enabled")
	}

	// The customer's page, following the session while it waits, turns
	// into the share page once the session is active, and says that the
	// technician sees nothing until the customer shares.
	do(t, customer, "share page", chromedp.WaitVisible(css("#share-start")))
	wantText(t, customer, "share page's status", "#status", s.catalog.T("en", "share.ready_screen"))
	wantNoFalseClaims(t, customer, "share page before sharing")
	explain := value(t, customer, "explanation", chromedp.Text(css("#share")))
	for _, want := range []string{"Show the technician your screen", "can only watch", "Share my screen", "Don't share"} {
		if !strings.Contains(explain, want) {
			t.Errorf("the share page lacks %q:\n%s", want, explain)
		}
	}

	return sess
}

// startViewOnly issues a session for alice, signs her in, has the
// customer join it and alice start it view only.
func startViewOnly(t *testing.T, s *server, agent, customer context.Context) apiSession {
	t.Helper()
	var sess apiSession
	s.api("POST", "/api/v1/sessions", `{"agent":"alice"}`, &sess)
	signIn(t, agent, s.url, "alice", alicePassword)
	do(t, agent, "signed in", chromedp.WaitVisible(css("#queue")))
	do(t, customer, "customer presses Start",
		chromedp.Navigate(sess.DesktopURL),
		chromedp.WaitVisible(css(`form[action="/join"] button`)),
		chromedp.Click(css(`form[action="/join"] button`)),
		chromedp.WaitVisible(css(".status-waiting")),
	)
	do(t, agent, "technician starts view only",
		chromedp.Navigate(s.url+"/console/sessions/"+sess.ID),
		chromedp.WaitVisible(css(`#card button[value="remote.start_view"]`)),
		chromedp.Click(css(`#card button[value="remote.start_view"]`)),
		chromedp.WaitVisible(css(`#card .card-view[data-state="active"]`)),
		chromedp.WaitVisible(css("#screen-video")),
	)
	return sess
}

// socketProbe is a script that opens the signaling socket at path, sends
// msg (a JavaScript expression) once it is open, and resolves to how it
// ended: "refused" (never opened), "closed CODE REASON", or "open".
func socketProbe(path, msg string) string {
	if msg == "" {
		msg = "null"
	}
	return `new Promise((resolve) => {
		const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + ` + "`" + path + "`" + `);
		let opened = false;
		const msg = ` + msg + `;
		ws.onopen = () => { opened = true; if (msg !== null) ws.send(msg); };
		ws.onclose = (e) => resolve(opened ? ("closed " + e.code + (e.reason ? " " + e.reason : "")) : "refused");
		setTimeout(() => resolve(opened ? "open" : "timeout"), 8000);
	})`
}

// TestScreenShareThroughTURN shares a screen with webrtc.relay_only and
// the embedded TURN server: the picture arrives, and the connection in
// use runs through a relay of that server on both sides. Then the
// customer moves to their phone (a third browser, emulating an iPhone)
// through the share page's link, and shares its camera instead.
func TestScreenShareThroughTURN(t *testing.T) {
	s := startConsoleWith(t, func(c *config.Config) {
		c.WebRTC.TURN = config.TURN{Enabled: true, Listen: "127.0.0.1:0", Realm: "assistbot"}
		c.WebRTC.RelayOnly = true
	}, "456789")
	agent := mediaBrowser(t, "technician")
	customer := mediaBrowser(t, "customer")
	startSharing(t, s, agent, customer)
	do(t, customer, "share the screen", chromedp.Click(css("#share-start")), chromedp.WaitVisible(css("#share-indicator")))
	wantFrames(t, agent, "frames through the relay")
	kind := value(t, agent, "route", chromedp.Poll[string](`(() => { const r = document.getElementById("screen").dataset.route;
		return r && document.getElementById("screen-stats").textContent.includes("through a relay") ? r : null; })()`,
		chromedp.WithPollingTimeout(10*time.Second)))
	if kind != "relay/relay" {
		t.Errorf("the connection in use is %s; want relay/relay", kind)
	}

	// The phone takes over.
	do(t, customer, "open the handoff", chromedp.Click(css("#handoff summary")), chromedp.WaitVisible(css("#handoff-link")))
	link := value(t, customer, "handoff link", chromedp.AttributeValue(css("#handoff-link"), "href"))
	if !strings.HasPrefix(link.Value, s.url+"/h/") {
		t.Fatalf("the handoff link is %q", link.Value)
	}
	phone := mediaBrowser(t, "phone")
	do(t, phone, "phone continues",
		chromedp.Emulate(device.IPhone13),
		chromedp.Navigate(link.Value),
		chromedp.WaitVisible(css("#handoff-continue")),
		chromedp.Click(css("#handoff-continue")),
		chromedp.WaitVisible(css("#share-start")),
	)
	if got := value(t, phone, "phone's button", chromedp.Text(css("#share-start"))); got != "Share my camera" {
		t.Errorf("the phone offers %q", got)
	}
	do(t, customer, "the computer is told", chromedp.WaitVisible(css(`#share[data-state="replaced"]`)))
	if n := value(t, customer, "computer's tracks", chromedp.Evaluate[int](`document.getElementById("share-preview").srcObject ? 1 : 0`)); n != 0 {
		t.Errorf("the computer still shares after the phone took over")
	}
	wantTracksStopped(t, customer, "the computer's tracks after the phone took over")
	do(t, phone, "share the camera", chromedp.Click(css("#share-start")), chromedp.WaitVisible(css("#share-indicator")))
	wantFrames(t, agent, "frames from the phone's camera")
	value(t, agent, "camera status", chromedp.Poll[bool](`document.getElementById("screen-status").textContent === "Live: the customer's camera"`,
		chromedp.WithPollingTimeout(10*time.Second)))
	log := value(t, agent, "event log", chromedp.Poll[string](`(() => { const t = document.getElementById("log").textContent; return t.includes("Moved to another device") ? t : null; })()`,
		chromedp.WithPollingTimeout(10*time.Second)))
	for _, want := range []string{"to a mobile device", "moved to another device", "camera"} {
		if !strings.Contains(log, want) {
			t.Errorf("the event log lacks %q:\n%s", want, log)
		}
	}
}

// TestShareRefusedWhileDisconnected: the customer's "Don't share", and
// later their Stop, each pressed while the page's socket cannot reach the
// server (it reconnects), are sent once the socket is back: the
// technician is told, and the log has them.
func TestShareRefusedWhileDisconnected(t *testing.T) {
	s := startConsole(t, "345679")
	agent := mediaBrowser(t, "technician")
	customer := mediaBrowser(t, "customer")
	// While window.cutSignal is set, the page's signaling sockets go to a
	// path that does not exist, as if the server could not be reached.
	do(t, customer, "a switch for the page's sockets", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `(() => {
			const WS = window.WebSocket;
			window.cutSignal = true;
			window.sockets = [];
			const Cut = function (url, protocols) {
				const s = new WS(window.cutSignal ? url.replace("/signal", "/cut") : url, protocols);
				window.sockets.push(s);
				return s;
			};
			Cut.prototype = WS.prototype;
			for (const k of ["CONNECTING", "OPEN", "CLOSING", "CLOSED"]) Cut[k] = WS[k];
			window.WebSocket = Cut;
		})()`})
		return err
	}))
	startViewOnly(t, s, agent, customer)
	do(t, customer, "decline, unreachable", chromedp.WaitVisible(css("#share-decline")), chromedp.Click(css("#share-decline")),
		chromedp.WaitVisible(css(`#share[data-state="declined"]`)),
		chromedp.Evaluate[chromedp.Void]("window.cutSignal = false"))
	value(t, agent, "console told of the decline", chromedp.Poll[bool](`document.getElementById("screen-status").textContent === "The customer chose not to share."`,
		chromedp.WithPollingTimeout(20*time.Second)))
	if rows := logRows(t, agent, "Screen sharing declined"); !slices.Contains(rows, "Customer | Screen sharing declined | In progress | declined") {
		t.Errorf("the event log has no decline:\n%s", strings.Join(rows, "\n"))
	}

	// The customer shares, loses the connection, and stops sharing
	// before it is back: the technician hears of the stop once it is.
	do(t, customer, "share the screen", chromedp.Click(css("#share-start")), chromedp.WaitVisible(css("#share-stop")))
	value(t, agent, "the picture", chromedp.Poll[bool](`document.getElementById("screen-status").textContent === "Live: the customer's screen"`,
		chromedp.WithPollingTimeout(20*time.Second)))
	do(t, customer, "stop while cut off",
		chromedp.Evaluate[chromedp.Void]("window.cutSignal = true; window.sockets.forEach((s) => s.close())"),
		chromedp.Click(css("#share-stop")),
		chromedp.WaitVisible(css("#share-start")),
		chromedp.Evaluate[chromedp.Void]("window.cutSignal = false"))
	value(t, agent, "console told of the stop", chromedp.Poll[bool](`document.getElementById("screen-status").textContent === "The customer stopped sharing."`,
		chromedp.WithPollingTimeout(20*time.Second)))
}
