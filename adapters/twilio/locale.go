package twilio

import (
	"unicode"

	"github.com/nyaruka/phonenumbers"
)

// regionLocales maps the countries whose people most likely read one of
// assistbot's languages to it. Countries with several languages (Canada,
// Switzerland, Belgium) are left out: the configured locale is a better
// guess there than any one of theirs.
func regionLocales() map[string]string {
	m := map[string]string{
		"KR": "ko",
		"JP": "ja",
		"DE": "de", "AT": "de", "LI": "de",
		"FR": "fr", "MC": "fr",
	}
	for _, r := range []string{"ES", "MX", "AR", "CO", "PE", "VE", "CL", "EC", "GT", "CU", "BO", "DO",
		"HN", "PY", "SV", "NI", "CR", "PA", "UY", "PR"} {
		m[r] = "es"
	}
	return m
}

// detectLocale guesses the language of a customer who texts for the first
// time: the writing of the text when it can only be one language (Hangul
// is Korean, kana Japanese), else the country of the number, else
// fallback. It is deterministic and asks no one.
func detectLocale(number, text, fallback string) string {
	if l := scriptLocale(text); l != "" {
		return l
	}
	n, err := phonenumbers.Parse(number, "")
	if err != nil {
		return fallback
	}
	if l, ok := regionLocales()[phonenumbers.GetRegionCodeForNumber(n)]; ok {
		return l
	}
	return fallback
}

// scriptLocale returns "ko" for text with Hangul, "ja" for text with
// hiragana or katakana, and "" otherwise. Han characters alone say
// nothing: Japanese and Korean both use them.
func scriptLocale(text string) string {
	for _, r := range text {
		switch {
		case unicode.Is(unicode.Hangul, r):
			return "ko"
		case unicode.Is(unicode.Hiragana, r), unicode.Is(unicode.Katakana, r):
			return "ja"
		}
	}
	return ""
}
