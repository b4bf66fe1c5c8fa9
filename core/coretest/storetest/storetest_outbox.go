package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/assistbot/assistbot/core"
)

func deliveryIDs(list []*core.Delivery) []int64 {
	ids := []int64{}
	for _, d := range list {
		ids = append(ids, d.ID)
	}
	return ids
}

// queue stores ds as deliveries of s, which must exist.
func (f *storeFixture) queue(s *core.Session, ds ...*core.Delivery) {
	f.t.Helper()
	f.update(&core.Change{Session: s, Deliveries: ds})
}

func testDeliveryRoundTrip(t *testing.T, f *storeFixture) {
	s := f.issue("200001", core.StateIssued)
	d1 := newDelivery(s, At(time.Minute))
	d2 := newDelivery(s, At(2*time.Minute))
	d2.Notice = core.Notice{Kind: core.NoticeSession, SessionID: s.ID, Action: core.ActionJoin, State: core.StateWaiting}
	d2.Status, d2.Reason, d2.Attempts, d2.ExternalID = core.DeliverySent, "slow", 3, "SM0001"
	f.queue(s, d1, d2)
	if d1.ID == 0 || d2.ID <= d1.ID {
		t.Fatalf("delivery ids %d, %d: want increasing ids set on the caller's deliveries", d1.ID, d2.ID)
	}
	for _, d := range []*core.Delivery{d1, d2} {
		got := f.findDelivery(d.ID)
		wantSame(t, "delivery", d, got)
		wantUTC(t, "delivery", got.NextAttemptAt, got.CreatedAt, got.UpdatedAt, got.Notice.ExpiresAt)
	}
	_, err := f.st.FindDelivery(t.Context(), d2.ID+1000)
	wantCode(t, "FindDelivery(unknown)", err, core.CodeNotFound)
}

// apart gives each delivery a recipient of its own, so that none waits
// for another (see testClaimOrder).
func apart(ds ...*core.Delivery) {
	for i, d := range ds {
		d.To.Address = fmt.Sprintf("+1555020%04d", i)
	}
}

// claimToken returns the token of a claim's deliveries, failing t unless
// they share one that is not empty and not among seen, and adds it to
// seen.
func claimToken(t *testing.T, got []*core.Delivery, seen map[string]bool) string {
	t.Helper()
	if len(got) == 0 {
		return ""
	}
	token := got[0].ClaimToken
	for _, d := range got {
		if d.ClaimToken == "" || d.ClaimToken != token {
			t.Errorf("delivery %d claimed with token %q, want the claim's one token %q", d.ID, d.ClaimToken, token)
		}
	}
	if seen[token] {
		t.Errorf("claim token %q handed out twice", token)
	}
	seen[token] = true
	return token
}

func testClaimDeliveries(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	now, lease := At(time.Hour), 2*time.Minute
	s := f.issue("200002", core.StateIssued)
	d1 := newDelivery(s, now.Add(-2*time.Minute))
	d2 := newDelivery(s, now.Add(time.Minute)) // not due yet
	d3 := newDelivery(s, now.Add(-time.Hour))  // due longer, but created later
	d4 := newDelivery(s, now)                  // due exactly now
	d5, d6, d7 := newDelivery(s, now.Add(-time.Hour)), newDelivery(s, now.Add(-time.Hour)), newDelivery(s, now.Add(-time.Hour))
	d5.Status, d6.Status, d7.Status = core.DeliverySent, core.DeliveryFailed, core.DeliveryDelivered
	d3.Attempts = 2
	apart(d1, d2, d3, d4, d5, d6, d7)
	f.queue(s, d1, d2, d3, d4, d5, d6, d7)
	tokens := map[string]bool{}

	claimed := func(at time.Time, got []*core.Delivery, ds ...*core.Delivery) []*core.Delivery {
		token := claimToken(t, got, tokens)
		var out []*core.Delivery
		for _, d := range ds {
			c := *d
			c.Attempts++
			c.NextAttemptAt, c.ClaimUntil, c.ClaimToken = at.Add(lease), at.Add(lease), token
			*d = c
			out = append(out, &c)
		}
		return out
	}
	got, err := f.st.ClaimDeliveries(ctx, now, 10, lease)
	if err != nil {
		t.Fatalf("ClaimDeliveries: %v", err)
	}
	wantSame(t, "claimed deliveries (ids)", []int64{d1.ID, d3.ID, d4.ID}, deliveryIDs(got))
	want := claimed(now, got, d1, d3, d4)
	wantSame(t, "claimed deliveries", want, got)
	for _, d := range want {
		wantSame(t, "stored claimed delivery", d, f.findDelivery(d.ID))
		wantUTC(t, "stored claimed delivery", f.findDelivery(d.ID).ClaimUntil)
	}

	// Leased: not claimed again before the lease ends.
	if got, err := f.st.ClaimDeliveries(ctx, now, 10, lease); err != nil || len(got) != 0 {
		t.Errorf("second ClaimDeliveries = %v, %v; want none", deliveryIDs(got), err)
	}
	if got, err := f.st.ClaimDeliveries(ctx, now.Add(lease-time.Microsecond), 10, lease); err != nil || len(got) != 1 || got[0].ID != d2.ID {
		t.Errorf("ClaimDeliveries just before the lease ends = %v, %v; want only %d", deliveryIDs(got), err, d2.ID)
	} else {
		claimed(now.Add(lease-time.Microsecond), got, d2)
	}
	later := now.Add(lease)
	got, err = f.st.ClaimDeliveries(ctx, later, 10, lease)
	if err != nil {
		t.Fatalf("ClaimDeliveries after the lease: %v", err)
	}
	wantSame(t, "deliveries claimed after the lease", []int64{d1.ID, d3.ID, d4.ID}, deliveryIDs(got))
	wantSame(t, "deliveries claimed after the lease", claimed(later, got, d1, d3, d4), got)
	for _, d := range []*core.Delivery{d2, d5, d6, d7} {
		wantSame(t, "delivery not claimed", d, f.findDelivery(d.ID))
	}
}

