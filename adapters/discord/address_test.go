package discord

import "testing"

func TestParseUserID(t *testing.T) {
	for in, want := range map[string]string{
		"80351110224678912":      "80351110224678912",
		" <@80351110224678912> ": "80351110224678912",
		"<@!80351110224678912>":  "80351110224678912",
	} {
		if got, err := ParseUserID(in); err != nil || got != want {
			t.Errorf("ParseUserID(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "pat", "@pat", "<@pat>", "12345", "8035111022467891x", "<#80351110224678912>"} {
		if got, err := ParseUserID(in); err == nil {
			t.Errorf("ParseUserID(%q) = %q, want an error", in, got)
		}
	}
}
