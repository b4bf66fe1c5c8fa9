package sqlite

import (
	"context"
	"database/sql/driver"
	"fmt"
)

// WAL sizes, in pages (4 KiB each). Every commit appends the pages it
// changed to the WAL; a checkpoint copies them back into the database
// file, after which the WAL starts over from its beginning.
const (
	// checkpointPages is how much the writer appends between two
	// checkpoints in the background. Checkpoints copy a page once however
	// often it changed since the last one, so waiting longer saves work,
	// but each one then takes longer.
	checkpointPages = 4000
	// autocheckpointPages bounds the WAL should the background fall
	// behind: past it the writer checkpoints itself after a commit. It
	// also lets the WAL start over, which needs a checkpoint that caught
	// up with the last commit, and only the writer can be sure of that
	// while it commits without pause.
	autocheckpointPages = 2 * checkpointPages
)

// checkpointer runs checkpoints on a connection of its own, so that the
// writer goes on committing while pages are copied into the database file:
// a checkpoint takes many times as long as a commit.
type checkpointer struct {
	conn rawConn
	kick chan struct{}
	done chan struct{}
}

// openCheckpointer opens the checkpointer's connection and starts it.
// Its synchronous setting is the writer's: it decides whether the
// database file is synced before the WAL may be overwritten.
func openCheckpointer(drv driver.Driver, name, synchronous string) (*checkpointer, error) {
	conn, err := openRaw(drv, name)
	if err != nil {
		return nil, err
	}
	_, err = conn.ExecContext(context.Background(), "PRAGMA synchronous = "+synchronous, nil)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("checkpointer: %w", err)
	}
	c := &checkpointer{conn: conn, kick: make(chan struct{}, 1), done: make(chan struct{})}
	go c.run()
	return c, nil
}

// run checkpoints whenever signalled. A checkpoint that fails, or finds
// another one running, is no loss: the next one copies what it did not,
// and the writer's own checkpoints bound the WAL meanwhile.
func (c *checkpointer) run() {
	defer close(c.done)
	for range c.kick {
		c.conn.ExecContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)", nil)
	}
}

// signal asks for a checkpoint without waiting; one already asked for
// covers this one too.
func (c *checkpointer) signal() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// close stops the checkpointer, after the writer: nothing may signal it
// any more.
func (c *checkpointer) close() error {
	close(c.kick)
	<-c.done
	return c.conn.Close()
}
