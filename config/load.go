package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

const (
	// maxFileSize bounds the configuration file read by Load.
	maxFileSize = 4 << 20
	// maxNodes bounds the YAML nodes visited, aliases included, so that a
	// file full of aliases cannot make loading explode.
	maxNodes = 20000
)

// loader carries the state of one Load: the environment, the empty
// ${VAR} references seen so far and the problems found.
type loader struct {
	getenv   func(string) (string, bool)
	refs     map[string][]varRef
	setBy    map[string]leaf // the keys the overlay set, with their variable
	problems Problems
	budget   int
	done     map[*yaml.Node]expansion
	lines    map[int]string
}

// expansion is the outcome of expanding one scalar node.
type expansion struct {
	refs    []varRef
	changed bool
}

func newLoader(getenv func(string) (string, bool)) *loader {
	return &loader{
		getenv: getenv,
		refs:   map[string][]varRef{},
		setBy:  map[string]leaf{},
		budget: maxNodes,
		done:   map[*yaml.Node]expansion{},
		lines:  map[int]string{},
	}
}

// Load reads a YAML configuration from r over the defaults, then applies
// the ASSISTBOT_* environment overlay, and returns the result without
// validating it (call Validate for that).
//
// Every scalar in the file (and every default) may contain ${NAME}
// references, expanded with getenv; an unset variable expands to "". A nil
// r or an empty file gives the defaults; a nil getenv is an empty
// environment. Unknown keys, values of the wrong type and bad environment
// values are reported together as a Problems error naming each key path;
// the configuration is then still returned, decoded from everything else
// (a bad value keeps its default), so that Validate can report the rest in
// the same run. Callers other than a checker should not use it.
func Load(r io.Reader, getenv func(string) (string, bool)) (*Config, error) {
	var data []byte
	if r != nil {
		var err error
		data, err = io.ReadAll(io.LimitReader(r, maxFileSize+1))
		if err != nil {
			return nil, fmt.Errorf("reading config: %w", err)
		}
		if len(data) > maxFileSize {
			return nil, fmt.Errorf("reading config: larger than %d MiB", maxFileSize>>20)
		}
	}
	l := newLoader(getenv)
	c := template()
	l.expandStruct(c)
	l.decode(data, c)
	l.overlay(c)
	c.normalize(l.refs)
	c.refs = l.origins(c)
	c.vars = l.envOrigins(c)
	if len(l.problems) > 0 {
		return c, l.problems
	}
	return c, nil
}

// LoadFile is Load for the file at path; errors name the path.
func LoadFile(path string, getenv func(string) (string, bool)) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading config file: %w", err)
	}
	defer f.Close()
	c, err := Load(f, getenv)
	if err != nil {
		return c, fmt.Errorf("config file %s: %w", path, err)
	}
	return c, nil
}

// normalize applies the canonical forms that the rest of assistbot relies
// on, keeping refs (empty references by key path) in step.
func (c *Config) normalize(refs map[string][]varRef) {
	c.Server.PublicURL = strings.TrimRight(c.Server.PublicURL, "/")
	c.Slack.APIURL = withSlash(c.Slack.APIURL)
	c.Discord.APIURL = withSlash(c.Discord.APIURL)
	c.LogMeIn.APIURL = withSlash(c.LogMeIn.APIURL)
	// Drop empty API tokens (an unset ${ASSISTBOT_API_TOKEN} means no
	// token), renumbering the remembered references of the others.
	var tokens []string
	moved := map[string][]varRef{}
	for i, t := range c.API.Tokens {
		old := fmt.Sprintf("api.tokens[%d]", i)
		if t = strings.TrimSpace(t); t != "" {
			if r, ok := refs[old]; ok {
				moved[fmt.Sprintf("api.tokens[%d]", len(tokens))] = r
			}
			tokens = append(tokens, t)
		}
		delete(refs, old)
	}
	for k, r := range moved {
		refs[k] = r
	}
	c.API.Tokens = tokens
}

func withSlash(s string) string {
	if s == "" || strings.HasSuffix(s, "/") {
		return s
	}
	return s + "/"
}

// decode parses data, checks and expands it node by node against the
// Config type, and decodes it over c.
func (l *loader) decode(data []byte, c *Config) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if !errors.Is(err, io.EOF) {
			l.syntax(err)
		}
		return
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		l.problems = append(l.problems, Problem{Line: extra.Line,
			Message: "the file holds a second YAML document (after ---); keep all settings in one"})
		return
	} else if !errors.Is(err, io.EOF) {
		l.syntax(err)
		return
	}
	root := &doc
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return
		}
		root = doc.Content[0]
	}
	l.walk(root, reflect.TypeFor[Config](), "")
	if err := root.Decode(c); err != nil {
		l.decodeError(err)
	}
}

var lineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// syntax records a YAML syntax error, naming its line.
func (l *loader) syntax(err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	p := Problem{Message: "invalid YAML: " + msg}
	if m := lineRE.FindStringSubmatch(err.Error()); m != nil {
		p.Line, _ = strconv.Atoi(m[1])
		p.Message = "invalid YAML: " + m[2]
	}
	l.problems = append(l.problems, p)
}

// decodeError maps the errors of the final decode, which the node walk
// should already have caught, back to key paths through their lines.
func (l *loader) decodeError(err error) {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		l.problems = append(l.problems, Problem{Message: strings.TrimPrefix(err.Error(), "yaml: ")})
		return
	}
	for _, e := range te.Errors {
		p := Problem{Message: e}
		if m := lineRE.FindStringSubmatch(e); m != nil {
			p.Line, _ = strconv.Atoi(m[1])
			p.Key, p.Message = l.lines[p.Line], m[2]
		}
		l.problems = append(l.problems, p)
	}
}

func (l *loader) addAt(path string, n *yaml.Node, msg string) {
	l.problems = append(l.problems, Problem{Key: path, Line: n.Line, Message: msg})
}
