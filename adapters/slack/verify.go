package slack

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
	headerSignature = "X-Slack-Signature"
	headerTimestamp = "X-Slack-Request-Timestamp"
	signatureWindow = 5 * time.Minute
)

// Why a request was refused; the HTTP answer is 401 for all of them and
// the log line says which.
var (
	errUnsigned     = errors.New("missing X-Slack-Signature or X-Slack-Request-Timestamp")
	errStale        = errors.New("timestamp outside the 5-minute window")
	errBadSignature = errors.New("signature does not match")
)

// verifier checks Slack's signature on a raw body. It is what
// slack.NewSecretsVerifier does, without its cost on every request: the
// keyed hash is prepared once and pooled (hmac's Reset returns to the
// keyed state), and nothing is allocated for a good request.
type verifier struct {
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

func newVerifier(secret string) *verifier {
	key := []byte(secret)
	v := &verifier{now: time.Now}
	v.pool.New = func() any { return &macBuf{h: hmac.New(sha256.New, key)} }
	return v
}

// verify checks h's signature headers against body.
func (v *verifier) verify(h http.Header, body []byte) error {
	ts, sig := header(h, headerTimestamp), header(h, headerSignature)
	if ts == "" || sig == "" {
		return errUnsigned
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(ts) > 19 {
		return errStale
	}
	if d := v.now().Sub(time.Unix(sec, 0)); d > signatureWindow || d < -signatureWindow {
		return errStale
	}
	var want [sha256.Size]byte
	if len(sig) != 3+2*sha256.Size || sig[:3] != "v0=" {
		return errBadSignature
	}
	var hexSig [2 * sha256.Size]byte
	copy(hexSig[:], sig[3:])
	if _, err := hex.Decode(want[:], hexSig[:]); err != nil {
		return errBadSignature
	}
	m := v.pool.Get().(*macBuf)
	defer v.pool.Put(m)
	m.h.Reset()
	m.h.Write(append(append(append(m.in[:0], "v0:"...), ts...), ':'))
	m.h.Write(body)
	if !hmac.Equal(m.h.Sum(m.sum[:0]), want[:]) {
		return errBadSignature
	}
	return nil
}

// header reads a canonical header without Header.Get's canonicalisation.
func header(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// errTooLarge is a body over the route's limit.
var errTooLarge = errors.New("request body too large")

// bufferPool recycles buffers: the command route reads a body and writes
// an answer on every request.
type bufferPool struct{ p sync.Pool }

// get returns an empty buffer.
func (bp *bufferPool) get() *bytes.Buffer {
	if b, ok := bp.p.Get().(*bytes.Buffer); ok {
		b.Reset()
		return b
	}
	return new(bytes.Buffer)
}

// put returns b unless it grew too large to be worth keeping.
func (bp *bufferPool) put(b *bytes.Buffer) {
	if b.Cap() <= 64<<10 {
		bp.p.Put(b)
	}
}

// readBody reads r's body, up to limit bytes, into a pooled buffer that
// the caller gives back with put.
func (bp *bufferPool) readBody(r *http.Request, limit int64) (*bytes.Buffer, error) {
	if r.ContentLength > limit {
		return nil, errTooLarge
	}
	buf := bp.get()
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength))
	}
	n, err := buf.ReadFrom(io.LimitReader(r.Body, limit+1))
	if err == nil && n > limit {
		err = errTooLarge
	}
	if err != nil {
		bp.put(buf)
		return nil, err
	}
	return buf, nil
}
