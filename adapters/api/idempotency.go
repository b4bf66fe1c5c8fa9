package api

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/assistbot/assistbot/core"
)

// Idempotency-Key. A POST sent with an Idempotency-Key header is done
// once: a retry with the same key and the same request (method, path and
// JSON body, whatever its spacing or the order of its fields) gets the
// first answer again, status, Location and body as they were, without
// doing anything; the same key with another request is refused with 422
// idempotency_mismatch. Keys belong to the token that sent them, and are
// kept for 24 hours after the answer.
//
// Only a success is kept. A request that failed did nothing (the engine's
// operations are all or nothing), so its key is free again at once and
// the client may retry with it.
//
// Two requests with one key at once: the first to claim the key does the
// work; the other is refused with 409 conflict and Retry-After: 1, and
// gets the first one's answer when it tries again. A claim is taken under
// a lock of the store (core.Locker), so replicas that share a database
// see one another's claims, and is recorded as a pending memo: a replica
// that dies while it holds a key frees it when the pending memo expires,
// after pendingTTL.

// IdempotencyStore keeps what the API remembers of idempotency keys and
// locks a key while its claim is checked: core.Store is one.
type IdempotencyStore interface {
	core.MemoStore
	core.Locker
}

const (
	// idempotencyTTL is how long an answer is kept for its key.
	idempotencyTTL = 24 * time.Hour
	// pendingTTL is how long a key stays claimed by a request that has
	// not answered: far more than any request takes.
	pendingTTL = 2 * time.Minute
	// maxKeyLength is the longest Idempotency-Key taken.
	maxKeyLength = 255
	// claimTries and claimWait bound the wait for a key's lock, which is
	// held only while a claim is checked and recorded.
	claimTries = 20
	claimWait  = 10 * time.Millisecond
)

// keyMemo is what the store keeps under a key.
type keyMemo struct {
	// Request is the SHA-256 (hex) of the request the key was used for.
	Request string `json:"request"`
	// Pending is set while that request runs; the rest is its answer.
	Pending  bool   `json:"pending,omitempty"`
	Status   int    `json:"status,omitempty"`
	Location string `json:"location,omitempty"`
	Body     string `json:"body,omitempty"`
}

// idempotent runs h for r, once per Idempotency-Key, as described above;
// who is the SHA-256 of the request's token. Without the header it just
// runs h.
func (a *API) idempotent(w http.ResponseWriter, r *http.Request, who [32]byte, h handler) error {
	keys := r.Header.Values("Idempotency-Key")
	if len(keys) == 0 {
		return h(w, r)
	}
	key, err := checkKey(keys)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		return bodyError(err)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	name := memoName(who, key)
	request := fingerprint(r.Method, r.URL.Path, body)
	done, err := a.claim(r.Context(), name, request)
	if err != nil {
		return err
	}
	if done != nil {
		replay(w, done)
		return nil
	}
	// The key is ours until we answer: what follows must record the
	// outcome even when the client has gone, and so must the request
	// itself run to its end. Cut short after the engine committed (the
	// read of what it did, say), it would free the key, and the client's
	// retry would do it all again.
	ctx := context.WithoutCancel(r.Context())
	rec := &recorder{header: http.Header{}}
	err = h(rec, r.WithContext(ctx))
	if err != nil || rec.status < 200 || rec.status > 299 {
		if ferr := a.keys.PutMemo(ctx, name, "", a.clock.Now()); ferr != nil {
			a.log.Warn("free an idempotency key after a failed request; it stays claimed until its claim expires",
				"expires_in", pendingTTL, "err", ferr)
		}
		if err != nil {
			return err
		}
		rec.copyTo(w)
		return nil
	}
	m := keyMemo{Request: request, Status: rec.status, Location: rec.header.Get("Location"), Body: rec.body.String()}
	if err := a.keys.PutMemo(ctx, name, encodeMemo(m), a.clock.Now().Add(idempotencyTTL)); err != nil {
		// The work is done: answering an error now would have the client
		// retry it. A retry will do it again, which the log tells.
		a.log.Error("remember the answer to an Idempotency-Key; a retry with it will not find it", "err", err)
	}
	a.prune()
	rec.copyTo(w)
	return nil
}

// pruneEvery is how often a process deletes the expired memos, keys'
// included, from the store.
const pruneEvery = 10 * time.Minute

// prune deletes the expired memos in the background, at most once every
// pruneEvery in this process.
func (a *API) prune() {
	now := a.clock.Now()
	last := a.pruned.Load()
	if last != 0 && now.Sub(time.Unix(0, last)) < pruneEvery || !a.pruned.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if n, err := a.keys.ExpireMemos(ctx, now); err != nil {
			a.log.Warn("delete expired memos", "err", err)
		} else if n > 0 {
			a.log.Debug("deleted expired memos", "count", n)
		}
	}()
}

// checkKey returns the one Idempotency-Key of a request.
func checkKey(keys []string) (string, error) {
	if len(keys) > 1 {
		return "", core.Errorf(core.CodeInvalid, "send one Idempotency-Key header, not %d", len(keys))
	}
	key := keys[0]
	if len(key) > maxKeyLength {
		return "", core.Errorf(core.CodeInvalid, "Idempotency-Key is %d characters long; the most is %d", len(key), maxKeyLength)
	}
	if key == "" {
		return "", core.Errorf(core.CodeInvalid, "Idempotency-Key is empty; send 1 to %d characters, a UUID say", maxKeyLength)
	}
	for _, c := range []byte(key) {
		if c < 0x20 || c > 0x7e {
			return "", core.Errorf(core.CodeInvalid, "Idempotency-Key must be printable ASCII, 1 to %d characters", maxKeyLength)
		}
	}
	return key, nil
}

