package i18n

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestGSM7Septets(t *testing.T) {
	tests := []struct {
		name string
		in   string
		n    int
		ok   bool
	}{
		{"empty", "", 0, true},
		{"ascii", "Hello, world!", 13, true},
		{"digits and url", "https://support.example.com/m/1234567890", 40, true},
		{"newline and cr", "a\nb\r", 4, true},
		{"basic accents", "éèùìòÇØøÅåÄÖÑÜßäöñüàÉÆæ", 23, true},
		{"greek capitals", "ΔΦΓΛΩΠΨΣΘΞ", 10, true},
		{"symbols", "@£$¥¤§¡¿_#%&'\"", 14, true},
		{"extension table", "^{}\\[~]|€", 18, true},
		{"form feed", "\f", 2, true},
		{"mixed extension", "Cost: 5€ [approx]", 20, true},
		{"spanish no accents", "Su codigo es 123.", 17, true},
		{"french a grave", "à nouveau", 9, true},
		{"a acute", "á", 0, false},
		{"i acute", "í", 0, false},
		{"o acute", "ó", 0, false},
		{"u acute", "ú", 0, false},
		{"e circumflex", "ê", 0, false},
		{"a circumflex", "â", 0, false},
		{"c cedilla lower", "reçu", 0, false},
		{"o circumflex", "ô", 0, false},
		{"e diaeresis", "ë", 0, false},
		{"guillemets", "«a»", 0, false},
		{"curly apostrophe", "l’écran", 0, false},
		{"curly quotes", "“x”", 0, false},
		{"ellipsis", "Sending…", 0, false},
		{"em dash", "a—b", 0, false},
		{"backtick", "`", 0, false},
		{"nbsp", "a\u00a0:", 0, false},
		{"escape code", "\x1b", 0, false},
		{"tab", "\t", 0, false},
		{"greek lower", "α", 0, false},
		{"korean", "원격", 0, false},
		{"emoji", "ok 👍", 0, false},
		{"invalid utf8", "\xff", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, ok := GSM7Septets(tt.in)
			if n != tt.n || ok != tt.ok {
				t.Errorf("GSM7Septets(%q) = %d, %v, want %d, %v", tt.in, n, ok, tt.n, tt.ok)
			}
		})
	}
}

func TestGSM7Tables(t *testing.T) {
	if n := utf8.RuneCountInString(gsm7Basic); n != 127 {
		t.Errorf("basic table has %d characters, want 127 (128 minus escape)", n)
	}
	if n := utf8.RuneCountInString(gsm7Extension); n != 10 {
		t.Errorf("extension table has %d characters, want 10", n)
	}
	for _, r := range gsm7Extension {
		if strings.ContainsRune(gsm7Basic, r) {
			t.Errorf("%q is in both tables", r)
		}
	}
	seen := map[rune]bool{}
	for _, r := range gsm7Basic {
		if seen[r] {
			t.Errorf("%q appears twice in the basic table", r)
		}
		seen[r] = true
	}
	for r := rune(0x20); r < 0x7f; r++ {
		_, ok := GSM7Septets(string(r))
		wantOK := r != '`'
		if ok != wantOK {
			t.Errorf("GSM7Septets(%q) ok = %v, want %v", r, ok, wantOK)
		}
	}
}

func TestGSM7BasicOnly(t *testing.T) {
	for s, want := range map[string]bool{
		"":         true,
		"Démarrer": true,
		"€":        false,
		"[x]":      false,
		"ç":        false,
	} {
		if got := gsm7BasicOnly(s); got != want {
			t.Errorf("gsm7BasicOnly(%q) = %v, want %v", s, got, want)
		}
	}
}
