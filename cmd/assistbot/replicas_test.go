package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/store/postgres/pgtest"
	"github.com/assistbot/assistbot/config"
)

// TestReplicasFollowEachOther runs three replicas on one PostgreSQL
// database: an agent's console stream on the second sees a customer join
// through the third, a session the first issued, and the technician's
// start made on the first; each change reaches the other replica through
// the database (LISTEN/NOTIFY), not through the replica that made it.
func TestReplicasFollowEachOther(t *testing.T) {
	dsn := pgtest.Schema(t)
	var replicas []*server
	for _, pin := range []string{"101010", "202020", "303030"} {
		replicas = append(replicas, startConsoleWith(t, func(c *config.Config) {
			c.Store = config.Store{Driver: "postgres", DSN: dsn}
			c.API.Tokens = []string{testToken}
		}, pin))
	}
	a, b, c := replicas[0], replicas[1], replicas[2]

	agent := newPerson(t, b.url)
	if !agent.signIn("alice", alicePassword) {
		t.Fatal("alice cannot sign in on the second replica")
	}
	events := consoleStream(t, agent)

	var issued apiSession
	if code := a.api("POST", "/api/v1/sessions", `{"agent":"alice"}`, &issued); code != http.StatusCreated {
		t.Fatalf("issue on the first replica: %d", code)
	}
	joined := time.Now()
	customer := newPerson(t, c.url)
	if code, body := customer.send("POST", "/join", url.Values{"code": {issued.PIN}}); code != http.StatusSeeOther {
		t.Fatalf("join on the third replica: %d %s", code, body)
	}
	waitEvent(t, events, "the customer waiting, on the second replica's console", func(e consoleEventJSON) bool {
		return e.SessionID == issued.ID && e.State == "waiting"
	})
	t.Logf("a join on one replica reached another's console stream in %v", time.Since(joined).Round(time.Millisecond))

	started := time.Now()
	if code := a.api("POST", "/api/v1/sessions/"+issued.ID+"/start", `{"mode":"view","technician":"tom"}`, nil); code != http.StatusOK {
		t.Fatalf("start on the first replica: %d", code)
	}
	waitEvent(t, events, "the technician's start, on the second replica's console", func(e consoleEventJSON) bool {
		return e.SessionID == issued.ID && e.State == "active"
	})
	t.Logf("a start on one replica reached another's console stream in %v", time.Since(started).Round(time.Millisecond))
}

// consoleEventJSON is what the console's event stream says of a change.
type consoleEventJSON struct {
	Kind      string `json:"kind"`
	SessionID string `json:"session_id"`
	State     string `json:"state"`
}

// consoleStream opens the console's event stream of a signed-in person
// and returns its events as they come, until the test ends.
func consoleStream(t *testing.T, p *person) <-chan consoleEventJSON {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", p.base+"/console/events", nil)
	for name, value := range p.cookies {
		req.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		t.Fatalf("console events: %s", resp.Status)
	}
	out := make(chan consoleEventJSON, 64)
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var e consoleEventJSON
			if json.Unmarshal([]byte(data), &e) == nil {
				select {
				case out <- e:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}

// waitEvent waits for an event that match accepts, failing after 10
// seconds (the figure of interest is logged, not asserted).
func waitEvent(t *testing.T, events <-chan consoleEventJSON, what string, match func(consoleEventJSON) bool) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e := <-events:
			if match(e) {
				return
			}
		case <-timeout:
			t.Fatalf("never saw %s", what)
		}
	}
}
