package core_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCoreImportsOnlyStd keeps core free of adapters, SDKs and drivers:
// everything it depends on must be in the standard library, but for the
// internal packages core is built from, which are held to the same rule.
func TestCoreImportsOnlyStd(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "github.com/assistbot/assistbot/core").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		if p != "github.com/assistbot/assistbot/core" && !strings.HasPrefix(p, "github.com/assistbot/assistbot/core/internal/") {
			t.Errorf("core depends on %s", p)
		}
	}
}
