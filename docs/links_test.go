// Package docs holds assistbot's documentation pages; its test keeps the
// links between them, and from README.md, pointing somewhere.
package docs

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// link is a Markdown link or image: [text](target) or ![alt](target).
var link = regexp.MustCompile(`!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)

// inlineCode is a `code span`, whose brackets are not links.
var inlineCode = regexp.MustCompile("`[^`]*`")

// TestRelativeLinks checks that every relative link in README.md and
// docs/*.md names a file that exists and, with a #fragment, a heading of
// that file as GitHub makes its anchor.
func TestRelativeLinks(t *testing.T) {
	pages, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	pages = append(pages, filepath.Join("..", "README.md"))
	if len(pages) < 2 {
		t.Fatalf("found only %v: run the test from the docs directory", pages)
	}
	checked := 0
	for _, page := range pages {
		for _, l := range links(t, page) {
			target, fragment, _ := strings.Cut(l.target, "#")
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file := page
			if target != "" {
				file = filepath.Join(filepath.Dir(page), filepath.FromSlash(target))
			}
			checked++
			if _, err := os.Stat(file); err != nil {
				t.Errorf("%s:%d: %s: no such file %s", page, l.line, l.target, file)
				continue
			}
			if fragment == "" {
				continue
			}
			if !strings.HasSuffix(file, ".md") {
				t.Errorf("%s:%d: %s: a #fragment on a file that is not Markdown", page, l.line, l.target)
				continue
			}
			if !anchors(t, file)[fragment] {
				t.Errorf("%s:%d: %s: %s has no heading whose anchor is #%s", page, l.line, l.target, file, fragment)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no relative link found: the test reads nothing")
	}
}

type found struct {
	target string
	line   int
}

// links returns the links of a Markdown file outside code blocks and code
// spans.
func links(t *testing.T, path string) []found {
	var out []found
	code := false
	for i, line := range lines(t, path) {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			code = !code
			continue
		}
		if code {
			continue
		}
		for _, m := range link.FindAllStringSubmatch(inlineCode.ReplaceAllString(line, ""), -1) {
			out = append(out, found{target: m[1], line: i + 1})
		}
	}
	return out
}

// anchors returns the anchors GitHub gives the headings of a Markdown
// file: lower case, punctuation dropped, spaces as hyphens, and -1, -2 …
// after a repeated one.
func anchors(t *testing.T, path string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	code := false
	for _, line := range lines(t, path) {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			code = !code
			continue
		}
		if code || !strings.HasPrefix(line, "#") {
			continue
		}
		text := strings.TrimSpace(strings.TrimLeft(line, "#"))
		a := slug(text)
		if n := seen[a]; n > 0 {
			out[fmt.Sprintf("%s-%d", a, n)] = true
		} else {
			out[a] = true
		}
		seen[a]++
	}
	return out
}

func slug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

func lines(t *testing.T, path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(string(b), "\n")
}
