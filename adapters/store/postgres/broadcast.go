package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/assistbot/assistbot/adapters/store/postgres/internal/notify"
	"github.com/assistbot/assistbot/core"
	"github.com/jackc/pgx/v5/pgxpool"
)

// replicaOf returns how the other replicas know s (package notify).
func (s *Store) replicaOf() notify.Replica {
	return notify.Replica{ID: s.replica, Schema: s.schema}
}

// Broadcast tells the other replicas about as, with NOTIFY, in one
// statement: they hear them in their order when it commits, at once. An
// announcement NOTIFY cannot carry is left out, and named in the error,
// and the others are sent.
func (s *Store) Broadcast(ctx context.Context, as []core.Announcement) error {
	payloads := make([]string, 0, len(as))
	var errs []error
	for _, a := range as {
		p, err := s.replicaOf().Payload(a)
		if err != nil {
			errs = append(errs, fmt.Errorf("session %q: %w", a.SessionID, err))
			continue
		}
		payloads = append(payloads, p)
	}
	if len(payloads) > 0 {
		errs = append(errs, s.withConn(ctx, func(c *pgxpool.Conn) error {
			_, err := c.Exec(ctx, notify.SendSQL, payloads)
			return err
		}))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("postgres: broadcast: %w", err)
	}
	return nil
}

// Listen calls heard with each announcement another replica of this
// installation made, until ctx ends or the Store closes. It holds a
// connection of its own, outside the pool, which it pings when it has
// been silent for a while; when the connection fails, it connects again
// and listens again, after a delay that grows while the failures go on.
// What was announced in between is not heard; listening is called each
// time it listens again, and the first time. A payload that is not an
// envelope is skipped after a call to unreadable.
//
// It returns nil when ctx ends, and CodeUnavailable when the Store
// closes.
func (s *Store) Listen(ctx context.Context, heard func(core.Announcement), listening func(), unreadable func(error)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-s.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	s.replicaOf().Listen(ctx, s.listen, heard, listening, unreadable)
	if s.closed.Load() {
		return fmt.Errorf("postgres: listen: %w", errClosed())
	}
	return nil
}
