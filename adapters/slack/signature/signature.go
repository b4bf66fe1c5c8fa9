// Package signature checks the signature Slack puts on every request it
// sends an app, cheaply enough for the slash command's path, and reads
// request bodies into pooled buffers.
package signature

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Slack's request signing: "v0=" + hex(HMAC-SHA256(signing secret,
// "v0:" + timestamp + ":" + raw body)), with the timestamp in its own
// header; a request more than five minutes from our clock is refused so
// that a captured request cannot be replayed later.
// https://api.slack.com/authentication/verifying-requests-from-slack
const (
	HeaderSignature = "X-Slack-Signature"
	HeaderTimestamp = "X-Slack-Request-Timestamp"
	signatureWindow = 5 * time.Minute
)

// Why a request was refused; the HTTP answer is 401 for all of them and
// the log line says which.
var (
	ErrUnsigned     = errors.New("missing X-Slack-Signature or X-Slack-Request-Timestamp")
	ErrStale        = errors.New("timestamp outside the 5-minute window")
	ErrBadSignature = errors.New("signature does not match")
)

// Verifier checks Slack's signature on a raw body. It is what
// slack.NewSecretsVerifier does, without its cost on every request: the
// keyed hash is prepared once and pooled (hmac's Reset returns to the
// keyed state), and nothing is allocated for a good request.
type Verifier struct {
	pool sync.Pool // of *macBuf
	now  func() time.Time
}

// macBuf is a keyed hash with the buffers handed to it: they would
// escape to the heap on every call if they lived on the stack.
type macBuf struct {
	h   hash.Hash
	in  [160]byte
	sum [sha256.Size]byte
}

// NewVerifier returns the Verifier of an app's signing secret.
func NewVerifier(secret string) *Verifier {
	key := []byte(secret)
	v := &Verifier{now: time.Now}
	v.pool.New = func() any { return &macBuf{h: hmac.New(sha256.New, key)} }
	return v
}

// Verify checks h's signature headers against body: nil, or why the
// request is refused (ErrUnsigned, ErrStale, ErrBadSignature).
func (v *Verifier) Verify(h http.Header, body []byte) error {
	ts, sig := Header(h, HeaderTimestamp), Header(h, HeaderSignature)
	if ts == "" || sig == "" {
		return ErrUnsigned
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(ts) > 19 {
		return ErrStale
	}
	if d := v.now().Sub(time.Unix(sec, 0)); d > signatureWindow || d < -signatureWindow {
		return ErrStale
	}
	var want [sha256.Size]byte
	if len(sig) != 3+2*sha256.Size || sig[:3] != "v0=" {
		return ErrBadSignature
	}
	var hexSig [2 * sha256.Size]byte
	copy(hexSig[:], sig[3:])
	if _, err := hex.Decode(want[:], hexSig[:]); err != nil {
		return ErrBadSignature
	}
	m := v.pool.Get().(*macBuf)
	defer v.pool.Put(m)
	m.h.Reset()
	m.h.Write(append(append(append(m.in[:0], "v0:"...), ts...), ':'))
	m.h.Write(body)
	if !hmac.Equal(m.h.Sum(m.sum[:0]), want[:]) {
		return ErrBadSignature
	}
	return nil
}

// Header reads a canonical header without Header.Get's canonicalisation.
func Header(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// ErrTooLarge is a body over the route's limit.
var ErrTooLarge = errors.New("request body too large")

// BufferPool recycles buffers: the command route reads a body and writes
// an answer on every request.
type BufferPool struct{ p sync.Pool }

// Get returns an empty buffer.
func (bp *BufferPool) Get() *bytes.Buffer {
	if b, ok := bp.p.Get().(*bytes.Buffer); ok {
		b.Reset()
		return b
	}
	return new(bytes.Buffer)
}

// Put returns b unless it grew too large to be worth keeping.
func (bp *BufferPool) Put(b *bytes.Buffer) {
	if b.Cap() <= 64<<10 {
		bp.p.Put(b)
	}
}

// ReadBody reads r's body, up to limit bytes, into a pooled buffer that
// the caller gives back with Put.
func (bp *BufferPool) ReadBody(r *http.Request, limit int64) (*bytes.Buffer, error) {
	if r.ContentLength > limit {
		return nil, ErrTooLarge
	}
	buf := bp.Get()
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength))
	}
	n, err := buf.ReadFrom(io.LimitReader(r.Body, limit+1))
	if err == nil && n > limit {
		err = ErrTooLarge
	}
	if err != nil {
		bp.Put(buf)
		return nil, err
	}
	return buf, nil
}
