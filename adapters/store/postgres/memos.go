package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/assistbot/assistbot/core"
	"github.com/jackc/pgx/v5/pgxpool"
)

// putMemoSQL stores a memo, replacing the value and the expiry of one
// under the same key.
const putMemoSQL = `INSERT INTO memos (name, value, expires_at) VALUES ($1, $2, $3)
	ON CONFLICT (name) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`

// findMemoSQL finds a memo unless it expired at $2.
const findMemoSQL = `SELECT value FROM memos WHERE name = $1 AND expires_at > $2`

// expireMemosSQL deletes up to $2 of the memos that expired before $1,
// oldest first, passing over those another replica is deleting; as
// expireSignInsSQL does, and for the same reasons.
const expireMemosSQL = `DELETE FROM memos WHERE name = ANY (ARRAY(
	SELECT name FROM memos WHERE expires_at < $1
	ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED))`

// PutMemo stores value under key until expires, replacing what was
// there. A memo needs a key and an expiry (else CodeInvalid).
func (s *Store) PutMemo(ctx context.Context, key, value string, expires time.Time) error {
	switch {
	case key == "":
		return fmt.Errorf("postgres: put memo: %w", core.Errorf(core.CodeInvalid, "a memo needs a key"))
	case expires.IsZero():
		return fmt.Errorf("postgres: put memo: %w", core.Errorf(core.CodeInvalid, "a memo needs an expiry"))
	}
	err := s.withRetry(ctx, func(c *pgxpool.Conn) error {
		_, err := c.Exec(ctx, putMemoSQL, key, value, expires)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: put memo: %w", constraintErr(err, keys{}))
	}
	return nil
}

// FindMemo returns the value under key, unless there is none or it
// expired at now.
func (s *Store) FindMemo(ctx context.Context, key string, now time.Time) (string, error) {
	var v string
	err := s.withConn(ctx, func(c *pgxpool.Conn) error {
		return c.QueryRow(ctx, findMemoSQL, key, now).Scan(&v)
	})
	if err != nil {
		return "", fmt.Errorf("postgres: find memo: %w", noRows(err, "memo"))
	}
	return v, nil
}

// ExpireMemos deletes the memos that expired before now, in small
// batches, and returns how many.
func (s *Store) ExpireMemos(ctx context.Context, now time.Time) (int, error) {
	n, err := s.expire(ctx, expireMemosSQL, now)
	if err != nil {
		return n, fmt.Errorf("postgres: expire memos: %w", err)
	}
	return n, nil
}