func testClaimDeliveriesLimit(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	now := At(time.Hour)
	s := f.issue("200003", core.StateIssued)
	d1, d2, d3 := newDelivery(s, now), newDelivery(s, now), newDelivery(s, now)
	apart(d1, d2, d3)
	f.queue(s, d1, d2, d3)
	for _, limit := range []int{0, -1} {
		if got, err := f.st.ClaimDeliveries(ctx, now, limit, time.Minute); err != nil || len(got) != 0 {
			t.Errorf("ClaimDeliveries(limit %d) = %v, %v; want none", limit, deliveryIDs(got), err)
		}
	}
	wantSame(t, "delivery after claims of none", d1, f.findDelivery(d1.ID))
	for _, want := range [][]int64{{d1.ID, d2.ID}, {d3.ID}, {}} {
		got, err := f.st.ClaimDeliveries(ctx, now, 2, time.Minute)
		if err != nil {
			t.Fatalf("ClaimDeliveries: %v", err)
		}
		wantSame(t, "ClaimDeliveries(limit 2)", want, deliveryIDs(got))
	}
}

func testUpdateDelivery(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	s := f.issue("200004", core.StateIssued)
	d := newDelivery(s, At(time.Minute))
	f.queue(s, d)
	got, err := f.st.ClaimDeliveries(ctx, At(time.Minute), 1, time.Minute)
	if err != nil || len(got) != 1 {
		t.Fatalf("ClaimDeliveries = %v, %v", got, err)
	}
	want := *got[0]

	// A failed attempt to be retried, saved by the claim's holder: the
	// claim ends, in the store and in d.
	d = got[0]
	d.Reason, d.NextAttemptAt, d.UpdatedAt = "carrier busy", At(10*time.Minute), At(2*time.Minute)
	want.Reason, want.NextAttemptAt, want.UpdatedAt = d.Reason, d.NextAttemptAt, d.UpdatedAt
	want.ClaimToken, want.ClaimUntil = "", time.Time{}
	// UpdateDelivery saves only status, reason, attempts, schedule,
	// external id and update time.
	d.Notice.Text, d.To.Address, d.CreatedAt, d.SessionID = "not saved", "+15550100999", At(time.Hour), "other"
	if err := f.st.UpdateDelivery(ctx, d); err != nil {
		t.Fatalf("UpdateDelivery(retry): %v", err)
	}
	if d.ClaimToken != "" || !d.ClaimUntil.IsZero() {
		t.Errorf("after the holder's save the delivery has claim %q until %v, want none", d.ClaimToken, d.ClaimUntil)
	}
	wantSame(t, "delivery after a retry", &want, f.findDelivery(d.ID))

	// Saves without a token, as a platform's reports make.
	d.Status, d.ExternalID, d.Reason, d.Attempts, d.UpdatedAt = core.DeliverySent, "SM0002", "", 4, At(11*time.Minute)
	want.Status, want.ExternalID, want.Reason, want.Attempts, want.UpdatedAt = d.Status, d.ExternalID, d.Reason, d.Attempts, d.UpdatedAt
	if err := f.st.UpdateDelivery(ctx, d); err != nil {
		t.Fatalf("UpdateDelivery(sent): %v", err)
	}
	wantSame(t, "delivery after sending", &want, f.findDelivery(d.ID))

	d.Status, d.UpdatedAt = core.DeliveryDelivered, At(12*time.Minute)
	want.Status, want.UpdatedAt = d.Status, d.UpdatedAt
	if err := f.st.UpdateDelivery(ctx, d); err != nil {
		t.Fatalf("UpdateDelivery(delivered): %v", err)
	}
	wantSame(t, "delivery after delivery", &want, f.findDelivery(d.ID))

	missing := *d
	missing.ID = d.ID + 1000
	wantCode(t, "UpdateDelivery(unknown)", f.st.UpdateDelivery(ctx, &missing), core.CodeNotFound)
	missing.ClaimToken = "some claim"
	wantCode(t, "UpdateDelivery(unknown, with a token)", f.st.UpdateDelivery(ctx, &missing), core.CodeNotFound)
}

