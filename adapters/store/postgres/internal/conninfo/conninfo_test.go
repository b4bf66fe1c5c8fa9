package conninfo

import (
	"slices"
	"testing"
)

func TestSecrets(t *testing.T) {
	for _, c := range []struct {
		dsn  string
		want []string
	}{
		{"postgres://ada:pa%40ss@db/x", []string{"pa@ss"}},
		{"postgresql://ada:s3cret@db:notaport/x", []string{"s3cret"}},
		{"postgres://ada@db/x?password=q1&sslpassword=q2", []string{"q1", "q2"}},
		{"postgres://ada:a b@db/x", []string{"a b"}},
		{"host=db password=plain dbname=x", []string{"plain"}},
		{"host=db password = 'it\\'s secret' dbname=x", []string{"it's secret"}},
		{"host=db sslpassword=keypass", []string{"keypass"}},
		{"postgres://ada@db/x", nil},
	} {
		got := Secrets(c.dsn)
		for _, w := range c.want {
			if !slices.Contains(got, w) {
				t.Errorf("Secrets(%q) = %q, want it to include %q", c.dsn, got, w)
			}
		}
		if c.want == nil && len(got) > 0 {
			t.Errorf("Secrets(%q) = %q, want none", c.dsn, got)
		}
	}
}

func TestScrub(t *testing.T) {
	for _, c := range []struct {
		msg     string
		secrets []string
		want    string
	}{
		{"user ada password hunter2 failed", []string{"hunter2"}, "user ada password xxxxx failed"},
		{"abc and abcdef", []string{"abc", "abcdef"}, "xxxxx and xxxxx"},
		{"nothing here", nil, "nothing here"},
		// A secret found in the mask itself must not loop.
		{"pw is x", []string{"x"}, "pw is xxxxx"},
	} {
		if got := Scrub(c.msg, c.secrets); got != c.want {
			t.Errorf("Scrub(%q, %q) = %q, want %q", c.msg, c.secrets, got, c.want)
		}
	}
}
