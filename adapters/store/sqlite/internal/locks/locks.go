// Package locks holds the SQLite store's locks: named locks within the
// process. One process uses a database file (see core.OrphanReleaser),
// so a lock within the process is a lock within the installation.
package locks

import "sync"

// Table is a set of named locks, each held until released or until the
// Table closes. The zero Table is ready to use.
type Table struct {
	mu     sync.Mutex
	held   map[string]chan struct{} // closed when the lock is lost
	closed bool
}

// TryLock takes the lock called name unless it is held, and returns a
// channel that closes when the lock is lost (the Table closes) and the
// function that releases it, which may be called more than once. It
// reports closed, and takes nothing, once the Table is closed.
func (t *Table) TryLock(name string) (lost <-chan struct{}, release func(), ok, closed bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, func() {}, false, true
	}
	if _, held := t.held[name]; held {
		return nil, func() {}, false, false
	}
	if t.held == nil {
		t.held = map[string]chan struct{}{}
	}
	c := make(chan struct{})
	t.held[name] = c
	return c, func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		// After Close, or a second call, the name may be another
		// holder's.
		if t.held[name] == c {
			delete(t.held, name)
		}
	}, true, false
}

// Close ends every lock held, closing their lost channels, and refuses
// new ones.
func (t *Table) Close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
	for name, c := range t.held {
		close(c)
		delete(t.held, name)
	}
}
