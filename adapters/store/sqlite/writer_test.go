package sqlite

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assistbot/assistbot/core"
)

// hold occupies the writer until the returned function is called, so that
// the requests made meanwhile queue up and go into one batch.
func hold(t *testing.T, s *Store) (release func()) {
	t.Helper()
	in, out := make(chan struct{}), make(chan struct{})
	go s.w.Do(context.Background(), func(*wconn) error {
		close(in)
		<-out
		return nil
	})
	<-in
	var once sync.Once
	release = func() { once.Do(func() { close(out) }) }
	t.Cleanup(release)
	return release
}

// waitQueued waits until n requests are queued for the writer.
func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.w.Queued() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests queued, want %d", s.w.Queued(), n)
		}
		runtime.Gosched()
	}
}

// newChange returns a session with pin, its conversation and an event.
func newChange(pin string) *core.Change {
	ch := issueChange(0, core.SystemClock{}.Now())
	ch.Session.PIN = pin
	ch.Conversation.Customer = core.Endpoint{}
	return ch
}

func TestGroupCommitIsolatesFailures(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	if err := s.CreateSession(ctx, newChange("999999")); err != nil {
		t.Fatal(err)
	}
	release := hold(t, s)
	before := s.w.Commits()

	const n = 40
	errs := make([]error, n)
	changes := make([]*core.Change, n)
	var wg sync.WaitGroup
	for i := range n {
		changes[i] = newChange(fmt.Sprintf("1%05d", i))
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch i {
			case 7: // a live PIN
				changes[i].Session.PIN = "999999"
				errs[i] = s.CreateSession(ctx, changes[i])
			case 19: // writes, then fails: its write must not stay
				errs[i] = s.w.Do(ctx, func(w *wconn) error {
					c := &core.Conversation{ID: "doomed", State: core.ConversationOpen}
					if _, err := w.insertConversation(c.ID, conversationArgs(c)); err != nil {
						return err
					}
					return errors.New("boom")
				})
			case 23:
				errs[i] = s.w.Do(ctx, func(*wconn) error { panic("bad input") })
			default:
				errs[i] = s.CreateSession(ctx, changes[i])
			}
		}()
	}
	waitQueued(t, s, n)
	release()
	wg.Wait()

	if got := s.w.Commits() - before; got != 2 {
		t.Errorf("%d transactions committed, want 2: the held one and one for the %d queued", got, n)
	}
	for i, err := range errs {
		switch i {
		case 7:
			if !errors.Is(err, core.ErrPINInUse) {
				t.Errorf("request %d: %v, want ErrPINInUse", i, err)
			}
		case 19:
			if err == nil || err.Error() != "boom" {
				t.Errorf("request %d: %v, want boom", i, err)
			}
		case 23:
			if err == nil || !strings.Contains(err.Error(), "panicked") {
				t.Errorf("request %d: %v, want the panic as an error", i, err)
			}
		default:
			if err != nil {
				t.Errorf("request %d: %v", i, err)
				continue
			}
			if _, err := s.FindSession(ctx, changes[i].Session.ID); err != nil {
				t.Errorf("session of request %d: %v", i, err)
			}
			if evs, err := s.FindEvents(ctx, changes[i].Session.ID); err != nil || len(evs) != 1 {
				t.Errorf("events of request %d: %v, %v", i, evs, err)
			}
		}
	}
	if _, err := s.FindConversation(ctx, "doomed"); core.ErrorCode(err) != core.CodeNotFound {
		t.Errorf("the failed request's conversation: %v, want not found", err)
	}
	if _, err := s.FindConversation(ctx, changes[7].Conversation.ID); core.ErrorCode(err) != core.CodeNotFound {
		t.Errorf("the refused session's conversation: %v, want not found", err)
	}
}

