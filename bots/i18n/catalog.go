// Package i18n holds assistbot's translated user-facing text: the customer
// portal pages, the SMS and chat messages sent to customers, and the support
// session card, alerts and errors shown to agents.
//
// The messages live in one embedded JSON file per language under locales/.
// English is the source catalog; every other catalog has the same keys. A
// Catalog matches BCP 47 tags and Accept-Language headers to the supported
// languages and fills in `{name}` placeholders.
package i18n

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"golang.org/x/text/language"
)

// localeFiles holds the catalogs shipped with the binary; it is read-only.
//
//go:embed locales/*.json
var localeFiles embed.FS

// sourceLocale is the language every other catalog is translated from and
// the last fallback for a key missing in another catalog.
const sourceLocale = "en"

// localeDir is the directory of the catalog files inside the file system.
const localeDir = "locales"

// supportedLocales returns the base codes of the shipped languages, source
// language first. It returns a new slice on every call.
func supportedLocales() []string {
	return []string{"en", "ko", "ja", "es", "de", "fr"}
}

// Catalog holds the message catalogs and matches locales. It is immutable
// after New returns and safe for concurrent use.
type Catalog struct {
	defaultLocale string
	codes         []string
	matcher       language.Matcher
	messages      map[string]map[string]string
}

// New loads the embedded catalogs and returns a Catalog whose default
// language is the best supported match for defaultLocale, so "ko-KR" selects
// "ko". It returns an error if defaultLocale matches no supported language
// (including when it is empty) or if a catalog file is invalid.
func New(defaultLocale string) (*Catalog, error) {
	return newCatalog(localeFiles, defaultLocale)
}

// loadLocale reads a language's messages: locales/<code>.json, the core
// catalog, and any locales/<area>.<code>.json beside it (one per platform
// adapter, so that each keeps its own texts). A key defined twice is an
// error.
func loadLocale(fsys fs.FS, code string) (map[string]string, error) {
	main := path.Join(localeDir, code+".json")
	data, err := fs.ReadFile(fsys, main)
	if err != nil {
		return nil, fmt.Errorf("i18n: reading catalog: %w", err)
	}
	msgs, err := parseMessages(data)
	if err != nil {
		return nil, fmt.Errorf("i18n: %s: %w", main, err)
	}
	extra, err := fs.Glob(fsys, path.Join(localeDir, "*."+code+".json"))
	if err != nil {
		return nil, fmt.Errorf("i18n: listing catalogs: %w", err)
	}
	for _, name := range extra {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("i18n: reading catalog: %w", err)
		}
		more, err := parseMessages(data)
		if err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", name, err)
		}
		for k, v := range more {
			if _, dup := msgs[k]; dup {
				return nil, fmt.Errorf("i18n: %s: key %q is already defined", name, k)
			}
			msgs[k] = v
		}
	}
	return msgs, nil
}

// newCatalog loads locales/<code>.json for every supported language from
// fsys. Each file must exist and be a flat JSON object of strings without
// duplicate keys; the key sets are not required to agree (missing keys fall
// back to English at lookup time, and the tests enforce completeness).
func newCatalog(fsys fs.FS, defaultLocale string) (*Catalog, error) {
	codes := supportedLocales()
	tags := make([]language.Tag, len(codes))
	for i, code := range codes {
		tag, err := language.Parse(code)
		if err != nil {
			return nil, fmt.Errorf("i18n: supported locale %q: %w", code, err)
		}
		tags[i] = tag
	}
	c := &Catalog{
		codes:    codes,
		matcher:  language.NewMatcher(tags),
		messages: make(map[string]map[string]string, len(codes)),
	}
	for _, code := range codes {
		msgs, err := loadLocale(fsys, code)
		if err != nil {
			return nil, err
		}
		c.messages[code] = msgs
	}
	def, ok := c.match(defaultLocale)
	if !ok {
		return nil, fmt.Errorf("i18n: default locale %q is not supported (supported: %s)",
			defaultLocale, strings.Join(codes, ", "))
	}
	c.defaultLocale = def
	return c, nil
}

// Supported returns the base codes of the supported languages, English
// first. The caller may modify the returned slice.
func (c *Catalog) Supported() []string {
	return append([]string(nil), c.codes...)
}

// Default returns the base code of the default language, used when no
// preference matches.
func (c *Catalog) Default() string {
	return c.defaultLocale
}

// Has reports whether key exists in the English source catalog.
func (c *Catalog) Has(key string) bool {
	_, ok := c.messages[sourceLocale][key]
	return ok
}

// T returns the message for key in the language that best matches locale
// (see Match), with each `{name}` placeholder replaced by the value that
// follows name in kv, for example T("ko-KR", "customer.link", "pin",
// "123456", "link", "https://..."). An unmatched locale uses the default
// language, a key missing from that language's catalog uses the English
// message, and an unknown key returns the key itself. Placeholders without a
// value in kv are left as they are; when a name occurs more than once in kv
// the last value wins, and a trailing name without a value is ignored.
// Substituted values are not themselves searched for placeholders.
func (c *Catalog) T(locale, key string, kv ...string) string {
	msg, ok := c.messages[c.Match(locale)][key]
	if !ok {
		msg, ok = c.messages[sourceLocale][key]
	}
	if !ok {
		return key
	}
	return substitute(msg, kv)
}

// substitute replaces the `{name}` placeholders in msg with the values
// given in the name/value pairs of kv in a single left-to-right pass.
func substitute(msg string, kv []string) string {
	if len(kv) < 2 || !strings.Contains(msg, "{") {
		return msg
	}
	var b strings.Builder
	b.Grow(len(msg) + 32)
	rest := msg
	for {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			break
		}
		end := strings.IndexByte(rest[open+1:], '}')
		if end < 0 {
			break
		}
		b.WriteString(rest[:open])
		if val, ok := lookupValue(kv, rest[open+1:open+1+end]); ok {
			b.WriteString(val)
			rest = rest[open+end+2:]
		} else {
			// Not a known placeholder: keep the brace and rescan after
			// it, so "{{pin}" still substitutes the inner "{pin}".
			b.WriteByte('{')
			rest = rest[open+1:]
		}
	}
	b.WriteString(rest)
	return b.String()
}

// lookupValue returns the value of the last name/value pair in kv whose name
// is name. An unpaired trailing element is ignored.
func lookupValue(kv []string, name string) (string, bool) {
	for i := len(kv)&^1 - 2; i >= 0; i -= 2 {
		if kv[i] == name {
			return kv[i+1], true
		}
	}
	return "", false
}

// parseMessages decodes a catalog file: a flat JSON object whose values are
// all strings. Unlike json.Unmarshal it rejects duplicate keys, which would
// otherwise silently hide a translation.
func parseMessages(data []byte) (map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("catalog must be a JSON object")
	}
	msgs := make(map[string]string)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string) // object keys are always strings
		var msg *string
		if err := dec.Decode(&msg); err != nil || msg == nil {
			return nil, fmt.Errorf("key %q: value must be a string", key)
		}
		if _, dup := msgs[key]; dup {
			return nil, fmt.Errorf("duplicate key %q", key)
		}
		msgs[key] = *msg
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("unexpected data after the JSON object")
	}
	return msgs, nil
}
