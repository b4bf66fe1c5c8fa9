package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/provider/logmein/logmeintest"
	"github.com/assistbot/assistbot/config"
)

// TestLogMeInEndToEnd runs Main with provider.kind logmein against a fake
// Rescue API: the JSON API shows Rescue's PIN and links, and the status
// that getSession reports moves the session to waiting, active and ended.
func TestLogMeInEndToEnd(t *testing.T) {
	t.Parallel() // it waits for real polls, at least a second each
	fake := logmeintest.New(t)
	fake.SetPINs("012345")
	s := startMain(t, func(c *config.Config) {
		c.Provider.Kind = "logmein"
		c.LogMeIn.APIURL = fake.URL
		c.LogMeIn.AuthCode = fake.AuthCode()
		c.LogMeIn.NodeID = "337366"
		c.LogMeIn.PollInterval = time.Second // the least allowed
	}, &Main{})

	var sess apiSession
	if code := s.api("POST", "/api/v1/sessions", `{"customer":{"channel":"web","address":"chat-pat","name":"Pat"},"agent":"alice"}`, &sess); code != http.StatusCreated {
		t.Fatalf("create: %d %+v", code, sess)
	}
	if sess.PIN != "012345" || sess.State != "issued" ||
		sess.DesktopURL != "https://secure.logmeinrescue.com/Customer/Code.aspx?Code=012345" ||
		sess.MobileURL != "https://rescuemobile.com/012345" || sess.ManualURL != "https://www.LogMeIn123.com" {
		t.Fatalf("created %+v", sess)
	}
	pin := fake.Calls("requestPINCode")
	if len(pin) != 1 || pin[0].Form.Get("tracking0") != sess.ID || pin[0].Form.Get("cfield0") != "Pat" || pin[0].Path != "requestPINCode_v3.aspx" {
		t.Fatalf("pin requests: %+v", pin)
	}

	await := func(state string) apiSession {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			var got apiSession
			s.api("GET", "/api/v1/sessions/"+sess.ID, "", &got)
			if got.State == state {
				return got
			}
			if time.Now().After(deadline) {
				t.Fatalf("state is %s after 10s; want %s", got.State, state)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	fake.Move(sess.ID, "Waiting", "")
	if got := await("waiting"); got.Device != "unknown" {
		t.Errorf("waiting: %+v", got)
	}
	fake.Move(sess.ID, "Active", "Tom Tech")
	if got := await("active"); got.Mode != "control" {
		t.Errorf("active: %+v", got)
	}
	fake.Move(sess.ID, "Closed by technician", "Tom Tech")
	await("ended")

	var log struct {
		Events []struct {
			Actor, Action, To string
		} `json:"events"`
	}
	s.api("GET", "/api/v1/sessions/"+sess.ID+"/events", "", &log)
	var got []string
	for _, e := range log.Events {
		got = append(got, e.Action+":"+e.To+":"+e.Actor)
	}
	if want := "issue:issued:agent:alice join:waiting:provider:logmein start:active:technician:Tom Tech end:ended:provider:logmein"; strings.Join(got, " ") != want {
		t.Errorf("event log = %v\nwant %s", got, want)
	}
}

// TestLogMeInErrorThroughAPI shows a Rescue failure to the API client as
// the agent-facing message and code.
func TestLogMeInErrorThroughAPI(t *testing.T) {
	t.Parallel()
	fake := logmeintest.New(t)
	fake.Queue("requestPINCode", logmeintest.Answer{Body: "NOTECHCONSOLERUNNING"})
	s := startMain(t, func(c *config.Config) {
		c.Provider.Kind = "logmein"
		c.LogMeIn.APIURL = fake.URL
		c.LogMeIn.AuthCode = fake.AuthCode()
	}, &Main{})
	var res apiSession
	code := s.api("POST", "/api/v1/sessions", `{"agent":"alice"}`, &res)
	if code != http.StatusServiceUnavailable || res.Error.Code != "unavailable" ||
		!strings.Contains(res.Error.Message, "log in to the LogMeIn Rescue Technician Console") {
		t.Errorf("create: %d %+v", code, res.Error)
	}
}
