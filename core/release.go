package core

import (
	"context"
	"time"
)

// Releasing what a provider keeps for a session (see Releaser) is tried
// up to releaseTries times, each within releaseTimeout, waiting
// releaseWait longer before each retry.
const (
	releaseTries   = 3
	releaseTimeout = 30 * time.Second
	releaseWait    = 2 * time.Second
)

// release asks the provider, in the background, to remove what it keeps
// for s, which is over (ended, closed or expired); the change is already
// committed, so the caller is not held up. A failure is logged; it never
// undoes the change. Run waits for releases under way before it returns.
func (e *Engine) release(s *Session) {
	r, ok := e.provider.(Releaser)
	if !ok || s == nil || s.Provider != e.provider.Name() {
		return
	}
	cp := *s
	e.releasing.Go(func() {
		log := e.log.With("session_id", cp.ID, "provider", cp.Provider)
		for try := 1; ; try++ {
			ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
			err := r.Release(ctx, &cp)
			cancel()
			switch {
			case err == nil:
				return
			case try == releaseTries:
				log.Error("the provider kept what it made for a session that is over", "tries", try, "err", err)
				return
			}
			log.Warn("release a session at the provider; trying again", "try", try, "err", err)
			select {
			case <-e.stopped:
				log.Error("the provider kept what it made for a session that is over: assistbot stopped before it could try again", "err", err)
				return
			case <-time.After(time.Duration(try) * releaseWait):
			}
		}
	})
}
