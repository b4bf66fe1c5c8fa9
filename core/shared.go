package core

import (
	"context"
	"time"
)

// The state below is not the domain's, but it must be the same on every
// replica and outlive a restart, so the store keeps it: with it, no
// request needs to reach the replica that served the one before (no
// sticky sessions).

// KeyStore keeps the secret keys that every replica signs and checks
// with: cookies, CSRF tokens, links that carry proof of where they came
// from. A key is made at random on first use, the same for every
// replica, and can be rotated; the previous key still verifies, so that
// what was signed just before a rotation keeps working for a while.
type KeyStore interface {
	// Key returns the current key called name, making a random one of
	// size bytes in the same transaction when there is none yet, and the
	// previous one (nil before the first rotation). Two replicas asking
	// at once for a new name get the same key.
	Key(ctx context.Context, name string, size int) (current, previous []byte, err error)
	// RotateKey makes a new random current key called name, of size
	// bytes, and keeps the old one as the previous.
	RotateKey(ctx context.Context, name string, size int) error
}

// SignIn is an agent's sign-in to the console, known to every replica.
// The store keeps only a hash of the token the browser holds.
type SignIn struct {
	// TokenHash is the SHA-256 (hex) of the sign-in's secret token.
	TokenHash string
	Agent     string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// SignInStore keeps console sign-ins.
type SignInStore interface {
	// CreateSignIn records s.
	CreateSignIn(ctx context.Context, s *SignIn) error
	// FindSignIn returns the sign-in whose token hashes to tokenHash, or
	// CodeNotFound when there is none, it ended, or it expired at now.
	FindSignIn(ctx context.Context, tokenHash string, now time.Time) (*SignIn, error)
	// EndSignIn ends a sign-in (the agent signed out); ending an unknown
	// one is not an error.
	EndSignIn(ctx context.Context, tokenHash string) error
	// ExpireSignIns deletes the sign-ins that expired before now and
	// returns how many.
	ExpireSignIns(ctx context.Context, now time.Time) (int, error)
}

// MemoStore keeps small values with an expiry that any replica may need
// later: a Discord interaction token that edits an agent's card, say.
type MemoStore interface {
	// PutMemo stores value under key until expires, replacing what was
	// there.
	PutMemo(ctx context.Context, key, value string, expires time.Time) error
	// FindMemo returns the value under key, or CodeNotFound when there is
	// none or it expired at now.
	FindMemo(ctx context.Context, key string, now time.Time) (string, error)
	// ExpireMemos deletes the values that expired before now and returns
	// how many.
	ExpireMemos(ctx context.Context, now time.Time) (int, error)
}

// Locker lets exactly one replica do something at a time: hold the
// Discord gateway connection, say.
type Locker interface {
	// TryLock takes the lock called name when no other process holds it.
	// It returns ok=false at once when one does. A lock taken is held
	// until release is called or the holder loses its hold (its
	// connection to the database dropped), which closes lost; another
	// replica can then take it.
	TryLock(ctx context.Context, name string) (lost <-chan struct{}, release func(), ok bool, err error)
}
