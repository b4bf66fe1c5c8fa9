package i18n

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
)

// mustNew returns the embedded catalog with the given default or fails the
// test.
func mustNew(t testing.TB, def string) *Catalog {
	t.Helper()
	c, err := New(def)
	if err != nil {
		t.Fatalf("New(%q): %v", def, err)
	}
	return c
}

// testFS builds a file system holding a catalog for every supported locale:
// the messages given in cats, and an empty object for the others.
func testFS(t *testing.T, cats map[string]map[string]string) fstest.MapFS {
	t.Helper()
	fsys := fstest.MapFS{}
	for _, code := range supportedLocales() {
		data, err := json.Marshal(cats[code])
		if err != nil {
			t.Fatal(err)
		}
		if cats[code] == nil {
			data = []byte("{}")
		}
		fsys["locales/"+code+".json"] = &fstest.MapFile{Data: data}
	}
	return fsys
}

func TestNewDefault(t *testing.T) {
	tests := []struct{ in, want string }{
		{"en", "en"}, {"ko", "ko"}, {"ko-KR", "ko"}, {"ja_JP", "ja"},
		{"de-AT", "de"}, {"fr-CA", "fr"}, {"es-419", "es"}, {"EN-us", "en"},
	}
	for _, tt := range tests {
		if got := mustNew(t, tt.in).Default(); got != tt.want {
			t.Errorf("New(%q).Default() = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, bad := range []string{"", "pt-BR", "zh", "garbage;;;q=x", "*"} {
		if c, err := New(bad); err == nil {
			t.Errorf("New(%q) = default %q, want an error", bad, c.Default())
		}
	}
}

func TestSupported(t *testing.T) {
	c := mustNew(t, "en")
	want := []string{"en", "ko", "ja", "es", "de", "fr"}
	got := c.Supported()
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("Supported() = %v, want %v", got, want)
	}
	got[0] = "xx"
	if c.Supported()[0] != "en" {
		t.Error("modifying the result of Supported changed the catalog")
	}
}

func TestT(t *testing.T) {
	c := mustNew(t, "en")
	tests := []struct {
		name, locale, key string
		kv                []string
		want              string
	}{
		{"substitution", "en", "customer.link", []string{"pin", "123456", "link", "https://x.test/m/123456"},
			"Remote support: open https://x.test/m/123456 and press Start. Your code is 123456."},
		{"matched locale", "ko-KR", "card.customer", []string{"customer", "Kim"}, "고객: Kim"},
		{"accept header", "fr-CH, fr;q=0.9", "card.customer", []string{"customer", "Zoé"}, "Client : Zoé"},
		{"unknown locale uses default", "pt-BR", "card.close", nil, "Close"},
		{"empty locale uses default", "", "card.close", nil, "Close"},
		{"unknown key", "ko", "no.such.key", []string{"pin", "1"}, "no.such.key"},
		{"odd kv ignores last", "en", "card.customer", []string{"customer", "Ann", "pin"}, "Customer: Ann"},
		{"single kv ignored", "en", "card.customer", []string{"customer"}, "Customer: {customer}"},
		{"missing value kept", "en", "customer.link", []string{"pin", "42"},
			"Remote support: open {link} and press Start. Your code is 42."},
		{"last value wins", "en", "card.customer", []string{"customer", "A", "customer", "B"}, "Customer: B"},
		{"no recursive expansion", "en", "card.customer", []string{"customer", "{pin}", "pin", "1"}, "Customer: {pin}"},
		{"no placeholders", "de", "card.close", []string{"x", "y"}, "Schließen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.T(tt.locale, tt.key, tt.kv...); got != tt.want {
				t.Errorf("T(%q, %q, %q) = %q, want %q", tt.locale, tt.key, tt.kv, got, tt.want)
			}
		})
	}
}

