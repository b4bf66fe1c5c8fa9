package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/store/postgres/pgtest"
	"github.com/assistbot/assistbot/core"
)

// TestClaimDeliveriesAcrossReplicas has two stores on one database, as two
// replicas, drain a shared outbox with many workers each, every worker
// saving what it claimed as sent before it claims again. FOR UPDATE SKIP
// LOCKED must hand every delivery to exactly one of them, none may wait
// for the other's locks long enough to matter, and the deliveries to each
// recipient must be claimed in the order they were queued: never a later
// one while an earlier one is still held by another claim.
func TestClaimDeliveriesAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Schema(t)
	replicas := []*Store{openDSN(t, dsn, MaxConns(8)), openDSN(t, dsn, MaxConns(8))}

	ch := newChange("900000")
	if err := replicas[0].CreateSession(ctx, ch); err != nil {
		t.Fatal(err)
	}
	now := core.SystemClock{}.Now()
	const total, recipients = 600, 20
	queued := map[string][]int64{} // by recipient, in queue order
	var all []int64
	for len(all) < total {
		var ds []*core.Delivery
		for i := range 50 {
			ds = append(ds, &core.Delivery{SessionID: ch.Session.ID, ConversationID: ch.Conversation.ID,
				To:     core.Endpoint{Channel: core.ChannelSMS, Address: fmt.Sprintf("+1555060%04d", (len(all)+i)%recipients)},
				Notice: core.Notice{Kind: core.NoticeSession, SessionID: ch.Session.ID},
				Status: core.DeliveryQueued, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now})
		}
		if err := replicas[len(all)%2].UpdateSession(ctx, &core.Change{Session: ch.Session, Deliveries: ds}); err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			queued[d.To.Address] = append(queued[d.To.Address], d.ID)
			all = append(all, d.ID)
		}
	}
	previous := map[int64]int64{} // a delivery's predecessor to the same recipient
	for _, ids := range queued {
		for i := 1; i < len(ids); i++ {
			previous[ids[i]] = ids[i-1]
		}
	}

	var mu sync.Mutex
	claimedBy := map[int64]int{}
	claimed := map[string][]int64{} // by recipient, in the order claims returned
	var dup []int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for r, st := range replicas {
		for range 8 {
			wg.Go(func() {
				<-start
				for {
					got, err := st.ClaimDeliveries(ctx, now, 7, time.Hour)
					if err != nil {
						t.Error(err)
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					for _, d := range got {
						if _, ok := claimedBy[d.ID]; ok {
							dup = append(dup, d.ID)
						}
						claimedBy[d.ID] = r
						claimed[d.To.Address] = append(claimed[d.To.Address], d.ID)
						if d.Attempts != 1 {
							t.Errorf("delivery %d claimed with %d attempts, want 1", d.ID, d.Attempts)
						}
					}
					mu.Unlock()
					// The first delivery this claim took of a recipient
					// follows one that was saved before the claim
					// committed, so it reads as sent now.
					firsts := map[string]bool{}
					for _, d := range got {
						if prev, ok := previous[d.ID]; ok && !firsts[d.To.Address] {
							p, err := st.FindDelivery(ctx, prev)
							if err != nil || p.Status != core.DeliverySent {
								t.Errorf("delivery %d claimed while %d before it to the same recipient was %v (err %v)", d.ID, prev, p, err)
							}
						}
						firsts[d.To.Address] = true
					}
					for _, d := range got {
						d.Status, d.UpdatedAt = core.DeliverySent, now
						if err := st.UpdateDelivery(ctx, d); err != nil {
							t.Errorf("UpdateDelivery(%d) by its claim's holder: %v", d.ID, err)
						}
					}
				}
			})
		}
	}
	close(start)
	wg.Wait()

	if len(dup) > 0 {
		t.Errorf("deliveries claimed twice: %v", dup)
	}
	if len(claimedBy) != total {
		t.Errorf("%d deliveries claimed, want all %d", len(claimedBy), total)
	}
	for to, ids := range queued {
		if !slices.Equal(ids, claimed[to]) {
			t.Errorf("deliveries to %s claimed in the order %v, want %v", to, claimed[to], ids)
		}
	}
	perReplica := make([]int, len(replicas))
	for _, r := range claimedBy {
		perReplica[r]++
	}
	t.Logf("claims per replica: %v", perReplica)
	for _, st := range replicas {
		if got, err := st.ClaimDeliveries(ctx, now, 10, time.Hour); err != nil || len(got) != 0 {
			t.Errorf("claim after draining = %d deliveries, %v; want none", len(got), err)
		}
	}
	// Every delivery counts exactly the one attempt its claim made, and
	// that claim ended with its save.
	ds, err := replicas[1].FindDeliveries(ctx, core.DeliveryFilter{SessionID: ch.Session.ID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.Attempts != 1 || d.Status != core.DeliverySent || d.ClaimToken != "" || !d.ClaimUntil.IsZero() {
			t.Errorf("delivery %d: %s after %d attempts, claim %q until %v; want sent after 1, no claim",
				d.ID, d.Status, d.Attempts, d.ClaimToken, d.ClaimUntil)
			break
		}
	}
}

// TestClaimQueriesUseIndexes asks PostgreSQL how it runs the statements
// that claim and renew deliveries, once the outbox holds a few thousand
// deliveries, most of them sent, and the planner has statistics: neither
// may read the whole outbox, which every replica's worker would do every
// second.
func TestClaimQueriesUseIndexes(t *testing.T) {
	ctx := context.Background()
	st := openDSN(t, pgtest.Schema(t))
	ch := newChange("900001")
	if err := st.CreateSession(ctx, ch); err != nil {
		t.Fatal(err)
	}
	now := core.SystemClock{}.Now()
	for batch := range 40 {
		var ds []*core.Delivery
		for i := range 100 {
			d := &core.Delivery{SessionID: ch.Session.ID, ConversationID: ch.Conversation.ID,
				To:     core.Endpoint{Channel: core.ChannelSMS, Address: fmt.Sprintf("+1555070%04d", i%40)},
				Notice: core.Notice{Kind: core.NoticeText, Text: "hello"}, Status: core.DeliverySent,
				NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
			if batch >= 37 { // the last 300 are still queued
				d.Status = core.DeliveryQueued
			}
			ds = append(ds, d)
		}
		if err := st.UpdateSession(ctx, &core.Change{Session: ch.Session, Deliveries: ds}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.ClaimDeliveries(ctx, now, 32, time.Minute)
	if err != nil || len(got) == 0 {
		t.Fatalf("ClaimDeliveries = %d deliveries, %v", len(got), err)
	}
	c, err := st.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	if _, err := c.Exec(ctx, "ANALYZE outbox"); err != nil {
		t.Fatal(err)
	}
	for _, q := range []struct {
		name string
		sql  string
		args []any
	}{
		{"claim deliveries", claimDeliveriesSQL, []any{now, 32, now.Add(time.Minute), "token"}},
		{"renew claim", renewClaimSQL, []any{got[0].ClaimToken, now.Add(time.Minute)}},
		{"update delivery", updateDeliverySQL, []any{got[0].ID, "sent", "", 1, now, "SM1", now, got[0].ClaimToken}},
	} {
		text := explain(t, c, q.name, q.sql, q.args...)
		if strings.Contains(text, "Seq Scan on outbox") {
			t.Errorf("%s reads the whole outbox:\n%s", q.name, text)
		}
		t.Logf("%s:\n%s", q.name, text)
	}
}

// TestNoOrphanRelease: replicas share a PostgreSQL outbox, so a claim
// left in it may be a live replica's, and the store must never offer to
// release claims wholesale.
func TestNoOrphanRelease(t *testing.T) {
	if _, ok := any((*Store)(nil)).(core.OrphanReleaser); ok {
		t.Error("the PostgreSQL store implements core.OrphanReleaser: starting one replica would release the claims of the others")
	}
}
