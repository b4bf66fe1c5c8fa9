package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Problem is one thing wrong with a configuration.
type Problem struct {
	// Key is the dotted key path, such as "pin.digits" or
	// "console.agents[1].name"; it is empty for a problem with the file as a
	// whole, such as a YAML syntax error.
	Key string
	// Message says what is wrong and what is allowed. It never contains the
	// value of a secret.
	Message string
	// Line is the line of the YAML file the problem was found on, or 0.
	Line int
	// Var is the ASSISTBOT_ environment variable the bad value came from, or "".
	Var string
}

// String formats the problem as "key: message", with the variable or the
// line when known: "ASSISTBOT_PIN_DIGITS (pin.digits): ..." or
// "pin.digits (line 3): ...".
func (p Problem) String() string {
	head := p.Key
	switch {
	case p.Var != "" && p.Key != "":
		head = p.Var + " (" + p.Key + ")"
	case p.Var != "":
		head = p.Var
	case p.Line > 0 && p.Key != "":
		head = fmt.Sprintf("%s (line %d)", p.Key, p.Line)
	case p.Line > 0:
		head = fmt.Sprintf("line %d", p.Line)
	}
	if head == "" {
		return p.Message
	}
	return head + ": " + p.Message
}

// Problems lists everything wrong with a configuration; it is the error
// returned by Validate and by Load.
type Problems []Problem

// Error joins the problems one per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Keys returns the key of every problem, in order.
func (ps Problems) Keys() []string {
	keys := make([]string, len(ps))
	for i, p := range ps {
		keys[i] = p.Key
	}
	return keys
}

// checker collects validation problems for one Config.
type checker struct {
	refs map[string][]varRef
	vars map[string]string // the ASSISTBOT_ variable each value came from
	ps   Problems
}

// add records a problem for key, adding where an empty value came from,
// and the variable that set it.
func (k *checker) add(key, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if note := refNote(k.refs[key]); note != "" {
		msg += " " + note
	}
	k.ps = append(k.ps, Problem{Key: key, Message: msg, Var: k.vars[key]})
}

// oneOf checks that v is one of allowed.
func (k *checker) oneOf(key, v string, allowed ...string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	if v == "" {
		k.add(key, "is required; use %s", orList(allowed))
	} else {
		k.add(key, "%q is not allowed; use %s", v, orList(allowed))
	}
	return false
}

// required checks that v is set; it never prints v.
func (k *checker) required(key, v, why string) bool {
	if strings.TrimSpace(v) != "" {
		return true
	}
	if why != "" {
		why = " " + why
	}
	k.add(key, "is required%s", why)
	return false
}

// duration checks that d is within [lo, hi].
func (k *checker) duration(key string, d, lo, hi time.Duration) {
	if d < lo || d > hi {
		k.add(key, "must be between %s and %s (got %s)", fmtDuration(lo), fmtDuration(hi), fmtDuration(d))
	}
}

// hostPort checks a listen address such as ":8080" or "127.0.0.1:8080".
func (k *checker) hostPort(key, v string) {
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		k.add(key, "%q is not host:port, such as \":8080\" or \"127.0.0.1:8080\"", v)
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		k.add(key, "port %q in %q must be a number from 0 to 65535", port, v)
	}
}

// httpURL checks that v is an absolute http or https URL with a host and
// returns the parsed URL, or nil after recording a problem. what names
// the expected URL in messages; show tells whether v may be quoted.
func (k *checker) httpURL(key, v, what string, show bool) *url.URL {
	u, err := url.Parse(v)
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Hostname() != "" {
		return u
	}
	switch {
	case v == "":
		k.add(key, "is required; it must be %s", what)
	case show:
		k.add(key, "%q is not %s", v, what)
	default:
		k.add(key, "is not %s", what)
	}
	return nil
}

func orList(items []string) string {
	switch len(items) {
	case 0:
		return "nothing"
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

// fmtDuration prints a duration without trailing zero units: 10m, 1h30m, 15s.
func fmtDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Check returns every problem of a configuration in one list: those that
// Load (or LoadFile) reported in loadErr, then those Validate finds in c,
// the configuration Load returned with them. It returns loadErr itself
// when that is not a list of problems (the file could not be read), and
// nil when there is nothing wrong.
func Check(c *Config, loadErr error) error {
	var ps Problems
	if loadErr != nil && !errors.As(loadErr, &ps) {
		return loadErr
	}
	ps = append(Problems(nil), ps...)
	if c != nil {
		var vs Problems
		if errors.As(c.Validate(), &vs) {
			ps = append(ps, vs...)
		}
	}
	if len(ps) == 0 {
		return nil
	}
	return ps
}

// Require reports each key among keys whose text value is empty, saying
// why it is needed and, for a value that came from an unset environment
// variable, which one: "discord.token: is required to register commands
// (it comes from ${DISCORD_BOT_TOKEN}, which is not set)". It returns nil
// when every key has a value.
func (c *Config) Require(why string, keys ...string) error {
	k := &checker{refs: c.liveRefs(), vars: c.liveVars()}
	values := map[string]string{}
	eachString(reflect.ValueOf(c).Elem(), "", func(path string, v reflect.Value) { values[path] = v.String() })
	for _, key := range keys {
		k.required(key, values[key], why)
	}
	if len(k.ps) == 0 {
		return nil
	}
	return k.ps
}
