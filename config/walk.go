package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The node walk: before decoding, every node of the YAML tree is checked
// against the Config type, so that unknown keys, duplicate keys and values
// of the wrong type are reported with their full key path and line, all of
// them at once; ${VAR} references in scalars are expanded on the way. What
// is reported is taken out of the tree (a bad value keeps its default), so
// that the rest still decodes and validation can report its own problems
// in the same run.

// deref follows aliases and spends the node budget; it returns nil when
// the node is unusable.
func (l *loader) deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil {
		return nil
	}
	l.budget--
	if l.budget == 0 {
		l.addAt("", n, fmt.Sprintf("the file has more than %d values (counting aliases); refusing to go on", maxNodes))
	}
	if l.budget <= 0 {
		return nil
	}
	return n
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// walk checks node n against type t at key path, expanding ${VAR}
// references in its scalars and recording problems.
func (l *loader) walk(n *yaml.Node, t reflect.Type, path string) {
	if n = l.deref(n); n == nil {
		return
	}
	switch {
	case t.Kind() == reflect.Struct && t != durationType:
		l.mapping(n, t, path)
	case t.Kind() == reflect.Slice:
		l.sequence(n, t, path)
	default:
		l.scalar(n, t, path)
	}
}

func (l *loader) mapping(n *yaml.Node, t reflect.Type, path string) {
	if isNull(n) {
		return // an empty section keeps its defaults
	}
	if n.Kind != yaml.MappingNode {
		msg := fmt.Sprintf("must be a mapping of keys (%s), not %s", keyNames(t), describeNode(n))
		if path == "" {
			msg = fmt.Sprintf("the file must be a mapping of sections (%s), not %s", keyNames(t), describeNode(n))
		}
		l.addAt(path, n, msg)
		drop(n)
		return
	}
	seen := map[string]int{}
	kept := n.Content[:0:0]
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			l.merge(v, t, path)
			kept = append(kept, k, v)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			l.addAt(path, k, "keys must be plain names, not "+describeNode(k))
			continue
		}
		key := joinPath(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			l.addAt(key, k, fmt.Sprintf("is given twice (first on line %d)", first))
			continue
		}
		seen[k.Value] = k.Line
		f, ok := fieldByKey(t, k.Value)
		if !ok {
			where := path
			if where == "" {
				where = "the top level"
			}
			l.addAt(key, k, fmt.Sprintf("unknown key; %s accepts %s", where, keyNames(t)))
			continue
		}
		l.walk(v, f.Type, key)
		kept = append(kept, k, v)
	}
	n.Content = kept
}

// drop turns a value that was reported into an empty one, which keeps the
// key's default when the rest of the tree is decoded.
func drop(n *yaml.Node) {
	*n = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line, Column: n.Column}
}

// merge handles a "<<: *anchor" merge key inside a mapping of type t.
func (l *loader) merge(v *yaml.Node, t reflect.Type, path string) {
	if v = l.deref(v); v == nil {
		return
	}
	if v.Kind == yaml.SequenceNode {
		for _, e := range v.Content {
			l.merge(e, t, path)
		}
		return
	}
	l.mapping(v, t, path)
}

func (l *loader) sequence(n *yaml.Node, t reflect.Type, path string) {
	if isNull(n) {
		l.clearRefs(path) // an empty value empties the list
		return
	}
	if n.Kind != yaml.SequenceNode {
		l.addAt(path, n, fmt.Sprintf("must be a list such as [a, b], not %s", describeNode(n)))
		drop(n)
		return
	}
	l.clearRefs(path)
	for i, e := range n.Content {
		l.walk(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
	}
}

const quoted = yaml.SingleQuotedStyle | yaml.DoubleQuotedStyle | yaml.LiteralStyle | yaml.FoldedStyle

func (l *loader) scalar(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.ScalarNode {
		l.addAt(path, n, fmt.Sprintf("must be %s, not %s", describeType(t), describeNode(n)))
		drop(n)
		return
	}
	if _, ok := l.lines[n.Line]; !ok {
		l.lines[n.Line] = path
	}
	x, ok := l.done[n]
	if !ok {
		var v string
		v, x.refs, x.changed = expand(n.Value, l.getenv)
		if x.changed {
			n.Value = v
			switch {
			case n.Style&yaml.TaggedStyle != 0:
			case t.Kind() == reflect.String:
				n.Tag = "!!str" // keep "null", "~", "yes"... as text
			default:
				// Re-resolve, so that ${PIN_DIGITS} can be a number. A
				// quoted reference is re-resolved too: the field is not
				// text, so a string could never have been used as is.
				n.Tag = ""
				n.Style &^= quoted
			}
		}
		l.done[n] = x
	}
	if !x.changed && isNull(n) {
		return // an empty value keeps the default
	}
	l.setRefs(path, x.refs)
	if t.Kind() == reflect.String {
		return // any scalar is acceptable text
	}
	if !x.changed && n.Style&quoted != 0 && n.Style&yaml.TaggedStyle == 0 {
		// enabled: "true", digits: "8", as charts that quote every value
		// write them: the field is not text, so the quotes cannot mean
		// one. Read as if unquoted, as a quoted reference is.
		n.Tag = ""
		n.Style &^= quoted
	}
	if x.changed && strings.TrimSpace(n.Value) == "" {
		msg := "is empty; it must be " + describeType(t)
		if note := refNote(x.refs); note != "" {
			msg += " " + note
		}
		l.addAt(path, n, msg)
		drop(n)
		return
	}
	if err := n.Decode(reflect.New(t).Interface()); err != nil || (t.Kind() == reflect.Int && isFraction(n)) {
		l.addAt(path, n, cannotUse(n.Value, t))
		drop(n)
	}
}

// isFraction reports whether n holds a floating-point number, which yaml
// would silently truncate when decoding it into an int.
func isFraction(n *yaml.Node) bool {
	var v any
	if err := n.Decode(&v); err != nil {
		return false
	}
	_, ok := v.(float64)
	return ok
}

func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return "a single value"
}

func describeType(t reflect.Type) string {
	switch {
	case t == durationType:
		return "a duration such as 15s, 20m or 1h30m"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() == reflect.Int:
		return "a whole number"
	case t.Kind() == reflect.Float64:
		return "a number"
	case t.Kind() == reflect.Struct:
		return "a mapping of keys (" + keyNames(t) + ")"
	case t.Kind() == reflect.Slice:
		return "a list"
	}
	return "a single value"
}

// cannotUse explains why a scalar does not fit a non-text field; it is
// never used for secret (text) fields, so quoting the value is safe.
func cannotUse(v string, t reflect.Type) string {
	switch {
	case t == durationType:
		if _, err := strconv.Atoi(v); err == nil {
			return fmt.Sprintf("cannot use %q as a duration: add a unit, such as %ss or %sm", v, v, v)
		}
		return fmt.Sprintf("cannot use %q as a duration such as 15s, 20m or 1h30m", v)
	case t.Kind() == reflect.Int:
		if _, err := strconv.ParseFloat(v, 64); err == nil {
			return fmt.Sprintf("cannot use %q as a whole number", v)
		}
		return fmt.Sprintf("cannot use %q as a number", v)
	case t.Kind() == reflect.Bool:
		return fmt.Sprintf("cannot use %q as true or false", v)
	}
	return fmt.Sprintf("cannot use %q as %s", v, describeType(t))
}
