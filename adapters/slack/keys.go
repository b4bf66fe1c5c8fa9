package slack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"strings"
	"sync"
)

// keyring seals the opaque keys in button values. A value is
// "<session or conversation id>.<tag>", where the tag is a MAC of the id
// and the channel the button was shown in: a click that names a session
// from another channel, or an id someone typed into a crafted payload, is
// refused before anything is looked up. The MAC only says where a button
// was shown; who may press it is checked on every click, and what it may
// do is checked against the session.
type keyring struct {
	macs *sync.Pool // of *macBuf, keyed
}

// macBuf is a keyed hash with the buffers handed to it, pooled so that a
// button's tag allocates nothing but its text.
type macBuf struct {
	h   hash.Hash
	in  [160]byte
	sum [sha256.Size]byte
}

// tagLen is the MAC length in bytes (96 bits, 16 base64 characters).
const tagLen = 12

// newKeyring derives the MAC key from the bot token, which every
// installation has and keeps secret, so that buttons keep working across
// restarts and replicas. Rotating the token retires old buttons.
func newKeyring(botToken string) keyring {
	h := hmac.New(sha256.New, []byte("assistbot slack button key"))
	h.Write([]byte(botToken))
	key := h.Sum(nil)
	return keyring{macs: &sync.Pool{New: func() any { return &macBuf{h: hmac.New(sha256.New, key)} }}}
}

func (k keyring) tag(id, channel string) string {
	m := k.macs.Get().(*macBuf)
	defer k.macs.Put(m)
	m.h.Reset()
	m.h.Write(append(append(append(m.in[:0], id...), 0), channel...))
	return base64.RawURLEncoding.EncodeToString(m.h.Sum(m.sum[:0])[:tagLen])
}

// seal returns the button value for id shown in channel.
func (k keyring) seal(id, channel string) string {
	return id + "." + k.tag(id, channel)
}

// open returns the id a button value names, if the value was sealed for
// channel.
func (k keyring) open(value, channel string) (string, bool) {
	id, tag, ok := strings.Cut(value, ".")
	if !ok || id == "" || len(id) > 64 || tag == "" {
		return "", false
	}
	if !hmac.Equal([]byte(tag), []byte(k.tag(id, channel))) {
		return "", false
	}
	return id, true
}
