package portal

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/web/webtest"
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
	resp, page := r.customer.Get("/s/" + r.sess.ID)
	webtest.WantStatus(t, resp, page, http.StatusOK)
	webtest.WantContains(t, page, `<details id="handoff"`, "Show it with my phone instead", `<svg xmlns="http://www.w3.org/2000/svg"`, `class="qr"`,
		`"handoff":"/s/`+r.sess.ID+`/handoff"`)
	path := handoffPath(t, page)
	if !strings.HasPrefix(handoffLinkRE.FindStringSubmatch(page)[0], `href="`+r.URL()+"/h/") {
		t.Errorf("the link is not absolute on the public URL: %s", handoffLinkRE.FindStringSubmatch(page)[0])
	}

	// A fresh link, for the script, only in the browser that joined.
	resp, part := r.customer.Get("/s/" + r.sess.ID + "/handoff")
	webtest.WantStatus(t, resp, part, http.StatusOK)
	webtest.WantContains(t, part, `id="handoff-link"`, "<svg")
	if resp, body := r.Visitor().Get("/s/" + r.sess.ID + "/handoff"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a stranger got a handoff link: %d %s", resp.StatusCode, body)
	}

	// The phone opens the link: a page, and nothing moves.
	phone := r.Visitor()
	resp, landing := phone.Get(path, "User-Agent", uaIPhone)
	webtest.WantStatus(t, resp, landing, http.StatusOK)
	webtest.WantContains(t, landing, "Continue on another device", `action="`+esc(path)+`"`, "Continue on this device", "cannot control it")
	if s := r.Session(r.sess.ID); s.CustomerKey != r.sess.CustomerKey || s.Device != core.DeviceDesktop {
		t.Fatalf("opening the link moved the session: %+v", s)
	}

	// The phone continues: it is the customer now.
	resp, _ = phone.Do(http.MethodPost, path, nil, "User-Agent", uaIPhone)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/s/"+r.sess.ID {
		t.Fatalf("continue: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// The share is told, so that the computer's page is disconnected.
	if got := r.share.movedIDs(); !slices.Equal(got, []string{r.sess.ID}) {
		t.Errorf("the share was told of moves %v", got)
	}
	r.wantLog(core.ActionDevice, "to a mobile device")
	resp, page = phone.Get("/s/"+r.sess.ID, "User-Agent", uaIPhone)
	webtest.WantStatus(t, resp, page, http.StatusOK)
	webtest.WantContains(t, page, "Share my camera", `"camera":true`)
	if resp, body := r.customer.Get("/s/" + r.sess.ID); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the computer still opens the session: %d\n%s", resp.StatusCode, body)
	}
	// The portal's customer check, which the customer's signaling
	// socket uses too, now knows only the phone.
	if _, err := r.portal.Customer(cookieRequest(r.sess.ID, r.customer.Cookie("/", cookieName))); core.ErrorCode(err) != core.CodeNotFound {
		t.Errorf("the computer still passes the customer check: %v", err)
	}
	if s, err := r.portal.Customer(cookieRequest(r.sess.ID, phone.Cookie("/", cookieName))); err != nil || s.ID != r.sess.ID {
		t.Errorf("the phone does not pass the customer check: %v", err)
	}

	// The link was for the computer's key: it is used up.
	for name, v := range map[string]*webtest.Visitor{"again": phone, "another browser": r.Visitor()} {
		resp, body := v.Do(http.MethodPost, path, nil)
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "expired or was already used") {
			t.Errorf("%s: %d\n%s", name, resp.StatusCode, body)
		}
	}
}

