package postgres

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/assistbot/assistbot/adapters/store/postgres/pgtest"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/webhook"
	"github.com/assistbot/assistbot/core/webhook/webhooktest"
)

func TestWebhookStoreContract(t *testing.T) {
	pgtest.Connect(t)
	webhooktest.RunStoreTests(t, func(t *testing.T) webhooktest.Store { return openTest(t) })
}

// TestWebhookTextTheDatabaseCannotStore: a NUL in an endpoint's
// description or secret, which PostgreSQL cannot store, is refused as
// invalid input (a 400 from the API), not an internal error.
func TestWebhookTextTheDatabaseCannotStore(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	now := core.SystemClock{}.Now()
	ep := &webhook.Endpoint{ID: "wh_nul", URL: "https://example.com/hook", Secret: "0123456789abcdef0123",
		Description: "a\x00b", Source: webhook.SourceAPI, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateWebhook(ctx, ep); core.ErrorCode(err) != core.CodeInvalid {
		t.Errorf("create with a NUL: %v, want invalid", err)
	}
	ep.Description = "printers"
	if err := s.CreateWebhook(ctx, ep); err != nil {
		t.Fatal(err)
	}
	ep.Secret = "0123456789abcdef\x00123"
	if err := s.UpdateWebhook(ctx, ep); core.ErrorCode(err) != core.CodeInvalid {
		t.Errorf("update with a NUL: %v, want invalid", err)
	}
}

// TestWebhookClaimWaitsForConcurrentChanges: a replica claims an
// endpoint's deliveries while another transaction is changing them (its
// lease renewed late, one saved as delivered, the endpoint deleted). The
// claim waits for that transaction and then takes only what is still
// queued and free: nothing is sent twice, nor to an endpoint deleted.
func TestWebhookClaimWaitsForConcurrentChanges(t *testing.T) {
	pgtest.Connect(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		change func(tx pgx.Tx, claimed []*core.Delivery, now time.Time) error
		want   func(claimed []*core.Delivery) []int64
	}{
		{"a lease renewed late", func(tx pgx.Tx, claimed []*core.Delivery, now time.Time) error {
			_, err := tx.Exec(ctx, renewClaimSQL, claimed[0].ClaimToken, now.Add(time.Hour))
			return err
		}, func([]*core.Delivery) []int64 { return nil }},
		{"the first saved as delivered", func(tx pgx.Tx, claimed []*core.Delivery, now time.Time) error {
			d := claimed[0]
			_, err := tx.Exec(ctx, updateDeliverySQL, d.ID, "delivered", "", d.Attempts, ts(d.NextAttemptAt), "", now, d.ClaimToken)
			return err
		}, func(claimed []*core.Delivery) []int64 { return []int64{claimed[1].ID} }},
		{"the endpoint deleted", func(tx pgx.Tx, _ []*core.Delivery, now time.Time) error {
			_, err := tx.Exec(ctx, failWebhooksSQL+` AND to_address = 'ep'`, webhook.ReasonGone, now)
			return err
		}, func([]*core.Delivery) []int64 { return nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dsn := pgtest.Schema(t)
			a, b := openDSN(t, dsn), openDSN(t, dsn)
			now := core.SystemClock{}.Now()
			ep := &webhook.Endpoint{ID: "ep", URL: "https://example.com/hook", Secret: "0123456789abcdef0123",
				Source: webhook.SourceAPI, CreatedAt: now, UpdatedAt: now}
			if err := a.CreateWebhook(ctx, ep); err != nil {
				t.Fatal(err)
			}
			ch := newChange("900001")
			if err := a.CreateSession(ctx, ch); err != nil {
				t.Fatal(err)
			}
			var queued []*core.Delivery
			for range 2 {
				queued = append(queued, &core.Delivery{SessionID: ch.Session.ID,
					To:     core.Endpoint{Channel: core.ChannelWebhook, Address: "ep"},
					Notice: core.Notice{Kind: core.NoticeWebhook, Body: `{"id":"evt_1","type":"session.issued"}`},
					Status: core.DeliveryQueued, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now})
			}
			if err := a.UpdateSession(ctx, &core.Change{Session: ch.Session, Deliveries: queued}); err != nil {
				t.Fatal(err)
			}
			// A claims both; its lease of 20 s is over when B claims.
			claimed, err := a.ClaimWebhookDeliveries(ctx, "ep", now, 32, 20*time.Second)
			if err != nil || len(claimed) != 2 {
				t.Fatalf("A's claim: %d, %v", len(claimed), err)
			}
			if tc.name == "the endpoint deleted" {
				if _, err := rawConn(t, dsn).Exec(ctx, `DELETE FROM webhook_endpoints WHERE id = 'ep'`); err != nil {
					t.Fatal(err)
				}
			}
			tx, err := rawConn(t, dsn).Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(ctx)
			if err := tc.change(tx, claimed, now.Add(21*time.Second)); err != nil {
				t.Fatal(err)
			}
			type result struct {
				list []*core.Delivery
				err  error
			}
			done := make(chan result, 1)
			go func() {
				list, err := b.ClaimWebhookDeliveries(ctx, "ep", now.Add(21*time.Second), 32, 20*time.Second)
				done <- result{list, err}
			}()
			waitForLockWait(t, dsn, "WITH head AS")
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			r := <-done
			if r.err != nil {
				t.Fatal(r.err)
			}
			var got []int64
			for _, d := range r.list {
				got = append(got, d.ID)
				if d.Status != core.DeliveryQueued {
					t.Errorf("B claimed delivery %d, which is %s", d.ID, d.Status)
				}
			}
			if want := tc.want(claimed); !slices.Equal(got, want) {
				t.Errorf("B claimed %v, want %v", got, want)
			}
		})
	}
}

// waitForLockWait waits until a statement of dsn's database that starts
// with prefix waits for a lock.
func waitForLockWait(t *testing.T, dsn, prefix string) {
	t.Helper()
	admin := rawConn(t, dsn)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var n int
		err := admin.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND starts_with(query, $1)`, prefix).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
	}
	t.Fatalf("no statement starting %q waited for a lock", prefix)
}
