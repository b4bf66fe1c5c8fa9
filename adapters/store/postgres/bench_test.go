package postgres

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/store/postgres/pgtest"
	"github.com/assistbot/assistbot/core"
)

// issueChange returns what Engine.Issue writes for a new customer: a
// conversation, a session in state issued and its issue event, as the
// SQLite benchmark does. n makes the PIN and the customer unique.
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

// commitModes are the values of synchronous_commit the benchmarks run
// with: "on" waits for the WAL to reach the disk, as production should;
// "off" does not, which shows what the disk costs (like the SQLite
// benchmarks' NORMAL).
var commitModes = []string{"on", "off"}

// benchStore opens a store in a new schema with synchronous_commit set.
func benchStore(b *testing.B, mode string, opts ...Option) *Store {
	return openDSN(b, pgtest.WithParam(pgtest.Schema(b), "synchronous_commit", mode), opts...)
}

// BenchmarkCreateSession creates sessions one after the other: each pays
// for a round trip per statement batch and a commit of its own.
func BenchmarkCreateSession(b *testing.B) {
	for _, mode := range commitModes {
		b.Run("sync="+mode, func(b *testing.B) {
			s := benchStore(b, mode)
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

// callers is how many goroutines BenchmarkCreateSessionParallel runs,
// whatever -cpu says (the SQLite benchmark runs 64 per processor), so
// that -cpu 1 and -cpu 2 differ only in the processors they get.
const callers = 64

// BenchmarkCreateSessionParallel creates sessions from 64 goroutines
// sharing the store's pool, with the default pool size and a larger one.
// Besides throughput it reports the latency of CreateSession (p50, p99),
// which includes waiting for a connection.
func BenchmarkCreateSessionParallel(b *testing.B) {
	for _, mode := range commitModes {
		for _, conns := range []int{0, 16} {
			name := fmt.Sprintf("sync=%s/conns=%d", mode, conns)
			var opts []Option
			if conns == 0 {
				name = fmt.Sprintf("sync=%s/conns=default(%d)", mode, max(4, runtime.NumCPU()))
			} else {
				opts = append(opts, MaxConns(conns))
			}
			b.Run(name, func(b *testing.B) {
				s := benchStore(b, mode, opts...)
				ctx := context.Background()
				var n atomic.Int64
				var mu sync.Mutex
				var lat []time.Duration
				procs := runtime.GOMAXPROCS(0)
				b.SetParallelism((callers + procs - 1) / procs)
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
			})
		}
	}
}

// BenchmarkFindSessionByPIN reads one session by its live PIN, the path
// the customer portal takes on every code typed in.
func BenchmarkFindSessionByPIN(b *testing.B) {
	s := benchStore(b, "off") // only to fill it faster
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
