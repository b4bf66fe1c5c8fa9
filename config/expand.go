package config

import (
	"fmt"
	"reflect"
	"strings"
)

// varRef is a ${NAME} reference whose expansion was empty.
type varRef struct {
	Name string
	Set  bool // the variable was set, to the empty string
}

// expand replaces every ${NAME} in s (NAME = [A-Za-z_][A-Za-z0-9_]*) with
// the variable's value; an unset variable expands to "". Anything else,
// including a bare "$" and "$NAME", is kept exactly as written. It returns
// the result, the references that expanded to "", and whether s contained
// any reference at all.
func expand(s string, getenv func(string) (string, bool)) (string, []varRef, bool) {
	if !strings.Contains(s, "${") {
		return s, nil, false
	}
	var b strings.Builder
	var empty []varRef
	found := false
	for i := 0; i < len(s); {
		name, n := refAt(s, i)
		if n == 0 {
			b.WriteByte(s[i])
			i++
			continue
		}
		found = true
		var v string
		var ok bool
		if getenv != nil {
			v, ok = getenv(name)
		}
		if v == "" {
			empty = append(empty, varRef{Name: name, Set: ok})
		}
		b.WriteString(v)
		i += n
	}
	return b.String(), empty, found
}

// refAt reports the variable name and length of a ${NAME} reference
// starting at s[i], or a zero length when there is none.
func refAt(s string, i int) (string, int) {
	if !strings.HasPrefix(s[i:], "${") {
		return "", 0
	}
	j := i + 2
	for j < len(s) && isNameByte(s[j], j == i+2) {
		j++
	}
	if j == i+2 || j >= len(s) || s[j] != '}' {
		return "", 0
	}
	return s[i+2 : j], j + 1 - i
}

func isNameByte(c byte, first bool) bool {
	switch {
	case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		return true
	case c >= '0' && c <= '9':
		return !first
	}
	return false
}

// refNote explains, for a validation message, which empty variables a
// value came from, e.g. "(it comes from ${X}, which is not set)".
func refNote(refs []varRef) string {
	if len(refs) == 0 {
		return ""
	}
	parts := make([]string, len(refs))
	for i, r := range refs {
		state := "which is not set"
		if r.Set {
			state = "which is set but empty"
		}
		parts[i] = fmt.Sprintf("${%s}, %s", r.Name, state)
	}
	return "(it comes from " + strings.Join(parts, "; ") + ")"
}

// setRefs records the empty references of the value at path, replacing
// whatever was recorded for it before.
func (l *loader) setRefs(path string, refs []varRef) {
	l.clearRefs(path)
	if len(refs) > 0 {
		l.refs[path] = refs
	}
}

// clearRefs forgets the references recorded for path and everything under it.
func (l *loader) clearRefs(path string) {
	for k := range l.refs {
		if k == path || strings.HasPrefix(k, path+".") || strings.HasPrefix(k, path+"[") {
			delete(l.refs, k)
		}
	}
}

// expandStruct expands the ${VAR} references in every string of c (used
// for the defaults), recording the empty ones by key path.
func (l *loader) expandStruct(c *Config) {
	eachString(reflect.ValueOf(c).Elem(), "", func(path string, v reflect.Value) {
		s, refs, changed := expand(v.String(), l.getenv)
		if changed {
			v.SetString(s)
			l.setRefs(path, refs)
		}
	})
}

// origin is where a loaded text value came from: the value as loaded and
// the references in it that expanded to "".
type origin struct {
	value string
	empty []varRef
}

// origins pairs the recorded empty references with the final values of c.
func (l *loader) origins(c *Config) map[string]origin {
	out := map[string]origin{}
	eachString(reflect.ValueOf(c).Elem(), "", func(path string, v reflect.Value) {
		if r, ok := l.refs[path]; ok {
			out[path] = origin{value: v.String(), empty: r}
		}
	})
	return out
}

// liveRefs returns the empty references of the values of c that are still
// as loaded; a value changed since (by the caller) has no known origin.
func (c *Config) liveRefs() map[string][]varRef {
	out := map[string][]varRef{}
	eachString(reflect.ValueOf(c).Elem(), "", func(path string, v reflect.Value) {
		if o, ok := c.refs[path]; ok && o.value == v.String() {
			out[path] = o.empty
		}
	})
	return out
}

// eachString calls fn with the key path and value of every string under v,
// including the elements of lists.
func eachString(v reflect.Value, path string, fn func(string, reflect.Value)) {
	switch v.Kind() {
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			if name, ok := yamlName(t.Field(i)); ok {
				eachString(v.Field(i), joinPath(path, name), fn)
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			eachString(v.Index(i), fmt.Sprintf("%s[%d]", path, i), fn)
		}
	case reflect.String:
		fn(path, v)
	}
}
