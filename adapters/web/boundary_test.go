package web_test

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/assistbot/assistbot/"

// groups are the directories under adapters/ whose subdirectories are
// adapters of their own (adapters/store/sqlite, adapters/provider/logmein).
var groups = map[string]bool{"store": true, "provider": true}

// adapterOf returns the adapter an import path under adapters/ belongs
// to: "adapters/slack" for adapters/slack/slackfake, "adapters/store/sqlite"
// for itself; "" for a path outside adapters/.
func adapterOf(path string) string {
	rest, ok := strings.CutPrefix(path, module+"adapters/")
	if !ok {
		return ""
	}
	parts := strings.Split(rest, "/")
	if groups[parts[0]] && len(parts) > 1 {
		return "adapters/" + parts[0] + "/" + parts[1]
	}
	return "adapters/" + parts[0]
}

// TestAdaptersDoNotImportEachOther keeps every adapter to itself: a
// package under adapters/ may import its own adapter's packages (its
// subpackages, its test helpers) and the web foundation, adapters/web,
// and no other adapter, in its code or its tests. What one surface needs
// of another, cmd/assistbot hands it through options.
func TestAdaptersDoNotImportEachOther(t *testing.T) {
	cmd := exec.Command("go", "list", "-e", "-json=ImportPath,Imports,TestImports,XTestImports", module+"adapters/...")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := 0
	for {
		var p struct {
			ImportPath                         string
			Imports, TestImports, XTestImports []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		seen++
		own := adapterOf(p.ImportPath)
		check := func(imports []string, test bool) {
			for _, imp := range imports {
				other := adapterOf(imp)
				switch {
				case other == "" || other == own:
				case imp == module+"adapters/web":
				case test && imp == module+"adapters/web/webtest":
				default:
					t.Errorf("%s imports %s: adapters may import only their own packages and adapters/web", p.ImportPath, imp)
				}
			}
		}
		check(p.Imports, false)
		check(p.TestImports, true)
		check(p.XTestImports, true)
	}
	if seen < 10 {
		t.Fatalf("go list found %d packages under adapters/; the check is out of date", seen)
	}
}

// TestAdapterOf pins the grouping the check above relies on.
func TestAdapterOf(t *testing.T) {
	for path, want := range map[string]string{
		module + "adapters/slack/slackfake":  "adapters/slack",
		module + "adapters/store/sqlite":     "adapters/store/sqlite",
		module + "adapters/provider/logmein": "adapters/provider/logmein",
		module + "adapters/web":              "adapters/web",
		module + "adapters/web/webtest":      "adapters/web",
		module + "core":                      "",
		"github.com/slack-go/slack":          "",
	} {
		if got := adapterOf(path); got != want {
			t.Errorf("adapterOf(%s) = %q, want %q", path, got, want)
		}
	}
}
