package twilio

import "testing"

func TestDetectLocale(t *testing.T) {
	for _, tc := range []struct {
		number, text, fallback, want string
	}{
		{"+821012345678", "hello", "en", "ko"},
		{"+819012345678", "hello", "en", "ja"},
		{"+34612345678", "hi", "en", "es"},
		{"+525512345678", "hi", "en", "es"},
		{"+541112345678", "hi", "en", "es"},
		{"+18095551234", "hi", "en", "es"}, // Dominican Republic shares +1
		{"+4915112345678", "hi", "en", "de"},
		{"+436641234567", "hi", "en", "de"},
		{"+33612345678", "hi", "en", "fr"},
		{"+12015550123", "hi", "en", "en"},
		{"+12015550123", "hi", "de", "de"},
		{"+41791234567", "hi", "fr", "fr"}, // Switzerland: the configured locale
		{"+12015550123", "안녕하세요", "en", "ko"},
		{"+12015550123", "こんにちは", "en", "ja"},
		{"+12015550123", "カタカナ", "en", "ja"},
		{"+821012345678", "すみません", "en", "ja"},
		{"+12015550123", "漢字", "en", "en"}, // Han alone is not telling
		{"not a number", "hi", "es", "es"},
	} {
		if got := detectLocale(tc.number, tc.text, tc.fallback); got != tc.want {
			t.Errorf("detectLocale(%s, %q, %s) = %s, want %s", tc.number, tc.text, tc.fallback, got, tc.want)
		}
	}
}
