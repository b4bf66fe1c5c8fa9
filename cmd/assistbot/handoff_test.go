package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/assistbot/assistbot/core"
)

// TestHandoffAPIDirectory: the API hands sessions to the console's
// agents, by name, and refuses anyone else, as Main wires it.
func TestHandoffAPIDirectory(t *testing.T) {
	s := startConsole(t, "123456", "234567")
	var sess apiSession
	if code := s.api("POST", "/api/v1/sessions", `{"agent":"alice"}`, &sess); code != http.StatusCreated {
		t.Fatalf("create: %d", code)
	}
	var out map[string]any
	if code := s.api("POST", "/api/v1/sessions/"+sess.ID+"/handoff", `{"to":"zed"}`, &out); code != http.StatusBadRequest {
		t.Errorf("an unknown colleague: %d %v", code, out)
	}
	if code := s.api("POST", "/api/v1/sessions/"+sess.ID+"/handoff", `{"to":"bob","note":"printer","by":"alice"}`, &out); code != http.StatusOK || out["agent"] != "bob" {
		t.Errorf("to bob: %d %v", code, out)
	}
}

// TestHandoffInBrowser: alice hands her session to bob from the session's
// page, with a note; the log shows it, bob's queue marks it as his, and
// a hand-off the server refuses shows its reason on the page's error
// line and changes nothing.
func TestHandoffInBrowser(t *testing.T) {
	s := startConsole(t, "123456", "234567")
	var sess apiSession
	if code := s.api("POST", "/api/v1/sessions", `{"agent":"alice"}`, &sess); code != http.StatusCreated {
		t.Fatalf("create: %d", code)
	}
	alice := newBrowser(t)
	signIn(t, alice, s.url, "alice", alicePassword)
	do(t, alice, "alice's queue", chromedp.WaitVisible(css("#queue")))
	do(t, alice, "the session's page", chromedp.Navigate(s.url+"/console/sessions/"+sess.ID), chromedp.WaitVisible(css("#handoff")))
	do(t, alice, "the page's script", chromedp.WaitVisible(css("body[data-live=on]")))

	// A colleague the server does not know: refused, said why.
	do(t, alice, "hand to zed",
		chromedp.Evaluate[chromedp.Void](`(() => { const o = document.createElement("option"); o.value = o.textContent = "zed"; document.querySelector("#handoff-to").append(o); })()`),
		chromedp.SetValue(css("#handoff-to"), "zed"),
		chromedp.Click(css("#handoff-submit")),
		chromedp.WaitVisible(css("#flash")))
	wantText(t, alice, "the error line", "#flash", "There is no colleague called zed: the session was not handed over.")
	if got, _ := s.Engine().Session(context.Background(), sess.ID); got.Agent != "alice" {
		t.Fatalf("a refused hand-off changed the agent to %q", got.Agent)
	}

	do(t, alice, "hand to bob",
		chromedp.SetValue(css("#handoff-to"), "bob"),
		chromedp.SetValue(css("#handoff-note"), "knows the printer"),
		chromedp.Click(css("#handoff-submit")))
	wantText(t, alice, "the log's last detail", "#log tbody tr:last-child td:last-child", "to bob, from alice: knows the printer")
	wantText(t, alice, "the log's last action", "#log tbody tr:last-child td:nth-child(3)", "Handed over")
	if got, _ := s.Engine().Session(context.Background(), sess.ID); got.Agent != "bob" {
		t.Errorf("agent %q", got.Agent)
	}
	evs, _ := s.Engine().Events(context.Background(), sess.ID)
	if e := evs[len(evs)-1]; e.Action != core.ActionHandoff || e.Actor != "agent:alice" {
		t.Errorf("event %+v", e)
	}

	bob := tab(t, alice, "bob", true)
	signIn(t, bob, s.url, "bob", bobPassword)
	do(t, bob, "bob's queue", chromedp.WaitVisible(css("#queue")))
	row := `#queue li.row[data-session="` + sess.ID + `"]`
	do(t, bob, "bob's queue", chromedp.WaitVisible(css(row+" .badge.yours")))
	if text := value(t, bob, "the row", chromedp.Text(css(row))); !strings.Contains(text, "agent bob") {
		t.Errorf("the row:\n%s", text)
	}
}