// memoName is the store's name for a token's key: a hash, so that neither
// the token nor the key is stored.
func memoName(who [32]byte, key string) string {
	h := sha256.New()
	h.Write([]byte("assistbot api idempotency\x00"))
	h.Write(who[:])
	h.Write([]byte(key))
	return "api.idempotency:" + hex.EncodeToString(h.Sum(nil))
}

// fingerprint identifies a request: its method, path and body, the body
// as canonical JSON when it is JSON (fields in order, no spacing; empty
// and null are {}), else as sent.
func fingerprint(method, path string, body []byte) string {
	canon := bytes.TrimSpace(body)
	if len(canon) == 0 || string(canon) == "null" {
		canon = []byte("{}")
	} else {
		var v any
		dec := json.NewDecoder(bytes.NewReader(canon))
		dec.UseNumber()
		if dec.Decode(&v) == nil && !dec.More() {
			if b, err := json.Marshal(v); err == nil {
				canon = b
			}
		}
	}
	sum := sha256.Sum256([]byte(method + " " + path + "\n" + string(canon)))
	return hex.EncodeToString(sum[:])
}

// claim claims the key called name for request, and returns nil; or, when
// the key has answered request before, that answer. A key claimed or used
// for another request is refused.
func (a *API) claim(ctx context.Context, name, request string) (*keyMemo, error) {
	release, err := a.lockKey(ctx, name)
	if err != nil {
		return nil, err
	}
	defer release()
	now := a.clock.Now()
	v, err := a.keys.FindMemo(ctx, name, now)
	if core.ErrorCode(err) == core.CodeNotFound {
		err = a.keys.PutMemo(ctx, name, encodeMemo(keyMemo{Request: request, Pending: true}), now.Add(pendingTTL))
		if err != nil {
			return nil, fmt.Errorf("claim an idempotency key: %w", err)
		}
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up an idempotency key: %w", err)
	}
	var m keyMemo
	if err := json.Unmarshal([]byte(v), &m); err != nil {
		return nil, fmt.Errorf("read an idempotency key's memo: %w", err)
	}
	switch {
	case m.Request != request:
		return nil, core.Errorf(core.CodeIdempotencyMismatch,
			"this Idempotency-Key was used for another request (another endpoint or body); send a new key with a new request")
	case m.Pending:
		return nil, inProgress()
	}
	return &m, nil
}

func inProgress() error {
	return &core.Error{Code: core.CodeConflict, Retry: time.Second,
		Message: "a request with this Idempotency-Key is still running; retry when it has answered"}
}

// lockKey takes the lock of the key called name, waiting a little while
// another request holds it. Only one request of this process holds a
// key's lock at a time, so that the locks never take all the database
// connections that the claims need.
func (a *API) lockKey(ctx context.Context, name string) (release func(), err error) {
	select {
	case a.claiming <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	for try := 1; ; try++ {
		_, unlock, ok, err := a.keys.TryLock(ctx, name)
		switch {
		case err != nil:
			<-a.claiming
			return nil, fmt.Errorf("lock an idempotency key: %w", err)
		case ok:
			return func() { unlock(); <-a.claiming }, nil
		case try == claimTries:
			<-a.claiming
			return nil, inProgress()
		}
		select {
		case <-time.After(claimWait):
		case <-ctx.Done():
			<-a.claiming
			return nil, ctx.Err()
		}
	}
}

func encodeMemo(m keyMemo) string {
	b, _ := json.Marshal(m) // strings and ints only: cannot fail
	return string(b)
}

// replay answers with a kept answer.
func replay(w http.ResponseWriter, m *keyMemo) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Idempotent-Replayed", "true")
	if m.Location != "" {
		h.Set("Location", m.Location)
	}
	w.WriteHeader(m.Status)
	_, _ = io.WriteString(w, m.Body)
}

// recorder is the http.ResponseWriter of a request with an
// Idempotency-Key: the answer is kept before it is sent.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

// copyTo sends the recorded answer to w.
func (r *recorder) copyTo(w http.ResponseWriter) {
	for k, v := range r.header {
		w.Header()[k] = v
	}
	w.WriteHeader(cmp.Or(r.status, http.StatusOK))
	_, _ = w.Write(r.body.Bytes())
}

// localKeys is the IdempotencyStore of a single process, when the API is
// given none.
type localKeys struct {
	mu    sync.Mutex
	memos map[string]localMemo
	locks map[string]bool
}

type localMemo struct {
	value   string
	expires time.Time
}

func newLocalKeys() *localKeys {
	return &localKeys{memos: map[string]localMemo{}, locks: map[string]bool{}}
}

func (l *localKeys) PutMemo(ctx context.Context, key, value string, expires time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.memos[key] = localMemo{value, expires}
	return nil
}

func (l *localKeys) FindMemo(ctx context.Context, key string, now time.Time) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m, ok := l.memos[key]
	if !ok || !m.expires.After(now) {
		return "", core.Errorf(core.CodeNotFound, "memo not found")
	}
	return m.value, nil
}

func (l *localKeys) ExpireMemos(ctx context.Context, now time.Time) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for k, m := range l.memos {
		if m.expires.Before(now) {
			delete(l.memos, k)
			n++
		}
	}
	return n, nil
}

func (l *localKeys) TryLock(ctx context.Context, name string) (<-chan struct{}, func(), bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.locks[name] {
		return nil, func() {}, false, nil
	}
	l.locks[name] = true
	var once sync.Once
	return make(chan struct{}), func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			delete(l.locks, name)
		})
	}, true, nil
}
