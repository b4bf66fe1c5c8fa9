package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/assistbot/assistbot/core"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The key sizes the store accepts: shorter keys can be guessed, and a
// longer one is no key but a mistake.
const (
	minKeySize = 16
	maxKeySize = 1024
)

const findKeySQL = `SELECT current_key, previous_key FROM secret_keys WHERE name = $1`

// insertKeySQL makes a key unless a replica already made one.
const insertKeySQL = `INSERT INTO secret_keys (name, current_key) VALUES ($1, $2)
	ON CONFLICT (name) DO NOTHING`

// rotateKeySQL keeps the current key as the previous one, or makes the
// first. The right-hand sides read the row as it was; a rotation that
// another replica makes at the same moment waits for the row, and keeps
// this one's key as its previous.
const rotateKeySQL = `INSERT INTO secret_keys (name, current_key, rotated_at) VALUES ($1, $2, now())
	ON CONFLICT (name) DO UPDATE SET previous_key = secret_keys.current_key,
		current_key = excluded.current_key, rotated_at = excluded.rotated_at`

// checkKey refuses what no store makes a key of.
func checkKey(name string, size int) error {
	if name == "" {
		return core.Errorf(core.CodeInvalid, "a key needs a name")
	}
	if size < minKeySize || size > maxKeySize {
		return core.Errorf(core.CodeInvalid, "a key must have %d to %d bytes, not %d", minKeySize, maxKeySize, size)
	}
	return nil
}

func randomKey(size int) []byte {
	b := make([]byte, size)
	rand.Read(b)
	return b
}

// Key returns the key called name and the one before its last rotation,
// making a random key of size bytes on first use.
//
// The first use inserts a key unless there is one, then reads the one
// there, each statement in a transaction of its own: replicas asking at
// once all insert, the server lets one row in and makes the others wait
// for its commit, and the read, with a snapshot taken after that commit,
// finds the key that won. Within one transaction, a read in REPEATABLE
// READ would miss it. The others' inserts do nothing; or, when the server
// runs statements in REPEATABLE READ or SERIALIZABLE by default, fail
// with a serialization error, which says the same: the key is there.
func (s *Store) Key(ctx context.Context, name string, size int) (current, previous []byte, err error) {
	if err := checkKey(name, size); err != nil {
		return nil, nil, fmt.Errorf("postgres: key: %w", err)
	}
	err = s.withConn(ctx, func(c *pgxpool.Conn) error {
		err := c.QueryRow(ctx, findKeySQL, name).Scan(&current, &previous)
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if _, err := c.Exec(ctx, insertKeySQL, name, randomKey(size)); err != nil && !retryable(err) {
			return err
		}
		return c.QueryRow(ctx, findKeySQL, name).Scan(&current, &previous)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: key %s: %w", name, secretErr(err))
	}
	return current, previous, nil
}

// RotateKey makes a new random key called name, of size bytes, and keeps
// the current one as the previous.
func (s *Store) RotateKey(ctx context.Context, name string, size int) error {
	if err := checkKey(name, size); err != nil {
		return fmt.Errorf("postgres: rotate key: %w", err)
	}
	key := randomKey(size)
	err := s.withRetry(ctx, func(c *pgxpool.Conn) error {
		_, err := c.Exec(ctx, rotateKeySQL, name, key)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: rotate key %s: %w", name, secretErr(err))
	}
	return nil
}

// secretErr drops the detail of a server's error about a row that holds a
// key: for a violated constraint it says "Failing row contains (…)", with
// the key in it. Error() never shows the detail, but anything that finds
// the *pgconn.PgError in the chain could.
func secretErr(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Detail == "" {
		return err
	}
	clean := *pe
	clean.Detail = ""
	return &clean
}
