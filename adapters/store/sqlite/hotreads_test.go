package sqlite

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/assistbot/assistbot/core"
)

// The lookups on hotReads' own connections run up to the moment the
// store closes: Close waits for those under way, and those after it are
// refused as closed, never a panic or a hang.
func TestFindOpenConversationDuringClose(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	customer := core.Endpoint{Channel: "sms", Address: "+15550100"}
	now := time.Now().UTC()
	if err := s.CreateConversation(ctx, &core.Conversation{ID: "c1", Customer: customer, State: core.ConversationOpen, Locale: "en", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	const readers = 16
	var wg sync.WaitGroup
	found := make([]atomic.Int64, readers)
	last := make([]error, readers)
	for i := range readers {
		wg.Go(func() {
			for {
				c, err := s.FindOpenConversation(ctx, customer)
				if err != nil {
					last[i] = err
					return
				}
				if c.ID != "c1" {
					t.Errorf("reader %d found %q, want c1", i, c.ID)
					return
				}
				found[i].Add(1)
			}
		})
	}
	// Let every reader through at least once, so that Close meets
	// lookups under way.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		n := 0
		for i := range found {
			if found[i].Load() > 0 {
				n++
			}
		}
		if n == readers {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d readers found the conversation", n, readers)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wg.Wait()
	for i, err := range last {
		if core.ErrorCode(err) != core.CodeUnavailable {
			t.Errorf("reader %d ended with %v, want CodeUnavailable", i, err)
		}
	}
}
