package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/store/postgres/pgtest"
	"github.com/assistbot/assistbot/config"
	"github.com/assistbot/assistbot/core"
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

// roundRobin is a plain load balancer: each request goes to the next
// replica in turn, whoever sent it, as nginx's default upstream does.
type roundRobin struct {
	backends []*httputil.ReverseProxy
	next     atomic.Uint64
	hits     []atomic.Int64
}

func (rr *roundRobin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i := int(rr.next.Add(1)-1) % len(rr.backends)
	rr.hits[i].Add(1)
	rr.backends[i].ServeHTTP(w, r)
}

// TestReplicasBehindRoundRobin runs three replicas on one PostgreSQL
// database behind a round-robin proxy, with nothing sticky: an agent
// signs in, a customer writes in the web chat, the agent answers and
// issues a session through the API, the customer joins and the
// technician starts from the console, each request landing on whichever
// replica is next. The agent's console stream, open on one replica,
// follows the customer's join made through another.
func TestReplicasBehindRoundRobin(t *testing.T) {
	dsn := pgtest.Schema(t)
	rr := &roundRobin{}
	proxy := httptest.NewServer(rr)
	t.Cleanup(proxy.Close) // after the event stream's end, which is registered later
	var replicas []*server
	agents := consoleAgents(t) // one configuration for every replica
	for _, pin := range []string{"404040", "505050", "606060"} {
		s := startConsoleWith(t, func(c *config.Config) {
			c.Console.Agents = agents
			c.Store = config.Store{Driver: "postgres", DSN: dsn}
			c.API.Tokens = []string{testToken}
			c.Server.PublicURL = proxy.URL
			c.Console.WebChat = true
		}, pin)
		target, _ := url.Parse(s.url)
		rr.backends = append(rr.backends, httputil.NewSingleHostReverseProxy(target))
		replicas = append(replicas, s)
	}
	rr.hits = make([]atomic.Int64, len(rr.backends))
	// The API, through the proxy.
	api := &server{Main: replicas[0].Main, url: proxy.URL, t: t}

	agent := newPerson(t, proxy.URL)
	if !agent.signIn("alice", alicePassword) {
		t.Fatal("alice cannot sign in through the proxy: the form, the sign-in and the console reached different replicas")
	}
	events := consoleStream(t, agent)

	customer := newPerson(t, proxy.URL)
	if code, _ := customer.send("GET", "/chat", nil); code != http.StatusOK {
		t.Fatalf("chat page: %d", code)
	}
	for i, text := range []string{"My printer is offline", "It says error 42", "Can you look?"} {
		form := url.Values{"csrf": {customer.csrf}, "text": {text}}
		if i == 0 {
			form.Set("name", "Pat")
		}
		if code, body := customer.send("POST", "/chat/messages", form); code != http.StatusSeeOther {
			t.Fatalf("chat message %d through the proxy: %d %s", i+1, code, body)
		}
	}
	convs, err := replicas[1].Engine().Conversations(context.Background(), core.ConversationFilter{DeskChannel: core.ChannelConsole})
	if err != nil || len(convs) != 1 {
		t.Fatalf("the customer's messages made %d conversations (%v), want 1", len(convs), err)
	}
	conv := convs[0]
	if code, body := agent.send("POST", "/console/conversations/"+conv.ID+"/reply", url.Values{"csrf": {agent.csrf}, "text": {"Let me have a look."}}); code != http.StatusSeeOther {
		t.Fatalf("reply through the proxy: %d %s", code, body)
	}

	// A script retries its request with the same Idempotency-Key; the
	// retry reaches another replica and gets the same session.
	var issued, retried apiSession
	body := `{"conversation_id":"` + conv.ID + `","agent":"alice"}`
	if code := api.apiWithKey("POST", "/api/v1/sessions", body, "retry-1", &issued); code != http.StatusCreated {
		t.Fatalf("issue through the proxy: %d", code)
	}
	if code := api.apiWithKey("POST", "/api/v1/sessions", body, "retry-1", &retried); code != http.StatusCreated || retried.ID != issued.ID {
		t.Fatalf("the retry through the proxy: %d, session %s, want the first answer, %s", code, retried.ID, issued.ID)
	}
	joined := time.Now()
	if code, body := customer.send("POST", "/join", url.Values{"code": {issued.PIN}}); code != http.StatusSeeOther {
		t.Fatalf("join through the proxy: %d %s", code, body)
	}
	waitEvent(t, events, "the customer waiting, on the agent's console stream", func(e consoleEventJSON) bool {
		return e.SessionID == issued.ID && e.State == "waiting"
	})
	t.Logf("a join through the proxy reached the console stream in %v", time.Since(joined).Round(time.Millisecond))

	agent.send("GET", "/console", nil) // a fresh form token, from whichever replica
	if code, body := agent.send("POST", "/console/sessions/"+issued.ID+"/act", url.Values{"csrf": {agent.csrf}, "action": {"remote.start_view"}, "return": {"/console"}}); code != http.StatusSeeOther {
		t.Fatalf("start through the proxy: %d %s", code, body)
	}
	waitEvent(t, events, "the technician's start, on the agent's console stream", func(e consoleEventJSON) bool {
		return e.SessionID == issued.ID && e.State == "active"
	})

	code, page := customer.send("GET", "/chat", nil)
	for _, want := range []string{"My printer is offline", "Can you look?", "Let me have a look."} {
		if code != http.StatusOK || !strings.Contains(page, want) {
			t.Errorf("the chat through the proxy (%d) does not show %q", code, want)
		}
	}
	msgs, err := replicas[2].Engine().Messages(context.Background(), core.MessageFilter{ConversationID: conv.ID})
	if err != nil || len(msgs) != 4 {
		t.Errorf("the transcript holds %d messages (%v), want the customer's 3 and the agent's reply", len(msgs), err)
	}
	for i := range rr.hits {
		if n := rr.hits[i].Load(); n < 3 {
			t.Errorf("replica %d took %d requests: the proxy did not spread them", i+1, n)
		}
	}
}

// apiWithKey is api with an Idempotency-Key.
func (s *server) apiWithKey(method, path, body, key string, out any) int {
	s.t.Helper()
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp.StatusCode
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
