package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/web/webtest"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/report"
)

// reportRig is a rig whose store holds, on 2026-11-25 (webtest.T0's
// day): alice's session, joined 60 s after its issue and started by tom
// 30 s later; bob's, joined after 120 s and never started. On 11-26,
// one more of alice's, issued only.
func reportRig(t *testing.T) *rig {
	t.Helper()
	r := newRig(t)
	r.api.reports = r.Store
	ctx := t.Context()
	issue := func(agent string) *core.Session {
		s, _, err := r.Engine.Issue(ctx, core.Request{Agent: agent})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a := issue("alice")
	r.Clock.Add(time.Minute)
	r.Join(a, core.DeviceDesktop)
	r.Clock.Add(30 * time.Second)
	if _, err := r.Engine.Start(ctx, a.ID, core.Actor{Kind: core.ActorTechnician, Name: "tom"}, core.ModeView); err != nil {
		t.Fatal(err)
	}
	r.Clock.Add(webtest.T0.Add(time.Hour).Sub(r.Clock.Now()))
	b := issue("bob")
	r.Clock.Add(2 * time.Minute)
	r.Join(b, core.DeviceMobile)
	r.Clock.Add(webtest.T0.Add(24 * time.Hour).Sub(r.Clock.Now()))
	issue("alice")
	return r
}

// getReport asks for a report and returns the answer.
func getReport(t *testing.T, r *rig, query string, header ...string) (*http.Response, string) {
	t.Helper()
	h := webtest.Headers(append([]string{"Authorization", "Bearer " + token}, header...)...)
	return r.Serve(webtest.Request{Path: "/api/v1/reports?" + query, Header: h})
}

func TestReportJSON(t *testing.T) {
	r := reportRig(t)
	_, body := r.call(http.MethodGet, "/api/v1/reports?from=2026-11-25&to=2026-11-27", "")
	rows := body["rows"].([]any)
	if len(rows) != 3 || len(body["periods"].([]any)) != 3 || body["group"] != nil || body["tz"] != "UTC" || body["period"] != "day" {
		t.Fatalf("report %v", body)
	}
	first := rows[0].(map[string]any)
	// Two issued, both joined (60 and 120 s: median 90, p90 60 + 0.9*60 =
	// 114), one started (30 s), half active.
	want := map[string]any{"start": "2026-11-25", "end": "2026-11-26", "group": "", "issued": 2.0, "links_sent": 0.0,
		"joined": 2.0, "started": 1.0, "ended": 0.0, "closed": 0.0, "expired": 0.0, "active_share": 0.5,
		"issue_to_join": map[string]any{"count": 2.0, "median_seconds": 90.0, "p90_seconds": 114.0},
		"join_to_start": map[string]any{"count": 1.0, "median_seconds": 30.0, "p90_seconds": 30.0}}
	for k, v := range want {
		if got := first[k]; !equalJSON(got, v) {
			t.Errorf("%s = %v, want %v", k, got, v)
		}
	}
	last := rows[2].(map[string]any)
	if last["start"] != "2026-11-27" || last["issued"] != 0.0 || last["issue_to_join"].(map[string]any)["median_seconds"] != nil {
		t.Errorf("the empty day: %v", last)
	}

	_, byAgent := r.call(http.MethodGet, "/api/v1/reports?from=2026-11-25&to=2026-11-27&group=agent", "")
	var got []string
	for _, row := range byAgent["rows"].([]any) {
		m := row.(map[string]any)
		got = append(got, m["start"].(string)+" "+m["group"].(string))
	}
	if strings.Join(got, ", ") != "2026-11-25 alice, 2026-11-25 bob, 2026-11-26 alice" || byAgent["group"] != "agent" {
		t.Errorf("by agent: %v (group %v)", got, byAgent["group"])
	}

	// A week, in New York: 2026-11-23 to 11-30 holds them all.
	_, week := r.call(http.MethodGet, "/api/v1/reports?from=2026-11-25&to=2026-11-25&period=week&tz=America/New_York", "")
	wr := week["rows"].([]any)
	if len(wr) != 1 || wr[0].(map[string]any)["start"] != "2026-11-23" || wr[0].(map[string]any)["issued"] != 3.0 || week["tz"] != "America/New_York" {
		t.Errorf("week: %v", week)
	}
}

func equalJSON(a, b any) bool {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		if len(am) != len(bm) {
			return false
		}
		for k := range am {
			if !equalJSON(am[k], bm[k]) {
				return false
			}
		}
		return true
	}
	return a == b
}

