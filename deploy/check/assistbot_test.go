package check

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// repoRoot is the repository's root, relative to this package.
const repoRoot = "../.."

// dummyHash is a syntactically valid argon2id hash, for ADMIN_PASSWORD_HASH.
// Its "$" signs also show that nothing on the way expands them.
const dummyHash = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"

// assistbotBin is the assistbot binary TestMain builds from the main module.
var assistbotBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "assistbot-deploy-check-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	assistbotBin = filepath.Join(dir, "assistbot")
	build := exec.Command("go", "build", "-o", assistbotBin, "./cmd/assistbot")
	build.Dir = repoRoot
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building assistbot for `config check`: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// configCheck runs `assistbot config check --config file` with exactly env
// (NAME=value entries) as its environment, as assistbot would see it in
// its container, and returns its combined output and whether it passed.
func configCheck(t *testing.T, file string, env []string) (string, bool) {
	t.Helper()
	cmd := exec.Command(assistbotBin, "config", "check", "--config", file)
	cmd.Env = append([]string{}, env...) // never nil, which would inherit ours
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if _, exit := err.(*exec.ExitError); err != nil && !exit {
		t.Fatalf("running config check: %v", err)
	}
	return out.String(), err == nil
}

// mustPassConfigCheck fails t unless file passes config check with env.
func mustPassConfigCheck(t *testing.T, what, file string, env []string) {
	t.Helper()
	if out, ok := configCheck(t, file, env); !ok {
		t.Errorf("%s: `assistbot config check --config %s` failed with the environment %s:\n%s", what, file, names(env), out)
	}
}

// names lists the variable names of env, never their values.
func names(env []string) string {
	var n []string
	for _, e := range env {
		name, _, _ := strings.Cut(e, "=")
		n = append(n, name)
	}
	slices.Sort(n)
	return "[" + strings.Join(n, " ") + "]"
}

// environ turns a map into NAME=value entries, leaving out ASSISTBOT_CONFIG,
// which --config replaces.
func environ(m map[string]string) []string {
	var env []string
	for k, v := range m {
		if k != "ASSISTBOT_CONFIG" {
			env = append(env, k+"="+v)
		}
	}
	slices.Sort(env)
	return env
}

// configListenPort reads server.listen from an assistbot configuration file
// and returns its port.
func configListenPort(t *testing.T, data []byte) string {
	t.Helper()
	var cfg struct {
		Server struct {
			Listen string `json:"listen"`
		} `json:"server"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("reading the configuration: %v", err)
	}
	_, port, err := net.SplitHostPort(cfg.Server.Listen)
	if err != nil || port == "" {
		t.Fatalf("server.listen is %q; the deployment files expect a port", cfg.Server.Listen)
	}
	return port
}
