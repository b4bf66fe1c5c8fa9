// Package webhooktest is the contract every store that keeps webhook
// endpoints passes (webhook.Store), run by each store's tests.
package webhooktest

import (
	"errors"
	"testing"
	"time"

	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest/storetest"
	"github.com/assistbot/assistbot/core/webhook"
	"github.com/google/go-cmp/cmp"
)

// Store is a store that also keeps webhook endpoints.
type Store interface {
	core.Store
	webhook.Store
}

// RunStoreTests is the contract of webhook.Store, for the stores
// that implement it. open returns a new, empty store for each subtest.
//
// Besides what webhook.Store documents, it pins down: an endpoint's times
// come back as given, the zero time stays zero, and no events is nil;
// core.OutboxStore's ClaimDeliveries never claims a webhook delivery;
// ClaimWebhookDeliveries counts an attempt and holds its deliveries as
// ClaimDeliveries does, and its deliveries are saved and renewed by
// UpdateDelivery and RenewClaim.
func RunStoreTests(t *testing.T, open func(t *testing.T) Store) {
	for _, c := range []struct {
		name string
		run  func(*testing.T, Store)
	}{
		{"EndpointRoundTrip", testWebhookRoundTrip},
		{"ClaimByEndpoint", testWebhookClaim},
		{"Attempts", testWebhookAttempts},
		{"ConversationQueue", testWebhookConversationQueue},
		{"Delete", testWebhookDelete},
	} {
		t.Run(c.name, func(t *testing.T) { c.run(t, open(t)) })
	}
}

func newHook(id string) *webhook.Endpoint {
	return &webhook.Endpoint{ID: id, URL: "https://example.com/hooks/" + id, Secret: "0123456789abcdef-" + id,
		Source: webhook.SourceAPI, CreatedAt: storetest.Epoch(), UpdatedAt: storetest.Epoch()}
}

func testWebhookRoundTrip(t *testing.T, st Store) {
	ctx := t.Context()
	a := newHook("wh_a")
	a.Events, a.Description = []string{"session.*", "message.received"}, "crm"
	if err := st.CreateWebhook(ctx, a); err != nil {
		t.Fatal(err)
	}
	if a.Version != 1 {
		t.Errorf("version = %d", a.Version)
	}
	if err := st.CreateWebhook(ctx, newHook("wh_a")); core.ErrorCode(err) != core.CodeConflict {
		t.Errorf("duplicate: %v", err)
	}
	b := newHook("cfg-b")
	b.Source, b.Secret = webhook.SourceConfig, ""
	if err := st.CreateWebhook(ctx, b); err != nil {
		t.Fatal(err)
	}
	got, err := st.FindWebhook(ctx, "wh_a")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(a, got); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}
	list, err := st.FindWebhooks(ctx)
	if err != nil || len(list) != 2 || list[0].ID != "cfg-b" || list[1].ID != "wh_a" || list[0].Events != nil {
		t.Fatalf("FindWebhooks = %v, %v", list, err)
	}
	got.URL, got.DisabledAt, got.DisabledReason = "https://example.org/x", storetest.At(time.Hour), "why"
	got.FailingSince, got.LastSuccessAt = storetest.At(time.Minute), storetest.At(time.Second)
	if err := st.UpdateWebhook(ctx, got); err != nil || got.Version != 2 {
		t.Fatalf("update: %v, version %d", err, got.Version)
	}
	again, _ := st.FindWebhook(ctx, "wh_a")
	if d := cmp.Diff(got, again); d != "" {
		t.Errorf("after update (-want +got):\n%s", d)
	}
	a.URL = "https://stale.example"
	if err := st.UpdateWebhook(ctx, a); !errors.Is(err, core.ErrVersion) || a.Version != 1 {
		t.Errorf("stale update: %v, version %d", err, a.Version)
	}
	if err := st.UpdateWebhook(ctx, newHook("wh_none")); core.ErrorCode(err) != core.CodeNotFound {
		t.Errorf("unknown update: %v", err)
	}
	if _, err := st.FindWebhook(ctx, "wh_none"); core.ErrorCode(err) != core.CodeNotFound {
		t.Errorf("unknown find: %v", err)
	}
}

