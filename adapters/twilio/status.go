package twilio

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/assistbot/assistbot/core"
)

// report is a status callback: what became of a message assistbot sent.
type report struct {
	sid    string
	to     string // as Twilio wrote it; used only to record an opt-out
	status string
	// code is Twilio's ErrorCode for a failed message, 0 when none.
	code int
}

// parseReport reads the parameters of the message status callback.
func parseReport(form url.Values) (report, error) {
	rp := report{
		sid:    strings.TrimSpace(form.Get("MessageSid")),
		to:     strings.TrimSpace(form.Get("To")),
		status: strings.ToLower(strings.TrimSpace(form.Get("MessageStatus"))),
	}
	if err := checkSID(rp.sid); err != nil {
		return rp, err
	}
	if rp.status == "" {
		// Older callbacks name it SmsStatus.
		rp.status = strings.ToLower(strings.TrimSpace(form.Get("SmsStatus")))
	}
	if _, ok := statusOf(rp.status); !ok {
		return rp, errors.New("MessageStatus is missing or unknown")
	}
	if v := strings.TrimSpace(form.Get("ErrorCode")); v != "" {
		c, err := strconv.Atoi(v)
		if err != nil || c < 0 {
			return rp, errors.New("ErrorCode is not a number")
		}
		rp.code = c
	}
	return rp, nil
}

// statusOf maps a Twilio message status to a delivery status. "" means
// the status changes nothing for the agent (the message is still on its
// way); ok is false for a status Twilio does not send for outbound
// messages.
func statusOf(s string) (core.DeliveryStatus, bool) {
	switch s {
	case "accepted", "scheduled", "queued", "sending":
		return "", true
	case "sent":
		return core.DeliverySent, true
	case "delivered", "read":
		return core.DeliveryDelivered, true
	case "undelivered", "failed", "canceled", "partially_delivered":
		return core.DeliveryFailed, true
	}
	return "", false
}

// failure explains a failed message to the agent.
func (a *Adapter) failure(rp report) string {
	switch {
	case rp.status == "canceled":
		return a.t("twilio.reason.canceled")
	case rp.status == "partially_delivered":
		return a.t("twilio.reason.partial")
	case rp.code == 0:
		return a.t("twilio.reason.undelivered")
	}
	return a.reason(rp.code, "twilio.reason.failed")
}

// serveStatus handles POST /twilio/status, Twilio's report on a message
// assistbot sent: sent, delivered, or failed with an error code, which
// the agent's card then shows.
func (a *Adapter) serveStatus(w http.ResponseWriter, r *http.Request) {
	form, ok := a.verified(w, r, PathStatus)
	if !ok {
		return
	}
	rp, err := parseReport(form)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	log := a.log.With("channel", core.ChannelSMS, "message_sid", rp.sid, "status", rp.status)
	status, _ := statusOf(rp.status)
	if status == "" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	reason := ""
	if status == core.DeliveryFailed {
		reason = a.failure(rp)
		if rp.code == errOptedOut {
			a.recordOptOut(r.Context(), rp.to, log)
		}
	}
	d, err := a.reportDelivery(r.Context(), rp.sid, status, reason)
	switch {
	case core.ErrorCode(err) == core.CodeNotFound:
		// A message sent by something else on the account, or one whose
		// create call is still being recorded past the wait.
		log.Info("status for an unknown message")
		w.WriteHeader(http.StatusNoContent)
		return
	case err != nil:
		log.Error("record delivery status", "err", err)
		http.Error(w, "try again later", http.StatusServiceUnavailable)
		return
	}
	log.Debug("delivery status", "delivery_id", d.ID, "session_id", d.SessionID, "delivery_status", d.Status)
	w.WriteHeader(http.StatusNoContent)
}

// reportDelivery applies a report, waiting up to StatusWait for the
// outbox to record the message: Twilio can call back before the create
// call that made the message has returned.
func (a *Adapter) reportDelivery(ctx context.Context, sid string, status core.DeliveryStatus, reason string) (*core.Delivery, error) {
	deadline := time.Now().Add(a.wait)
	pause := 20 * time.Millisecond
	for {
		d, err := a.engine.ReportDelivery(ctx, core.ChannelSMS, sid, status, reason)
		if core.ErrorCode(err) != core.CodeNotFound || time.Now().Add(pause).After(deadline) {
			return d, err
		}
		if err := sleepCtx(ctx, pause); err != nil {
			return nil, err
		}
		pause = min(2*pause, 500*time.Millisecond)
	}
}

// recordOptOut records an opt-out that Twilio reported through a failed
// message (21610): the number replied STOP to another of the account's
// senders, or before assistbot was connected.
func (a *Adapter) recordOptOut(ctx context.Context, to string, log *slog.Logger) {
	n, ok := numberTwilioSent(to, a.region)
	if !ok {
		return
	}
	if err := a.engine.SetOptOut(ctx, core.Endpoint{Channel: core.ChannelSMS, Address: n}, true); err != nil {
		log.Error("record opt-out", "err", err)
	}
}