func testUpdateDeliveryFinal(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	s := f.issue("200005", core.StateIssued)
	for _, final := range []core.DeliveryStatus{core.DeliveryDelivered, core.DeliveryFailed} {
		d := newDelivery(s, At(time.Minute))
		f.queue(s, d)
		d.Status, d.Reason, d.UpdatedAt = final, "final", At(2*time.Minute)
		if err := f.st.UpdateDelivery(ctx, d); err != nil {
			t.Fatalf("UpdateDelivery(%s): %v", final, err)
		}
		stored := f.findDelivery(d.ID)
		for _, late := range []core.DeliveryStatus{core.DeliveryQueued, core.DeliverySent, core.DeliveryFailed, core.DeliveryDelivered} {
			d.Status, d.Reason, d.Attempts, d.ExternalID, d.UpdatedAt = late, "late", 9, "SM-late", At(time.Hour)
			wantIs(t, "UpdateDelivery("+string(final)+" to "+string(late)+")", f.st.UpdateDelivery(ctx, d), core.ErrDeliveryFinal)
			wantSame(t, "final delivery after a late update", stored, f.findDelivery(d.ID))
		}
	}
}

func testFindDeliveries(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	a, b := f.issue("200006", core.StateIssued), f.issue("200007", core.StateIssued)
	a1, a2 := newDelivery(a, At(time.Minute)), newDelivery(a, At(time.Minute))
	a2.Status = core.DeliverySent
	f.queue(a, a1, a2)
	b1 := newDelivery(b, At(time.Minute))
	f.queue(b, b1)
	a3 := newDelivery(a, At(time.Minute))
	f.queue(a, a3)
	byID := map[int64]*core.Delivery{a1.ID: a1, a2.ID: a2, a3.ID: a3, b1.ID: b1}
	for _, c := range []struct {
		name   string
		filter core.DeliveryFilter
		want   []int64
	}{
		{"all", core.DeliveryFilter{}, []int64{a3.ID, b1.ID, a2.ID, a1.ID}},
		{"session", core.DeliveryFilter{SessionID: a.ID}, []int64{a3.ID, a2.ID, a1.ID}},
		{"conversation", core.DeliveryFilter{ConversationID: b.ConversationID}, []int64{b1.ID}},
		{"queued", core.DeliveryFilter{Status: core.DeliveryQueued}, []int64{a3.ID, b1.ID, a1.ID}},
		{"sent", core.DeliveryFilter{Status: core.DeliverySent}, []int64{a2.ID}},
		{"session and status", core.DeliveryFilter{SessionID: a.ID, Status: core.DeliveryQueued}, []int64{a3.ID, a1.ID}},
		{"unknown session", core.DeliveryFilter{SessionID: "none"}, []int64{}},
		{"limit", core.DeliveryFilter{Limit: 2}, []int64{a3.ID, b1.ID}},
	} {
		got, err := f.st.FindDeliveries(ctx, c.filter)
		if err != nil {
			t.Errorf("FindDeliveries(%s): %v", c.name, err)
			continue
		}
		wantSame(t, "FindDeliveries("+c.name+")", c.want, deliveryIDs(got))
		for _, d := range got {
			wantSame(t, "FindDeliveries("+c.name+") delivery", byID[d.ID], d)
		}
	}
}

func testFindDeliveryByExternalID(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	s := f.issue("200008", core.StateIssued)
	d1, d2, d3 := newDelivery(s, At(time.Minute)), newDelivery(s, At(time.Minute)), newDelivery(s, At(time.Minute))
	d1.Status, d1.ExternalID = core.DeliverySent, "SM0003"
	d3.To = core.Endpoint{Channel: core.ChannelSlack, Address: "U0123"}
	d3.Status, d3.ExternalID = core.DeliverySent, "SM0004"
	f.queue(s, d1, d2, d3)

	// An external id set by UpdateDelivery is found too.
	d2.Status, d2.ExternalID = core.DeliverySent, "SM0005"
	if err := f.st.UpdateDelivery(ctx, d2); err != nil {
		t.Fatalf("UpdateDelivery: %v", err)
	}
	for _, want := range []*core.Delivery{d1, d2, d3} {
		got, err := f.st.FindDeliveryByExternalID(ctx, want.To.Channel, want.ExternalID)
		if err != nil {
			t.Errorf("FindDeliveryByExternalID(%s, %s): %v", want.To.Channel, want.ExternalID, err)
			continue
		}
		wantSame(t, "delivery by external id", want, got)
	}
	for _, c := range [][2]string{
		{core.ChannelSlack, "SM0003"}, // another channel's id
		{core.ChannelSMS, "SM0404"},
		{core.ChannelSMS, ""}, // never matches deliveries without one
		{"", ""},
	} {
		_, err := f.st.FindDeliveryByExternalID(ctx, c[0], c[1])
		wantCode(t, "FindDeliveryByExternalID("+c[0]+", "+c[1]+")", err, core.CodeNotFound)
	}
}
