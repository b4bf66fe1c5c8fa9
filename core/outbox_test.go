package core_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/assistbot/assistbot/core"
)

// sent issues a session and queues its mobile link.
func (r *rig) sent(t *testing.T) (*core.Session, *core.Delivery) {
	t.Helper()
	s := r.issue(t)
	s, d, err := r.Send(ctx, s.ID, alice, core.LinkMobile)
	if err != nil {
		t.Fatal(err)
	}
	return s, d
}

func (r *rig) delivery(t *testing.T, id int64) *core.Delivery {
	t.Helper()
	d, err := r.store.FindDelivery(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (r *rig) deliverOnce(t *testing.T) int {
	t.Helper()
	n, err := r.DeliverOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestOutboxDelivers(t *testing.T) {
	r := newRig(t)
	updates, cancel := r.Subscribe(16)
	defer cancel()
	_, d := r.sent(t)
	if n := r.deliverOnce(t); n != 1 {
		t.Fatalf("claimed %d, want 1", n)
	}
	got := r.delivery(t, d.ID)
	if got.Status != core.DeliverySent || got.ExternalID == "" || got.Attempts != 1 {
		t.Errorf("delivery = %+v", got)
	}
	if ds := r.sms.Delivered(); len(ds) != 1 || ds[0].Notice.Link != d.Notice.Link {
		t.Errorf("channel got %+v", ds)
	}
	if n := r.deliverOnce(t); n != 0 {
		t.Errorf("a sent delivery was claimed again")
	}
	var sawStatus bool
	for len(updates) > 0 {
		if u := <-updates; u.Delivery != nil && u.Delivery.Status == core.DeliverySent && u.Session != nil {
			sawStatus = true
		}
	}
	if !sawStatus {
		t.Error("no update announced the sent delivery with its session")
	}
}

func TestOutboxRetries(t *testing.T) {
	r := newRig(t)
	var calls atomic.Int32
	r.sms.DeliverFunc = func(ctx context.Context, d *core.Delivery) (core.Receipt, error) {
		if calls.Add(1) <= 2 {
			return core.Receipt{}, core.Errorf(core.CodeUnavailable, "twilio answered 503")
		}
		return core.Receipt{Status: core.DeliverySent, ExternalID: "SM1"}, nil
	}
	_, d := r.sent(t)
	r.deliverOnce(t)
	got := r.delivery(t, d.ID)
	if got.Status != core.DeliveryQueued || got.Reason != "twilio answered 503" {
		t.Fatalf("after a 503: %+v", got)
	}
	if wait := got.NextAttemptAt.Sub(r.clock.Now()); wait <= 0 || wait > time.Second {
		t.Errorf("first retry in %v, want within 1s", wait)
	}
	if n := r.deliverOnce(t); n != 0 {
		t.Error("retried before its time")
	}
	r.clock.Add(time.Second)
	r.deliverOnce(t)
	got = r.delivery(t, d.ID)
	if wait := got.NextAttemptAt.Sub(r.clock.Now()); got.Status != core.DeliveryQueued || wait <= time.Second || wait > 2*time.Second {
		t.Errorf("second retry: %+v in %v, want backoff to double", got, wait)
	}
	r.clock.Add(2 * time.Second)
	r.deliverOnce(t)
	if got = r.delivery(t, d.ID); got.Status != core.DeliverySent || got.Attempts != 3 || got.Reason != "" {
		t.Errorf("third attempt: %+v", got)
	}
}

func TestOutboxRetryAfter(t *testing.T) {
	r := newRig(t)
	r.sms.DeliverFunc = func(ctx context.Context, d *core.Delivery) (core.Receipt, error) {
		return core.Receipt{}, &core.Error{Code: core.CodeUnavailable, Message: "429 too many requests", Retry: 30 * time.Second}
	}
	_, d := r.sent(t)
	r.deliverOnce(t)
	got := r.delivery(t, d.ID)
	if got.Status != core.DeliveryQueued || !got.NextAttemptAt.Equal(r.clock.Now().Add(30*time.Second)) || got.Attempts != 1 {
		t.Errorf("after a 429: %+v, want a retry at Retry-After", got)
	}
}

// TestOutboxPacedIsNoAttempt holds a notice back many times to keep
// within a sending rate: it is never failed for it, and goes out after.
func TestOutboxPacedIsNoAttempt(t *testing.T) {
	r := newRig(t)
	var held int
	r.sms.DeliverFunc = func(ctx context.Context, d *core.Delivery) (core.Receipt, error) {
		if held < 3*maxAttemptsForTest {
			held++
			return core.Receipt{}, &core.Error{Code: core.CodeRateLimited, Message: "queued behind other messages", Retry: time.Second}
		}
		return core.Receipt{Status: core.DeliverySent, ExternalID: "SM1"}, nil
	}
	_, d := r.sent(t)
	for range 3*maxAttemptsForTest + 1 {
		r.deliverOnce(t)
		r.clock.Add(time.Second)
	}
	if got := r.delivery(t, d.ID); got.Status != core.DeliverySent || got.Attempts != 1 {
		t.Errorf("after %d deferrals: %+v, want sent at the first real attempt", held, got)
	}
}

// maxAttemptsForTest is the outbox's attempt limit.
const maxAttemptsForTest = 10

func TestOutboxPermanentFailure(t *testing.T) {
	r := newRig(t)
	r.sms.DeliverFunc = func(ctx context.Context, d *core.Delivery) (core.Receipt, error) {
		return core.Receipt{}, core.Errorf(core.CodeInvalid, "number opted out")
	}
	_, d := r.sent(t)
	r.deliverOnce(t)
	if got := r.delivery(t, d.ID); got.Status != core.DeliveryFailed || got.Reason != "number opted out" || got.Attempts != 1 {
		t.Errorf("delivery = %+v", got)
	}
}

func TestOutboxGivesUp(t *testing.T) {
	r := newRig(t)
	r.sms.DeliverFunc = func(ctx context.Context, d *core.Delivery) (core.Receipt, error) {
		return core.Receipt{}, core.Errorf(core.CodeUnavailable, "timeout")
	}
	_, d := r.sent(t)
	for range 20 {
		r.deliverOnce(t)
		if next := r.delivery(t, d.ID).NextAttemptAt; next.After(r.clock.Now()) {
			r.clock.Add(next.Sub(r.clock.Now()))
		}
	}
	got := r.delivery(t, d.ID)
	if got.Status != core.DeliveryFailed || got.Attempts != 10 || !strings.HasPrefix(got.Reason, "gave up after 10 attempts") {
		t.Errorf("delivery = %+v", got)
	}
}

func TestOutboxNeverSendsStaleLink(t *testing.T) {
	r := newRig(t)
	_, d := r.sent(t)
	r.clock.Add(core.DefaultPINTTL)
	r.deliverOnce(t)
	if got := r.delivery(t, d.ID); got.Status != core.DeliveryFailed || !strings.Contains(got.Reason, "expired") {
		t.Errorf("delivery = %+v", got)
	}
	if n := len(r.sms.Delivered()); n != 0 {
		t.Errorf("the channel was given %d stale links", n)
	}
}

func TestReportDelivery(t *testing.T) {
	r := newRig(t)
	_, d := r.sent(t)
	r.deliverOnce(t)
	ext := r.delivery(t, d.ID).ExternalID
	got, err := r.ReportDelivery(ctx, core.ChannelSMS, ext, core.DeliveryDelivered, "")
	if err != nil || got.Status != core.DeliveryDelivered {
		t.Fatalf("report delivered: %+v, %v", got, err)
	}
	// A late "sent" must not undo "delivered".
	if got, err := r.ReportDelivery(ctx, core.ChannelSMS, ext, core.DeliverySent, ""); err != nil || got.Status != core.DeliveryDelivered {
		t.Errorf("late report: %+v, %v", got, err)
	}
	if _, err := r.ReportDelivery(ctx, core.ChannelSMS, "SMnope", core.DeliveryFailed, "x"); core.ErrorCode(err) != core.CodeNotFound {
		t.Errorf("unknown id: %v", err)
	}
	if _, err := r.ReportDelivery(ctx, core.ChannelSMS, ext, core.DeliveryQueued, ""); core.ErrorCode(err) != core.CodeInvalid {
		t.Errorf("queued report: %v", err)
	}
	t.Run("failure reason", func(t *testing.T) {
		_, d := r.sent(t)
		r.deliverOnce(t)
		got, err := r.ReportDelivery(ctx, core.ChannelSMS, r.delivery(t, d.ID).ExternalID, core.DeliveryFailed, "carrier rejected")
		if err != nil || got.Status != core.DeliveryFailed || got.Reason != "carrier rejected" {
			t.Errorf("report failed: %+v, %v", got, err)
		}
	})
}

// TestRunDrains cancels Run while a delivery is in flight: Run returns only
// after the delivery finished and its outcome was saved.
func TestRunDrains(t *testing.T) {
	r := newRig(t)
	inFlight, release := make(chan struct{}), make(chan struct{})
	r.sms.DeliverFunc = func(ctx context.Context, d *core.Delivery) (core.Receipt, error) {
		close(inFlight)
		<-release
		return core.Receipt{Status: core.DeliverySent, ExternalID: "SM1"}, ctx.Err()
	}
	_, d := r.sent(t)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		r.Run(runCtx)
		close(done)
	}()
	<-inFlight
	stop()
	select {
	case <-done:
		t.Fatal("Run returned with a delivery in flight")
	default:
	}
	close(release)
	<-done
	if got := r.delivery(t, d.ID); got.Status != core.DeliverySent {
		t.Errorf("after drain: %+v", got)
	}
}

func TestBackoff(t *testing.T) {
	prev := time.Duration(0)
	for attempt := 1; attempt <= 12; attempt++ {
		b := core.Backoff(attempt)
		if b <= 0 || b > 5*time.Minute {
			t.Errorf("backoff(%d) = %v", attempt, b)
		}
		if attempt <= 8 && b < prev/2 {
			t.Errorf("backoff(%d) = %v shrank from %v", attempt, b, prev)
		}
		prev = b
	}
	if b := core.Backoff(20); b < 4*time.Minute {
		t.Errorf("backoff(20) = %v, want near the 5m cap", b)
	}
}

// TestOutboxNeverSendsRevokedLink queues a link that fails once, then
// revokes its PIN in each way an agent or customer can: the retry must not
// hand the customer a code that no longer opens.
func TestOutboxNeverSendsRevokedLink(t *testing.T) {
	for _, tc := range []struct {
		name   string
		revoke func(r *rig, s *core.Session) error
		reason string
	}{
		{"regenerated", func(r *rig, s *core.Session) error {
			_, err := r.Regenerate(ctx, s.ID, alice)
			return err
		}, "another code replaced this one"},
		{"closed", func(r *rig, s *core.Session) error {
			_, err := r.Close(ctx, s.ID, alice)
			return err
		}, "the session was closed"},
		{"joined", func(r *rig, s *core.Session) error {
			_, _, err := r.Join(ctx, s.PIN, core.DeviceMobile)
			return err
		}, "the customer had already joined"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			var calls atomic.Int32
			r.sms.DeliverFunc = func(ctx context.Context, d *core.Delivery) (core.Receipt, error) {
				calls.Add(1)
				return core.Receipt{}, core.Errorf(core.CodeUnavailable, "twilio answered 503")
			}
			s, d := r.sent(t)
			r.deliverOnce(t)
			if err := tc.revoke(r, s); err != nil {
				t.Fatal(err)
			}
			r.clock.Add(time.Second)
			r.deliverOnce(t)
			got := r.delivery(t, d.ID)
			if got.Status != core.DeliveryFailed || !strings.Contains(got.Reason, tc.reason) {
				t.Errorf("delivery = %s %q, want failed because %q", got.Status, got.Reason, tc.reason)
			}
			if n := calls.Load(); n != 1 {
				t.Errorf("the channel was asked %d times, want only the attempt before the pin was revoked", n)
			}
		})
	}
}

// TestOutboxSendsLinkOfLiveSession is the other side: a link that failed
// once still goes out while its PIN is the session's live one.
func TestOutboxSendsLinkOfLiveSession(t *testing.T) {
	r := newRig(t)
	var calls atomic.Int32
	r.sms.DeliverFunc = func(ctx context.Context, d *core.Delivery) (core.Receipt, error) {
		if calls.Add(1) == 1 {
			return core.Receipt{}, core.Errorf(core.CodeUnavailable, "twilio answered 503")
		}
		return core.Receipt{Status: core.DeliverySent, ExternalID: "SM1"}, nil
	}
	_, d := r.sent(t)
	// A second send of the same code is no revocation.
	if _, _, err := r.Send(ctx, d.SessionID, alice, core.LinkDesktop); err != nil {
		t.Fatal(err)
	}
	r.deliverOnce(t)
	r.clock.Add(time.Second)
	r.deliverOnce(t)
	if got := r.delivery(t, d.ID); got.Status != core.DeliverySent {
		t.Errorf("delivery = %s %q, want sent", got.Status, got.Reason)
	}
}
