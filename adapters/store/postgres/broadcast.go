package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/assistbot/assistbot/core"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Replicas tell each other about the updates they publish with NOTIFY on
// one channel, each payload an envelope: the announcing Store's random
// replica id, so that a replica skips its own, and its schema, so that
// installations sharing a database (each in a schema of its own) skip
// each other's.
const (
	notifySQL = `SELECT pg_notify('assistbot_updates', $1)`
	listenSQL = `LISTEN assistbot_updates`
)

// envelope is a NOTIFY payload.
type envelope struct {
	Replica      string             `json:"r"`
	Schema       string             `json:"s"`
	Announcement *core.Announcement `json:"a"`
}

// maxPayload bounds a payload well under the 8000 bytes PostgreSQL takes
// at most.
const maxPayload = 7000

// Backoff between attempts to listen again after the connection failed:
// from the first delay, doubling up to the last, each drawn at random
// between half and all of it, so that replicas that lost the database
// together do not all come back at the same instant.
const (
	firstRetry = 100 * time.Millisecond
	lastRetry  = 10 * time.Second
)

// Broadcast tells the other replicas about a, with NOTIFY: they hear it
// when the statement commits, at once.
func (s *Store) Broadcast(ctx context.Context, a core.Announcement) error {
	payload, err := s.payload(a)
	if err != nil {
		return fmt.Errorf("postgres: broadcast: %w", err)
	}
	err = s.withConn(ctx, func(c *pgxpool.Conn) error {
		_, err := c.Exec(ctx, notifySQL, payload)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: broadcast: %w", err)
	}
	return nil
}

// payload returns a's envelope as JSON.
func (s *Store) payload(a core.Announcement) (string, error) {
	b, err := json.Marshal(envelope{Replica: s.replica, Schema: s.schema, Announcement: &a})
	if err != nil {
		return "", err
	}
	if len(b) > maxPayload && a.Event != nil && a.Event.Detail != "" {
		// Only an event's detail, text for people, can be this long. The
		// other replicas show the event without it; the event log keeps
		// it.
		ev := *a.Event
		ev.Detail = ""
		a.Event = &ev
		if b, err = json.Marshal(envelope{Replica: s.replica, Schema: s.schema, Announcement: &a}); err != nil {
			return "", err
		}
	}
	if len(b) > maxPayload {
		return "", core.Errorf(core.CodeInvalid, "an announcement of %d bytes is over the %d bytes NOTIFY carries", len(b), maxPayload)
	}
	return string(b), nil
}

// Listen calls heard with each announcement another replica of this
// installation made, until ctx ends or the Store closes. It holds a
// connection of its own, outside the pool, which it pings when it has
// been silent for a while; when the connection fails, it connects again
// and listens again, after a delay that grows while the failures go on.
// What was announced in between is not heard. A payload that is not an
// envelope is skipped after a call to unreadable.
//
// It returns nil when ctx ends, and CodeUnavailable when the Store
// closes.
func (s *Store) Listen(ctx context.Context, heard func(core.Announcement), unreadable func(error)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-s.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	delay := firstRetry
	for {
		if s.listenOnce(ctx, heard, unreadable) {
			delay = firstRetry
		}
		wait := time.NewTimer(delay/2 + rand.N(delay/2+1))
		select {
		case <-ctx.Done():
			wait.Stop()
			if s.closed.Load() {
				return fmt.Errorf("postgres: listen: %w", errClosed())
			}
			return nil
		case <-wait.C:
		}
		delay = min(2*delay, lastRetry)
	}
}

// listenOnce connects, listens and hears announcements until the
// connection fails or ctx ends, and reports whether it got as far as
// listening.
func (s *Store) listenOnce(ctx context.Context, heard func(core.Announcement), unreadable func(error)) bool {
	c, err := pgx.ConnectConfig(ctx, s.listen)
	if err != nil {
		return false
	}
	defer closeConn(c)
	if _, err := c.Exec(ctx, listenSQL); err != nil {
		return false
	}
	for {
		n, err := await(ctx, c)
		if err != nil {
			return true
		}
		if n != nil {
			s.hear(n.Payload, heard, unreadable)
		}
	}
}

// hear passes on the announcement in payload, unless it is this
// replica's own or another installation's.
func (s *Store) hear(payload string, heard func(core.Announcement), unreadable func(error)) {
	var e envelope
	err := json.Unmarshal([]byte(payload), &e)
	if err == nil && (e.Replica == "" || e.Announcement == nil) {
		err = errors.New("it names no replica or announces nothing")
	}
	switch {
	case err != nil:
		// The payload itself stays out of the message: anyone who may
		// connect can NOTIFY anything.
		unreadable(fmt.Errorf("postgres: a notification of %d bytes on assistbot_updates is no announcement: %w", len(payload), err))
	case e.Schema != s.schema, e.Replica == s.replica:
	default:
		heard(*e.Announcement)
	}
}
