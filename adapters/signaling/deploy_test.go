package signaling

import (
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestComposeRoutesSharesToOneReplica: the Caddyfile of the compose
// deployment (two replicas) sends both sockets of a share, whose paths
// differ, to one replica: its matcher takes the paths the pages open,
// and it hashes the parameter they carry the session in.
func TestComposeRoutesSharesToOneReplica(t *testing.T) {
	b, err := os.ReadFile("../../deploy/compose/Caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	caddyfile := string(b)
	m := regexp.MustCompile(`(?m)^\s*@share path_regexp (\S+)$`).FindStringSubmatch(caddyfile)
	if m == nil {
		t.Fatal("the Caddyfile has no @share path_regexp matcher")
	}
	share := regexp.MustCompile(m[1])
	h := &Hub{}
	for _, signal := range []string{h.CustomerSignal("06h5abc"), h.TechnicianSignal("06h5abc")} {
		u, err := url.Parse(signal)
		if err != nil {
			t.Fatal(err)
		}
		if !share.MatchString(u.Path) {
			t.Errorf("@share does not take %s", u.Path)
		}
		if u.Query().Get(SessionParam) != "06h5abc" {
			t.Errorf("%s does not carry the session in ?%s=", signal, SessionParam)
		}
	}
	if !strings.Contains(caddyfile, "lb_policy query "+SessionParam+"\n") {
		t.Errorf("the share's sockets are not routed by ?%s=", SessionParam)
	}
}
