package main

import (
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/store/postgres/pgtest"
	"github.com/assistbot/assistbot/adapters/twilio/twiliotest"
)

// TestKilledReplicaTakenOver runs assistbot on PostgreSQL in front of a
// slow SMS API, queues 40 links to one customer, and kills the replica
// with SIGKILL while it sends them. A second replica takes its claim over
// once the lease runs out: every acknowledged link reaches the customer,
// in the order queued, and the only text sent twice is one that was on
// its way when the first replica died.
func TestKilledReplicaTakenOver(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	dsn := pgtest.Schema(t)
	fake := twiliotest.New(t)
	fake.Delay = 200 * time.Millisecond
	fake.Hold = 8 // in flight at the kill, and only that one
	env := []string{"ASSISTBOT_STORE_DRIVER=postgres", "ASSISTBOT_SERVER_PUBLIC_URL=" + smsPublicURL,
		"ASSISTBOT_TWILIO_ENABLED=true", "ASSISTBOT_TWILIO_ACCOUNT_SID=" + twiliotest.AccountSID,
		"ASSISTBOT_TWILIO_AUTH_TOKEN=" + twiliotest.AuthToken, "ASSISTBOT_TWILIO_FROM=" + smsNumber,
		"ASSISTBOT_TWILIO_API_URL=" + fake.URL, "ASSISTBOT_TWILIO_MPS=100", "ASSISTBOT_TWILIO_DESK=console"}
	first := startProcess(t, bin, dsn, env...)

	const customer, links = "+12015550199", 40
	var order []string // session ids, in the order their links were queued
	for range links {
		var s apiSession
		if err := call("POST", first.url+"/api/v1/sessions", `{"customer":{"channel":"sms","address":"`+customer+`"},"agent":"load"}`, http.StatusCreated, &s); err != nil {
			t.Fatal(err)
		}
		if err := call("POST", first.url+"/api/v1/sessions/"+s.ID+"/send", `{"link":"mobile"}`, http.StatusOK, nil); err != nil {
			t.Fatal(err)
		}
		order = append(order, s.PIN)
	}
	fake.WaitSent(t, 8, 30*time.Second)
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	first.cmd.Wait()
	before := len(fake.Calls())

	startProcess(t, bin, dsn, env...)
	var calls []twiliotest.Message
	for deadline := killed.Add(90 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		calls = fake.Calls()
		if distinctPINs(calls, order) == links {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d links reached the customer 90 s after the kill", distinctPINs(calls, order), links)
		}
	}
	// Each link's first text, in the order the texts went out, must be in
	// the order the links were queued; a repeat is the one that was in
	// flight at the kill, sent again.
	cut, last, seen := 0, -1, map[int]bool{}
	for _, c := range calls {
		if c.Cut {
			cut++
		}
		i := linkOf(c, order)
		if i < 0 || seen[i] {
			continue
		}
		seen[i] = true
		if i < last {
			t.Errorf("link %d went out after link %d", i+1, last+1)
		}
		last = i
	}
	duplicates := len(calls) - links
	if duplicates > cut {
		t.Errorf("%d texts sent twice, but only %d were in flight at the kill", duplicates, cut)
	}
	var takeover time.Duration
	if len(calls) > before {
		takeover = calls[before].At.Sub(killed)
	}
	if takeover <= 0 || takeover > 45*time.Second {
		t.Errorf("the first text after the kill went out %v after it, want within 45 s", takeover)
	}
	t.Logf("acknowledged %d, delivered %d distinct, %d texts in all (%d duplicates), %d in flight at the kill; taken over %v after the kill",
		links, distinctPINs(calls, order), len(calls), duplicates, cut, takeover.Round(time.Millisecond))
}

// distinctPINs counts the links of order that calls carried.
func distinctPINs(calls []twiliotest.Message, order []string) int {
	seen := map[int]bool{}
	for _, c := range calls {
		if i := linkOf(c, order); i >= 0 {
			seen[i] = true
		}
	}
	return len(seen)
}

// linkOf returns the index in order of the PIN whose link the text c
// carries, or -1.
func linkOf(c twiliotest.Message, order []string) int {
	body := c.Form.Get("Body")
	for i, pin := range order {
		if strings.Contains(body, "/m/"+pin+"/") || strings.Contains(body, "code="+pin) {
			return i
		}
	}
	return -1
}
