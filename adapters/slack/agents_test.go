package slack

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	slackapi "github.com/slack-go/slack"
)

// heldMembers is a desk channel whose first read fails and whose second
// is held until hold closes; the agent group never holds U0NEW.
type heldMembers struct {
	mu      sync.Mutex
	calls   int
	started chan struct{}
	hold    chan struct{}
}

func (m *heldMembers) GetUsersInConversationContext(ctx context.Context, p *slackapi.GetUsersInConversationParameters) ([]string, string, error) {
	m.mu.Lock()
	m.calls++
	n := m.calls
	m.mu.Unlock()
	switch n {
	case 1:
		return nil, "", errors.New("slack is down")
	case 2:
		close(m.started)
		<-m.hold
	}
	return []string{testAgent}, "", nil
}

func (m *heldMembers) GetUserGroupMembersContext(ctx context.Context, group string, _ ...slackapi.GetUserGroupMembersOption) ([]string, error) {
	return []string{"U0GROUPIE"}, nil
}

func (m *heldMembers) reads() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls
}

// TestLeaveDuringALoad: with an agent group, someone who joins and then
// leaves the desk channel while the list is being read is no agent once
// the list is read again. Leaving asks for a fresh read (they may still
// be in the group); asked for during a read, it comes after that read,
// rather than joining the read already under way, whose list predates it.
func TestLeaveDuringALoad(t *testing.T) {
	m := &heldMembers{started: make(chan struct{}), hold: make(chan struct{})}
	g := newAgents(m, nil, testDesk, "S0AGENTS", slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go g.run(ctx) // the first read fails: the loop waits agentsRetry
	eventually(t, "the first read", func() bool { return m.reads() == 1 })
	go g.allowed(context.Background(), testTeam, testAgent) // a command's read, held
	<-m.started
	g.joined(testDesk, "U0NEW")
	g.left(testDesk, "U0NEW")
	// Whatever becomes of the leave's request for a fresh read, it is
	// made while the read is under way.
	eventually(t, "the loop asked", func() bool { return len(g.kick) == 0 })
	time.Sleep(20 * time.Millisecond) // and waits on the read
	close(m.hold)
	eventually(t, "a read after the leave", func() bool { return m.reads() >= 3 })
	eventually(t, "U0NEW no agent", func() bool {
		ok, err := g.allowed(context.Background(), testTeam, "U0NEW")
		return err == nil && !ok
	})
}
