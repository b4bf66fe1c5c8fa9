package slack

import (
	"strings"
)

// escape makes text safe to put in a Slack message: Slack reads &, < and >
// as control characters, so a customer's name or a sentence containing
// them would otherwise turn into links or vanish.
func escape(text string) string {
	if !strings.ContainsAny(text, "&<>") {
		return text
	}
	var b strings.Builder
	b.Grow(len(text) + 8)
	for i := 0; i < len(text); i++ {
		switch c := text[i]; c {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// plainText turns the text of a Slack message into what a person reads:
// links lose their brackets ("<https://x|docs>" becomes "docs
// (https://x)"), mentions keep their label, and &amp; &lt; &gt; are
// decoded. A customer reading an SMS must not see Slack's markup.
func plainText(text string) string {
	if !strings.ContainsAny(text, "<&") {
		return text
	}
	var b strings.Builder
	b.Grow(len(text))
	for len(text) > 0 {
		i := strings.IndexByte(text, '<')
		if i < 0 {
			b.WriteString(unescape(text))
			break
		}
		b.WriteString(unescape(text[:i]))
		j := strings.IndexByte(text[i:], '>')
		if j < 0 {
			b.WriteString(unescape(text[i:]))
			break
		}
		b.WriteString(linkText(text[i+1 : i+j]))
		text = text[i+j+1:]
	}
	return b.String()
}

// linkText renders the inside of a <...> token: "@U123|pat" is "@pat",
// "#C123|desk" is "#desk", "!here" is "@here", "url|label" is
// "label (url)" and a bare URL is itself.
func linkText(tok string) string {
	target, label, hasLabel := strings.Cut(tok, "|")
	target, label = unescape(target), unescape(label)
	switch {
	case strings.HasPrefix(target, "@"):
		if hasLabel && label != "" {
			return "@" + strings.TrimPrefix(label, "@")
		}
		return target
	case strings.HasPrefix(target, "#"):
		if hasLabel && label != "" {
			return "#" + strings.TrimPrefix(label, "#")
		}
		return target
	case strings.HasPrefix(target, "!"):
		if hasLabel && label != "" {
			return label
		}
		name, _, _ := strings.Cut(target[1:], "^")
		return "@" + name
	}
	target = strings.TrimPrefix(target, "mailto:")
	if hasLabel && label != "" && label != target {
		return label + " (" + target + ")"
	}
	return target
}

func unescape(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	return strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">").Replace(s)
}

// mention reads a Slack user mention as slash commands deliver it when
// escaping is on: "<@U0123ABC>" or "<@U0123ABC|pat>". It returns the user
// ID and the name, if Slack sent one.
func mention(s string) (id, name string, ok bool) {
	if !strings.HasPrefix(s, "<@") || !strings.HasSuffix(s, ">") {
		return "", "", false
	}
	id, name, _ = strings.Cut(s[2:len(s)-1], "|")
	if !validID(id, "UW") {
		return "", "", false
	}
	return id, strings.TrimSpace(name), true
}

// validID reports whether s looks like a Slack ID: a letter from
// prefixes, then upper-case letters and digits.
func validID(s, prefixes string) bool {
	if len(s) < 2 || len(s) > 32 || strings.IndexByte(prefixes, s[0]) < 0 {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}
