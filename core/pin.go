package core

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// PIN length limits.
const (
	MinPINDigits = 6
	MaxPINDigits = 10
)

// PINSource makes PINs. Implementations must draw from a cryptographically
// secure source; tests inject a predictable one.
type PINSource interface {
	// PIN returns a string of exactly digits decimal digits.
	PIN(digits int) (string, error)
}

// RandomPINs draws each digit uniformly from crypto/rand.
type RandomPINs struct {
	// Rand is the source; nil means crypto/rand.Reader.
	Rand io.Reader
}

// PIN returns digits uniformly random decimal digits; leading zeros are
// as likely as any other.
func (r RandomPINs) PIN(digits int) (string, error) {
	if digits < MinPINDigits || digits > MaxPINDigits {
		return "", Errorf(CodeInvalid, "pin length must be %d to %d digits, not %d", MinPINDigits, MaxPINDigits, digits)
	}
	src := r.Rand
	if src == nil {
		src = rand.Reader
	}
	n, err := uniform(src, pow10(digits))
	if err != nil {
		return "", fmt.Errorf("pin: random: %w", err)
	}
	var b [MaxPINDigits]byte
	for i := digits - 1; i >= 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[:digits]), nil
}

// uniform returns a number drawn uniformly from [0, n), n > 0, reading
// 64 bits at a time from src: a draw from the top of the range, where
// the values left over by the last multiple of n lie, is drawn again, so
// that no value is likelier than another.
func uniform(src io.Reader, n uint64) (uint64, error) {
	limit := math.MaxUint64 - math.MaxUint64%n
	var b [8]byte
	for {
		if _, err := io.ReadFull(src, b[:]); err != nil {
			return 0, err
		}
		if v := binary.BigEndian.Uint64(b[:]); v < limit {
			return v % n, nil
		}
	}
}

// pow10 returns 10 to the power of e.
func pow10(e int) uint64 {
	n := uint64(1)
	for range e {
		n *= 10
	}
	return n
}

// ValidPIN reports whether s looks like a PIN: 6 to 10 ASCII digits.
func ValidPIN(s string) bool {
	if len(s) < MinPINDigits || len(s) > MaxPINDigits {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// NormalizePIN strips the spaces and dashes people type inside a PIN
// ("123 456", "123-456").
func NormalizePIN(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' || r == '\u00a0' {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
}

// NewID returns a new identifier: 26 lower-case characters encoding a
// 48-bit millisecond timestamp followed by 80 bits from crypto/rand. The
// random part makes it unguessable, so it can travel in a button value or
// a URL; the time prefix makes IDs sort by creation, which keeps database
// index inserts at the end of the index instead of scattered over it.
func NewID() string {
	var b [16]byte
	ms := uint64(time.Now().UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	rand.Read(b[6:])
	return idEncoding.EncodeToString(b[:])
}

// idEncoding is base32 with an alphabet in ASCII order, so that the
// string order of IDs is the order of their bytes.
var idEncoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

// NewSecret returns a random secret (128 bits) and the hex SHA-256 under
// which it is stored.
func NewSecret() (secret, key string) {
	secret = rand.Text()
	return secret, SecretKey(secret)
}

// SecretKey returns the hex SHA-256 of secret, the form in which secrets
// are stored and compared.
func SecretKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
