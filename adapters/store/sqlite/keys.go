package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/assistbot/assistbot/adapters/store/sqlite/internal/rawsql"
	"github.com/assistbot/assistbot/core"
)

// The key sizes the store accepts: shorter keys can be guessed, and a
// longer one is no key but a mistake.
const (
	minKeySize = 16
	maxKeySize = 1024
)

const findKeySQL = `SELECT current_key, previous_key FROM secret_keys WHERE name = ?`

// insertKeySQL makes a key unless there is one: the writer then reads
// whichever it is with findKeySQL.
const insertKeySQL = `INSERT INTO secret_keys (name, current_key, created_at, rotated_at)
	VALUES (?, ?, ?, 0) ON CONFLICT (name) DO NOTHING`

// rotateKeySQL keeps the current key as the previous one, or makes the
// first. The right-hand sides read the row as it was.
const rotateKeySQL = `INSERT INTO secret_keys (name, current_key, created_at, rotated_at)
	VALUES (?1, ?2, ?3, ?3)
	ON CONFLICT (name) DO UPDATE SET previous_key = current_key,
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
// making a random key of size bytes on first use. Its errors never hold
// a key: SQLite names the columns of a failed constraint, not values.
func (s *Store) Key(ctx context.Context, name string, size int) (current, previous []byte, err error) {
	if err := checkKey(name, size); err != nil {
		return nil, nil, fmt.Errorf("sqlite: key: %w", err)
	}
	if s.closed.Load() {
		return nil, nil, fmt.Errorf("sqlite: key: %w", errClosed())
	}
	err = s.r.findKey.QueryRowContext(ctx, name).Scan(&current, &previous)
	if err == nil {
		return current, previous, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, nil, fmt.Errorf("sqlite: key %s: %w", name, err)
	}
	// First use. One writer makes keys, so the key the insert finds in
	// place, if any, is one another caller just made: this one returns it.
	ins := rawsql.Named(name, randomKey(size), micros(time.Now()))
	err = s.w.Do(ctx, func(w *wconn) error {
		if _, err := w.insKey.Run(ins); err != nil {
			return err
		}
		ok, err := w.findKey.First(rawsql.Named(name), func(r rawsql.Row) error { return r.Scan(&current, &previous) })
		switch {
		case err != nil:
			return err
		case !ok:
			return errors.New("the key made is not there")
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("sqlite: key %s: %w", name, err)
	}
	return current, previous, nil
}

// RotateKey makes a new random key called name, of size bytes, and keeps
// the current one as the previous.
func (s *Store) RotateKey(ctx context.Context, name string, size int) error {
	if err := checkKey(name, size); err != nil {
		return fmt.Errorf("sqlite: rotate key: %w", err)
	}
	if s.closed.Load() {
		return fmt.Errorf("sqlite: rotate key: %w", errClosed())
	}
	args := rawsql.Named(name, randomKey(size), micros(time.Now()))
	err := s.w.Do(ctx, func(w *wconn) error {
		_, err := w.rotateKey.Run(args)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: rotate key %s: %w", name, err)
	}
	return nil
}
