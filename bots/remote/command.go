package remote

import (
	"strings"
	"unicode"
)

// Command is a parsed /remote command line.
type Command struct {
	// Help asks for the help text.
	Help bool
	// Target is who the customer is, as typed: a platform mention
	// ("<@U0123>"), a phone number, or "" for "the customer of this
	// conversation". The adapter resolves mentions.
	Target string
	// Phone reports that Target looks like a phone number.
	Phone bool
	// Device is "desktop" or "mobile" when the agent named one.
	Device string
}

// ParseCommand reads the text after the command name. It accepts "",
// "help", a mention or a phone number, optionally followed by "desktop"
// or "mobile". Anything else is ok=false: the adapter answers with the
// usage text.
func ParseCommand(text string) (c Command, ok bool) {
	fields := strings.Fields(text)
	if len(fields) == 0 {
		return c, true
	}
	if len(fields) == 1 && strings.EqualFold(fields[0], "help") {
		return Command{Help: true}, true
	}
	if last := strings.ToLower(fields[len(fields)-1]); last == "desktop" || last == "mobile" {
		c.Device, fields = last, fields[:len(fields)-1]
	}
	if len(fields) == 0 {
		return c, true
	}
	target := strings.Join(fields, " ")
	switch {
	case LooksLikePhone(target):
		c.Target, c.Phone = target, true
	case len(fields) == 1 && isMention(target):
		c.Target = target
	default:
		return Command{}, false
	}
	return c, true
}

// LooksLikePhone reports whether s is written like a phone number: an
// optional leading +, then 7 to 15 digits with spaces, dots, dashes or
// parentheses between them. Whether the number can exist is for
// libphonenumber to say.
func LooksLikePhone(s string) bool {
	s = strings.TrimPrefix(strings.TrimSpace(s), "+")
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return false
		}
	}
	return digits >= 7 && digits <= 15
}

// isMention reports whether s is a platform mention: "<@U0123>",
// "<@U0123|pat>", "<@!123>" or "@pat".
func isMention(s string) bool {
	switch {
	case strings.HasPrefix(s, "<@") && strings.HasSuffix(s, ">") && len(s) > 3:
		return true
	case strings.HasPrefix(s, "@") && len(s) > 1:
		return strings.IndexFunc(s[1:], unicode.IsSpace) < 0
	}
	return false
}