func TestReportCSV(t *testing.T) {
	r := reportRig(t)
	resp, body := getReport(t, r, "from=2026-11-25&to=2026-11-26&group=agent", "Accept", "text/csv")
	webtest.WantStatus(t, resp, body, http.StatusOK)
	if ct := resp.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename=assistbot-report-2026-11-25-2026-11-26-day-agent.csv` {
		t.Errorf("Content-Disposition %q", cd)
	}
	want := strings.Join(report.CSVHeader, ",") + "\n" +
		"2026-11-25,2026-11-26,alice,1,0,1,1,0,0,0,1,1,60,60,1,30,30\n" +
		"2026-11-25,2026-11-26,bob,1,0,1,0,0,0,0,0,1,120,120,0,,\n" +
		"2026-11-26,2026-11-27,alice,1,0,0,0,0,0,0,0,0,,,0,,\n"
	if body != want {
		t.Errorf("CSV:\n%s\nwant:\n%s", body, want)
	}
}

func TestReportZeroRange(t *testing.T) {
	r := reportRig(t)
	_, body := r.call(http.MethodGet, "/api/v1/reports?from=2026-01-01&to=2026-01-03", "")
	rows := body["rows"].([]any)
	if len(rows) != 3 {
		t.Fatalf("rows %v", rows)
	}
	for _, row := range rows {
		if m := row.(map[string]any); m["issued"] != 0.0 || m["active_share"] != 0.0 {
			t.Errorf("row %v", m)
		}
	}
	_, grouped := r.call(http.MethodGet, "/api/v1/reports?from=2026-01-01&to=2026-01-03&group=channel", "")
	if rows := grouped["rows"].([]any); len(rows) != 0 || len(grouped["periods"].([]any)) != 3 {
		t.Errorf("grouped: %v", grouped)
	}
}

func TestReportRefusals(t *testing.T) {
	r := reportRig(t)
	for query, name := range map[string]string{
		"from=2025-01-01&to=2026-01-02": "at most 366",
		"from=2026-02-30":               "from",
		"to=25/11/2026":                 "to",
		"from=2026-11-27&to=2026-11-25": "to",
		"period=month":                  "period",
		"group=customer":                "group",
		"tz=Mars/Olympus":               "tz",
		"format=csv":                    "format",
	} {
		resp, body := r.call(http.MethodGet, "/api/v1/reports?"+query, "")
		code, msg := apiError(t, body)
		if resp.StatusCode != http.StatusBadRequest || code != "invalid" || !strings.Contains(msg, name) {
			t.Errorf("%s: %d %s %q, want 400 invalid naming %s", query, resp.StatusCode, code, msg, name)
		}
	}
	// Without a store that computes them: 503.
	none := newRig(t)
	resp, body := none.call(http.MethodGet, "/api/v1/reports", "")
	if code, _ := apiError(t, body); resp.StatusCode != http.StatusServiceUnavailable || code != "unavailable" {
		t.Errorf("no reports: %d %s", resp.StatusCode, code)
	}
}

// failingReports is a report store that cannot answer.
type failingReports struct{ err error }

func (f failingReports) Report(context.Context, report.Query) ([]report.Row, error) {
	return nil, f.err
}

// reportConformance drives GET /api/v1/reports to every status the
// document gives it, for TestOpenAPIConformance.
func reportConformance(t *testing.T, cf *conformance) {
	get := func(path string) call { return call{method: http.MethodGet, path: path} }
	r := reportRig(t)
	cf.do(t, r, get("/api/v1/reports?from=2026-11-25&to=2026-11-27"), 200, true)
	cf.do(t, r, get("/api/v1/reports?from=2026-11-25&to=2026-11-26&period=week&group=technician&tz=Europe/Paris"), 200, true)
	cf.do(t, r, get("/api/v1/reports"), 200, true)
	for _, c := range []struct {
		query    string
		docValid bool
	}{
		{"from=2025-01-01&to=2026-01-02", true},
		{"from=2026-11-27&to=2026-11-25", true},
		{"from=yesterday", false},
		{"period=month", false},
		{"group=customer", false},
		{"tz=Nowhere", true},
		{"limit=3", true},
	} {
		cf.do(t, r, get("/api/v1/reports?"+c.query), 400, c.docValid)
	}
	c := get("/api/v1/reports")
	c.noToken = true
	cf.do(t, r, c, 401, false)
	r.api.reports = failingReports{core.Errorf(core.CodeUnavailable, "the database cannot be reached")}
	cf.do(t, r, get("/api/v1/reports"), 503, true)
	r.api.reports = failingReports{errors.New("disk I/O error")}
	if got := cf.do(t, r, get("/api/v1/reports"), 500, true); strings.Contains(string(got.body), "disk") {
		t.Errorf("the detail of an internal error reached the client: %s", got.body)
	}
}
