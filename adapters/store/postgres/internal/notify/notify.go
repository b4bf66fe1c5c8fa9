// Package notify carries announcements between the replicas of an
// installation over PostgreSQL's LISTEN/NOTIFY: the payload a replica
// sends with NOTIFY (Replica.Payload, SendSQL), and the listener that
// hears the other replicas' on a connection of its own and connects again
// when it fails (Replica.Listen).
//
// It also holds how a connection kept out of the pool is watched (Await)
// and closed (CloseConn), which the store's locks do too.
package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/assistbot/assistbot/core"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Replicas tell each other about the updates they publish with NOTIFY on
// one channel, each payload an envelope: the announcing replica's random
// id, so that a replica skips its own, and its schema, so that
// installations sharing a database (each in a schema of its own) skip
// each other's.
const (
	// SendSQL sends each payload of the array $1, in order, to the
	// replicas listening: they hear them when the statement commits, one
	// notification each.
	SendSQL   = `SELECT pg_notify('assistbot_updates', p) FROM unnest($1::text[]) AS p`
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

// Replica is one replica of an installation, as the others know it.
type Replica struct {
	// ID tells this replica's announcements from the others'.
	ID string
	// Schema is the installation's: installations may share a database,
	// each in a schema of its own.
	Schema string
}

// Payload returns a's envelope as JSON, for SendSQL.
func (r Replica) Payload(a core.Announcement) (string, error) {
	b, err := json.Marshal(envelope{Replica: r.ID, Schema: r.Schema, Announcement: &a})
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
		if b, err = json.Marshal(envelope{Replica: r.ID, Schema: r.Schema, Announcement: &a}); err != nil {
			return "", err
		}
	}
	if len(b) > maxPayload {
		return "", core.Errorf(core.CodeInvalid, "an announcement of %d bytes is over the %d bytes NOTIFY carries", len(b), maxPayload)
	}
	return string(b), nil
}

// Listen calls heard with each announcement another replica of r's
// installation made, until ctx ends. It holds a connection of its own,
// made with cfg, which it pings when it has been silent for a while; when
// the connection fails, it connects again and listens again, after a
// delay that grows while the failures go on. What was announced in
// between is not heard; listening is called each time it listens again,
// and the first time. A payload that is not an envelope is skipped after
// a call to unreadable.
func (r Replica) Listen(ctx context.Context, cfg *pgx.ConnConfig, heard func(core.Announcement), listening func(), unreadable func(error)) {
	delay := firstRetry
	for {
		// Only a connection that held starts the delays over: one that
		// drops as soon as it listens would otherwise have every live
		// view reload ten times a second.
		if r.listenOnce(ctx, cfg, heard, listening, unreadable) >= CheckInterval {
			delay = firstRetry
		}
		wait := time.NewTimer(delay/2 + rand.N(delay/2+1))
		select {
		case <-ctx.Done():
			wait.Stop()
			return
		case <-wait.C:
		}
		delay = min(2*delay, lastRetry)
	}
}

// listenOnce connects, listens and hears announcements until the
// connection fails or ctx ends, and reports for how long it listened.
func (r Replica) listenOnce(ctx context.Context, cfg *pgx.ConnConfig, heard func(core.Announcement), listening func(), unreadable func(error)) time.Duration {
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return 0
	}
	defer CloseConn(c)
	if _, err := c.Exec(ctx, listenSQL); err != nil {
		return 0
	}
	listening()
	since := time.Now()
	for {
		n, err := Await(ctx, c)
		if err != nil {
			return time.Since(since)
		}
		if n != nil {
			r.hear(n.Payload, heard, unreadable)
		}
	}
}

// hear passes on the announcement in payload, unless it is this
// replica's own or another installation's.
func (r Replica) hear(payload string, heard func(core.Announcement), unreadable func(error)) {
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
	case e.Schema != r.Schema, e.Replica == r.ID:
	default:
		heard(*e.Announcement)
	}
}

// CheckInterval is how long a held lock's or a listener's connection may
// stay silent before it is pinged, and how long a ping may take.
const CheckInterval = 5 * time.Second

// CloseConn closes c, bounding the goodbye to a server that may not
// answer.
func CloseConn(c *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	c.Close(ctx)
}

// Await waits up to CheckInterval for a notification on c and returns
// it. When none comes, it pings the server and returns no notification
// and the ping's error. Any other error means the connection is gone:
// pgx closes a connection whose read fails other than by timing out,
// and one whose ping fails or times out.
//
// ctx ending interrupts the wait, which leaves the connection as it
// was, but not a ping: pgx would close a connection whose query it
// interrupts, and with it the lock that the caller may mean to unlock.
func Await(ctx context.Context, c *pgx.Conn) (*pgconn.Notification, error) {
	wait, cancel := context.WithTimeout(ctx, CheckInterval)
	n, err := c.WaitForNotification(wait)
	cancel()
	if err == nil || !pgconn.Timeout(err) || ctx.Err() != nil {
		return n, err
	}
	ping, cancel := context.WithTimeout(context.Background(), CheckInterval)
	defer cancel()
	return nil, c.Ping(ping)
}
