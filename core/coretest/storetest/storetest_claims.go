package storetest

import (
	"testing"
	"time"

	"github.com/assistbot/assistbot/core"
)

// claim claims up to limit deliveries at now, which must succeed.
func (f *storeFixture) claim(now time.Time, limit int, lease time.Duration) []*core.Delivery {
	f.t.Helper()
	got, err := f.st.ClaimDeliveries(f.t.Context(), now, limit, lease)
	if err != nil {
		f.t.Fatalf("ClaimDeliveries(%v, %d): %v", now, limit, err)
	}
	return got
}

// save saves d, which must succeed.
func (f *storeFixture) save(d *core.Delivery) {
	f.t.Helper()
	if err := f.st.UpdateDelivery(f.t.Context(), d); err != nil {
		f.t.Fatalf("UpdateDelivery(%d): %v", d.ID, err)
	}
}

// sent records d as sent by its claim's holder.
func (f *storeFixture) sent(d *core.Delivery, at time.Time) {
	f.t.Helper()
	d.Status, d.ExternalID, d.UpdatedAt = core.DeliverySent, "SM-sent", at
	f.save(d)
}

func (f *storeFixture) renew(token string, until time.Time) int {
	f.t.Helper()
	n, err := f.st.RenewClaim(f.t.Context(), token, until)
	if err != nil {
		f.t.Fatalf("RenewClaim: %v", err)
	}
	return n
}

// testRenewClaim extends the lease of one claim's deliveries, and of
// those alone.
func testRenewClaim(t *testing.T, f *storeFixture) {
	now, lease := At(time.Hour), time.Minute
	s := f.issue("200010", core.StateIssued)
	a1, a2, b1, idle := newDelivery(s, now), newDelivery(s, now), newDelivery(s, now), newDelivery(s, now.Add(time.Hour))
	apart(a1, a2, b1, idle)
	f.queue(s, a1, a2)
	a := f.claim(now, 10, lease)
	f.queue(s, b1, idle)
	b := f.claim(now, 10, lease)
	wantSame(t, "first claim", []int64{a1.ID, a2.ID}, deliveryIDs(a))
	wantSame(t, "second claim", []int64{b1.ID}, deliveryIDs(b))
	idleStored := f.findDelivery(idle.ID)

	until := now.Add(lease / 2)
	if n := f.renew(a[0].ClaimToken, until); n != 2 {
		t.Errorf("RenewClaim of a claim of 2 = %d", n)
	}
	for _, d := range a {
		d.ClaimUntil, d.NextAttemptAt = until, until
		wantSame(t, "renewed delivery", d, f.findDelivery(d.ID))
	}
	wantSame(t, "delivery of another claim", b[0], f.findDelivery(b1.ID))

	// A delivery saved by the holder leaves the claim.
	f.sent(a[0], now)
	until = now.Add(lease + time.Minute)
	if n := f.renew(a[1].ClaimToken, until); n != 1 {
		t.Errorf("RenewClaim after one of 2 was saved = %d, want 1", n)
	}
	// Renewed past the end of the original lease: a claim then takes
	// only the other claim's delivery, whose lease ran out.
	got := f.claim(now.Add(lease), 10, lease)
	wantSame(t, "claimed when the first lease would have ended", []int64{b1.ID}, deliveryIDs(got))

	// An empty or unknown token holds nothing, and changes nothing.
	for _, token := range []string{"", "no such claim"} {
		if n := f.renew(token, now.Add(time.Hour)); n != 0 {
			t.Errorf("RenewClaim(%q) = %d, want 0", token, n)
		}
	}
	wantSame(t, "unclaimed delivery after renewals", idleStored, f.findDelivery(idle.ID))
	wantSame(t, "claimed delivery after renewals of other tokens", got[0], f.findDelivery(b1.ID))
}

