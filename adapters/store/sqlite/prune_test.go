package sqlite

import (
	"testing"
	"time"

	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/retention/retentiontest"
)

func TestRetentionContract(t *testing.T) {
	retentiontest.RunStoreTests(t, func(t *testing.T) core.Store { return openTemp(t) })
}

// TestPruneSparesTheHighestNumbers: SQLite numbers a new row after the
// highest rowid, so a prune that deleted the newest session or event
// would let their numbers be handed out again.
func TestPruneSparesTheHighestNumbers(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	var ids []string
	for _, pin := range []string{"910001", "910002", "910003"} {
		ch := newChange(pin)
		if err := s.CreateSession(ctx, ch); err != nil {
			t.Fatal(err)
		}
		ch.Session.State = core.StateEnded
		if err := s.UpdateSession(ctx, &core.Change{Session: ch.Session}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ch.Session.ID)
	}
	n, err := s.Prune(ctx, core.SystemClock{}.Now().Add(time.Hour), 100)
	if err != nil {
		t.Fatal(err)
	}
	if n.Sessions != 2 {
		t.Errorf("pruned %d sessions, want the 2 older ones", n.Sessions)
	}
	if _, err := s.FindSession(ctx, ids[2]); err != nil {
		t.Errorf("the newest session: %v, want it kept", err)
	}
}
