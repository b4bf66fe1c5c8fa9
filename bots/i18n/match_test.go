package i18n

import (
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		prefs []string
		want  string
	}{
		{[]string{"ko-KR"}, "ko"},
		{[]string{"ko_KR"}, "ko"},
		{[]string{"ja_JP"}, "ja"},
		{[]string{"ja"}, "ja"},
		{[]string{" de "}, "de"},
		{[]string{"DE-ch"}, "de"},
		{[]string{"fr-CH, fr;q=0.9, en;q=0.8"}, "fr"},
		{[]string{"pt-BR"}, "ko"},
		{[]string{"zh-Hant, de;q=0.5"}, "de"},
		{[]string{""}, "ko"},
		{[]string{"garbage;;;q=x"}, "ko"},
		{[]string{"*"}, "ko"},
		{[]string{"x-private"}, "ko"},
		{nil, "ko"},
		{[]string{"en;q=0.1, es"}, "es"},
		{[]string{"es;q=0, en-US"}, "en"},
		{[]string{"es-419,es;q=0.9"}, "es"},
		// Preferences are tried in order; the first that matches wins.
		{[]string{"", "pt-BR", "ja-JP", "de"}, "ja"},
		{[]string{"garbage", "fr-FR"}, "fr"},
		// A header with one malformed entry still yields its good entries.
		{[]string{"fr-CH, !!bad!!, en;q=0.8"}, "fr"},
		{[]string{"!!bad!!;q=0.9, de-DE;q=0.5"}, "de"},
		{[]string{"@@, fr;q=0, ja;q=0.2"}, "ja"},
		{[]string{"ko-KR-x-yz!"}, "ko"},
	}
	c := mustNew(t, "ko")
	for _, tt := range tests {
		if got := c.Match(tt.prefs...); got != tt.want {
			t.Errorf("Match(%q) = %q, want %q", tt.prefs, got, tt.want)
		}
	}
}

// TestMatchDefaultEnglish checks the required cases with English as the
// default language.
func TestMatchDefaultEnglish(t *testing.T) {
	c := mustNew(t, "en")
	tests := map[string]string{
		"ko-KR":                     "ko",
		"ja_JP":                     "ja",
		"fr-CH, fr;q=0.9, en;q=0.8": "fr",
		"pt-BR":                     "en",
		"zh-Hant, de;q=0.5":         "de",
		"":                          "en",
		"garbage;;;q=x":             "en",
	}
	for pref, want := range tests {
		if got := c.Match(pref); got != want {
			t.Errorf("Match(%q) = %q, want %q", pref, got, want)
		}
	}
}

func TestMatchOversizedHeader(t *testing.T) {
	c := mustNew(t, "en")
	long := "de-DE, " + strings.Repeat("zz-ZZ;q=0.1, ", 1000) + "fr"
	if got := c.Match(long); got != "de" {
		t.Errorf("Match(long header) = %q, want de", got)
	}
	dashes := strings.Repeat("-", 5000)
	if got := c.Match(dashes, "ja"); got != "ja" {
		t.Errorf("Match(dashes, ja) = %q, want ja", got)
	}
}

func TestRejectsEntry(t *testing.T) {
	tests := map[string]bool{
		"":             false,
		"q=0.5":        false,
		"q=1":          false,
		"q=10":         false,
		"q=x":          false,
		"q=0":          true,
		"Q=0.000":      true,
		" q = 0.0 ":    true,
		"level=1;q=0.": true,
	}
	for params, want := range tests {
		if got := rejectsEntry(params); got != want {
			t.Errorf("rejectsEntry(%q) = %v, want %v", params, got, want)
		}
	}
}

// FuzzMatch checks that Match and T never panic and always return a
// supported code.
func FuzzMatch(f *testing.F) {
	for _, s := range []string{"", "ko-KR", "ja_JP", "fr-CH, fr;q=0.9, en;q=0.8",
		"zh-Hant, de;q=0.5", "garbage;;;q=x", ";;,,;q=", "-_-", "en-u-rg-gbzzzz",
		"i-klingon", "x-a-b-c", "und", "*;q=0.5", "de;q=1.0000000000001"} {
		f.Add(s)
	}
	c := mustNew(f, "en")
	supported := strings.Join(c.Supported(), " ")
	f.Fuzz(func(t *testing.T, pref string) {
		got := c.Match(pref)
		if got == "" || !strings.Contains(supported, got) {
			t.Fatalf("Match(%q) = %q, not a supported code", pref, got)
		}
		_ = c.T(pref, "customer.link", pref, pref, "pin")
	})
}
