package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/assistbot/assistbot/core"
	"github.com/jackc/pgx/v5/pgxpool"
)

// insertSignInSQL inserts nothing when the token's hash is taken, which
// CreateSignIn refuses.
const insertSignInSQL = `INSERT INTO sign_ins (token_hash, agent, created_at, expires_at)
	VALUES ($1, $2, $3, $4) ON CONFLICT (token_hash) DO NOTHING`

// findSignInSQL finds a sign-in unless it expired at $2.
const findSignInSQL = `SELECT token_hash, agent, created_at, expires_at FROM sign_ins
	WHERE token_hash = $1 AND expires_at > $2`

const endSignInSQL = `DELETE FROM sign_ins WHERE token_hash = $1`

// expireSignInsSQL deletes up to $2 of the sign-ins that expired before
// $1, oldest first. It passes over the rows that another replica is
// deleting at the same moment rather than waiting for them. The rows to
// delete are looked up as an array of keys, which the planner finds
// through the primary key; as a semi-join, it read the whole table.
const expireSignInsSQL = `DELETE FROM sign_ins WHERE token_hash = ANY (ARRAY(
	SELECT token_hash FROM sign_ins WHERE expires_at < $1
	ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED))`

// CreateSignIn records a sign-in. It refuses one without a token hash or
// an expiry (CodeInvalid), and one whose token hash is taken
// (CodeConflict).
func (s *Store) CreateSignIn(ctx context.Context, in *core.SignIn) error {
	switch {
	case in == nil || in.TokenHash == "":
		return fmt.Errorf("postgres: create sign-in: %w", core.Errorf(core.CodeInvalid, "a sign-in needs its token's hash"))
	case in.ExpiresAt.IsZero():
		return fmt.Errorf("postgres: create sign-in: %w", core.Errorf(core.CodeInvalid, "a sign-in needs an expiry"))
	}
	err := s.withConn(ctx, func(c *pgxpool.Conn) error {
		tag, err := c.Exec(ctx, insertSignInSQL, in.TokenHash, in.Agent, ts(in.CreatedAt), in.ExpiresAt)
		if err != nil || tag.RowsAffected() > 0 {
			return constraintErr(err, keys{})
		}
		return core.Errorf(core.CodeConflict, "the sign-in exists")
	})
	if err != nil {
		return fmt.Errorf("postgres: create sign-in: %w", err)
	}
	return nil
}

// FindSignIn returns the sign-in whose token hashes to tokenHash, unless
// it ended or expired at now.
func (s *Store) FindSignIn(ctx context.Context, tokenHash string, now time.Time) (*core.SignIn, error) {
	var in core.SignIn
	var created *time.Time
	err := s.withConn(ctx, func(c *pgxpool.Conn) error {
		return c.QueryRow(ctx, findSignInSQL, tokenHash, now).Scan(&in.TokenHash, &in.Agent, &created, &in.ExpiresAt)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: find sign-in: %w", noRows(err, "sign-in"))
	}
	in.CreatedAt, in.ExpiresAt = fromTS(created), in.ExpiresAt.UTC()
	return &in, nil
}

// EndSignIn deletes a sign-in; an unknown one is no error.
func (s *Store) EndSignIn(ctx context.Context, tokenHash string) error {
	err := s.withConn(ctx, func(c *pgxpool.Conn) error {
		_, err := c.Exec(ctx, endSignInSQL, tokenHash)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: end sign-in: %w", err)
	}
	return nil
}

// ExpireSignIns deletes the sign-ins that expired before now, in small
// batches, and returns how many.
func (s *Store) ExpireSignIns(ctx context.Context, now time.Time) (int, error) {
	n, err := s.expire(ctx, expireSignInsSQL, now)
	if err != nil {
		return n, fmt.Errorf("postgres: expire sign-ins: %w", err)
	}
	return n, nil
}

// expireBatch is how many expired rows one statement deletes. Each batch
// is a transaction of its own, so that pruning thousands of rows never
// holds their locks, or a connection, for longer than one small batch.
const expireBatch = 500

// expire runs q, a DELETE of at most $2 rows that expired before $1,
// until it deletes fewer than a batch, and returns how many rows it
// deleted. A batch that finds rows another replica is deleting deletes
// fewer, and ends the pruning here: that replica goes on with it.
func (s *Store) expire(ctx context.Context, q string, now time.Time) (int, error) {
	total := 0
	for {
		var n int64
		err := s.withConn(ctx, func(c *pgxpool.Conn) error {
			tag, err := c.Exec(ctx, q, now, s.expireBatch)
			n = tag.RowsAffected()
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
