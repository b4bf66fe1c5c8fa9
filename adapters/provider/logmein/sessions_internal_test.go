package logmein

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/assistbot/assistbot/core"
)

func readSample(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("testdata/getsession_v3.txt")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseSessions(t *testing.T) {
	for name, body := range map[string]string{
		"lf":   readSample(t),
		"crlf": strings.ReplaceAll(readSample(t), "\n", "\r\n"),
	} {
		t.Run(name, func(t *testing.T) {
			rows, skipped, err := parseSessions(body)
			if err != nil {
				t.Fatal(err)
			}
			if skipped != 1 {
				t.Errorf("skipped %d lines, want the broken row's second line", skipped)
			}
			var got []string
			for _, r := range rows {
				got = append(got, r.id+" "+r.status+" "+r.technician)
			}
			want := []string{
				"1053624838 Waiting Tom Tech",
				"1053624839 Active Tom Tech",
				"1053624840 Closed by technician Tom Tech",
				"1053624841 Active Ana Tech",
				"1053624842 Waiting Tom Tech",
				"1053624843 Encerrado pelo cliente ativo Tom Tech",
				"1053624844 Timed out: closed by technician Tom Tech",
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("rows (-want +got):\n%s", d)
			}
		})
	}
}

func TestParseSessionsEdges(t *testing.T) {
	for name, tc := range map[string]struct {
		body  string
		rows  int
		fails bool
		notOK bool
	}{
		"no sessions":         {body: "OK\r\n\r\nID|Status|Technician|\r\n", rows: 0},
		"nothing after OK":    {body: "OK", rows: 0},
		"header on OK line":   {body: "OK ID|Status|Entry ID|Entry|Technician ID|Technician|\n7|Active|0||1|Tom|\n", rows: 1},
		"v1 columns":          {body: "OK\nID|Status|Entry ID|Entry|Technician ID|Technician|Start Time|Waiting Time|Custom Field 0|\n1663112|Waiting|0||337366|John Doe|2/16/2012 9:00 AM|13|Customer|\n", rows: 1},
		"row without the end": {body: "OK\nID|Status|Technician|Custom Field 5|\n9|Waiting|Tom\n", rows: 1},
		"no status column":    {body: "OK\nID|State|\n1|Active|\n", fails: true},
		"error word":          {body: "NOTLOGGEDIN", notOK: true},
		"html":                {body: "<html>oops</html>", notOK: true},
	} {
		t.Run(name, func(t *testing.T) {
			rows, _, err := parseSessions(tc.body)
			switch {
			case tc.notOK:
				if err != errNotOK {
					t.Fatalf("err = %v, want errNotOK", err)
				}
			case tc.fails:
				if err == nil || err == errNotOK {
					t.Fatalf("err = %v, want a protocol error", err)
				}
			case err != nil || len(rows) != tc.rows:
				t.Fatalf("parseSessions = %d rows, %v; want %d", len(rows), err, tc.rows)
			}
		})
	}
}

func TestPhaseOf(t *testing.T) {
	for status, want := range map[string]phase{
		"Connecting": phaseJoined, "Waiting": phaseJoined, " waiting ": phaseJoined, "On Hold": phaseJoined,
		"Transferring": phaseJoined, "Rebooting": phaseJoined, "Reconnecting": phaseJoined,
		"Active": phaseActive, "ACTIVE": phaseActive,
		"Closed by active customer": phaseEnded, "Closed by customer": phaseEnded, "Closed by technician": phaseEnded,
		"Closed by waiting customer": phaseEnded, "Timed out": phaseEnded, "Timed out: closed by technician": phaseEnded,
		"Aborted: technician was deleted or disabled": phaseEnded,
	} {
		if got, ok := phaseOf(status); !ok || got != want {
			t.Errorf("phaseOf(%q) = %v, %v; want %v", status, got, ok, want)
		}
	}
	for _, status := range []string{"", "Ativas", "Encerrado pelo cliente ativo", "Activated"} {
		if _, ok := phaseOf(status); ok {
			t.Errorf("phaseOf(%q) is known", status)
		}
	}
}

// TestMatchKey: a session's PIN is matched by the key its ticket gave
// it, and a session issued before keys, by its id.
func TestMatchKey(t *testing.T) {
	for _, tc := range []struct{ ref, want string }{{"", "a"}, {"a.06h5abc", "a.06h5abc"}, {"mesh/x", "a"}} {
		if got := matchKey(&core.Session{ID: "a", ProviderRef: tc.ref}); got != tc.want {
			t.Errorf("ref %q: key %q, want %q", tc.ref, got, tc.want)
		}
	}
}

func TestMatch(t *testing.T) {
	rows, _, err := parseSessions(readSample(t))
	if err != nil {
		t.Fatal(err)
	}
	live := map[string]bool{"sess-waiting": true, "sess-active": true, "sess-closed": true, "sess-shifted": true,
		"sess-broken": true, "sess-localized": true, "sess-gone": true}
	got := map[string]string{}
	for id, r := range match(rows, live) {
		got[id] = r.status
	}
	want := map[string]string{"sess-waiting": "Waiting", "sess-active": "Active", "sess-closed": "Closed by technician",
		"sess-shifted": "Active", "sess-localized": "Encerrado pelo cliente ativo"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("match (-want +got):\n%s", d)
	}

	// After a transfer the old leg is closed and the new one active.
	two := []row{
		{id: "1", status: "Closed by technician", fields: []string{"1", "x", "sess"}},
		{id: "2", status: "Active", fields: []string{"2", "x", "sess"}},
		{id: "3", status: "Closed by technician", fields: []string{"3", "x", "sess"}},
	}
	if r := match(two, map[string]bool{"sess": true})["sess"]; r.id != "2" {
		t.Errorf("of a closed and an active row, %s won", r.id)
	}
}

func TestSteps(t *testing.T) {
	str := func(ss []step) string {
		var out []string
		for _, s := range ss {
			out = append(out, string(s.action))
		}
		return strings.Join(out, " ")
	}
	for _, tc := range []struct {
		from, to phase
		want     string
	}{
		{phaseNone, phaseJoined, "join"},
		{phaseNone, phaseActive, "join start"},
		{phaseNone, phaseEnded, "join end"},
		{phaseJoined, phaseActive, "start"},
		{phaseJoined, phaseEnded, "end"},
		{phaseActive, phaseEnded, "end"},
		{phaseJoined, phaseJoined, ""},
		{phaseActive, phaseJoined, ""},
		{phaseEnded, phaseActive, ""},
	} {
		if got := str(steps(tc.from, tc.to)); got != tc.want {
			t.Errorf("steps(%d, %d) = %q, want %q", tc.from, tc.to, got, tc.want)
		}
	}
	if phaseOfState(core.StateSent) != phaseNone || phaseOfState(core.StateWaiting) != phaseJoined || phaseOfState(core.StateActive) != phaseActive {
		t.Error("phaseOfState")
	}
}

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		interval time.Duration
		failures int
		want     time.Duration
	}{
		{10 * time.Second, 1, 20 * time.Second},
		{10 * time.Second, 3, 80 * time.Second},
		{10 * time.Second, 5, 5 * time.Minute},
		{10 * time.Second, 60, 5 * time.Minute},
		{10 * time.Minute, 2, 10 * time.Minute},
	} {
		if got := backoff(tc.interval, tc.failures); got != tc.want {
			t.Errorf("backoff(%v, %d) = %v, want %v", tc.interval, tc.failures, got, tc.want)
		}
	}
}

func TestFieldValue(t *testing.T) {
	for in, want := range map[string]string{
		"Pat":                   "Pat",
		"  Pat \t Doe ":         "Pat Doe",
		"a|b\r\nc":              "a b c",
		"x\u0000y":              "x y",
		strings.Repeat("ä", 70): strings.Repeat("ä", 64),
	} {
		if got := fieldValue(in, 64); got != want {
			t.Errorf("fieldValue(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRedact(t *testing.T) {
	p, err := New(Options{AuthCode: "secret-authcode", Email: "a@example.com", Password: "hunter2hunter2"})
	if err != nil {
		t.Fatal(err)
	}
	got := p.redact("echo secret-authcode hunter2hunter2 OK PINCODE:012345 OK AUTHCODE: abcdef " + strings.Repeat("x", 600))
	for _, leak := range []string{"secret-authcode", "hunter2hunter2", "012345", "abcdef"} {
		if strings.Contains(got, leak) {
			t.Errorf("redact kept %q: %s", leak, got)
		}
	}
	if len(got) > 520 {
		t.Errorf("redact kept %d bytes", len(got))
	}
}
