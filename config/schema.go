package config

import (
	"reflect"
	"strings"
	"time"
)

// Key describes one key of the schema, derived from the Config type by
// reflection so that it can never drift from the YAML tags.
type Key struct {
	// Path is the dotted YAML key path, such as "pin.ttl"; elements of lists
	// of mappings are written "[]", as in "console.agents[].name".
	Path string
	// Env is the ASSISTBOT_ variable that overrides the key, or "" when the
	// key cannot be set from the environment (keys inside lists of mappings).
	Env string
	// Secret reports whether the key holds a secret (struct tag secret:"true").
	Secret bool
	// Section reports whether the key is a mapping of further keys rather than a value.
	Section bool
}

// Keys returns every key of the schema in file order, sections included.
func Keys() []Key {
	var out []Key
	walkType(reflect.TypeFor[Config](), "", true, &out)
	return out
}

// SecretKeys returns the paths of the keys that hold secrets, in file order.
func SecretKeys() []string {
	var out []string
	for _, k := range Keys() {
		if k.Secret {
			out = append(out, k.Path)
		}
	}
	return out
}

// EnvName returns the ASSISTBOT_ variable name for a dotted key path:
// "ASSISTBOT_" followed by the path upper-cased with dots replaced by
// underscores, e.g. webrtc.turn.enabled becomes ASSISTBOT_WEBRTC_TURN_ENABLED.
func EnvName(path string) string {
	return "ASSISTBOT_" + strings.ToUpper(strings.ReplaceAll(path, ".", "_"))
}

var durationType = reflect.TypeFor[time.Duration]()

// yamlName returns the YAML key of a struct field, or false when the field
// is not part of the schema (unexported or tagged "-").
func yamlName(f reflect.StructField) (string, bool) {
	if !f.IsExported() {
		return "", false
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" {
		return "", false
	}
	if name == "" {
		name = strings.ToLower(f.Name)
	}
	return name, true
}

func isSecret(f reflect.StructField) bool { return f.Tag.Get("secret") == "true" }

// isStructList reports whether t is a list of mappings, such as console.agents.
func isStructList(t reflect.Type) bool {
	return t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct
}

func joinPath(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// walkType appends the keys of struct type t under prefix. env reports
// whether the keys can be overridden from the environment.
func walkType(t reflect.Type, prefix string, env bool, out *[]Key) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, ok := yamlName(f)
		if !ok {
			continue
		}
		k := Key{Path: joinPath(prefix, name), Secret: isSecret(f)}
		switch {
		case f.Type.Kind() == reflect.Struct && f.Type != durationType:
			k.Section = true
			*out = append(*out, k)
			walkType(f.Type, k.Path, env, out)
		case isStructList(f.Type):
			k.Section = true
			*out = append(*out, k)
			walkType(f.Type.Elem(), k.Path+"[]", false, out)
		default:
			if env {
				k.Env = EnvName(k.Path)
			}
			*out = append(*out, k)
		}
	}
}

// leaf is a value field that the environment overlay can set.
type leaf struct {
	path   string
	env    string
	index  []int
	typ    reflect.Type
	secret bool
}

// leaves returns the environment-overridable value fields of Config.
func leaves() []leaf {
	var out []leaf
	collectLeaves(reflect.TypeFor[Config](), "", nil, &out)
	return out
}

func collectLeaves(t reflect.Type, prefix string, index []int, out *[]leaf) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, ok := yamlName(f)
		if !ok {
			continue
		}
		path := joinPath(prefix, name)
		idx := append(append([]int(nil), index...), i)
		switch {
		case f.Type.Kind() == reflect.Struct && f.Type != durationType:
			collectLeaves(f.Type, path, idx, out)
		case isStructList(f.Type):
			// Lists of mappings cannot be expressed as one variable.
		default:
			*out = append(*out, leaf{path: path, env: EnvName(path), index: idx, typ: f.Type, secret: isSecret(f)})
		}
	}
}

// fieldByKey finds the field of struct type t whose YAML key is name.
func fieldByKey(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if n, ok := yamlName(f); ok && n == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// keyNames lists the YAML keys of struct type t, for error messages.
func keyNames(t reflect.Type) string {
	var names []string
	for i := range t.NumField() {
		if n, ok := yamlName(t.Field(i)); ok {
			names = append(names, n)
		}
	}
	return strings.Join(names, ", ")
}
