package sqlite

import (
	"context"
	"fmt"
	"sync"

	"github.com/assistbot/assistbot/core"
)

// locks are a Store's core.Locker. One process uses a database file (see
// core.OrphanReleaser), so a lock within the Store is a lock within the
// installation.
type locks struct {
	mu     sync.Mutex
	held   map[string]chan struct{} // closed when the lock is lost
	closed bool
}

// TryLock takes the lock called name unless it is held. The Store holds
// it until release, or until the Store closes, which closes lost.
func (s *Store) TryLock(ctx context.Context, name string) (lost <-chan struct{}, release func(), ok bool, err error) {
	if name == "" {
		return nil, func() {}, false, fmt.Errorf("sqlite: lock: %w", core.Errorf(core.CodeInvalid, "a lock needs a name"))
	}
	l := &s.locks
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, func() {}, false, fmt.Errorf("sqlite: lock %s: %w", name, errClosed())
	}
	if _, held := l.held[name]; held {
		return nil, func() {}, false, nil
	}
	if l.held == nil {
		l.held = map[string]chan struct{}{}
	}
	c := make(chan struct{})
	l.held[name] = c
	return c, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		// After Close, or a second call, the name may be another
		// holder's.
		if l.held[name] == c {
			delete(l.held, name)
		}
	}, true, nil
}

// lose ends every lock held, as the Store closes, and refuses new ones.
func (l *locks) lose() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	for name, c := range l.held {
		close(c)
		delete(l.held, name)
	}
}
