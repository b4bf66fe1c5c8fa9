package portal

import (
	"context"
	"strconv"
	"testing"

	"github.com/assistbot/assistbot/adapters/web"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
	"github.com/assistbot/assistbot/core/linkproof"
)

// The cost of the guessing limits per request: a guess taken from the
// limiter (a client it remembers, and a new one each time), and the check
// of a link's proof.
//
//	go test -run '^$' -bench . -benchmem ./adapters/portal/

func BenchmarkLimiterTake(b *testing.B) {
	l := web.NewLimiter(web.LimiterOptions{PerClient: 1 << 30, Global: 1 << 30, Clock: coretest.NewClock(t0)})
	b.ReportAllocs()
	for b.Loop() {
		l.Take("192.0.2.1")
	}
}

func BenchmarkLimiterTakeNewClient(b *testing.B) {
	l := web.NewLimiter(web.LimiterOptions{PerClient: 10, Global: 1 << 30, Clock: coretest.NewClock(t0)})
	keys := make([]string, 1<<16)
	for i := range keys {
		keys[i] = "198.51." + strconv.Itoa(i>>8) + "." + strconv.Itoa(i&255)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		l.Take(keys[i&(len(keys)-1)])
		i++
	}
}

func BenchmarkLinkProofCheck(b *testing.B) {
	p := &Portal{links: web.NewKeyring(fixedKeys{testLinkKey, nil}, LinkKeyName, LinkKeySize, nil)}
	s := &core.Session{ID: core.NewID(), PIN: "012345"}
	proof := linkproof.Make(testLinkKey, s.ID, s.PIN)
	b.ReportAllocs()
	for b.Loop() {
		if !p.proven(context.Background(), s, proof) {
			b.Fatal("refused")
		}
	}
}
