package rawsql

import (
	"context"
	"fmt"
)

// WAL sizes, in pages (4 KiB each). Every commit appends the pages it
// changed to the WAL; a checkpoint copies them back into the database
// file, after which the WAL starts over from its beginning.
const (
	// CheckpointPages is how much the writer appends between two
	// checkpoints in the background. Checkpoints copy a page once however
	// often it changed since the last one, so waiting longer saves work,
	// but each one then takes longer.
	CheckpointPages = 4000
	// AutocheckpointPages bounds the WAL should the background fall
	// behind: past it the writer checkpoints itself after a commit
	// (PRAGMA wal_autocheckpoint). It also lets the WAL start over, which
	// needs a checkpoint that caught up with the last commit, and only the
	// writer can be sure of that while it commits without pause.
	AutocheckpointPages = 2 * CheckpointPages
)

// Checkpointer runs checkpoints on a connection of its own, so that the
// writer goes on committing while pages are copied into the database file:
// a checkpoint takes many times as long as a commit.
type Checkpointer struct {
	conn  *Conn
	kick  chan struct{}
	done  chan struct{}
	pages int // written to the WAL since the last checkpoint signal
}

// OpenCheckpointer opens the checkpointer's connection and starts it.
// Its synchronous setting is the writer's: it decides whether the
// database file is synced before the WAL may be overwritten.
func OpenCheckpointer(name, synchronous string) (*Checkpointer, error) {
	conn, err := Open(name)
	if err != nil {
		return nil, err
	}
	err = conn.Exec(context.Background(), "PRAGMA synchronous = "+synchronous)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("checkpointer: %w", err)
	}
	c := &Checkpointer{conn: conn, kick: make(chan struct{}, 1), done: make(chan struct{})}
	go c.run()
	return c, nil
}

// run checkpoints whenever signalled. A checkpoint that fails, or finds
// another one running, is no loss: the next one copies what it did not,
// and the writer's own checkpoints bound the WAL meanwhile.
func (c *Checkpointer) run() {
	defer close(c.done)
	for range c.kick {
		c.conn.Exec(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)")
	}
}

// Committed counts the pages that w, the writer's connection, wrote in
// the transaction it just committed, and asks for a checkpoint once
// CheckpointPages have been written since the last one was asked for.
// Only the writer's goroutine calls it.
func (c *Checkpointer) Committed(w *Conn) {
	// The count of pages written resets on every read: a running total
	// would overflow its C int.
	if c.pages += w.PagesWritten(); c.pages >= CheckpointPages {
		c.pages = 0
		c.signal()
	}
}

// signal asks for a checkpoint without waiting; one already asked for
// covers this one too.
func (c *Checkpointer) signal() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// Close stops the checkpointer, after the writer: nothing may call
// Committed any more.
func (c *Checkpointer) Close() error {
	close(c.kick)
	<-c.done
	return c.conn.Close()
}
