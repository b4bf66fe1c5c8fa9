package core

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestRandomPINs(t *testing.T) {
	for _, digits := range []int{6, 7, 10} {
		pin, err := RandomPINs{}.PIN(digits)
		if err != nil {
			t.Fatalf("PIN(%d): %v", digits, err)
		}
		if len(pin) != digits || !ValidPIN(pin) {
			t.Errorf("PIN(%d) = %q", digits, pin)
		}
	}
	for _, digits := range []int{0, 5, 11} {
		if _, err := (RandomPINs{}).PIN(digits); ErrorCode(err) != CodeInvalid {
			t.Errorf("PIN(%d) err = %v, want invalid", digits, err)
		}
	}
}

// TestRandomPINsLeadingZeros feeds a source of zero bytes: the smallest
// number must come out zero-padded, not shortened.
func TestRandomPINsLeadingZeros(t *testing.T) {
	pin, err := RandomPINs{Rand: bytes.NewReader(make([]byte, 64))}.PIN(6)
	if err != nil {
		t.Fatal(err)
	}
	if pin != "000000" {
		t.Errorf("PIN = %q, want 000000", pin)
	}
}

// TestRandomPINsRedrawsTheTop feeds a draw from the top of the 64-bit
// range, past the last multiple of 10^6, where taking the remainder
// would favour the low PINs: it is drawn again, from the bytes that
// follow.
func TestRandomPINsRedrawsTheTop(t *testing.T) {
	src := append(bytes.Repeat([]byte{0xff}, 8), 0, 0, 0, 0, 0, 0, 0x30, 0x39) // then 12345
	pin, err := RandomPINs{Rand: bytes.NewReader(src)}.PIN(6)
	if err != nil {
		t.Fatal(err)
	}
	if pin != "012345" {
		t.Errorf("PIN = %q, want 012345, from the second draw", pin)
	}
	if _, err := (RandomPINs{Rand: bytes.NewReader(src[:8])}).PIN(6); err == nil {
		t.Error("PIN from a source that ran out after a redraw: no error")
	}
}

// TestRandomPINsUniform checks every digit position takes every value with
// roughly equal frequency (a biased modulo would skew it).
func TestRandomPINsUniform(t *testing.T) {
	const n = 20000
	var counts [6][10]int
	for range n {
		pin, err := RandomPINs{}.PIN(6)
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range pin {
			counts[i][c-'0']++
		}
	}
	for pos, row := range counts {
		for d, c := range row {
			// Expected 2000 each; 5 standard deviations is about ±212.
			if c < 1700 || c > 2300 {
				t.Errorf("position %d digit %d appeared %d times in %d pins", pos, d, c, n)
			}
		}
	}
}

func TestValidPIN(t *testing.T) {
	for pin, want := range map[string]bool{
		"123456": true, "012345": true, "1234567890": true,
		"12345": false, "12345678901": false, "12345a": false, "": false, "１２３４５６": false, "123 456": false,
	} {
		if got := ValidPIN(pin); got != want {
			t.Errorf("ValidPIN(%q) = %v, want %v", pin, got, want)
		}
	}
}

func TestNormalizePIN(t *testing.T) {
	for in, want := range map[string]string{
		" 123 456 ": "123456", "123-456": "123456", "123\u00a0456": "123456", "abc": "abc",
	} {
		if got := NormalizePIN(in); got != want {
			t.Errorf("NormalizePIN(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	prev := ""
	for range 1000 {
		id := NewID()
		if len(id) != 26 || strings.ToLower(id) != id || seen[id] {
			t.Fatalf("NewID() = %q (seen before: %v)", id, seen[id])
		}
		// IDs from later milliseconds sort after earlier ones.
		if id[:9] < prev {
			t.Fatalf("NewID() = %q sorts before the earlier %q", id, prev)
		}
		seen[id], prev = true, id[:9]
	}
	a := NewID()
	time.Sleep(2 * time.Millisecond)
	if b := NewID(); b <= a {
		t.Errorf("an ID made later (%s) does not sort after %s", b, a)
	}
}

func TestSecret(t *testing.T) {
	s, key := NewSecret()
	if SecretKey(s) != key || len(key) != 64 {
		t.Errorf("SecretKey(secret) = %q, key %q", SecretKey(s), key)
	}
	if strings.Contains(key, s) {
		t.Error("the stored key contains the secret")
	}
}

func TestMask(t *testing.T) {
	for in, want := range map[string]string{"+12015550123": "…0123", "abc": "…", "": "…", "U0123ABCD": "…ABCD"} {
		if got := Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
	if got := (Endpoint{Channel: "sms", Address: "+12015550123"}).String(); got != "sms:…0123" {
		t.Errorf("Endpoint.String = %q", got)
	}
}
