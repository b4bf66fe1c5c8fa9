package core_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
	"github.com/assistbot/assistbot/core/outbox"
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

// replica returns another engine on r's store and clock, as a second
// replica would run, with SMS and Slack channels of its own; log, when
// not nil, receives its log.
func (r *rig) replica(t *testing.T, log io.Writer) (*core.Engine, *coretest.Channel) {
	t.Helper()
	return newEngine(r.store, r.clock, r.provider, log)
}

// newEngine returns an engine on store with an SMS channel, which it
// returns, and a Slack one.
func newEngine(store core.Store, clock core.Clock, p core.Provider, log io.Writer) (*core.Engine, *coretest.Channel) {
	sms := &coretest.Channel{ChannelName: core.ChannelSMS}
	o := core.Options{Courier: outbox.New(outbox.Options{}), Store: store, Provider: p, Clock: clock,
		Channels: []core.Channel{sms, &coretest.Channel{ChannelName: core.ChannelSlack}}}
	if log != nil {
		o.Logger = slog.New(slog.NewTextHandler(log, nil))
	}
	return core.NewEngine(o), sms
}

// texts queues n agent messages to the customer of conv and returns their
// ids, in the order queued.
func (r *rig) texts(t *testing.T, conv string, n int) []int64 {
	t.Helper()
	var ids []int64
	for i := range n {
		_, d, err := r.AgentMessage(ctx, conv, alice, fmt.Sprintf("line %d", i+1), "")
		if err != nil {
			t.Fatalf("AgentMessage: %v", err)
		}
		ids = append(ids, d.ID)
	}
	return ids
}

// sends records the deliveries handed to channels, in the order handed.
type sends struct {
	mu  sync.Mutex
	ids []int64
}

func (s *sends) add(d *core.Delivery) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ids = append(s.ids, d.ID)
}

// count returns how many deliveries were handed over, how many distinct
// ones, and the distinct ones in the order of their first hand-over.
func (s *sends) count() (total, distinct int, order []int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[int64]bool{}
	for _, id := range s.ids {
		if !seen[id] {
			seen[id] = true
			order = append(order, id)
		}
	}
	return len(s.ids), len(seen), order
}

// TestOutboxSlowBatchSentOnce is the issue's 40 links to one number with a
// slow SMS API, on two replicas: the SMS API takes 8 s of the shared
// clock per message, so one claim's batch of 32 lasts over 4 minutes,
// far past its 20 s lease, and while each message is on its way the other
// replica polls the outbox. The lease is renewed as the batch goes, so
// the other replica takes nothing the first one holds: every message goes
// out once, in order.
func TestOutboxSlowBatchSentOnce(t *testing.T) {
	r := newRig(t)
	other, otherSMS := r.replica(t, nil)
	s := r.issue(t)
	ids := r.texts(t, s.ConversationID, 40)

	var sent sends
	slow := func(ctx context.Context, d *core.Delivery) (core.Receipt, error) {
		sent.add(d)
		r.clock.Add(8 * time.Second)
		return core.Receipt{Status: core.DeliverySent, ExternalID: fmt.Sprintf("SM%d", d.ID)}, nil
	}
	var polls atomic.Int64
	r.sms.DeliverFunc = func(ctx context.Context, d *core.Delivery) (core.Receipt, error) {
		rec, err := slow(ctx, d)
		if _, err := other.DeliverOnce(ctx); err != nil {
			t.Errorf("the other replica's pass: %v", err)
		}
		polls.Add(1)
		return rec, err
	}
	otherSMS.DeliverFunc = slow

	start := r.clock.Now()
	for range 10 {
		a := r.deliverOnce(t)
		b, err := other.DeliverOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if a == 0 && b == 0 {
			break
		}
	}
	if took := r.clock.Now().Sub(start); took < 4*time.Minute {
		t.Fatalf("sending took %v of the clock; the test needs batches that outlast the lease many times over", took)
	}
	total, distinct, order := sent.count()
	t.Logf("messages acknowledged %d, delivered %d, duplicates %d (the other replica polled %d times during batches)",
		len(ids), distinct, total-distinct, polls.Load())
	if total != len(ids) || distinct != len(ids) {
		t.Errorf("%d messages acknowledged, %d sent (%d distinct), want each once", len(ids), total, distinct)
	}
	wantSameIDs(t, "messages in the order sent", ids, order)
	for _, id := range ids {
		if d := r.delivery(t, id); d.Status != core.DeliverySent || d.Attempts != 1 || d.ClaimToken != "" {
			t.Errorf("message %d: %s after %d attempts, claim %q; want sent after 1, no claim", id, d.Status, d.Attempts, d.ClaimToken)
		}
	}
}

