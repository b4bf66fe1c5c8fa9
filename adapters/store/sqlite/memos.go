package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/assistbot/assistbot/adapters/store/sqlite/internal/rawsql"
	"github.com/assistbot/assistbot/core"
)

// putMemoSQL stores a memo, replacing the value and the expiry of one
// under the same key.
const putMemoSQL = `INSERT INTO memos (name, value, expires_at) VALUES (?, ?, ?)
	ON CONFLICT (name) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`

// findMemoSQL finds a memo unless it expired at ?2.
const findMemoSQL = `SELECT value FROM memos WHERE name = ?1 AND expires_at > ?2`

// expireMemosSQL deletes up to ?2 of the memos that expired before ?1,
// oldest first.
const expireMemosSQL = `DELETE FROM memos WHERE name IN (
	SELECT name FROM memos WHERE expires_at < ?1 ORDER BY expires_at LIMIT ?2)`

// PutMemo stores value under key until expires, replacing what was
// there. A memo needs a key and an expiry (else CodeInvalid).
func (s *Store) PutMemo(ctx context.Context, key, value string, expires time.Time) error {
	switch {
	case key == "":
		return fmt.Errorf("sqlite: put memo: %w", core.Errorf(core.CodeInvalid, "a memo needs a key"))
	case expires.IsZero():
		return fmt.Errorf("sqlite: put memo: %w", core.Errorf(core.CodeInvalid, "a memo needs an expiry"))
	case s.closed.Load():
		return fmt.Errorf("sqlite: put memo: %w", errClosed())
	}
	args := rawsql.Named(key, value, micros(expires))
	err := s.w.Do(ctx, func(w *wconn) error {
		_, err := w.putMemo.Run(args)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: put memo: %w", err)
	}
	return nil
}

// FindMemo returns the value under key, unless there is none or it
// expired at now.
func (s *Store) FindMemo(ctx context.Context, key string, now time.Time) (string, error) {
	if s.closed.Load() {
		return "", fmt.Errorf("sqlite: find memo: %w", errClosed())
	}
	var v string
	if err := s.r.findMemo.QueryRowContext(ctx, key, micros(now)).Scan(&v); err != nil {
		return "", fmt.Errorf("sqlite: find memo: %w", noRows(err, "memo"))
	}
	return v, nil
}

// ExpireMemos deletes the memos that expired before now, in small
// batches, and returns how many.
func (s *Store) ExpireMemos(ctx context.Context, now time.Time) (int, error) {
	if s.closed.Load() {
		return 0, fmt.Errorf("sqlite: expire memos: %w", errClosed())
	}
	n, err := s.expire(ctx, func(w *wconn) *rawsql.Stmt { return w.expireMemos }, now)
	if err != nil {
		return n, fmt.Errorf("sqlite: expire memos: %w", err)
	}
	return n, nil
}