// testClaimLost has a worker save a delivery whose claim ran out and was
// taken over: the save is refused and changes nothing.
func testClaimLost(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	now, lease := At(time.Hour), time.Minute
	s := f.issue("200011", core.StateIssued)
	d := newDelivery(s, now)
	f.queue(s, d)
	first := f.claim(now, 1, lease)
	second := f.claim(now.Add(lease), 1, lease)
	if len(first) != 1 || len(second) != 1 {
		t.Fatalf("claims = %v, %v; want the delivery twice, the lease of the first having run out", deliveryIDs(first), deliveryIDs(second))
	}
	if first[0].ClaimToken == second[0].ClaimToken {
		t.Fatalf("two claims share the token %q", first[0].ClaimToken)
	}
	taken := f.findDelivery(d.ID)

	stale := first[0]
	stale.Status, stale.ExternalID, stale.Attempts, stale.UpdatedAt = core.DeliverySent, "SM-stale", 7, now.Add(lease)
	before := *stale
	wantIs(t, "UpdateDelivery by the claim that ran out", f.st.UpdateDelivery(ctx, stale), core.ErrClaimLost)
	wantSame(t, "delivery after a refused save", taken, f.findDelivery(d.ID))
	wantSame(t, "the refused caller's delivery", &before, stale)
	if n := f.renew(stale.ClaimToken, now.Add(2*lease)); n != 0 {
		t.Errorf("RenewClaim by the claim that ran out = %d, want 0", n)
	}

	// The new holder's save goes through; the old one stays refused,
	// however the delivery stands.
	cur := second[0]
	f.sent(cur, now.Add(lease))
	wantSame(t, "delivery saved by the new holder", cur, f.findDelivery(d.ID))
	wantIs(t, "UpdateDelivery by the old claim after the new one saved", f.st.UpdateDelivery(ctx, stale), core.ErrClaimLost)
	cur.Status = core.DeliveryDelivered
	f.save(cur)
	wantIs(t, "UpdateDelivery by the old claim of a final delivery", f.st.UpdateDelivery(ctx, stale), core.ErrClaimLost)
	wantSame(t, "final delivery after a refused save", cur, f.findDelivery(d.ID))
}

// testReportNotFenced saves a platform's report, which carries no token,
// on a delivery a worker holds: it is saved, and the claim stays the
// worker's.
func testReportNotFenced(t *testing.T, f *storeFixture) {
	now, lease := At(time.Hour), time.Minute
	s := f.issue("200012", core.StateIssued)
	d := newDelivery(s, now)
	f.queue(s, d)
	held := f.claim(now, 1, lease)
	if len(held) != 1 {
		t.Fatalf("claimed %v", deliveryIDs(held))
	}
	report := *held[0]
	report.ClaimToken, report.ClaimUntil = "", time.Time{}
	report.Reason, report.UpdatedAt = "carrier: queued", now.Add(time.Second)
	f.save(&report)
	want := *held[0]
	want.Reason, want.UpdatedAt = report.Reason, report.UpdatedAt
	wantSame(t, "held delivery after a report", &want, f.findDelivery(d.ID))
	if n := f.renew(want.ClaimToken, now.Add(lease)); n != 1 {
		t.Errorf("RenewClaim after a report = %d, want 1", n)
	}
	f.sent(held[0], now.Add(2*time.Second))
}

// testClaimOrder checks the rule that keeps the deliveries of one ordering
// key (endpoint and conversation) in order: a delivery is not claimable
// while an earlier one of its key is held or not due, whatever the
// deliveries of other keys do.
func testClaimOrder(t *testing.T, f *storeFixture) {
	now, lease := At(time.Hour), 2*time.Hour
	s1, s2 := f.issue("200013", core.StateIssued), f.issue("200014", core.StateIssued)
	desk := core.Endpoint{Channel: core.ChannelSlack, Address: "C0123"}
	a1 := newDelivery(s1, now)                // the customer of conversation 1
	x1 := newDelivery(s1, now.Add(time.Hour)) // conversation 1 on the desk, waiting for a retry
	x2 := newDelivery(s1, now)
	y1 := newDelivery(s2, now) // conversation 2 on the same desk
	a2 := newDelivery(s1, now)
	x1.To, x2.To, y1.To = desk, desk, desk
	f.queue(s1, a1, x1, x2)
	f.queue(s2, y1)
	f.queue(s1, a2)

	if got := f.claim(now, 1, lease); len(got) != 1 || got[0].ID != a1.ID {
		t.Fatalf("first claim = %v, want %d", deliveryIDs(got), a1.ID)
	}
	a2Before, x2Before := f.findDelivery(a2.ID), f.findDelivery(x2.ID)
	got := f.claim(now, 10, lease)
	wantSame(t, "claimed while the customer's first is held and the desk thread's first waits for a retry",
		[]int64{y1.ID}, deliveryIDs(got))
	wantSame(t, "delivery behind a held one", a2Before, f.findDelivery(a2.ID))
	wantSame(t, "delivery behind one waiting for a retry", x2Before, f.findDelivery(x2.ID))

	held := f.findDelivery(a1.ID)
	f.sent(held, now)
	wantSame(t, "claimed once the customer's first was sent", []int64{a2.ID}, deliveryIDs(f.claim(now, 10, lease)))
	wantSame(t, "claimed once the desk thread's first is due", []int64{x1.ID, x2.ID},
		deliveryIDs(f.claim(now.Add(time.Hour), 10, lease)))
}

