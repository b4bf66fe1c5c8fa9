package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// The environment overlay.
//
// Every value key and every list of values can be overridden by a variable
// named by EnvName: "ASSISTBOT_" + the key path upper-cased, with dots
// replaced by underscores (server.listen is ASSISTBOT_SERVER_LISTEN,
// webrtc.turn.enabled is ASSISTBOT_WEBRTC_TURN_ENABLED, locale is
// ASSISTBOT_LOCALE). The names are derived from the yaml tags by
// reflection; Keys lists them.
//
// Values are taken literally (no ${VAR} expansion). A variable that is set
// overrides the key even when it is empty. Booleans accept true/false,
// 1/0, t/f, yes/no and on/off; durations use Go syntax (30s, 5m, 1h30m);
// lists are comma-separated, with entries trimmed and empty entries
// dropped, so an empty variable empties the list.
//
// Lists of mappings (console.agents, webrtc.ice_servers) cannot be set this
// way. Variables that name no key, such as ASSISTBOT_CONFIG, ASSISTBOT_CI or
// ASSISTBOT_API_TOKEN (the variable that the default api.tokens entry
// refers to), are ignored: the overlay only looks up the names it knows.

// overlay applies the ASSISTBOT_* variables to c.
func (l *loader) overlay(c *Config) {
	if l.getenv == nil {
		return
	}
	root := reflect.ValueOf(c).Elem()
	for _, lf := range leaves() {
		raw, ok := l.getenv(lf.env)
		if !ok {
			continue
		}
		if msg := setFromEnv(root.FieldByIndex(lf.index), raw, lf.secret); msg != "" {
			l.problems = append(l.problems, Problem{Key: lf.path, Var: lf.env, Message: msg})
			continue
		}
		l.clearRefs(lf.path)
		l.setBy[lf.path] = lf
	}
}

// envOrigin is a value an ASSISTBOT_ variable set: the variable, the
// field, and the value as loaded.
type envOrigin struct {
	name  string
	index []int
	value string
}

// envOrigins records the values of c that the overlay set, as they stand
// once loaded.
func (l *loader) envOrigins(c *Config) map[string]envOrigin {
	out := map[string]envOrigin{}
	root := reflect.ValueOf(c).Elem()
	for path, lf := range l.setBy {
		out[path] = envOrigin{name: lf.env, index: lf.index, value: fmt.Sprint(root.FieldByIndex(lf.index).Interface())}
	}
	return out
}

// liveVars returns, by key path, the variable each value of c still as
// the overlay set it came from; a value changed since has no known
// origin.
func (c *Config) liveVars() map[string]string {
	out := map[string]string{}
	root := reflect.ValueOf(c).Elem()
	for path, o := range c.vars {
		if fmt.Sprint(root.FieldByIndex(o.index).Interface()) == o.value {
			out[path] = o.name
		}
	}
	return out
}

// setFromEnv parses raw into v and returns "" or a message saying why it
// cannot; the message quotes raw only when the field is not secret.
func setFromEnv(v reflect.Value, raw string, secret bool) string {
	quoted := strconv.Quote(raw)
	if secret {
		quoted = "the value"
	}
	s := strings.TrimSpace(raw)
	switch {
	case v.Type() == durationType:
		d, err := time.ParseDuration(s)
		if err != nil {
			if _, nerr := strconv.Atoi(s); nerr == nil {
				return fmt.Sprintf("%s is not a duration: add a unit, such as %ss or %sm", quoted, s, s)
			}
			return quoted + " is not a duration such as 30s, 5m or 1h30m"
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.String:
		v.SetString(raw)
	case v.Kind() == reflect.Bool:
		b, ok := parseBool(s)
		if !ok {
			return quoted + " is not true or false"
		}
		v.SetBool(b)
	case v.Kind() == reflect.Int:
		n, err := strconv.ParseInt(s, 10, 0)
		if err != nil {
			return quoted + " is not a whole number"
		}
		v.SetInt(n)
	case v.Kind() == reflect.Float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return quoted + " is not a number"
		}
		v.SetFloat(f)
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String:
		v.Set(reflect.ValueOf(splitList(raw)))
	case v.Kind() == reflect.Slice && v.Type().Elem() == durationType:
		var list []time.Duration
		for _, e := range splitList(raw) {
			d, err := time.ParseDuration(e)
			if err != nil {
				return strconv.Quote(e) + " in " + quoted + " is not a duration such as 30s, 5m or 1h30m"
			}
			list = append(list, d)
		}
		v.Set(reflect.ValueOf(list))
	default:
		return "cannot be set from the environment"
	}
	return ""
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "1", "t", "true", "y", "yes", "on":
		return true, true
	case "0", "f", "false", "n", "no", "off":
		return false, true
	}
	return false, false
}

// splitList splits a comma-separated list, trimming entries and dropping
// empty ones.
func splitList(s string) []string {
	out := []string{}
	for _, e := range strings.Split(s, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}
