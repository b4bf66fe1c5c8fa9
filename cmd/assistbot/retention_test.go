package main

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/config"
	"github.com/assistbot/assistbot/core/coretest"
)

// TestRetentionPrunesAtStart: an operator sets store.retention and
// restarts; the sessions finished before the cut are gone, the counter
// says so, and the desk works on.
func TestRetentionPrunesAtStart(t *testing.T) {
	db := filepath.Join(t.TempDir(), "assistbot.db")
	clock := coretest.NewClock(time.Now().UTC().Truncate(time.Microsecond))
	type session struct {
		ID    string `json:"id"`
		State string `json:"state"`
	}
	var old session
	t.Run("a day at the desk", func(t *testing.T) {
		s := startMain(t, func(c *config.Config) { c.Store.DSN = db }, &Main{Clock: clock})
		if code := s.api("POST", "/api/v1/sessions", `{"agent":"alice"}`, &old); code != http.StatusCreated {
			t.Fatalf("create: %d", code)
		}
		if code := s.api("POST", "/api/v1/sessions/"+old.ID+"/close", `{"agent":"alice"}`, &old); code != http.StatusOK || old.State != "closed" {
			t.Fatalf("close: %d %+v", code, old)
		}
		// The store's newest session is kept whatever its age (SQLite
		// would reuse its number), so the one above needs a successor.
		var next session
		s.api("POST", "/api/v1/sessions", `{"agent":"alice"}`, &next)
		s.api("POST", "/api/v1/sessions/"+next.ID+"/close", `{"agent":"alice"}`, nil)
	})

	clock.Add(100 * 24 * time.Hour)
	s := startMain(t, func(c *config.Config) {
		c.Store.DSN = db
		c.Store.Retention = 90 * 24 * time.Hour
	}, &Main{Clock: clock})
	deadline := time.Now().Add(10 * time.Second)
	for s.api("GET", "/api/v1/sessions/"+old.ID, "", nil) != http.StatusNotFound {
		if time.Now().After(deadline) {
			t.Fatalf("session %s, closed 100 days ago, is still there with a retention of 90 days", old.ID)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The pruner counts a batch once it has committed it, a moment after
	// the session is gone from the API's reads.
	var body []byte
	for {
		resp, err := http.Get(s.url + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), `assistbot_pruned_rows_total{kind="sessions"} 1`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the metrics do not count the pruned session:\n%s", grepLines(string(body), "pruned"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	var fresh session
	if code := s.api("POST", "/api/v1/sessions", `{"agent":"alice"}`, &fresh); code != http.StatusCreated || fresh.State != "issued" {
		t.Errorf("a session after the prune: %d %+v", code, fresh)
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