// testClaimLimitKeepsOrder claims with a limit that falls inside a key's
// deliveries: the later ones wait until the earlier ones were saved, and
// then come together.
func testClaimLimitKeepsOrder(t *testing.T, f *storeFixture) {
	now, lease := At(time.Hour), time.Hour
	s := f.issue("200015", core.StateIssued)
	p1, q1, p2, p3 := newDelivery(s, now), newDelivery(s, now), newDelivery(s, now), newDelivery(s, now)
	q1.To.Address = "+15550100999"
	f.queue(s, p1, q1, p2, p3)

	first := f.claim(now, 2, lease)
	wantSame(t, "claim with a limit of 2", []int64{p1.ID, q1.ID}, deliveryIDs(first))
	wantSame(t, "claim while the first of the key is held", []int64{}, deliveryIDs(f.claim(now, 10, lease)))
	f.sent(first[0], now)
	wantSame(t, "claim once the first of the key was sent", []int64{p2.ID, p3.ID}, deliveryIDs(f.claim(now, 10, lease)))

	// A claim that ran out is taken over whole, in order, with what
	// follows it.
	p4 := newDelivery(s, now)
	f.queue(s, p4)
	wantSame(t, "claim after the lease ran out", []int64{q1.ID, p2.ID, p3.ID, p4.ID},
		deliveryIDs(f.claim(now.Add(lease), 10, lease)))
}

// testReleaseOrphanedClaims ends, in a store that one process uses, the
// claims an earlier run of it left.
func testReleaseOrphanedClaims(t *testing.T, f *storeFixture) {
	r, ok := f.st.(core.OrphanReleaser)
	if !ok {
		t.Skip("processes share the store: an unfinished claim may be another's")
	}
	now, lease := At(time.Hour), time.Minute
	s := f.issue("200016", core.StateIssued)
	d1, d2, d3, d4 := newDelivery(s, now), newDelivery(s, now), newDelivery(s, now.Add(time.Hour)), newDelivery(s, now)
	apart(d1, d2, d3, d4)
	f.queue(s, d1, d2, d3, d4)
	claimed := f.claim(now, 10, lease)
	wantSame(t, "claimed", []int64{d1.ID, d2.ID, d4.ID}, deliveryIDs(claimed))
	retry := claimed[2]
	retry.NextAttemptAt = now.Add(time.Hour)
	f.save(retry)
	d3Stored := f.findDelivery(d3.ID)

	restart := now.Add(time.Second)
	n, err := r.ReleaseOrphanedClaims(t.Context(), restart)
	if err != nil || n != 2 {
		t.Fatalf("ReleaseOrphanedClaims = %d, %v; want the 2 deliveries still claimed", n, err)
	}
	for _, d := range claimed[:2] {
		want := *d
		want.ClaimToken, want.ClaimUntil, want.NextAttemptAt = "", time.Time{}, restart
		wantSame(t, "released delivery", &want, f.findDelivery(d.ID))
	}
	wantSame(t, "delivery never claimed", d3Stored, f.findDelivery(d3.ID))
	wantSame(t, "delivery saved before the restart", retry, f.findDelivery(d4.ID))
	wantSame(t, "claimed at once after the restart", []int64{d1.ID, d2.ID}, deliveryIDs(f.claim(restart, 10, lease)))
}
