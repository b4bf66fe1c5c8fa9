package twilio

import (
	"context"
	"time"

	"github.com/assistbot/assistbot/core"
)

// maxValidity is the longest ValidityPeriod Twilio accepts, in seconds
// (error 90007 above it).
const maxValidity = 36000

// Check refuses, before anything is queued, an endpoint that cannot be
// texted: a number that cannot exist, or one that opted out (replied
// STOP). The agent sees the error's message at once.
func (s *SMS) Check(ctx context.Context, to core.Endpoint) error {
	n, err := s.number(to)
	if err != nil {
		return err
	}
	out, err := s.engine.OptedOut(ctx, core.Endpoint{Channel: core.ChannelSMS, Address: n})
	if err != nil {
		return core.Wrap(core.CodeUnavailable, err, s.t("error.unavailable"))
	}
	if out {
		return core.Wrap(core.CodeInvalid, errOptOut, s.t("error.opted_out"))
	}
	return nil
}

// Deliver texts d.Notice to d.To: a session's link with its PIN, or an
// agent's reply. It waits its turn under twilio.mps, refuses opted-out
// numbers without calling Twilio, and never sends a link whose PIN would
// expire while the message waits in Twilio's queue.
func (s *SMS) Deliver(ctx context.Context, d *core.Delivery) (core.Receipt, error) {
	to, err := s.number(d.To)
	if err != nil {
		return core.Receipt{}, err
	}
	ep := core.Endpoint{Channel: core.ChannelSMS, Address: to}
	// The customer may have replied STOP after this was queued.
	if out, err := s.engine.OptedOut(ctx, ep); err != nil {
		return core.Receipt{}, core.Wrap(core.CodeUnavailable, err, s.t("error.unavailable"))
	} else if out {
		return core.Receipt{}, core.Wrap(core.CodeInvalid, errOptOut, s.t("twilio.reason.opted_out"))
	}
	body := s.bot.CustomerText(d.Notice)
	if body == "" {
		return core.Receipt{}, core.Errorf(core.CodeInvalid, "the message is empty")
	}
	if err := s.pace.wait(ctx, s.senderKey(), s.t("twilio.reason.paced")); err != nil {
		return core.Receipt{}, err
	}
	m := outgoing{
		To:                  to,
		From:                s.from,
		MessagingServiceSID: s.service,
		Body:                body,
		StatusCallback:      s.publicURL + PathStatus,
	}
	if d.Notice.Kind == core.NoticeLink && !d.Notice.ExpiresAt.IsZero() {
		// Measured after the wait above, so the time spent pacing counts.
		secs := int(d.Notice.ExpiresAt.Sub(s.clock.Now()) / time.Second)
		if secs < 1 {
			return core.Receipt{}, core.Errorf(core.CodeExpired, "%s", s.t("twilio.reason.pin_expired"))
		}
		m.ValidityPeriod = min(secs, maxValidity)
	}
	c, err := s.sender.send(ctx, m)
	if err != nil {
		return core.Receipt{}, s.sendFailure(ctx, ep, err)
	}
	return core.Receipt{ExternalID: c.SID, Status: core.DeliverySent}, nil
}

// senderKey names the sender that pacing applies to: the number, or the
// messaging service that picks one.
func (s *SMS) senderKey() string {
	if s.from != "" {
		return s.from
	}
	return s.service
}