func wantSameIDs(t *testing.T, what string, want, got []int64) {
	t.Helper()
	if !slices.Equal(want, got) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// TestOutboxClaimTakenOver stalls a replica in the middle of a batch for
// longer than its lease (a pause, a lost network) while another replica
// takes the batch over. The stalled replica's outcome is refused and
// logged, and it sends nothing more: only the message that was in flight
// went out twice.
func TestOutboxClaimTakenOver(t *testing.T) {
	r := newRig(t)
	var log coretest.Buffer
	stalled, stalledSMS := r.replica(t, &log)
	other, otherSMS := r.replica(t, nil)
	s := r.issue(t)
	ids := r.texts(t, s.ConversationID, 3)

	var sent sends
	otherSMS.DeliverFunc = func(ctx context.Context, d *core.Delivery) (core.Receipt, error) {
		sent.add(d)
		return core.Receipt{Status: core.DeliverySent, ExternalID: fmt.Sprintf("other-%d", d.ID)}, nil
	}
	stalledSMS.DeliverFunc = func(ctx context.Context, d *core.Delivery) (core.Receipt, error) {
		sent.add(d)
		if d.ID == ids[0] {
			r.clock.Add(21 * time.Second)
			if n, err := other.DeliverOnce(ctx); err != nil || n != len(ids) {
				t.Errorf("the other replica claimed %d, %v; want all %d, the lease having run out", n, err, len(ids))
			}
		}
		return core.Receipt{Status: core.DeliverySent, ExternalID: fmt.Sprintf("stalled-%d", d.ID)}, nil
	}
	if n, err := stalled.DeliverOnce(ctx); err != nil || n != len(ids) {
		t.Fatalf("claimed %d, %v", n, err)
	}
	if got := stalledSMS.Delivered(); len(got) != 1 || got[0].ID != ids[0] {
		t.Errorf("the stalled replica sent %d messages, want only the one in flight", len(got))
	}
	total, distinct, _ := sent.count()
	t.Logf("messages acknowledged %d, delivered %d, duplicates %d (the one in flight during the takeover)", len(ids), distinct, total-distinct)
	if distinct != len(ids) || total != len(ids)+1 {
		t.Errorf("%d sends of %d messages, want each once and the one in flight twice", total, distinct)
	}
	for _, id := range ids {
		if d := r.delivery(t, id); d.Status != core.DeliverySent || d.ExternalID != fmt.Sprintf("other-%d", id) {
			t.Errorf("message %d: %s as %q; want the outcome of the replica that took over", id, d.Status, d.ExternalID)
		}
	}
	refused := 0
	for _, line := range strings.Split(log.String(), "\n") {
		if strings.Contains(line, "level=ERROR") && strings.Contains(line, "another worker claimed") {
			refused++
			if !strings.Contains(line, fmt.Sprintf("delivery_id=%d ", ids[0])) && refused == 1 {
				t.Errorf("first refusal logged without the delivery in flight: %s", line)
			}
		}
	}
	if refused != len(ids) {
		t.Errorf("%d refused saves logged at error level, want %d (the outcome, then the release of the 2 never started):\n%s", refused, len(ids), log.String())
	}
}

// failingRenewals is a store that stops answering renewals.
type failingRenewals struct {
	*coretest.MemStore
	fail atomic.Bool
}

func (s *failingRenewals) RenewClaim(ctx context.Context, token string, until time.Time) (int, error) {
	if s.fail.Load() {
		return 0, core.Errorf(core.CodeUnavailable, "the database is unavailable")
	}
	return s.MemStore.RenewClaim(ctx, token, until)
}

// TestOutboxStopsWhenRenewalFails: a worker that cannot renew its claim
// cannot know whether it still holds it, so it starts no more of the
// batch, and gives back what it did not start without counting an
// attempt.
func TestOutboxStopsWhenRenewalFails(t *testing.T) {
	r := newRig(t)
	store := &failingRenewals{MemStore: r.store}
	var log coretest.Buffer
	e, sms := newEngine(store, r.clock, r.provider, &log)
	s := r.issue(t)
	ids := r.texts(t, s.ConversationID, 3)
	sms.DeliverFunc = func(ctx context.Context, d *core.Delivery) (core.Receipt, error) {
		r.clock.Add(6 * time.Second) // past the renewal interval
		store.fail.Store(true)
		return core.Receipt{Status: core.DeliverySent, ExternalID: "SM1"}, nil
	}
	if n, err := e.DeliverOnce(ctx); err != nil || n != 3 {
		t.Fatalf("claimed %d, %v", n, err)
	}
	if got := sms.Delivered(); len(got) != 1 {
		t.Errorf("%d messages sent after the renewal failed, want only the first", len(got))
	}
	for _, id := range ids[1:] {
		if d := r.delivery(t, id); d.Status != core.DeliveryQueued || d.Attempts != 0 || d.ClaimToken != "" || d.NextAttemptAt.After(r.clock.Now()) {
			t.Errorf("message %d not started: %+v; want queued, due, unclaimed, no attempt", id, d)
		}
	}
	if !strings.Contains(log.String(), "level=ERROR msg=\"outbox claim not renewed") {
		t.Errorf("log:\n%s\nwant the failed renewal at error level", log.String())
	}
	store.fail.Store(false)
	if n, err := e.DeliverOnce(ctx); err != nil || n != 2 {
		t.Errorf("claimed %d, %v; want the 2 given back", n, err)
	}
}

// TestOutboxRetryHoldsBackRecipient: when a message to a customer is to
// be tried again later, the customer's later messages wait for it, given
// back unsent and without an attempt counted, while other customers'
// messages go on.
func TestOutboxRetryHoldsBackRecipient(t *testing.T) {
	r := newRig(t)
	s := r.issue(t)
	ids := r.texts(t, s.ConversationID, 3)
	bob, _, err := r.Issue(ctx, core.Request{Customer: core.Endpoint{Channel: core.ChannelSMS, Address: "+12015550999"}, Desk: desk, Agent: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	bobs := r.texts(t, bob.ConversationID, 1)
	var mu sync.Mutex
	calls := map[string][]int64{} // by customer; customers are served side by side
	r.sms.DeliverFunc = func(ctx context.Context, d *core.Delivery) (core.Receipt, error) {
		mu.Lock()
		defer mu.Unlock()
		calls[d.To.Address] = append(calls[d.To.Address], d.ID)
		if d.ID == ids[0] && len(calls[d.To.Address]) == 1 {
			return core.Receipt{}, core.Errorf(core.CodeUnavailable, "twilio answered 503")
		}
		return core.Receipt{Status: core.DeliverySent, ExternalID: fmt.Sprintf("SM%d", d.ID)}, nil
	}
	r.deliverOnce(t)
	wantSameIDs(t, "messages to the first customer tried in the first pass", ids[:1], calls[pat.Address])
	wantSameIDs(t, "messages to the other customer tried in the first pass", bobs, calls["+12015550999"])
	for _, id := range ids[1:] {
		if d := r.delivery(t, id); d.Status != core.DeliveryQueued || d.Attempts != 0 {
			t.Errorf("message %d behind the retry: %s after %d attempts, want queued after none", id, d.Status, d.Attempts)
		}
	}
	if n := r.deliverOnce(t); n != 0 {
		t.Errorf("claimed %d before the first message's retry was due", n)
	}
	r.clock.Add(time.Second)
	r.deliverOnce(t)
	wantSameIDs(t, "messages to the first customer tried", []int64{ids[0], ids[0], ids[1], ids[2]}, calls[pat.Address])
	for i, want := range []int{2, 1, 1} {
		if d := r.delivery(t, ids[i]); d.Status != core.DeliverySent || d.Attempts != want {
			t.Errorf("message %d: %s after %d attempts, want sent after %d", ids[i], d.Status, d.Attempts, want)
		}
	}
}

// TestOutboxOrderTwoReplicas runs two replicas' workers at once on the
// messages of several customers, some of which fail once and are tried
// again: each customer receives every message once, in the order queued,
// never two at the same time, and each message counts as many attempts as
// it was handed to a channel.
func TestOutboxOrderTwoReplicas(t *testing.T) {
	r := newRig(t, "100001", "100002", "100003", "100004", "100005", "100006")
	const customers, perCustomer = 6, 8
	queued := map[string][]int64{}
	for c := range customers {
		addr := fmt.Sprintf("+1201555%04d", 100+c)
		s, _, err := r.Issue(ctx, core.Request{Customer: core.Endpoint{Channel: core.ChannelSMS, Address: addr}, Desk: desk, Agent: "alice"})
		if err != nil {
			t.Fatal(err)
		}
		queued[addr] = r.texts(t, s.ConversationID, perCustomer)
	}
	var (
		mu       sync.Mutex
		inFlight = map[string]bool{}
		handed   = map[int64]int{}
		accepted = map[string][]int64{}
	)
	deliver := func(ctx context.Context, d *core.Delivery) (core.Receipt, error) {
		mu.Lock()
		if inFlight[d.To.Address] {
			t.Errorf("two messages on their way to %s at once", d.To.Address)
		}
		inFlight[d.To.Address] = true
		handed[d.ID]++
		first := handed[d.ID] == 1
		mu.Unlock()
		runtime.Gosched()
		mu.Lock()
		defer mu.Unlock()
		inFlight[d.To.Address] = false
		if first && d.ID%5 == 0 {
			return core.Receipt{}, core.Errorf(core.CodeUnavailable, "twilio answered 503")
		}
		accepted[d.To.Address] = append(accepted[d.To.Address], d.ID)
		return core.Receipt{Status: core.DeliverySent, ExternalID: fmt.Sprintf("SM%d", d.ID)}, nil
	}
	a, aSMS := r.replica(t, nil)
	b, bSMS := r.replica(t, nil)
	aSMS.DeliverFunc, bSMS.DeliverFunc = deliver, deliver
	for round := 0; ; round++ {
		var wg sync.WaitGroup
		for _, e := range []*core.Engine{a, b} {
			wg.Go(func() {
				for {
					n, err := e.DeliverOnce(ctx)
					if err != nil {
						t.Error(err)
						return
					}
					if n == 0 {
						return
					}
				}
			})
		}
		wg.Wait()
		st, err := r.store.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.QueuedDeliveries == 0 {
			break
		}
		if round == 20 {
			t.Fatalf("%d messages still queued after %d rounds", st.QueuedDeliveries, round)
		}
		r.clock.Add(time.Minute) // the retries are due
	}
	for addr, ids := range queued {
		wantSameIDs(t, "messages accepted for "+addr, ids, accepted[addr])
		for _, id := range ids {
			if d := r.delivery(t, id); d.Attempts != handed[id] {
				t.Errorf("message %d counts %d attempts, handed to a channel %d times", id, d.Attempts, handed[id])
			}
		}
	}
}

// TestOutboxClaimsAgainAfterProgress queues a customer's messages through
// another replica, the second while the first is being sent, so that
// nothing wakes this replica's outbox: having got a message out, it claims
// again at once rather than at its next poll, which the test puts an hour
// away.
func TestOutboxClaimsAgainAfterProgress(t *testing.T) {
	r := newRig(t)
	other, _ := r.replica(t, nil)
	s := r.issue(t)
	_, d, err := other.AgentMessage(ctx, s.ConversationID, alice, "one thing", "")
	if err != nil {
		t.Fatal(err)
	}
	first := []int64{d.ID}
	var second []int64
	r.sms.DeliverFunc = func(ctx context.Context, d *core.Delivery) (core.Receipt, error) {
		if d.ID == first[0] {
			_, next, err := other.AgentMessage(ctx, s.ConversationID, alice, "and another thing", "")
			if err != nil {
				t.Errorf("AgentMessage: %v", err)
			} else {
				second = append(second, next.ID)
			}
		}
		return core.Receipt{Status: core.DeliverySent, ExternalID: fmt.Sprintf("SM%d", d.ID)}, nil
	}
	// The rig's engine again, with a courier that polls once an hour.
	r.Engine = core.NewEngine(core.Options{Store: r.store, Provider: r.provider, Clock: r.clock,
		Channels: []core.Channel{r.sms, r.slack}, Courier: outbox.New(outbox.Options{Poll: time.Hour})})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		r.Run(runCtx)
		close(done)
	}()
	defer func() { stop(); <-done }()
	guard := time.After(30 * time.Second) // a hang, not a measurement
	for len(r.sms.Delivered()) < 2 {
		select {
		case <-r.sms.Attempted():
		case <-guard:
			t.Fatalf("%d messages sent; the second waits for the next poll", len(r.sms.Delivered()))
		}
	}
	if got := r.sms.Delivered(); got[1].ID != second[0] {
		t.Errorf("sent %d second, want %d", got[1].ID, second[0])
	}
}

// TestRunStopGivesBackBatch stops Run while the first of a customer's
// messages is on its way: that one finishes and is saved, and the others
// of its batch are given back unsent, without an attempt, for the next
// run or another replica to send at once.
func TestRunStopGivesBackBatch(t *testing.T) {
	r := newRig(t)
	s := r.issue(t)
	ids := r.texts(t, s.ConversationID, 3)
	inFlight, release := make(chan struct{}), make(chan struct{})
	r.sms.DeliverFunc = func(ctx context.Context, d *core.Delivery) (core.Receipt, error) {
		if d.ID == ids[0] {
			close(inFlight)
			<-release
		}
		return core.Receipt{Status: core.DeliverySent, ExternalID: fmt.Sprintf("SM%d", d.ID)}, nil
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		r.Run(runCtx)
		close(done)
	}()
	<-inFlight
	stop()
	close(release)
	<-done
	if got := r.sms.Delivered(); len(got) != 1 || got[0].ID != ids[0] {
		t.Errorf("%d messages sent, want only the one in flight when Run stopped", len(got))
	}
	if d := r.delivery(t, ids[0]); d.Status != core.DeliverySent {
		t.Errorf("message in flight: %s, want sent", d.Status)
	}
	for _, id := range ids[1:] {
		if d := r.delivery(t, id); d.Status != core.DeliveryQueued || d.Attempts != 0 || d.ClaimToken != "" || d.NextAttemptAt.After(r.clock.Now()) {
			t.Errorf("message not started: %+v; want queued, due, unclaimed, no attempt", d)
		}
	}
}
