package sqlite

import (
	"context"
	"fmt"

	"github.com/assistbot/assistbot/core"
)

// TryLock takes the lock called name unless it is held. The Store holds
// it until release, or until the Store closes, which closes lost. One
// process uses a database file, so a lock within the Store is a lock
// within the installation (package locks).
func (s *Store) TryLock(ctx context.Context, name string) (lost <-chan struct{}, release func(), ok bool, err error) {
	if name == "" {
		return nil, func() {}, false, fmt.Errorf("sqlite: lock: %w", core.Errorf(core.CodeInvalid, "a lock needs a name"))
	}
	lost, release, ok, closed := s.locks.TryLock(name)
	if closed {
		return nil, func() {}, false, fmt.Errorf("sqlite: lock %s: %w", name, errClosed())
	}
	return lost, release, ok, nil
}
