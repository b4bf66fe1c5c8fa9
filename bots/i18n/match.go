package i18n

import (
	"strings"

	"golang.org/x/text/language"
)

// maxPrefLen bounds how much of one preference string is parsed, so an
// oversized Accept-Language header costs little. Real headers are far
// shorter.
const maxPrefLen = 1024

// Match returns the supported base code ("en", "ko", ...) that best fits the
// preferences, or Default() if none fits. Each preference may be a single
// BCP 47 tag such as "pt-BR", "ko_KR" or "zh-Hant" (underscores are accepted
// as separators) or a whole Accept-Language header such as
// "fr-CH, fr;q=0.9, en;q=0.8". Preferences are tried in order and the first
// that matches a supported language with any confidence wins; within a
// header the q-weights decide. Matching follows CLDR, so regional variants
// match their language ("es-419" gives "es") and some related languages
// fall back to a supported one ("gsw" gives "de", "gl" gives "es"). Empty
// or malformed preferences are skipped; Match never fails or panics.
func (c *Catalog) Match(prefs ...string) string {
	for _, pref := range prefs {
		if code, ok := c.match(pref); ok {
			return code
		}
	}
	return c.defaultLocale
}

// match returns the supported code that best fits one preference string and
// whether any supported language fits at all.
func (c *Catalog) match(pref string) (string, bool) {
	pref = strings.TrimSpace(pref)
	// Fast path for the common case of an exact supported code.
	for _, code := range c.codes {
		if pref == code {
			return code, true
		}
	}
	tags := parsePref(pref)
	if len(tags) == 0 {
		return "", false
	}
	_, idx, conf := c.matcher.Match(tags...)
	if conf == language.No || idx < 0 || idx >= len(c.codes) {
		return "", false
	}
	return c.codes[idx], true
}

// parsePref turns one preference string into language tags ordered by
// preference. It first tries a strict Accept-Language parse; if that fails
// (one bad entry spoils the whole header) it parses each comma-separated
// entry on its own, skipping entries that cannot be read and entries with
// q=0, and keeping the order they were written in.
func parsePref(pref string) []language.Tag {
	if len(pref) > maxPrefLen {
		pref = pref[:maxPrefLen]
		if i := strings.LastIndexByte(pref, ','); i >= 0 {
			pref = pref[:i]
		}
	}
	pref = strings.ReplaceAll(pref, "_", "-")
	if pref == "" {
		return nil
	}
	if tags, _, err := language.ParseAcceptLanguage(pref); err == nil {
		return tags
	}
	var tags []language.Tag
	for _, entry := range strings.Split(pref, ",") {
		entry, params, _ := strings.Cut(entry, ";")
		if rejectsEntry(params) {
			continue
		}
		if tag, ok := parseLenient(strings.TrimSpace(entry)); ok {
			tags = append(tags, tag)
		}
	}
	return tags
}

// rejectsEntry reports whether the parameters of an Accept-Language entry
// give it a weight of zero ("q=0", "q=0.0", ...), which means "not wanted".
func rejectsEntry(params string) bool {
	for _, p := range strings.Split(params, ";") {
		name, value, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(name), "q") {
			continue
		}
		value = strings.TrimRight(strings.TrimSpace(value), "0")
		if value == "" || value == "." || value == "0." {
			return true
		}
	}
	return false
}

// maxLenientTries bounds how many trailing subtags parseLenient drops.
const maxLenientTries = 8

// parseLenient parses a single tag, dropping trailing subtags until what is
// left parses, so "ko-KR-bogus!" still yields "ko-KR". It reports false for
// an empty or unreadable tag.
func parseLenient(s string) (language.Tag, bool) {
	for try := 0; s != "" && try < maxLenientTries; try++ {
		if tag, err := language.Parse(s); err == nil {
			return tag, true
		}
		i := strings.LastIndexByte(s, '-')
		if i < 0 {
			break
		}
		s = s[:i]
	}
	return language.Tag{}, false
}
