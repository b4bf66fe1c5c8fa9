package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// ScriptPageCSP is the Content-Security-Policy of pages that run a script
// of their own (the console, the web chat): they load their own script,
// stylesheet and event stream and nothing else. Strings for a script
// travel in a JSON data block, which is not executed, so no inline script
// is needed.
const ScriptPageCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

// CSRFHeader carries the CSRF token of the fetches that assistbot's pages'
// scripts make; plain forms carry it in their csrf field.
const CSRFHeader = "X-CSRF-Token"

// Private wraps h so that its answers carry the headers of a page meant
// for one person: nothing caches it, no Referer carries its URL (which
// may hold a PIN) elsewhere, browsers do not guess its type, and csp is
// its Content-Security-Policy.
func Private(csp string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Cache-Control", "no-store")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Content-Security-Policy", csp)
		h.ServeHTTP(w, r)
	})
}

// Unframed wraps h so that browsers too old for the CSP's frame-ancestors
// never show its answers in a frame either.
func Unframed(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Frame-Options", "DENY")
		h.ServeHTTP(w, r)
	})
}

// SecureCookies reports whether cookies must be Secure: the public URL
// is https.
func SecureCookies(publicURL string) bool {
	return strings.HasPrefix(strings.ToLower(publicURL), "https://")
}

// CrossOrigin returns the protection that refuses state-changing requests
// sent from other sites (by their Sec-Fetch-Site or Origin header). The
// public URL's origin is trusted too: behind a proxy that rewrites Host,
// an older browser's Origin is the public URL's, not the request's host.
func CrossOrigin(publicURL string) (*http.CrossOriginProtection, error) {
	cop := http.NewCrossOriginProtection()
	if u, err := url.Parse(publicURL); err == nil && u.Scheme != "" && u.Host != "" {
		if err := cop.AddTrustedOrigin(u.Scheme + "://" + u.Host); err != nil {
			return nil, fmt.Errorf("public url: %w", err)
		}
	}
	return cop, nil
}

// Fetched reports whether r came from a page's script, which sends its
// CSRF token in CSRFHeader, rather than from a plain form.
func Fetched(r *http.Request) bool { return r.Header.Get(CSRFHeader) != "" }

// WantsJSON reports whether r came from a script (a fetch or an event
// stream) rather than from a page the browser shows.
func WantsJSON(r *http.Request) bool {
	a := r.Header.Get("Accept")
	return Fetched(r) || strings.Contains(a, "application/json") || strings.Contains(a, "text/event-stream")
}
