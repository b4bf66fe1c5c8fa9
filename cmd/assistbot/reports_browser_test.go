package main

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/assistbot/assistbot/config"
	"github.com/assistbot/assistbot/core"
)

// TestReportsInBrowser: a supervisor's console links to the Reports
// page, whose SVG charts Chromium draws from the store's report (SQLite,
// as served): a point a line for today, the only day with a join, and a
// bar a customer channel with a segment per outcome. A technician's
// console has no link, and the page refuses them.
func TestReportsInBrowser(t *testing.T) {
	s := startConsoleWith(t, func(c *config.Config) {
		for i := range c.Console.Agents {
			if c.Console.Agents[i].Name == "bob" {
				c.Console.Agents[i].Role = config.RoleTechnician
			}
		}
	}, "100001", "100002", "100003")
	ctx := context.Background()
	alice := core.Actor{Kind: core.ActorAgent, Name: "alice"}
	tom := core.Actor{Kind: core.ActorTechnician, Name: "tom"}
	issue := func(customer core.Endpoint) *core.Session {
		sess, _, err := s.engine.Issue(ctx, core.Request{Agent: alice.Name, Customer: customer})
		if err != nil {
			t.Fatal(err)
		}
		return sess
	}
	// Today: a web-chat customer joins, is started and ended; an SMS
	// customer joins and is closed; a third is closed before anyone came.
	web := issue(core.Endpoint{Channel: core.ChannelWeb, Address: "report-chat"})
	if _, _, err := s.engine.Join(ctx, web.PIN, core.DeviceDesktop); err != nil {
		t.Fatal(err)
	}
	if _, err := s.engine.Start(ctx, web.ID, tom, core.ModeView); err != nil {
		t.Fatal(err)
	}
	if _, err := s.engine.End(ctx, web.ID, tom); err != nil {
		t.Fatal(err)
	}
	sms := issue(core.Endpoint{Channel: core.ChannelSMS, Address: "+12015550123"})
	if _, _, err := s.engine.Join(ctx, sms.PIN, core.DeviceMobile); err != nil {
		t.Fatal(err)
	}
	if _, err := s.engine.Close(ctx, sms.ID, alice); err != nil {
		t.Fatal(err)
	}
	if _, err := s.engine.Close(ctx, issue(core.Endpoint{Channel: core.ChannelSMS, Address: "+12015550199"}).ID, alice); err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t)
	signIn(t, b, s.url, "alice", alicePassword)
	do(t, b, "the Reports link", chromedp.WaitVisible(css("#queue")), chromedp.Click(css("#nav-reports")),
		chromedp.WaitVisible(css("#waits-chart")), chromedp.WaitVisible(css("#outcomes-chart")))
	count := func(sel string) int {
		return value(t, b, sel, chromedp.Evaluate[int](`document.querySelectorAll(`+jsString(sel)+`).length`))
	}
	if n := count("#waits-chart circle.point.median"); n != 1 {
		t.Errorf("%d median points, want 1", n)
	}
	if n := count("#waits-chart circle.point.p90"); n != 1 {
		t.Errorf("%d p90 points, want 1", n)
	}
	if n := count("#outcomes-chart g.bar-row"); n != 2 {
		t.Errorf("%d bars, want 2 (sms and web)", n)
	}
	// The bars are drawn: each segment has a width and a fill.
	bars := value(t, b, "the bars", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#outcomes-chart rect.bar")].map(r =>
		r.getAttribute("class") + " " + r.dataset.count + " " + (r.getBBox().width > 0) + " " + getComputedStyle(r).fill)`))
	got := strings.Join(bars, "; ")
	for _, want := range []string{"bar ended 1 true rgb(18, 183, 106)", "bar closed 2 true rgb(152, 162, 179)"} {
		if !strings.Contains(got, want) {
			t.Errorf("bars %q lack %q", got, want)
		}
	}
	// Chromium draws the line, and its points where the line is.
	if w := value(t, b, "the median line", chromedp.Evaluate[float64](`document.querySelector("#waits-chart circle.point.median").getBBox().width`)); w <= 0 {
		t.Errorf("the median point is %v wide", w)
	}
	if rows := count("#report-table tbody tr"); rows != 30 {
		t.Errorf("%d table rows, want 30 (the last 30 days)", rows)
	}
	href := value(t, b, "the CSV link", chromedp.Evaluate[string](`document.querySelector("#report-csv").getAttribute("href")`))
	if href != "/console/reports.csv" {
		t.Errorf("CSV link %q", href)
	}

	// The form asks again, grouped by channel, and the table follows.
	do(t, b, "group by channel",
		chromedp.SetValue(css(`#report-form select[name=group]`), "channel"),
		chromedp.Click(css(`#report-form button[type=submit]`)),
		// Only the grouped table has a twelfth column: waiting for
		// #report-table alone would read the page the form was sent from.
		chromedp.WaitVisible(css("#report-table tbody td:nth-child(12)")))
	table := value(t, b, "the table", chromedp.Text(css("#report-table tbody")))
	if !strings.Contains(table, "sms") || !strings.Contains(table, "web") {
		t.Errorf("table by channel: %q", table)
	}

	// Bob, a technician, has no link and is refused.
	bob := tab(t, b, "bob", true)
	signIn(t, bob, s.url, "bob", bobPassword)
	do(t, bob, "bob's queue", chromedp.WaitVisible(css("#queue")))
	if n := value(t, bob, "bob's link", chromedp.Evaluate[int](`document.querySelectorAll("#nav-reports").length`)); n != 0 {
		t.Error("a technician sees the Reports link")
	}
	do(t, bob, "bob at the reports", chromedp.Navigate(s.url+"/console/reports"), chromedp.WaitVisible(css("main")))
	if text := value(t, bob, "bob's page", chromedp.Text(css("main"))); !strings.Contains(text, "Reports are for supervisors") {
		t.Errorf("bob's page: %q", text)
	}
}

// jsString quotes s for a script.
func jsString(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }
