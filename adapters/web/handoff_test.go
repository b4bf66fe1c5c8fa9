package web

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/core"
)

var handoffLinkRE = regexp.MustCompile(`href="[^"]*(/h/[^"]+)" id="handoff-link"`)

// handoffPath returns the handoff link's path in a share page.
func handoffPath(t *testing.T, page string) string {
	t.Helper()
	m := handoffLinkRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no handoff link in:\n%s", page)
	}
	return m[1]
}

// TestHandoff moves a session being viewed from the customer's computer
// to their phone: the share page offers a link and its QR code; opening
// the link changes nothing; continuing gives the phone the session and
// takes it from the computer, whose share page is told; the link then
// works no more.
func TestHandoff(t *testing.T) {
	r := newShareRig(t)
	resp, page := r.customer.get("/s/" + r.sess.ID)
	wantStatus(t, resp, page, http.StatusOK)
	wantContains(t, page, `<details id="handoff"`, "Show it with my phone instead", `<svg xmlns="http://www.w3.org/2000/svg"`, `class="qr"`,
		`"handoff":"/s/`+r.sess.ID+`/handoff"`)
	path := handoffPath(t, page)
	if !strings.HasPrefix(handoffLinkRE.FindStringSubmatch(page)[0], `href="`+r.ts.URL+"/h/") {
		t.Errorf("the link is not absolute on the public URL: %s", handoffLinkRE.FindStringSubmatch(page)[0])
	}

	// A fresh link, for the script, only in the browser that joined.
	resp, part := r.customer.get("/s/" + r.sess.ID + "/handoff")
	wantStatus(t, resp, part, http.StatusOK)
	wantContains(t, part, `id="handoff-link"`, "<svg")
	if resp, body := r.visitor().get("/s/" + r.sess.ID + "/handoff"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a stranger got a handoff link: %d %s", resp.StatusCode, body)
	}

	// The computer's page is sharing, the technician watching.
	tech, computer := r.pair()
	computer.send(`{"type":"share-started","source":"screen"}`)
	tech.want(map[string]any{"type": "share-started"})

	// The phone opens the link: a page, and nothing moves.
	phone := r.visitor()
	resp, landing := phone.get(path, "User-Agent", uaIPhone)
	wantStatus(t, resp, landing, http.StatusOK)
	wantContains(t, landing, "Continue on another device", `action="`+esc(path)+`"`, "Continue on this device", "cannot control it")
	if s := r.session(r.sess.ID); s.CustomerKey != r.sess.CustomerKey || s.Device != core.DeviceDesktop {
		t.Fatalf("opening the link moved the session: %+v", s)
	}

	// The phone continues: it is the customer now.
	resp, _ = phone.do(http.MethodPost, path, nil, "User-Agent", uaIPhone)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/s/"+r.sess.ID {
		t.Fatalf("continue: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	computer.want(map[string]any{"type": "bye", "reason": "replaced"})
	tech.want(map[string]any{"type": "peer", "role": "customer", "state": "away"})
	r.wantLog(core.ActionShareStop, "moved to another device")
	r.wantLog(core.ActionDevice, "to a mobile device")
	resp, page = phone.get("/s/"+r.sess.ID, "User-Agent", uaIPhone)
	wantStatus(t, resp, page, http.StatusOK)
	wantContains(t, page, "Share my camera", `"camera":true`)
	if resp, body := r.customer.get("/s/" + r.sess.ID); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the computer still opens the session: %d\n%s", resp.StatusCode, body)
	}
	if _, resp, err := r.dial(r.customer, "/s/"+r.sess.ID+"/signal"); err == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("the computer still opens the socket: %v %v", err, status(resp))
	}
	phoneSock, resp, err := r.dial(phone, "/s/"+r.sess.ID+"/signal")
	if err != nil {
		t.Fatalf("the phone's socket: %v %v", err, status(resp))
	}
	phoneSock.want(map[string]any{"type": "welcome", "peer": true})
	tech.want(map[string]any{"type": "peer", "role": "customer", "state": "back"})

	// The link was for the computer's key: it is used up.
	for name, v := range map[string]*visitor{"again": phone, "another browser": r.visitor()} {
		resp, body := v.do(http.MethodPost, path, nil)
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "expired or was already used") {
			t.Errorf("%s: %d\n%s", name, resp.StatusCode, body)
		}
	}
}

// TestHandoffRefusals: a link that is forged, cut, expired or for a
// session no longer viewed is refused with one answer, and moves nothing.
func TestHandoffRefusals(t *testing.T) {
	r := newShareRig(t)
	_, page := r.customer.get("/s/" + r.sess.ID)
	path := handoffPath(t, page)
	tok := strings.TrimPrefix(path, "/h/")
	id, rest, _ := strings.Cut(tok, ".")
	exp, mac, _ := strings.Cut(rest, ".")
	other := r.issue("en")
	for name, p := range map[string]string{
		"forged mac":      "/h/" + id + "." + exp + "." + strings.Repeat("A", len(mac)),
		"later expiry":    "/h/" + id + ".9999999999." + mac,
		"another session": "/h/" + other.ID + "." + exp + "." + mac,
		"cut":             "/h/" + id + "." + exp,
		"garbage":         "/h/%00%ff",
		"empty mac":       "/h/" + id + "." + exp + ".",
	} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			resp, body := r.visitor().do(method, p, nil)
			if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "expired or was already used") {
				t.Errorf("%s %s: %d\n%s", name, method, resp.StatusCode, body)
			}
		}
	}
	r.clock.Add(HandoffTTL + time.Second)
	if resp, body := r.visitor().do(http.MethodPost, path, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("expired link: %d\n%s", resp.StatusCode, body)
	}
	if s := r.session(r.sess.ID); s.CustomerKey != r.sess.CustomerKey {
		t.Error("a refused link moved the session")
	}

	// A fresh link stops working when the session ends.
	_, page = r.customer.get("/s/" + r.sess.ID)
	path = handoffPath(t, page)
	if _, err := r.engine.End(ctx, r.sess.ID, core.Actor{Kind: core.ActorTechnician, Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	if resp, body := r.visitor().do(http.MethodPost, path, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("link of an ended session: %d\n%s", resp.StatusCode, body)
	}
}

// TestPortalRefusesCrossSitePosts: a page on another site cannot make a
// visitor's browser join a session or take one over (and so lose its own
// session's cookie): the browser says where the form came from.
func TestPortalRefusesCrossSitePosts(t *testing.T) {
	r := newShareRig(t)
	_, page := r.customer.get("/s/" + r.sess.ID)
	path := handoffPath(t, page)
	other := r.issue("en")
	victim := r.visitor()
	for name, req := range map[string][]string{
		"join, Sec-Fetch-Site": {"/join", "code=" + other.PIN, "Sec-Fetch-Site", "cross-site"},
		"join, Origin":         {"/join", "code=" + other.PIN, "Origin", "https://evil.example"},
		"handoff":              {path, "", "Sec-Fetch-Site", "cross-site"},
	} {
		resp, body := victim.do(http.MethodPost, req[0], strings.NewReader(req[1]), req[2], req[3])
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "sent from another website") {
			t.Errorf("%s: %d\n%s", name, resp.StatusCode, body)
		}
		if victim.cookie("/", cookieName) != "" {
			t.Errorf("%s: the visitor got a session cookie", name)
		}
	}
	if s := r.session(other.ID); s.State != core.StateIssued {
		t.Errorf("a cross-site join changed the session: %s", s.State)
	}
	if s := r.session(r.sess.ID); s.CustomerKey != r.sess.CustomerKey {
		t.Error("a cross-site handoff moved the session")
	}
	// The portal's own form, as a browser sends it, still works.
	resp, _ := victim.do(http.MethodPost, "/join", strings.NewReader("code="+other.PIN), "Sec-Fetch-Site", "same-origin")
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a same-origin join: %d", resp.StatusCode)
	}
}
