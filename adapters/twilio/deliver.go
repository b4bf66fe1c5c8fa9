package twilio

import (
	"context"
	"time"

	"github.com/assistbot/assistbot/core"
)

// maxValidity is the longest ValidityPeriod Twilio accepts, in seconds
// (error 90007 above it).
const maxValidity = 36000

// channel is the Adapter as the "sms" channel: the outbox hands it the
// links and replies for customers who text.
type channel Adapter

var (
	_ core.Channel         = (*channel)(nil)
	_ core.EndpointChecker = (*channel)(nil)
	_ core.TextLimiter     = (*channel)(nil)
)

// maxBody is the longest Body Twilio's Messages API takes (more is
// refused with error 21617); Twilio splits it into segments itself.
const maxBody = 1600

// TextLimit implements core.TextLimiter.
func (c *channel) TextLimit() int { return maxBody }

// Name returns "sms".
func (c *channel) Name() string { return core.ChannelSMS }

// Check implements core.EndpointChecker (Adapter.check).
func (c *channel) Check(ctx context.Context, to core.Endpoint) error {
	return (*Adapter)(c).check(ctx, to)
}

// Deliver implements core.Channel (Adapter.deliver).
func (c *channel) Deliver(ctx context.Context, d *core.Delivery) (core.Receipt, error) {
	return (*Adapter)(c).deliver(ctx, d)
}

// check refuses, before anything is queued, an endpoint that cannot be
// texted: a number that cannot exist, or one that opted out (replied
// STOP). The agent sees the error's message at once.
func (a *Adapter) check(ctx context.Context, to core.Endpoint) error {
	n, err := a.number(to)
	if err != nil {
		return err
	}
	out, err := a.engine.OptedOut(ctx, core.Endpoint{Channel: core.ChannelSMS, Address: n})
	if err != nil {
		return core.Wrap(core.CodeUnavailable, err, a.t("error.unavailable"))
	}
	if out {
		return core.Wrap(core.CodeInvalid, errOptOut, a.t("error.opted_out"))
	}
	return nil
}

// deliver texts d.Notice to d.To: a session's link with its PIN, or an
// agent's reply. It waits its turn under twilio.mps, refuses opted-out
// numbers without calling Twilio, and never sends a link whose PIN would
// expire while the message waits in Twilio's queue.
func (a *Adapter) deliver(ctx context.Context, d *core.Delivery) (core.Receipt, error) {
	to, err := a.number(d.To)
	if err != nil {
		return core.Receipt{}, err
	}
	ep := core.Endpoint{Channel: core.ChannelSMS, Address: to}
	// The customer may have replied STOP after this was queued.
	if err := a.stillIn(ctx, ep); err != nil {
		return core.Receipt{}, err
	}
	body := a.bot.CustomerText(d.Notice)
	if body == "" {
		return core.Receipt{}, core.Errorf(core.CodeInvalid, "the message is empty")
	}
	if err := a.pace.wait(ctx, a.senderKey(), a.t("twilio.reason.paced")); err != nil {
		return core.Receipt{}, err
	}
	// or while it waited its turn.
	if err := a.stillIn(ctx, ep); err != nil {
		return core.Receipt{}, err
	}
	m := outgoing{
		To:                  to,
		From:                a.from,
		MessagingServiceSID: a.service,
		Body:                body,
		StatusCallback:      a.publicURL + PathStatus,
	}
	if d.Notice.Kind == core.NoticeLink && !d.Notice.ExpiresAt.IsZero() {
		// Measured after the wait above, so the time spent pacing counts.
		secs := int(d.Notice.ExpiresAt.Sub(a.clock.Now()) / time.Second)
		if secs < 1 {
			return core.Receipt{}, core.Errorf(core.CodeExpired, "%s", a.t("twilio.reason.pin_expired"))
		}
		m.ValidityPeriod = min(secs, maxValidity)
	}
	c, err := a.sender.send(ctx, m)
	if err != nil {
		return core.Receipt{}, a.sendFailure(ctx, ep, err)
	}
	return core.Receipt{ExternalID: c.SID, Status: core.DeliverySent}, nil
}

// stillIn refuses ep once it opted out.
func (a *Adapter) stillIn(ctx context.Context, ep core.Endpoint) error {
	if out, err := a.engine.OptedOut(ctx, ep); err != nil {
		return core.Wrap(core.CodeUnavailable, err, a.t("error.unavailable"))
	} else if out {
		return core.Wrap(core.CodeInvalid, errOptOut, a.t("twilio.reason.opted_out"))
	}
	return nil
}

// senderKey names the sender that pacing applies to: the number, or the
// messaging service that picks one.
func (a *Adapter) senderKey() string {
	if a.from != "" {
		return a.from
	}
	return a.service
}
