package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/assistbot/assistbot/core"
)

// BenchListings reads from st what the console's queue page, the API's
// list and a /remote read: each must cost the same with a thousand
// sessions stored as with a million. The stores' BenchmarkListings seed
// them first; mid is a creation time about halfway through, and the
// seeded sessions have agents named agent0, agent1… and customers
// customer-0, customer-1… The "rows" metric is how many rows a read
// returned: compare a read's time per row where the counts differ.
func BenchListings(b *testing.B, st core.Store, mid time.Time) {
	open := []core.State{core.StateIssued, core.StateSent, core.StateWaiting, core.StateActive}
	// A customer back with an open conversation, which their next /remote
	// joins; the seeded ones (customer-4…) have only closed ones.
	now := time.Now().UTC()
	returning := core.Endpoint{Channel: core.ChannelSMS, Address: "customer-returning"}
	err := st.CreateConversation(b.Context(), &core.Conversation{ID: core.NewID(), Customer: returning, Locale: "en",
		State: core.ConversationOpen, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		b.Fatalf("store an open conversation: %v", err)
	}
	for _, c := range []struct {
		name string
		read func(context.Context) (int, error) // how many rows it read
	}{
		// As the engine asks for them: as of now (SessionFilter.AsOf).
		{"queue_open", func(ctx context.Context) (int, error) {
			l, err := st.FindSessions(ctx, core.SessionFilter{States: open, AsOf: time.Now(), Limit: 50})
			return len(l), err
		}},
		{"queue_finished", func(ctx context.Context) (int, error) {
			l, err := st.FindSessions(ctx, core.SessionFilter{States: core.FinishedStates, AsOf: time.Now(), Limit: 10})
			return len(l), err
		}},
		{"api_first_page", func(ctx context.Context) (int, error) {
			l, err := st.FindSessions(ctx, core.SessionFilter{Limit: 50})
			return len(l), err
		}},
		{"api_page_mid_year", func(ctx context.Context) (int, error) {
			l, err := st.FindSessions(ctx, core.SessionFilter{AfterCreatedAt: mid, AfterID: "~", Limit: 50})
			return len(l), err
		}},
		{"api_agent_page", func(ctx context.Context) (int, error) {
			l, err := st.FindSessions(ctx, core.SessionFilter{Agent: "agent7", Limit: 50})
			return len(l), err
		}},
		{"open_conversations", func(ctx context.Context) (int, error) {
			l, err := st.FindConversations(ctx, core.ConversationFilter{State: core.ConversationOpen, Limit: 50})
			return len(l), err
		}},
		{"find_open_conversation", func(ctx context.Context) (int, error) {
			_, err := st.FindOpenConversation(ctx, returning)
			return 1, err
		}},
		{"find_open_conversation_none", func(ctx context.Context) (int, error) {
			_, err := st.FindOpenConversation(ctx, core.Endpoint{Channel: "sms", Address: "customer-4"})
			if core.ErrorCode(err) == core.CodeNotFound {
				return 0, nil
			}
			return 1, err
		}},
	} {
		b.Run(c.name, benchRead(c.read))
	}
}

// BenchStatesPastLive reads what BenchListings' state lists read after
// storing live sessions newer than every other: the console's last
// finished sessions, and an API page of one state, must not cost more
// for the live sessions in front of them.
func BenchStatesPastLive(b *testing.B, st core.Store, live int) {
	storeLive(b, st, live)
	for _, c := range []struct {
		name string
		read func(context.Context) (int, error)
	}{
		{"queue_finished", func(ctx context.Context) (int, error) {
			l, err := st.FindSessions(ctx, core.SessionFilter{States: core.FinishedStates, AsOf: time.Now(), Limit: 10})
			return len(l), err
		}},
		{"api_state_ended", func(ctx context.Context) (int, error) {
			l, err := st.FindSessions(ctx, core.SessionFilter{States: []core.State{core.StateEnded}, AsOf: time.Now(), Limit: 50})
			return len(l), err
		}},
	} {
		b.Run(fmt.Sprintf("%s_past_%d_live", c.name, live), benchRead(c.read))
	}
}

// storeLive stores n sessions issued now, with PINs good for an hour,
// each in a conversation of its own.
func storeLive(b *testing.B, st core.Store, n int) {
	now := time.Now().UTC()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				conv := &core.Conversation{ID: fmt.Sprintf("live-conv-%d", i), Customer: core.Endpoint{Channel: core.ChannelWeb,
					Address: fmt.Sprintf("live-%d", i)}, Locale: "en", State: core.ConversationOpen, CreatedAt: now, UpdatedAt: now}
				s := NewSession(fmt.Sprintf("live-%d", i), conv.ID, fmt.Sprintf("9%09d", i), core.StateIssued, now)
				s.PINExpiresAt = now.Add(time.Hour)
				if err := st.CreateSession(b.Context(), &core.Change{Conversation: conv, Session: s}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatalf("store a live session: %v", err)
	}
}

// benchRead runs read, a listing that returns how many rows it read.
func benchRead(read func(context.Context) (int, error)) func(*testing.B) {
	return func(b *testing.B) {
		var rows int
		for b.Loop() {
			var err error
			if rows, err = read(b.Context()); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(rows), "rows")
	}
}
