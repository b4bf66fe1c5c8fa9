package webtest

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// PageCSP is the Content-Security-Policy of the console's and the chat's
// pages,
// written out so that a source added to it fails the test.
const PageCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

// cspSourcesAllowed are the only sources a console or chat page may name:
// its own origin, nothing, and data: images.
var cspSourcesAllowed = map[string]bool{"'self'": true, "'none'": true, "data:": true}

// CheckPageHeaders fails the test unless resp carries the headers that
// keep a console or chat page uncached, unframed, without a Referer, and
// loading nothing from anywhere else.
func CheckPageHeaders(t *testing.T, what string, resp *http.Response) {
	t.Helper()
	for name, want := range map[string]string{
		"Content-Security-Policy": PageCSP,
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "no-referrer",
		"Cache-Control":           "no-store",
		"X-Content-Type-Options":  "nosniff",
	} {
		if got := resp.Header.Values(name); len(got) != 1 || got[0] != want {
			t.Errorf("%s: %s = %q, want %q", what, name, got, want)
		}
	}
	// Whatever the exact words, no directive may name another origin, a
	// scheme that loads from anywhere, or allow inline code.
	directives := map[string][]string{}
	for _, d := range strings.Split(resp.Header.Get("Content-Security-Policy"), ";") {
		f := strings.Fields(d)
		if len(f) == 0 {
			continue
		}
		directives[f[0]] = f[1:]
		for _, src := range f[1:] {
			if !cspSourcesAllowed[src] {
				t.Errorf("%s: the CSP's %s allows %s", what, f[0], src)
			}
		}
	}
	for name, want := range map[string]string{"default-src": "'self'", "script-src": "'self'", "frame-ancestors": "'none'", "object-src": "'none'", "base-uri": "'none'"} {
		if got := strings.Join(directives[name], " "); got != want {
			t.Errorf("%s: the CSP's %s is %q, want %q", what, name, got, want)
		}
	}
}

var (
	// inlineScriptRE finds script elements; the pages may only have ones
	// with a src on their own origin and JSON data blocks.
	inlineScriptRE = regexp.MustCompile(`<script\b[^>]*>`)
	// loadedRE finds the URLs a page loads (src, and href of a stylesheet).
	loadedRE = regexp.MustCompile(`<(?:(?:script|img|iframe)\b|link rel="stylesheet")[^>]*?\b(?:src|href)="([^"]*)"`)
)

// CheckOwnSources fails the test if a page needs more than its CSP allows:
// an inline script or style, or anything loaded from another origin.
func CheckOwnSources(t *testing.T, what, page string) {
	t.Helper()
	for _, tag := range inlineScriptRE.FindAllString(page, -1) {
		if !strings.Contains(tag, ` src="/assets/`) && !strings.Contains(tag, `type="application/json"`) {
			t.Errorf("%s: a script the CSP would block: %s", what, tag)
		}
	}
	loaded := loadedRE.FindAllStringSubmatch(page, -1)
	if len(loaded) == 0 {
		t.Errorf("%s: loads no stylesheet or script; the check is out of date", what)
	}
	for _, m := range loaded {
		if !strings.HasPrefix(m[1], "/") || strings.HasPrefix(m[1], "//") {
			t.Errorf("%s: loads %q from elsewhere", what, m[1])
		}
	}
	if strings.Contains(page, " style=") || strings.Contains(page, "<style") {
		t.Errorf("%s: an inline style the CSP would block", what)
	}
}
