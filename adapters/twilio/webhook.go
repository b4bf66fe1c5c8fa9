package twilio

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
)

// maxWebhookBody bounds a webhook's body. Twilio's messaging webhooks are
// a few kilobytes (an SMS body is at most 1,600 characters).
const maxWebhookBody = 64 << 10

// signatureHeader carries Twilio's signature of a webhook request.
const signatureHeader = "X-Twilio-Signature"

// verified reads a webhook request and checks its signature: HMAC-SHA1,
// keyed with the auth token, over the URL Twilio was told to call
// followed by the POST parameters sorted by name. The URL is rebuilt from
// server.public_url, not from the Host header, which a proxy rewrites and
// anyone can forge. Nothing is parsed before the signature holds. On
// failure it answers the request itself (403, 413 or 400) and returns
// false.
func (a *Adapter) verified(w http.ResponseWriter, r *http.Request, path string) (url.Values, bool) {
	sig := r.Header.Get(signatureHeader)
	if sig == "" {
		a.log.Warn("twilio webhook without a signature", "path", path, "remote", r.RemoteAddr)
		http.Error(w, "missing "+signatureHeader+" header", http.StatusForbidden)
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		} else {
			http.Error(w, "cannot read the request body", http.StatusBadRequest)
		}
		return nil, false
	}
	signed := a.publicURL + path
	if r.URL.RawQuery != "" {
		signed += "?" + r.URL.RawQuery
	}
	if !a.validator.ValidateBody(signed, body, sig) {
		a.log.Warn("twilio webhook with a wrong signature", "path", path, "remote", r.RemoteAddr)
		http.Error(w, "invalid "+signatureHeader+": check that server.public_url is the URL Twilio calls and twilio.auth_token is the account's token", http.StatusForbidden)
		return nil, false
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		http.Error(w, "the body is not a form", http.StatusBadRequest)
		return nil, false
	}
	return form, true
}

// writeTwiML answers a messaging webhook with TwiML: an empty Response,
// or one that texts reply back to the sender.
func writeTwiML(w http.ResponseWriter, reply string) {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString("<Response>")
	if reply != "" {
		b.WriteString("<Message>")
		_ = xml.EscapeText(&b, []byte(reply))
		b.WriteString("</Message>")
	}
	b.WriteString("</Response>")
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	_, _ = w.Write(b.Bytes())
}
