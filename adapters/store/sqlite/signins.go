package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/assistbot/assistbot/adapters/store/sqlite/internal/groupcommit"
	"github.com/assistbot/assistbot/adapters/store/sqlite/internal/rawsql"
	"github.com/assistbot/assistbot/core"
)

// insertSignInSQL inserts nothing when the token's hash is taken, which
// CreateSignIn refuses.
const insertSignInSQL = `INSERT INTO sign_ins (token_hash, agent, created_at, expires_at)
	VALUES (?, ?, ?, ?) ON CONFLICT (token_hash) DO NOTHING`

// findSignInSQL finds a sign-in unless it expired at ?2.
const findSignInSQL = `SELECT token_hash, agent, created_at, expires_at FROM sign_ins
	WHERE token_hash = ?1 AND expires_at > ?2`

const endSignInSQL = `DELETE FROM sign_ins WHERE token_hash = ?`

// expireSignInsSQL deletes up to ?2 of the sign-ins that expired before
// ?1, oldest first.
const expireSignInsSQL = `DELETE FROM sign_ins WHERE token_hash IN (
	SELECT token_hash FROM sign_ins WHERE expires_at < ?1 ORDER BY expires_at LIMIT ?2)`

// CreateSignIn records a sign-in. It refuses one without a token hash or
// an expiry (CodeInvalid), and one whose token hash is taken
// (CodeConflict).
func (s *Store) CreateSignIn(ctx context.Context, in *core.SignIn) error {
	switch {
	case in == nil || in.TokenHash == "":
		return fmt.Errorf("sqlite: create sign-in: %w", core.Errorf(core.CodeInvalid, "a sign-in needs its token's hash"))
	case in.ExpiresAt.IsZero():
		return fmt.Errorf("sqlite: create sign-in: %w", core.Errorf(core.CodeInvalid, "a sign-in needs an expiry"))
	case s.closed.Load():
		return fmt.Errorf("sqlite: create sign-in: %w", errClosed())
	}
	args := rawsql.Named(in.TokenHash, in.Agent, micros(in.CreatedAt), micros(in.ExpiresAt))
	err := s.w.Do(ctx, func(w *wconn) error {
		res, err := w.insSignIn.Run(args)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		return groupcommit.Refuse(core.Errorf(core.CodeConflict, "the sign-in exists"))
	})
	if err != nil {
		return fmt.Errorf("sqlite: create sign-in: %w", err)
	}
	return nil
}

// FindSignIn returns the sign-in whose token hashes to tokenHash, unless
// it ended or expired at now.
func (s *Store) FindSignIn(ctx context.Context, tokenHash string, now time.Time) (*core.SignIn, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("sqlite: find sign-in: %w", errClosed())
	}
	var in core.SignIn
	var created, expires int64
	err := s.r.findSignIn.QueryRowContext(ctx, tokenHash, micros(now)).Scan(&in.TokenHash, &in.Agent, &created, &expires)
	if err != nil {
		return nil, fmt.Errorf("sqlite: find sign-in: %w", noRows(err, "sign-in"))
	}
	in.CreatedAt, in.ExpiresAt = fromMicros(created), fromMicros(expires)
	return &in, nil
}

// EndSignIn deletes a sign-in; an unknown one is no error.
func (s *Store) EndSignIn(ctx context.Context, tokenHash string) error {
	if s.closed.Load() {
		return fmt.Errorf("sqlite: end sign-in: %w", errClosed())
	}
	args := rawsql.Named(tokenHash)
	err := s.w.Do(ctx, func(w *wconn) error {
		_, err := w.endSignIn.Run(args)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: end sign-in: %w", err)
	}
	return nil
}

// ExpireSignIns deletes the sign-ins that expired before now, in small
// batches, and returns how many.
func (s *Store) ExpireSignIns(ctx context.Context, now time.Time) (int, error) {
	if s.closed.Load() {
		return 0, fmt.Errorf("sqlite: expire sign-ins: %w", errClosed())
	}
	n, err := s.expire(ctx, func(w *wconn) *rawsql.Stmt { return w.expireSignIns }, now)
	if err != nil {
		return n, fmt.Errorf("sqlite: expire sign-ins: %w", err)
	}
	return n, nil
}

// expireBatch is how many expired rows one write deletes. Each batch is a
// write request of its own, so that pruning thousands of rows never holds
// up the writes queued meanwhile for longer than one small batch.
const expireBatch = 500

// expire runs the statement that stmt picks, a DELETE of at most ?2 rows
// that expired before ?1, until it deletes fewer than a batch, and
// returns how many rows it deleted.
func (s *Store) expire(ctx context.Context, stmt func(*wconn) *rawsql.Stmt, now time.Time) (int, error) {
	args := rawsql.Named(micros(now), int64(s.expireBatch))
	total := 0
	for {
		var n int64
		err := s.w.Do(ctx, func(w *wconn) error {
			res, err := stmt(w).Run(args)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return total, err
		}
		total += int(n)
		if n < int64(s.expireBatch) {
			return total, nil
		}
	}
}