// hookConv creates an open conversation to hang deliveries on.
func hookConv(t *testing.T, st Store, id string) *core.Conversation {
	c := &core.Conversation{ID: id, Customer: core.Endpoint{Channel: core.ChannelSMS, Address: "+15550001" + id[len(id)-3:]},
		Locale: "en", State: core.ConversationOpen, CreatedAt: storetest.Epoch(), UpdatedAt: storetest.Epoch()}
	if err := st.CreateConversation(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	return c
}

// queueHooks queues one delivery per address (channel webhook unless it
// has the form "sms:…") through UpdateConversationQueue, and returns them.
func queueHooks(t *testing.T, st Store, c *core.Conversation, to ...core.Endpoint) []*core.Delivery {
	var ds []*core.Delivery
	for _, ep := range to {
		ds = append(ds, &core.Delivery{ConversationID: c.ID, To: ep,
			Notice: core.Notice{Kind: core.NoticeWebhook, Body: `{"id":"evt_1","type":"conversation.closed"}`},
			Status: core.DeliveryQueued, NextAttemptAt: storetest.Epoch(), CreatedAt: storetest.Epoch(), UpdatedAt: storetest.Epoch()})
	}
	c.UpdatedAt = storetest.Epoch()
	if err := st.UpdateConversationQueue(t.Context(), c, ds); err != nil {
		t.Fatal(err)
	}
	return ds
}

func hookTo(id string) core.Endpoint { return core.Endpoint{Channel: core.ChannelWebhook, Address: id} }

func ids(ds []*core.Delivery) []int64 {
	out := make([]int64, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

func testWebhookClaim(t *testing.T, st Store) {
	ctx := t.Context()
	c := hookConv(t, st, "conv-001")
	sms := core.Endpoint{Channel: core.ChannelSMS, Address: "+15550001001"}
	q := queueHooks(t, st, c, hookTo("wh_a"), sms, hookTo("wh_b"), hookTo("wh_a"), hookTo("wh_a"))
	now := storetest.At(time.Second)

	main, err := st.ClaimDeliveries(ctx, now, 10, time.Minute)
	if err != nil || len(main) != 1 || main[0].ID != q[1].ID {
		t.Fatalf("ClaimDeliveries took %v, %v; want only the sms one", ids(main), err)
	}
	got, err := st.ClaimWebhookDeliveries(ctx, "wh_a", now, 2, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]int64{q[0].ID, q[3].ID}, ids(got)); d != "" {
		t.Fatalf("first claim (-want +got):\n%s", d)
	}
	if got[0].Attempts != 1 || got[0].ClaimToken == "" || !got[0].ClaimUntil.Equal(now.Add(time.Minute)) {
		t.Errorf("claimed %+v", got[0])
	}
	// Held: a second claim takes nothing, not even the third, which
	// must wait for the first two.
	if more, err := st.ClaimWebhookDeliveries(ctx, "wh_a", now, 10, time.Minute); err != nil || len(more) != 0 {
		t.Errorf("second claim took %v, %v", ids(more), err)
	}
	if n, err := st.RenewClaim(ctx, got[0].ClaimToken, now.Add(2*time.Minute)); err != nil || n != 2 {
		t.Errorf("renew = %d, %v", n, err)
	}
	// The first waits for a retry; the second is given back.
	first, second := got[0], got[1]
	first.Reason, first.NextAttemptAt, first.UpdatedAt = "503", now.Add(time.Hour), now
	if err := st.UpdateDelivery(ctx, first); err != nil {
		t.Fatal(err)
	}
	second.Attempts--
	second.NextAttemptAt = now
	if err := st.UpdateDelivery(ctx, second); err != nil {
		t.Fatal(err)
	}
	if more, err := st.ClaimWebhookDeliveries(ctx, "wh_a", now.Add(time.Minute), 10, time.Minute); err != nil || len(more) != 0 {
		t.Errorf("claim behind a retry took %v, %v", ids(more), err)
	}
	other, err := st.ClaimWebhookDeliveries(ctx, "wh_b", now, 10, time.Minute)
	if err != nil || len(other) != 1 || other[0].ID != q[2].ID {
		t.Errorf("wh_b claim took %v, %v", ids(other), err)
	}
	later := now.Add(time.Hour)
	all, err := st.ClaimWebhookDeliveries(ctx, "wh_a", later, 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]int64{q[0].ID, q[3].ID, q[4].ID}, ids(all)); d != "" {
		t.Fatalf("claim after the retry's time (-want +got):\n%s", d)
	}
	if all[0].Attempts != 2 || all[1].Attempts != 1 {
		t.Errorf("attempts %d, %d", all[0].Attempts, all[1].Attempts)
	}
	if none, err := st.ClaimWebhookDeliveries(ctx, "wh_a", later, 0, time.Minute); err != nil || len(none) != 0 {
		t.Errorf("limit 0 took %v, %v", ids(none), err)
	}
}

func testWebhookAttempts(t *testing.T, st Store) {
	ctx := t.Context()
	if err := st.CreateWebhook(ctx, newHook("wh_a")); err != nil {
		t.Fatal(err)
	}
	c := hookConv(t, st, "conv-001")
	q := queueHooks(t, st, c, hookTo("wh_a"), hookTo("wh_a"), hookTo("wh_gone"))
	day := 24 * time.Hour
	at := func(d time.Duration, outcome string, status int) (*webhook.Attempt, bool) {
		a := &webhook.Attempt{DeliveryID: q[0].ID, EndpointID: "wh_a", N: 1, At: storetest.At(d), Duration: 1500 * time.Microsecond,
			Status: status, Outcome: outcome}
		if outcome != webhook.OutcomeDelivered {
			a.Error = "the endpoint answered 500"
		}
		disabled, err := st.RecordWebhookAttempt(ctx, a, day)
		if err != nil || a.ID == 0 {
			t.Fatalf("record: %v, id %d", err, a.ID)
		}
		return a, disabled
	}
	if _, off := at(0, webhook.OutcomeRetry, 500); off {
		t.Fatal("disabled at the first failure")
	}
	e, _ := st.FindWebhook(ctx, "wh_a")
	if !e.FailingSince.Equal(storetest.At(0)) || !e.Enabled() {
		t.Fatalf("after a failure: %+v", e)
	}
	at(time.Hour, webhook.OutcomeDelivered, 204)
	e, _ = st.FindWebhook(ctx, "wh_a")
	if !e.FailingSince.IsZero() || !e.LastSuccessAt.Equal(storetest.At(time.Hour)) {
		t.Fatalf("after a success: %+v", e)
	}
	at(2*time.Hour, webhook.OutcomeRetry, 500)
	if _, off := at(2*time.Hour+day-time.Second, webhook.OutcomeRetry, 500); off {
		t.Fatal("disabled before the window ended")
	}
	if _, off := at(2*time.Hour+day, webhook.OutcomeRetry, 500); !off {
		t.Fatal("not disabled after the window")
	}
	if _, off := at(3*time.Hour+day, webhook.OutcomeRetry, 500); off {
		t.Fatal("disabled twice")
	}
	e, _ = st.FindWebhook(ctx, "wh_a")
	if e.Enabled() || !e.DisabledAt.Equal(storetest.At(2*time.Hour+day)) || e.DisabledReason == "" || e.Version != 2 {
		t.Fatalf("disabled: %+v", e)
	}
	if _, err := st.RecordWebhookAttempt(ctx, &webhook.Attempt{EndpointID: "wh_none", At: storetest.Epoch(), Outcome: webhook.OutcomeRetry}, day); core.ErrorCode(err) != core.CodeNotFound {
		t.Errorf("unknown endpoint: %v", err)
	}
	list, err := st.FindWebhookAttempts(ctx, []int64{q[0].ID, q[1].ID})
	if err != nil || len(list) != 6 || list[0].Status != 500 || list[1].Outcome != webhook.OutcomeDelivered ||
		list[0].Duration != 1500*time.Microsecond || !list[5].At.Equal(storetest.At(3*time.Hour+day)) {
		t.Fatalf("attempts = %+v, %v", list, err)
	}
	if n, err := st.FailWebhookDeliveries(ctx, storetest.At(4*day)); err != nil || n != 3 {
		t.Errorf("FailWebhookDeliveries = %d, %v; want the two of the disabled and the one of the unknown", n, err)
	}
	ds, err := st.FindWebhookDeliveries(ctx, "wh_a", 0, 0)
	if err != nil || len(ds) != 2 || ds[0].ID != q[1].ID || ds[0].Status != core.DeliveryFailed || ds[0].Reason != webhook.ReasonGone {
		t.Fatalf("FindWebhookDeliveries = %+v, %v", ds, err)
	}
	if ds, err := st.FindWebhookDeliveries(ctx, "wh_a", q[1].ID, 1); err != nil || len(ds) != 1 || ds[0].ID != q[0].ID {
		t.Errorf("the page before %d = %v, %v", q[1].ID, ids(ds), err)
	}
}

func testWebhookConversationQueue(t *testing.T, st Store) {
	ctx := t.Context()
	c := hookConv(t, st, "conv-001")
	stale := *c
	c.State = core.ConversationClosed
	q := queueHooks(t, st, c, hookTo("wh_a"))
	if c.Version != 2 || q[0].ID == 0 {
		t.Fatalf("version %d, delivery id %d", c.Version, q[0].ID)
	}
	got, _ := st.FindConversation(ctx, c.ID)
	if got.State != core.ConversationClosed {
		t.Errorf("state %s", got.State)
	}
	d := &core.Delivery{ConversationID: c.ID, To: hookTo("wh_a"), Status: core.DeliveryQueued, CreatedAt: storetest.Epoch()}
	if err := st.UpdateConversationQueue(ctx, &stale, []*core.Delivery{d}); !errors.Is(err, core.ErrVersion) || d.ID != 0 || stale.Version != 1 {
		t.Errorf("stale: %v, id %d, version %d", err, d.ID, stale.Version)
	}
	if ds, _ := st.FindWebhookDeliveries(ctx, "wh_a", 0, 0); len(ds) != 1 {
		t.Errorf("deliveries after a refused write: %v", ids(ds))
	}
}

func testWebhookDelete(t *testing.T, st Store) {
	ctx := t.Context()
	for _, id := range []string{"wh_a", "wh_b"} {
		if err := st.CreateWebhook(ctx, newHook(id)); err != nil {
			t.Fatal(err)
		}
	}
	c := hookConv(t, st, "conv-001")
	q := queueHooks(t, st, c, hookTo("wh_a"), hookTo("wh_b"))
	if err := st.DeleteWebhook(ctx, "wh_a", storetest.At(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteWebhook(ctx, "wh_a", storetest.At(time.Minute)); core.ErrorCode(err) != core.CodeNotFound {
		t.Errorf("second delete: %v", err)
	}
	if _, err := st.FindWebhook(ctx, "wh_a"); core.ErrorCode(err) != core.CodeNotFound {
		t.Errorf("find after delete: %v", err)
	}
	a, _ := st.FindDelivery(ctx, q[0].ID)
	b, _ := st.FindDelivery(ctx, q[1].ID)
	if a.Status != core.DeliveryFailed || a.Reason != webhook.ReasonGone || b.Status != core.DeliveryQueued {
		t.Errorf("after delete: %s %q, %s", a.Status, a.Reason, b.Status)
	}
}
