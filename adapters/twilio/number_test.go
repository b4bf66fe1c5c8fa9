package twilio

import (
	"strings"
	"testing"
)

func TestParseNumber(t *testing.T) {
	for _, tc := range []struct {
		in, region, want string
	}{
		{"+12015550123", "US", "+12015550123"},
		{"(201) 555-0123", "US", "+12015550123"},
		{"201.555.0199", "us", "+12015550199"},
		{"+82 10-1234-5678", "US", "+821012345678"},
		{"010-1234-5678", "KR", "+821012345678"},
		{"+33 6 12 34 56 78", "US", "+33612345678"},
	} {
		got, err := ParseNumber(tc.in, tc.region)
		if err != nil || got != tc.want {
			t.Errorf("ParseNumber(%q, %s) = %q, %v; want %q", tc.in, tc.region, got, err, tc.want)
		}
	}
}

func TestParseNumberRefuses(t *testing.T) {
	for name, in := range map[string]string{
		"empty":              "  ",
		"letters":            "call me",
		"555 outside 01xx":   "+1 555 123 4567",
		"too short":          "+1 201 555",
		"too long":           "+1 201 555 0123 4567 89",
		"unknown country":    "+999 1234567",
		"no country, no reg": "2015550123",
	} {
		t.Run(name, func(t *testing.T) {
			region := "US"
			if name == "no country, no reg" {
				region = ""
			}
			got, err := ParseNumber(in, region)
			if err == nil {
				t.Fatalf("ParseNumber(%q) = %q, want an error", in, got)
			}
			if strings.TrimSpace(in) != "" && !strings.Contains(err.Error(), strings.TrimSpace(in)) {
				t.Errorf("error %q does not name the input", err)
			}
		})
	}
}
