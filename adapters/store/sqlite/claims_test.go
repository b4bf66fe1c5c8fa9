package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
	"github.com/assistbot/assistbot/core/outbox"
)

// TestRestartSendsClaimedAtOnce stops a run while it holds deliveries it
// claimed, before it saved anything, as a crash would, and starts the
// next: its outbox sends them at once, in order, not when their lease
// would have run out. The clock does not move at all, so without the
// release they would never be due.
func TestRestartSendsClaimedAtOnce(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "restart.db")
	clock := coretest.NewClock(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC))

	s, err := Open(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	ch := newChange("777777")
	if err := s.CreateSession(ctx, ch); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	var ds []*core.Delivery
	for i := range 3 {
		ds = append(ds, &core.Delivery{SessionID: ch.Session.ID, ConversationID: ch.Conversation.ID,
			To:     core.Endpoint{Channel: core.ChannelSMS, Address: "+15550100123"},
			Notice: core.Notice{Kind: core.NoticeText, Text: fmt.Sprintf("line %d", i+1)},
			Status: core.DeliveryQueued, NextAttemptAt: clock.Now(), CreatedAt: clock.Now(), UpdatedAt: clock.Now()})
	}
	if err := s.UpdateSession(ctx, &core.Change{Session: ch.Session, Deliveries: ds}); err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		ids = append(ids, d.ID)
	}
	claimed, err := s.ClaimDeliveries(ctx, clock.Now(), 32, 20*time.Second)
	if err != nil || len(claimed) != len(ids) {
		t.Fatalf("claimed %d, %v", len(claimed), err)
	}
	if err := s.Close(); err != nil { // the run is gone; nothing was saved
		t.Fatal(err)
	}

	s, err = Open(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sms := &coretest.Channel{ChannelName: core.ChannelSMS}
	e := core.NewEngine(core.Options{Courier: outbox.New(outbox.Options{}), Store: s, Provider: &coretest.Provider{}, Clock: clock, Channels: []core.Channel{sms}})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		e.Run(runCtx)
		close(done)
	}()
	guard := time.After(30 * time.Second) // a hang, not a measurement
	for len(sms.Delivered()) < len(ids) {
		select {
		case <-sms.Attempted():
		case <-guard:
			t.Fatalf("%d of the %d deliveries claimed before the restart were sent", len(sms.Delivered()), len(ids))
		}
	}
	stop()
	<-done
	var sent []int64
	for _, d := range sms.Delivered() {
		sent = append(sent, d.ID)
	}
	if fmt.Sprint(sent) != fmt.Sprint(ids) {
		t.Errorf("sent %v after the restart, want %v", sent, ids)
	}
	for _, id := range ids {
		d, err := s.FindDelivery(ctx, id)
		// The claim before the restart counted an attempt, which may have
		// been sent: it stays counted.
		if err != nil || d.Status != core.DeliverySent || d.Attempts != 2 || d.ClaimToken != "" {
			t.Errorf("delivery %d after the restart: %+v, %v; want sent after 2 attempts, no claim", id, d, err)
		}
	}
}
