package sqlite

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/assistbot/assistbot/core"
)

// issueChange returns what Engine.Issue writes for a new customer: a
// conversation, a session in state issued and its issue event. n makes
// the PIN and the customer unique; they grow with n, where real ones are
// random, which keeps their two unique indexes cheaper to add to than in
// production (the ids are random, as core.NewID makes them).
func issueChange(n int64, now time.Time) *core.Change {
	c := &core.Conversation{
		ID:           core.NewID(),
		Customer:     core.Endpoint{Channel: core.ChannelSMS, Address: fmt.Sprintf("+1555%07d", n)},
		CustomerName: "Ada Lovelace",
		Desk:         core.Endpoint{Channel: core.ChannelSlack, Address: "C0123:1710428966.000100"},
		Locale:       "en",
		State:        core.ConversationOpen,
		CreatedAt:    now,
		UpdatedAt:    now,
	}
	s := &core.Session{
		ID:             core.NewID(),
		ConversationID: c.ID,
		Provider:       "rescue",
		ProviderRef:    fmt.Sprint(n),
		PIN:            fmt.Sprintf("%010d", n),
		PINExpiresAt:   now.Add(20 * time.Minute),
		DesktopURL:     "https://secure.example.test/d/abcdefghijklmnopqrstuvwxyz",
		MobileURL:      "https://secure.example.test/m/abcdefghijklmnopqrstuvwxyz",
		State:          core.StateIssued,
		Device:         core.DeviceUnknown,
		Agent:          "ada",
		Locale:         "en",
		CreatedAt:      now,
		UpdatedAt:      now,
	}
	return &core.Change{Conversation: c, Session: s, Events: []core.Event{{
		SessionID: s.ID, At: now, Actor: "agent:ada", Action: core.ActionIssue, To: core.StateIssued,
		Detail: "customer sms:…0123",
	}}}
}

var syncModes = []string{"FULL", "NORMAL"}

// BenchmarkCreateSession creates sessions one after the other: each pays
// for a commit of its own, fsync included with FULL.
func BenchmarkCreateSession(b *testing.B) {
	for _, mode := range syncModes {
		b.Run(mode, func(b *testing.B) {
			s := openTemp(b, Synchronous(mode))
			ctx := context.Background()
			b.ReportAllocs()
			var n int64
			for b.Loop() {
				n++
				if err := s.CreateSession(ctx, issueChange(n, core.SystemClock{}.Now())); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
		})
	}
}

// BenchmarkCreateSessionParallel creates sessions from 64 goroutines per
// processor, which group commit serves together. Besides throughput it
// reports the latency of CreateSession (p50, p99) and how many sessions a
// transaction committed on average.
func BenchmarkCreateSessionParallel(b *testing.B) {
	for _, mode := range syncModes {
		b.Run(mode, func(b *testing.B) {
			s := openTemp(b, Synchronous(mode))
			ctx := context.Background()
			var n atomic.Int64
			var mu sync.Mutex
			var lat []time.Duration
			b.SetParallelism(64) // 64 callers per GOMAXPROCS
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				var mine []time.Duration
				for pb.Next() {
					ch := issueChange(n.Add(1), core.SystemClock{}.Now())
					start := time.Now()
					if err := s.CreateSession(ctx, ch); err != nil {
						b.Error(err)
						return
					}
					mine = append(mine, time.Since(start))
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
			if len(lat) > 0 {
				slices.Sort(lat)
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			}
			if c := s.w.Commits(); c > 0 {
				b.ReportMetric(float64(b.N)/float64(c), "ops/commit")
			}
		})
	}
}

// BenchmarkFindSessionByPIN reads through the read pool, the path the
// customer portal takes on every code typed in.
func BenchmarkFindSessionByPIN(b *testing.B) {
	s := openTemp(b, Synchronous("NORMAL")) // only to fill it faster
	ctx := context.Background()
	const n = 1000
	pins := make([]string, n)
	for i := range n {
		ch := issueChange(int64(i), core.SystemClock{}.Now())
		if err := s.CreateSession(ctx, ch); err != nil {
			b.Fatal(err)
		}
		pins[i] = ch.Session.PIN
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if _, err := s.FindSessionByPIN(ctx, pins[i%n]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}