func TestGroupCommitFailedCommit(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	release := hold(t, s)
	const n = 10
	errs := make([]error, n+1)
	changes := make([]*core.Change, n)
	var wg sync.WaitGroup
	for i := range n {
		changes[i] = newChange(fmt.Sprintf("2%05d", i))
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.CreateSession(ctx, changes[i])
		}()
	}
	// A foreign key checked only at COMMIT fails the whole transaction.
	wg.Add(1)
	go func() {
		defer wg.Done()
		errs[n] = s.w.Do(ctx, func(w *wconn) error {
			if err := w.conn.Exec(ctx, "PRAGMA defer_foreign_keys = ON"); err != nil {
				return err
			}
			return w.conn.Exec(ctx, "INSERT INTO events (session_seq, at, actor, action, from_state, to_state, detail) VALUES (424242, 0, '', '', '', '', '')")
		})
	}()
	waitQueued(t, s, n+1)
	release()
	wg.Wait()
	for i, err := range errs {
		if err == nil || !strings.Contains(err.Error(), "commit") {
			t.Errorf("request %d: %v, want the failed commit", i, err)
		}
	}
	for i, ch := range changes {
		if _, err := s.FindSession(ctx, ch.Session.ID); core.ErrorCode(err) != core.CodeNotFound {
			t.Errorf("session %d after a failed commit: %v, want not found", i, err)
		}
	}
	if err := s.CreateSession(ctx, newChange("300000")); err != nil {
		t.Errorf("CreateSession after a failed commit: %v", err)
	}
}

func TestCancelBeforeTaken(t *testing.T) {
	s := openTemp(t)
	release := hold(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	ch := newChange("400000")
	done := make(chan error)
	go func() { done <- s.CreateSession(ctx, ch) }()
	waitQueued(t, s, 1)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("CreateSession cancelled in the queue = %v, want context.Canceled", err)
	}
	release()
	if err := s.CreateSession(context.Background(), newChange("400001")); err != nil {
		t.Fatal(err) // passes the abandoned request in the queue
	}
	if _, err := s.FindSession(context.Background(), ch.Session.ID); core.ErrorCode(err) != core.CodeNotFound {
		t.Errorf("cancelled session: %v, want not found", err)
	}
}

func TestCancelAfterTaken(t *testing.T) {
	s := openTemp(t)
	ctx, cancel := context.WithCancel(context.Background())
	in, out := make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() {
		done <- s.w.Do(ctx, func(w *wconn) error {
			close(in)
			<-out
			c := &core.Conversation{ID: "kept", State: core.ConversationOpen}
			_, err := w.insertConversation(c.ID, conversationArgs(c))
			return err
		})
	}()
	<-in
	cancel()
	close(out)
	// The write was under way: its caller learns that it committed.
	if err := <-done; err != nil {
		t.Errorf("write cancelled after it was taken = %v, want nil", err)
	}
	if _, err := s.FindConversation(context.Background(), "kept"); err != nil {
		t.Errorf("FindConversation: %v", err)
	}
}

func TestCloseFinishesQueuedWrites(t *testing.T) {
	ctx := context.Background()
	p := t.TempDir() + "/close.db"
	s, err := Open(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	release := hold(t, s)
	const n = 5
	changes := make([]*core.Change, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		changes[i] = newChange(fmt.Sprintf("5%05d", i))
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.CreateSession(ctx, changes[i])
		}()
	}
	waitQueued(t, s, n)
	closed := make(chan error)
	go func() { closed <- s.Close() }()
	release()
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	wg.Wait()
	s, err = Open(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i, ch := range changes {
		if errs[i] != nil {
			t.Errorf("CreateSession %d queued before Close: %v", i, errs[i])
		} else if _, err := s.FindSession(ctx, ch.Session.ID); err != nil {
			t.Errorf("session %d after reopening: %v", i, err)
		}
	}
}

// TestRefusalDoesNotReplayBatch queues a PIN collision beside another
// request: the collision is refused before it writes, so the batch is not
// rolled back and run again (which would run the other request twice and
// double the cost of every batch under load, when collisions are common).
func TestRefusalDoesNotReplayBatch(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	if err := s.CreateSession(ctx, newChange("999999")); err != nil {
		t.Fatal(err)
	}
	release := hold(t, s)
	var runs int
	var wg sync.WaitGroup
	var countErr, refusedErr error
	wg.Add(2)
	go func() {
		defer wg.Done()
		countErr = s.w.Do(ctx, func(*wconn) error { runs++; return nil })
	}()
	waitQueued(t, s, 1)
	go func() {
		defer wg.Done()
		refusedErr = s.CreateSession(ctx, newChange("999999"))
	}()
	waitQueued(t, s, 2)
	release()
	wg.Wait()
	if countErr != nil || runs != 1 {
		t.Errorf("the other request ran %d times (err %v), want once", runs, countErr)
	}
	if !errors.Is(refusedErr, core.ErrPINInUse) {
		t.Errorf("collision: %v, want ErrPINInUse", refusedErr)
	}
}
