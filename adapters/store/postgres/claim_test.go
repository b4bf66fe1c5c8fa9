package postgres

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/store/postgres/pgtest"
	"github.com/assistbot/assistbot/core"
)

// TestClaimDeliveriesAcrossReplicas has two stores on one database, as two
// replicas, drain a shared outbox with many workers each: FOR UPDATE SKIP
// LOCKED must hand every delivery to exactly one of them, and none may
// wait for the other's locks long enough to matter.
func TestClaimDeliveriesAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Schema(t)
	replicas := []*Store{openDSN(t, dsn, MaxConns(8)), openDSN(t, dsn, MaxConns(8))}

	ch := newChange("900000")
	if err := replicas[0].CreateSession(ctx, ch); err != nil {
		t.Fatal(err)
	}
	now := core.SystemClock{}.Now()
	const total = 600
	queued := map[int64]bool{}
	for len(queued) < total {
		var ds []*core.Delivery
		for range 50 {
			ds = append(ds, &core.Delivery{SessionID: ch.Session.ID, ConversationID: ch.Conversation.ID,
				To:     core.Endpoint{Channel: core.ChannelSlack, Address: "C0123"},
				Notice: core.Notice{Kind: core.NoticeSession, SessionID: ch.Session.ID},
				Status: core.DeliveryQueued, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now})
		}
		if err := replicas[len(queued)%2].UpdateSession(ctx, &core.Change{Session: ch.Session, Deliveries: ds}); err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			queued[d.ID] = true
		}
	}

	var mu sync.Mutex
	claimedBy := map[int64]int{}
	var dup []int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for r, st := range replicas {
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
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
						if d.Attempts != 1 {
							t.Errorf("delivery %d claimed with %d attempts, want 1", d.ID, d.Attempts)
						}
					}
					mu.Unlock()
				}
			}()
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
	perReplica := make([]int, len(replicas))
	for id, r := range claimedBy {
		if !queued[id] {
			t.Errorf("claimed delivery %d was never queued", id)
		}
		perReplica[r]++
	}
	t.Logf("claims per replica: %v", perReplica)
	for _, st := range replicas {
		if got, err := st.ClaimDeliveries(ctx, now, 10, time.Hour); err != nil || len(got) != 0 {
			t.Errorf("claim after draining = %d deliveries, %v; want none", len(got), err)
		}
	}
	// Every delivery counts exactly the one attempt its claim made.
	ds, err := replicas[1].FindDeliveries(ctx, core.DeliveryFilter{SessionID: ch.Session.ID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.Attempts != 1 || !d.NextAttemptAt.Equal(now.Add(time.Hour)) {
			t.Errorf("delivery %d: %d attempts, next at %v; want 1 and %v", d.ID, d.Attempts, d.NextAttemptAt, now.Add(time.Hour))
			break
		}
	}
}
