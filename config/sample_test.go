package config

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

const samplePath = "../deploy/assistbot.sample.yaml"

func readSample(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(samplePath)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sampleEnvs are the environments the sample is checked under: none at
// all, and one that provides every variable the sample refers to.
func sampleEnvs() map[string]map[string]string {
	return map[string]map[string]string{
		"empty environment": nil,
		"referenced variables set": {
			"ASSISTBOT_API_TOKEN":  "0123456789abcdef0123456789abcdef",
			"SLACK_BOT_TOKEN":      "xoxb-1",
			"SLACK_SIGNING_SECRET": "signing",
			"SLACK_APP_TOKEN":      "xapp-1",
			"DISCORD_BOT_TOKEN":    "discord",
			"TWILIO_ACCOUNT_SID":   "AC0123456789abcdef0123456789abcdef",
			"TWILIO_AUTH_TOKEN":    "twilio",
			"LOGMEIN_AUTHCODE":     "logmein",
			"TURN_PASSWORD":        "turn",
			"CRM_WEBHOOK_SECRET":   "0123456789abcdef0123456789abcdef",
		},
	}
}

// TestSampleIsValidAndDefault loads the sample as written: it must
// validate, and since it states every default, equal no file at all.
func TestSampleIsValidAndDefault(t *testing.T) {
	sample := readSample(t)
	for name, vars := range sampleEnvs() {
		t.Run(name, func(t *testing.T) {
			c, err := Load(strings.NewReader(sample), env(vars))
			if err != nil {
				t.Fatalf("Load(sample) = %v", err)
			}
			if err := c.Validate(); err != nil {
				t.Fatalf("sample does not validate:\n%v", err)
			}
			d, err := Load(nil, env(vars))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(d, c, cmpConfig()); diff != "" {
				t.Errorf("sample differs from the defaults (-defaults +sample):\n%s", diff)
			}
		})
	}
}

// uncommentExamples replaces each commented "# Example:" block of the
// sample, and the key line right after it, with the example itself. Example
// lines are written "<indent>#   <yaml>" under an "<indent># Example:" line.
func uncommentExamples(src string) (string, int) {
	lines := strings.Split(src, "\n")
	var out []string
	n := 0
	for i := 0; i < len(lines); i++ {
		trimmed := strings.TrimLeft(lines[i], " ")
		if trimmed != "# Example:" {
			out = append(out, lines[i])
			continue
		}
		ind := lines[i][:len(lines[i])-len(trimmed)]
		var block []string
		j := i + 1
		for ; j < len(lines) && strings.HasPrefix(lines[j], ind+"#   "); j++ {
			block = append(block, ind+strings.TrimPrefix(lines[j], ind+"#   "))
		}
		if len(block) > 0 {
			key, _, _ := strings.Cut(strings.TrimSpace(block[0]), ":")
			if j < len(lines) && strings.HasPrefix(lines[j], ind+key+":") {
				j++
			}
			n++
		}
		out = append(out, block...)
		i = j - 1
	}
	return strings.Join(out, "\n"), n
}

// TestSampleExamplesAreValid loads the sample with its commented examples
// switched on.
func TestSampleExamplesAreValid(t *testing.T) {
	variant, n := uncommentExamples(readSample(t))
	if n != 3 {
		t.Fatalf("found %d examples; want 3 (console.agents, webrtc.ice_servers, webhooks)", n)
	}
	c, err := Load(strings.NewReader(variant), env(sampleEnvs()["referenced variables set"]))
	if err != nil {
		t.Fatalf("Load(sample with examples) = %v\n%s", err, variant)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("sample examples do not validate:\n%v", err)
	}
	if len(c.Console.Agents) == 0 || len(c.WebRTC.ICEServers) == 0 || len(c.Webhooks) == 0 {
		t.Errorf("examples not loaded: agents %v, ice servers %v", c.Console.Agents, c.WebRTC.ICEServers)
	}
}

// samplePaths returns the key paths present in a YAML document, with list
// elements written "[]".
func samplePaths(t *testing.T, src string) map[string]*yaml.Node {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]*yaml.Node{}
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, prefix)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				p := joinPath(prefix, n.Content[i].Value)
				out[p] = n.Content[i]
				walk(n.Content[i+1], p)
			}
		case yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, prefix+"[]")
			}
		}
	}
	walk(&doc, "")
	return out
}

// TestSampleHasEveryKey makes sure the sample never falls behind the
// schema: every key of Config appears in it (keys inside lists of mappings
// in the commented examples), each with a comment above it.
func TestSampleHasEveryKey(t *testing.T) {
	sample := readSample(t)
	written := samplePaths(t, sample)
	variant, _ := uncommentExamples(sample)
	withExamples := samplePaths(t, variant)
	for _, k := range Keys() {
		if _, ok := withExamples[k.Path]; !ok {
			t.Errorf("key %s is missing from %s", k.Path, samplePath)
		}
		if n, ok := written[k.Path]; ok && strings.TrimSpace(n.HeadComment) == "" {
			t.Errorf("key %s (line %d) has no comment above it", k.Path, n.Line)
		}
	}
	known := map[string]bool{}
	for _, k := range Keys() {
		known[k.Path] = true
	}
	for p := range withExamples {
		if !known[p] {
			t.Errorf("sample has key %s, which is not in the schema", p)
		}
	}
}

// TestSampleEnvNames checks that every ASSISTBOT_ variable the sample
// mentions exists.
func TestSampleEnvNames(t *testing.T) {
	names := []string{"ASSISTBOT_CONFIG", "ASSISTBOT_CI", "ASSISTBOT_API_TOKEN"}
	for _, k := range Keys() {
		if k.Env != "" {
			names = append(names, k.Env)
		}
	}
	for _, m := range regexp.MustCompile(`ASSISTBOT_[A-Z0-9_]*[A-Z0-9]`).FindAllString(readSample(t), -1) {
		if !slices.Contains(names, m) {
			t.Errorf("sample mentions %s, which names no key", m)
		}
	}
}
