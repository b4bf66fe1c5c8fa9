package portal

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/assistbot/assistbot/adapters/web"
	"github.com/assistbot/assistbot/core"
)

// HandoffTTL is how long a link that moves a session to another device
// works.
const HandoffTTL = 10 * time.Minute

// A handoff link lets a customer move their session to another device —
// typically from a computer to a phone, to show something with its camera.
// Its token is "<session id>.<unix expiry>.<mac>", where mac is an
// HMAC-SHA256 keyed with the session's current customer key (the hash of
// the joined browser's secret). Nothing is stored: any replica can check a
// token against the session, and once a device takes over, the key
// changes and every token made for the old one stops working.

// handoffToken returns a token for s that expires at exp.
func handoffToken(s *core.Session, exp time.Time) string {
	e := strconv.FormatInt(exp.Unix(), 10)
	return s.ID + "." + e + "." + base64.RawURLEncoding.EncodeToString(handoffMAC(s.CustomerKey, s.ID, e))
}

func handoffMAC(key, id, exp string) []byte {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte("assistbot handoff\x00" + id + "\x00" + exp))
	return m.Sum(nil)
}

// errHandoff is every refusal of a token: unknown, expired, used, forged.
var errHandoff = core.Errorf(core.CodeNotFound, "this link has expired or was already used")

// session reads the session a URL names. An id the store cannot even
// compare (invalid UTF-8, a NUL) names none: the same answer as a wrong
// code, not a failure of the server.
func (p *Portal) session(ctx context.Context, id string) (*core.Session, error) {
	s, err := p.engine.Session(ctx, id)
	if core.ErrorCode(err) == core.CodeInvalid {
		return nil, core.Wrap(core.CodeNotFound, err, "no such session")
	}
	return s, err
}

// handoffSession returns the session tok moves, if tok is good now.
func (p *Portal) handoffSession(r *http.Request, tok string) (*core.Session, error) {
	id, rest, ok1 := strings.Cut(tok, ".")
	exp, mac64, ok2 := strings.Cut(rest, ".")
	mac, err := base64.RawURLEncoding.DecodeString(mac64)
	n, err2 := strconv.ParseInt(exp, 10, 64)
	if !ok1 || !ok2 || err != nil || err2 != nil || id == "" || !p.clock.Now().Before(time.Unix(n, 0)) {
		return nil, errHandoff
	}
	sess, err := p.session(r.Context(), id)
	if core.ErrorCode(err) == core.CodeNotFound {
		return nil, errHandoff
	}
	if err != nil {
		return nil, err
	}
	if sess.CustomerKey == "" || !hmac.Equal(mac, handoffMAC(sess.CustomerKey, id, exp)) || !p.shareable(sess) {
		return nil, errHandoff
	}
	return sess, nil
}

// handoffView is the part of the share page that moves the session to
// another device: a fresh link and its QR code.
type handoffView struct {
	URL string
	QR  template.HTML // an inline SVG
}

// newHandoffView returns a handoff link for s, valid for HandoffTTL.
func (p *Portal) newHandoffView(s *core.Session) (*handoffView, error) {
	u := p.publicURL + "/h/" + url.PathEscape(handoffToken(s, p.clock.Now().Add(HandoffTTL)))
	qr, err := qrSVG(u)
	if err != nil {
		return nil, err
	}
	return &handoffView{URL: u, QR: qr}, nil
}

// qrSVG draws text as a QR code in an SVG, one path of dark modules: no
// image request, so it fits the portal's content security policy.
func qrSVG(text string) (template.HTML, error) {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return "", fmt.Errorf("qr code: %w", err)
	}
	bits := q.Bitmap()
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" class="qr" role="img" shape-rendering="crispEdges"><rect width="100%%" height="100%%" fill="#fff"/><path fill="#000" d="`, len(bits), len(bits))
	for y, row := range bits {
		for x, dark := range row {
			if dark {
				fmt.Fprintf(&b, "M%d %dh1v1h-1z", x, y)
			}
		}
	}
	b.WriteString(`"/></svg>`)
	return template.HTML(b.String()), nil // built from numbers only
}

// handleHandoffPart renders the handoff part of the share page with a
// fresh link, for share.js to swap in when the customer opens it. It
// changes nothing: the token is not stored.
func (p *Portal) handleHandoffPart(w http.ResponseWriter, r *http.Request) {
	sess, err := p.Customer(r)
	if err != nil || !p.shareable(sess) {
		web.WriteError(w, http.StatusNotFound, core.CodeNotFound, "no such session in this browser")
		return
	}
	h, err := p.newHandoffView(sess)
	if err != nil {
		p.failure(w, r, err)
		return
	}
	v := p.view(r, sess.Locale)
	v.Handoff = h
	var buf strings.Builder
	if err := p.pages.status.ExecuteTemplate(&buf, "handoff_part", v); err != nil {
		p.failure(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(buf.String()))
}

// handleHandoffLanding shows what continuing on this device will do. A
// GET never moves the session: link scanners open links first.
func (p *Portal) handleHandoffLanding(w http.ResponseWriter, r *http.Request) {
	sess, err := p.handoffSession(r, r.PathValue("token"))
	if err != nil {
		p.handoffRefused(w, r, err)
		return
	}
	v := p.view(r, sess.Locale)
	v.Token = r.PathValue("token")
	v.Mobile = detectDevice(r.UserAgent()) == core.DeviceMobile
	p.render(w, r, http.StatusOK, p.pages.handoff, v)
}

// handleHandoff moves the session to this browser: it gets a new secret,
// the old device's stops working and its share page is told.
func (p *Portal) handleHandoff(w http.ResponseWriter, r *http.Request) {
	sess, err := p.handoffSession(r, r.PathValue("token"))
	if err != nil {
		p.handoffRefused(w, r, err)
		return
	}
	moved, secret, err := p.engine.Handoff(r.Context(), sess.ID, sess.CustomerKey, detectDevice(r.UserAgent()))
	if err != nil {
		p.handoffRefused(w, r, err)
		return
	}
	p.share.CustomerMoved(moved.ID)
	p.setCustomerCookie(w, secret)
	http.Redirect(w, r, "/s/"+url.PathEscape(moved.ID), http.StatusSeeOther)
}

// handoffRefused answers a token that does not work (404, one answer for
// every reason) or an engine failure.
func (p *Portal) handoffRefused(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, errHandoff) || errors.Is(err, core.ErrUnknownPIN) || core.ErrorCode(err) == core.CodeInvalidTransition {
		v := p.view(r, "")
		v.Error = v.T("share.handoff_invalid")
		p.render(w, r, http.StatusNotFound, p.pages.handoff, v)
		return
	}
	p.failure(w, r, err)
}
