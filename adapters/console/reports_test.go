package console

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/web/webtest"
	"github.com/assistbot/assistbot/core"
)

// reportsRig is a rig whose agents have roles (alice a supervisor, bob a
// technician) and whose store holds, on 2026-11-25: alice's session
// for a web-chat customer, joined after 60 s and started by bob 30 s
// later, then ended; bob's for an SMS customer, joined after 120 s and
// closed; and a third, never joined, expired.
func reportsRig(t *testing.T) *rig {
	t.Helper()
	r := newRig(t, func(o *Options) {
		a := agents()
		o.Agents = []Agent{{Name: "alice", PasswordHash: a[0].PasswordHash, Role: "supervisor"},
			{Name: "bob", PasswordHash: a[1].PasswordHash, Role: "technician"}}
	})
	r.console.reports = r.Store
	issue := func(agent string, customer core.Endpoint) *core.Session {
		s, _, err := r.Engine.Issue(ctx, core.Request{Agent: agent, Customer: customer})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a := issue("alice", core.Endpoint{Channel: core.ChannelWeb, Address: "chat-1"})
	r.Clock.Add(time.Minute)
	r.Join(a, core.DeviceDesktop)
	r.Clock.Add(30 * time.Second)
	tech := core.Actor{Kind: core.ActorTechnician, Name: "bob"}
	if _, err := r.Engine.Start(ctx, a.ID, tech, core.ModeView); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Engine.End(ctx, a.ID, tech); err != nil {
		t.Fatal(err)
	}
	b := issue("bob", core.Endpoint{Channel: core.ChannelSMS, Address: "+12015550123"})
	r.Clock.Add(2 * time.Minute)
	r.Join(b, core.DeviceMobile)
	if _, err := r.Engine.Close(ctx, b.ID, core.Actor{Kind: core.ActorAgent, Name: "bob"}); err != nil {
		t.Fatal(err)
	}
	issue("alice", core.Endpoint{})
	r.Clock.Add(time.Hour)
	if _, err := r.Engine.ExpireDue(ctx); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestReportsPage: a supervisor sees the charts and the table.
func TestReportsPage(t *testing.T) {
	r := reportsRig(t)
	alice := r.Visitor()
	signInAs(alice, "alice", alicePW)
	_, home := alice.Get("/console")
	webtest.WantContains(t, home, `id="nav-reports" href="/console/reports"`)
	resp, page := alice.Get("/console/reports?from=2026-11-24&to=2026-11-26&group=agent")
	webtest.WantStatus(t, resp, page, http.StatusOK)
	for _, want := range []string{
		`<svg id="waits-chart"`, `class="point median"`, `class="point p90"`,
		`<svg id="outcomes-chart"`, `class="bar ended"`, `class="bar closed"`, `class="bar expired"`,
		`<td>2026-11-25</td><td>alice</td><td>2</td>`, `<td>2026-11-25</td><td>bob</td><td>1</td>`,
		`href="/console/reports.csv?from=2026-11-24&amp;group=agent&amp;to=2026-11-26"`,
	} {
		webtest.WantContains(t, page, want)
	}
	// One day with joins: one point a line.
	if n := strings.Count(page, `class="point median"`); n != 1 {
		t.Errorf("%d median points, want 1", n)
	}
	// The page runs no inline script or style: its CSP allows none.
	if strings.Contains(page, "style=") || strings.Contains(page, "<script>") {
		t.Error("the reports page has an inline style or script")
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "style-src 'self'") {
		t.Errorf("CSP %q", csp)
	}

	resp, csv := alice.Get("/console/reports.csv?from=2026-11-25&to=2026-11-25&group=channel")
	webtest.WantStatus(t, resp, csv, http.StatusOK)
	if resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" || !strings.Contains(resp.Header.Get("Content-Disposition"), "assistbot-report-2026-11-25-2026-11-25-day-channel.csv") {
		t.Errorf("CSV headers %v", resp.Header)
	}
	webtest.WantContains(t, csv, "2026-11-25,2026-11-26,sms,1,0,1,0,0,1,0,0,1,120,120,0,,\n")

	// A bad form is answered with the form and the reason.
	resp, bad := alice.Get("/console/reports?from=2025-01-01&to=2026-11-25")
	webtest.WantStatus(t, resp, bad, http.StatusBadRequest)
	webtest.WantContains(t, bad, `id="report-error"`)
	webtest.WantContains(t, bad, "at most 366")

	// A range without sessions: no charts, the table's zero rows.
	_, empty := alice.Get("/console/reports?from=2026-01-01&to=2026-01-02")
	webtest.WantContains(t, empty, `id="waits-empty"`)
	webtest.WantContains(t, empty, `id="outcomes-empty"`)
	webtest.WantContains(t, empty, `<td>2026-01-02</td><td>0</td>`)
}

// TestReportsForSupervisorsOnly: a technician or an agent gets 403, with
// a page that says why, and no link to the reports.
func TestReportsForSupervisorsOnly(t *testing.T) {
	r := reportsRig(t)
	bob := r.Visitor()
	signInAs(bob, "bob", bobPW)
	_, home := bob.Get("/console")
	webtest.WantNotContains(t, home, `nav-reports`)
	for _, path := range []string{"/console/reports", "/console/reports.csv"} {
		resp, page := bob.Get(path)
		webtest.WantStatus(t, resp, page, http.StatusForbidden)
		webtest.WantContains(t, page, "Reports are for supervisors. You are signed in as bob, whose role is technician")
	}
	r.console.roleOf = func(string) string { return "agent" }
	resp, page := bob.Get("/console/reports")
	webtest.WantStatus(t, resp, page, http.StatusForbidden)
	webtest.WantContains(t, page, "whose role is agent")
	// Signed out: the sign-in, not the reports.
	anon := r.Visitor()
	if resp, _ := anon.Get("/console/reports"); resp.StatusCode == http.StatusOK {
		t.Errorf("signed out: %d", resp.StatusCode)
	}
}

// TestRolesDefaultSupervisor: an agent configured without a role is a
// supervisor, as every agent was before roles.
func TestRolesDefaultSupervisor(t *testing.T) {
	r := newRig(t)
	r.console.reports = r.Store
	bob := r.Visitor()
	signInAs(bob, "bob", bobPW)
	resp, page := bob.Get("/console/reports")
	webtest.WantStatus(t, resp, page, http.StatusOK)
}