func TestTDefaultLocale(t *testing.T) {
	c := mustNew(t, "ja")
	if got, want := c.T("pt-BR", "card.close"), "閉じる"; got != want {
		t.Errorf("T(pt-BR) with default ja = %q, want %q", got, want)
	}
	if got, want := c.T("en", "card.close"), "Close"; got != want {
		t.Errorf("T(en) with default ja = %q, want %q", got, want)
	}
}

func TestTFallbackToEnglish(t *testing.T) {
	fsys := testFS(t, map[string]map[string]string{
		"en": {"greeting": "Hello {name}", "bye": "Goodbye"},
		"ko": {"bye": "안녕히 가세요"},
	})
	c, err := newCatalog(fsys, "ko")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.T("ko", "greeting", "name", "Kim"), "Hello Kim"; got != want {
		t.Errorf("missing ko key: got %q, want English %q", got, want)
	}
	if got, want := c.T("ko", "bye"), "안녕히 가세요"; got != want {
		t.Errorf("present ko key: got %q, want %q", got, want)
	}
	if got, want := c.T("xx", "bye"), "안녕히 가세요"; got != want {
		t.Errorf("unknown locale: got %q, want default-locale %q", got, want)
	}
	if !c.Has("greeting") || c.Has("nope") {
		t.Error("Has disagrees with the English catalog")
	}
}

func TestSubstituteBraces(t *testing.T) {
	kv := []string{"pin", "7"}
	tests := map[string]string{
		"{{pin}":     "{7",
		"{pin}}":     "7}",
		"{pin":       "{pin",
		"}{":         "}{",
		"{}{pin}":    "{}7",
		"a{b}c":      "a{b}c",
		"{pin}{pin}": "77",
	}
	for in, want := range tests {
		if got := substitute(in, kv); got != want {
			t.Errorf("substitute(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHas(t *testing.T) {
	c := mustNew(t, "en")
	for _, key := range []string{"portal.title", "customer.link", "error.opted_out"} {
		if !c.Has(key) {
			t.Errorf("Has(%q) = false", key)
		}
	}
	for _, key := range []string{"", "portal", "nope"} {
		if c.Has(key) {
			t.Errorf("Has(%q) = true", key)
		}
	}
}

func TestNewCatalogErrors(t *testing.T) {
	good := testFS(t, map[string]map[string]string{"en": {"a": "A"}})
	bad := map[string]string{
		"not an object": `["a"]`,
		"number value":  `{"a": 1}`,
		"null value":    `{"a": null}`,
		"nested object": `{"a": {"b": "c"}}`,
		"duplicate key": `{"a": "A", "a": "B"}`,
		"trailing data": `{"a": "A"} {}`,
		"trailing junk": `{"a": "A"} x`,
		"truncated":     `{"a": "A"`,
		"empty file":    ``,
	}
	for name, data := range bad {
		fsys := fstest.MapFS{}
		for k, v := range good {
			fsys[k] = v
		}
		fsys["locales/de.json"] = &fstest.MapFile{Data: []byte(data)}
		if _, err := newCatalog(fsys, "en"); err == nil {
			t.Errorf("%s: newCatalog accepted %q", name, data)
		}
	}
	missing := fstest.MapFS{}
	for k, v := range good {
		if k != "locales/fr.json" {
			missing[k] = v
		}
	}
	if _, err := newCatalog(missing, "en"); err == nil {
		t.Error("newCatalog accepted a missing catalog file")
	}
}

// TestConcurrentUse exercises the catalog from many goroutines; run with
// -race.
func TestConcurrentUse(t *testing.T) {
	c := mustNew(t, "en")
	prefs := []string{"ko-KR", "fr-CH, fr;q=0.9", "pt-BR", "ja_JP", "garbage;;;q=x", "de"}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 200 {
				p := prefs[(i+j)%len(prefs)]
				_ = c.Match(p, "en")
				_ = c.T(p, "customer.link", "pin", "1", "link", "l")
				_ = c.Has("card.pin")
			}
		})
	}
	wg.Wait()
}