// TestHandoffRefusals: a link that is forged, cut, expired or for a
// session no longer viewed is refused with one answer, and moves nothing.
func TestHandoffRefusals(t *testing.T) {
	r := newShareRig(t)
	_, page := r.customer.Get("/s/" + r.sess.ID)
	path := handoffPath(t, page)
	tok := strings.TrimPrefix(path, "/h/")
	id, rest, _ := strings.Cut(tok, ".")
	exp, mac, _ := strings.Cut(rest, ".")
	other := r.Issue("en")
	for name, p := range map[string]string{
		"forged mac":      "/h/" + id + "." + exp + "." + strings.Repeat("A", len(mac)),
		"later expiry":    "/h/" + id + ".9999999999." + mac,
		"another session": "/h/" + other.ID + "." + exp + "." + mac,
		"cut":             "/h/" + id + "." + exp,
		"garbage":         "/h/%00%ff",
		"empty mac":       "/h/" + id + "." + exp + ".",
	} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			resp, body := r.Visitor().Do(method, p, nil)
			if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "expired or was already used") {
				t.Errorf("%s %s: %d\n%s", name, method, resp.StatusCode, body)
			}
		}
	}
	r.Clock.Add(HandoffTTL + time.Second)
	if resp, body := r.Visitor().Do(http.MethodPost, path, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("expired link: %d\n%s", resp.StatusCode, body)
	}
	if s := r.Session(r.sess.ID); s.CustomerKey != r.sess.CustomerKey {
		t.Error("a refused link moved the session")
	}

	// A fresh link stops working when the session ends.
	_, page = r.customer.Get("/s/" + r.sess.ID)
	path = handoffPath(t, page)
	if _, err := r.Engine.End(ctx, r.sess.ID, core.Actor{Kind: core.ActorTechnician, Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	if resp, body := r.Visitor().Do(http.MethodPost, path, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("link of an ended session: %d\n%s", resp.StatusCode, body)
	}
}

// TestPortalRefusesCrossSitePosts: a page on another site cannot make a
// visitor's browser join a session or take one over (and so lose its own
// session's cookie): the browser says where the form came from.
func TestPortalRefusesCrossSitePosts(t *testing.T) {
	r := newShareRig(t)
	_, page := r.customer.Get("/s/" + r.sess.ID)
	path := handoffPath(t, page)
	other := r.Issue("en")
	victim := r.Visitor()
	for name, req := range map[string][]string{
		"join, Sec-Fetch-Site": {"/join", "code=" + other.PIN, "Sec-Fetch-Site", "cross-site"},
		"join, Origin":         {"/join", "code=" + other.PIN, "Origin", "https://evil.example"},
		"handoff":              {path, "", "Sec-Fetch-Site", "cross-site"},
	} {
		resp, body := victim.Do(http.MethodPost, req[0], strings.NewReader(req[1]), req[2], req[3])
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "sent from another website") {
			t.Errorf("%s: %d\n%s", name, resp.StatusCode, body)
		}
		if victim.Cookie("/", cookieName) != "" {
			t.Errorf("%s: the visitor got a session cookie", name)
		}
	}
	if s := r.Session(other.ID); s.State != core.StateIssued {
		t.Errorf("a cross-site join changed the session: %s", s.State)
	}
	if s := r.Session(r.sess.ID); s.CustomerKey != r.sess.CustomerKey {
		t.Error("a cross-site handoff moved the session")
	}
	// The portal's own form, as a browser sends it, still works.
	resp, _ := victim.Do(http.MethodPost, "/join", strings.NewReader("code="+other.PIN), "Sec-Fetch-Site", "same-origin")
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a same-origin join: %d", resp.StatusCode)
	}
}

// cookieRequest is a request for session id's path carrying the customer
// cookie secret.
func cookieRequest(id, secret string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, "/s/"+id+"/signal", nil)
	req.SetPathValue("id", id)
	req.AddCookie(&http.Cookie{Name: cookieName, Value: secret})
	return req
}

// wantLog waits for the session's log to hold action with detail.
func (r *shareRig) wantLog(action core.Action, detail string) {
	r.T.Helper()
	evs, err := r.Engine.Events(ctx, r.sess.ID)
	if err != nil {
		r.T.Fatal(err)
	}
	if !slices.ContainsFunc(evs, func(e core.Event) bool { return e.Action == action && e.Detail == detail }) {
		r.T.Fatalf("the log lacks %s(%s): %v", action, detail, evs)
	}
}
