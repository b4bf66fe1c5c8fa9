package twilio

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
)

// maxSIDLength bounds a MessageSid: "SM" or "MM" and 32 hex digits today,
// with room to spare.
const maxSIDLength = 64

// inbound is an incoming text as Twilio's webhook describes it.
type inbound struct {
	sid  string
	from string // E.164
	text string
	// media counts the attachments of an MMS.
	media int
	// optOutType is STOP, START or HELP when Twilio's Advanced Opt-Out
	// recognised a keyword (and answered it).
	optOutType string
}

// parseInbound reads the parameters of the incoming-message webhook. Its
// errors are fit to answer Twilio with; they never quote the number.
func parseInbound(form url.Values, region string) (inbound, error) {
	in := inbound{
		sid:        strings.TrimSpace(form.Get("MessageSid")),
		text:       form.Get("Body"),
		optOutType: strings.TrimSpace(form.Get("OptOutType")),
	}
	if err := checkSID(in.sid); err != nil {
		return in, err
	}
	from := strings.TrimSpace(form.Get("From"))
	if from == "" {
		return in, errors.New("From is missing")
	}
	// Twilio writes SMS senders in E.164; anything else ("whatsapp:…",
	// a short code, an alphanumeric sender) cannot be texted back here,
	// even where libphonenumber would find digits in it.
	if !isE164(from) {
		return in, errors.New("From is not a phone number that assistbot can text back")
	}
	in.from, _ = numberTwilioSent(from, region)
	if !utf8.ValidString(in.text) {
		return in, errors.New("Body is not valid UTF-8")
	}
	if v := form.Get("NumMedia"); v != "" {
		m, err := strconv.Atoi(v)
		if err != nil || m < 0 || m > 100 {
			return in, errors.New("NumMedia is not a count")
		}
		in.media = m
	}
	return in, nil
}

// numberTwilioSent reads a number Twilio wrote (E.164), as ParseNumber
// normalises it; or as written, when libphonenumber's data does not know
// its range yet: Twilio knows the number (it just texted, or was texted),
// so its STOP and START still count.
func numberTwilioSent(s, region string) (string, bool) {
	if n, err := ParseNumber(s, region); err == nil {
		return n, true
	}
	return s, isE164(s)
}

// isE164 reports whether s is written "+" and 7 to 15 digits.
func isE164(s string) bool {
	if len(s) < 8 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for _, r := range s[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// checkSID checks the shape of a MessageSid.
func checkSID(sid string) error {
	if sid == "" {
		return errors.New("MessageSid is missing")
	}
	if len(sid) > maxSIDLength {
		return errors.New("MessageSid is too long")
	}
	for _, r := range sid {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
			return errors.New("MessageSid is not a Twilio SID")
		}
	}
	return nil
}

// serveSMS handles POST /twilio/sms, Twilio's call about a text a
// customer sent: it records opt-outs and opt-ins, relays the text to the
// conversation's desk (opening one for a new customer) and, when
// assistbot answers keywords itself, answers HELP, STOP and START with
// TwiML. Twilio retries a request it got no answer to; the MessageSid
// makes the retry a no-op.
func (a *Adapter) serveSMS(w http.ResponseWriter, r *http.Request) {
	form, ok := a.verified(w, r, PathSMS)
	if !ok {
		return
	}
	in, err := parseInbound(form, a.region)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ctx := r.Context()
	log := a.log.With("channel", core.ChannelSMS, "from", core.Mask(in.from), "message_sid", in.sid)
	ep := core.Endpoint{Channel: core.ChannelSMS, Address: in.from}
	wasOut, err := a.engine.OptedOut(ctx, ep)
	if err != nil {
		log.Error("read opt-out", "err", err)
		http.Error(w, "try again later", http.StatusServiceUnavailable)
		return
	}
	kw := classify(in.text, in.optOutType, wasOut)
	// The opt-out is recorded before anything else, and again on a
	// retry: a customer who said STOP must never be texted, whatever
	// became of the relay.
	if kw == optOut || kw == optIn {
		if err := a.engine.SetOptOut(ctx, ep, kw == optOut); err != nil {
			log.Error("record opt-out", "err", err)
			http.Error(w, "try again later", http.StatusServiceUnavailable)
			return
		}
		if (kw == optOut) != wasOut {
			log.Info("sms opt-out changed", "opted_out", kw == optOut)
		}
	}
	text := strings.TrimSpace(in.text)
	if in.media > 0 {
		// The agent learns a picture came, with its caption or alone.
		text = strings.TrimSpace(text + "\n" + a.t("twilio.media"))
	}
	if text == "" {
		writeTwiML(w, "")
		return
	}
	catalog := a.bot.Catalog()
	conv, _, err := a.engine.CustomerMessage(ctx, core.Inbound{
		Customer: ep,
		Text:     text,
		Source:   "sms:" + in.sid,
		Locale:   detectLocale(in.from, text, catalog.Default()),
		Desk:     a.desk,
	})
	switch remote.RelayOutcome(core.FromCustomer, err) {
	case remote.RelayRetry:
		log.Error("relay sms", "err", err)
		http.Error(w, "try again later", http.StatusServiceUnavailable)
		return
	case remote.RelayRefused:
		log.Warn("sms not relayed", "reason", core.ErrorMessage(err))
		http.Error(w, core.ErrorMessage(err), http.StatusBadRequest)
		return
	}
	if err != nil { // recorded before: this is Twilio's retry
		log.Debug("sms already recorded")
		writeTwiML(w, "")
		return
	}
	log.Info("sms received", "conversation_id", conv.ID)
	writeTwiML(w, a.keywordReply(kw, in, conv.Locale, wasOut))
}

// keywordReply returns the answer to a keyword, or "" when there is none
// to send. Twilio answers STOP, START and HELP itself on long codes and
// toll-free numbers, and Advanced Opt-Out (which sets OptOutType) on
// messaging services, so assistbot answers only when told to and Twilio
// did not: the customer must not get two answers. An opted-out number
// gets no HELP; the confirmation of a STOP is the one text it receives.
func (a *Adapter) keywordReply(kw keyword, in inbound, locale string, wasOut bool) string {
	if !a.replies || in.optOutType != "" {
		return ""
	}
	c := a.bot.Catalog()
	switch {
	case kw == optOut:
		return c.T(locale, "customer.opted_out")
	case kw == optIn:
		return c.T(locale, "customer.opted_in")
	case kw == help && !wasOut:
		return c.T(locale, "customer.help")
	}
	return ""
}
