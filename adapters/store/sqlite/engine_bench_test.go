package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/assistbot/assistbot/adapters/store/sqlite"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
	"github.com/assistbot/assistbot/core/outbox"
)

// BenchmarkIssueJoin runs the engine's two busiest writes on SQLite, as
// a customer's session lives them: an agent's Issue (find the customer's
// conversation, draw a crypto/rand PIN, store the session and its event)
// and the customer's Join (find the live PIN, consume it, store the
// change and its event). One op is both.
func BenchmarkIssueJoin(b *testing.B) {
	for _, parallel := range []bool{false, true} {
		name := "serial"
		if parallel {
			name = "parallel64"
		}
		b.Run(name, func(b *testing.B) {
			st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			e := core.NewEngine(core.Options{Courier: outbox.New(outbox.Options{}), Store: st, Provider: &coretest.Provider{Pins: core.RandomPINs{}}})
			ctx := context.Background()
			var n atomic.Int64
			op := func() error {
				customer := core.Endpoint{Channel: core.ChannelWeb, Address: fmt.Sprint("chat-", n.Add(1))}
				s, _, err := e.Issue(ctx, core.Request{Customer: customer, Agent: "alice"})
				if err != nil {
					return err
				}
				_, _, err = e.Join(ctx, s.PIN, core.DeviceDesktop)
				return err
			}
			b.ReportAllocs()
			b.ResetTimer()
			if !parallel {
				for b.Loop() {
					if err := op(); err != nil {
						b.Fatal(err)
					}
				}
			} else {
				b.SetParallelism(64)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := op(); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
		})
	}
}
