package console

import (
	"bytes"
	"fmt"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/report"
)

// The reports page draws its charts as SVG on the server: no script, no
// chart library, nothing loaded from elsewhere, and what the page's CSP
// allows (classes, no style attributes).

// The waits chart's geometry, in its viewBox's units.
const (
	chartW, chartH                   = 640, 240
	chartLeft, chartRight            = 64, 16
	chartTop, chartBottom            = 16, 40
	barH, barGap, barLeft, barLabelW = 22, 12, 120, 56
)

// reportView is what the reports page shows.
type reportView struct {
	// The form, as asked (or as defaulted).
	From, To, Period, Group, TZ string
	Periods, Groups             []option
	// Error is why the form's report could not be made; the page then
	// shows the form alone.
	Error string
	Intro string
	CSV   string // the CSV download's URL
	Waits *waitChart
	Bars  *barChart
	Table []tableRow
	// Grouped says whether the table has a group column.
	Grouped bool
}

type option struct {
	Value, Label string
	Selected     bool
}

// waitChart is the median and 90th percentile of the time from issue to
// join, period by period, as two lines with a point per period that had
// a join.
type waitChart struct {
	Median, P90 chartLine
	YTicks      []tick
	XTicks      []tick
	Empty       bool
}

type chartLine struct {
	Points string // the polyline's points
	Dots   []dot
}

type dot struct {
	X, Y  string
	Title string
}

type tick struct {
	X, Y  string
	Label string
}

// barChart is each customer channel's sessions, in stacked bars: ended,
// closed, expired, and still open.
type barChart struct {
	Height int
	Bars   []bar
	Legend []segment
}

type bar struct {
	Label, Total string
	Y, TextY     int
	Segments     []segment
}

type segment struct {
	Class, Label string
	X, Width     string
	Count        int
	Title        string
}

type tableRow struct {
	Period, Group                      string
	Issued, LinksSent, Joined, Started int
	Ended, Closed, Expired             int
	Share, IssueToJoin, JoinToStart    string
}

// reportsAllowed reports whether si may see reports: supervisors only.
// Otherwise it answers 403 with a page that says so.
func (c *Console) reportsAllowed(w http.ResponseWriter, r *http.Request, si *signIn) bool {
	role := c.role(si.agent)
	if role == Supervisor {
		return true
	}
	lang := c.catalog.Match(r.Header.Get("Accept-Language"))
	c.failText(w, r, http.StatusForbidden, c.catalog.T(lang, "console.reports.forbidden", "agent", si.agent, "role", role))
	return false
}

// handleReports shows the reports page: the form, the charts and the
// table of the report it asks for.
func (c *Console) handleReports(w http.ResponseWriter, r *http.Request, si *signIn) {
	if !c.reportsAllowed(w, r, si) {
		return
	}
	v := c.view(r, si)
	v.Title = v.T("console.reports.title")
	q := r.URL.Query()
	p, err := report.Parse(q, c.clock.Now())
	rv := c.reportForm(v, q, p)
	v.Report = rv
	if err != nil {
		rv.Error = core.ErrorMessage(err)
		c.render(w, r, http.StatusBadRequest, "console_reports", v)
		return
	}
	if c.reports == nil {
		rv.Error = v.T("error.unavailable")
		c.render(w, r, http.StatusServiceUnavailable, "console_reports", v)
		return
	}
	ctx := r.Context()
	table, err := report.Run(ctx, c.reports, p)
	overall, byChannel := table, table
	if err == nil && p.Group != report.GroupNone {
		p.Group = report.GroupNone
		overall, err = report.Run(ctx, c.reports, p)
	}
	if err == nil && table.Group != report.GroupChannel {
		p.Group = report.GroupChannel
		byChannel, err = report.Run(ctx, c.reports, p)
	}
	if err != nil {
		c.log.Error("console report", "err", err)
		rv.Error = v.T("console.reports.error", "reason", core.ErrorMessage(err))
		c.render(w, r, http.StatusServiceUnavailable, "console_reports", v)
		return
	}
	rv.Intro = v.T("console.reports.intro", "tz", table.Location.String())
	rv.Waits = waitsChart(v, overall)
	rv.Bars = outcomeBars(v, byChannel)
	rv.Grouped = table.Group != report.GroupNone
	for _, l := range table.Rows {
		rv.Table = append(rv.Table, tableRow{Period: report.Date(l.Start), Group: groupLabel(v, table.Group, l.Group),
			Issued: l.Issued, LinksSent: l.LinksSent, Joined: l.Joined, Started: l.Started, Ended: l.Ended,
			Closed: l.Closed, Expired: l.Expired, Share: percent(l.ActiveShare()),
			IssueToJoin: waitsText(v, l.IssueToJoin), JoinToStart: waitsText(v, l.JoinToStart)})
	}
	c.render(w, r, http.StatusOK, "console_reports", v)
}

// handleReportsCSV downloads the report of the page's form as CSV.
func (c *Console) handleReportsCSV(w http.ResponseWriter, r *http.Request, si *signIn) {
	if !c.reportsAllowed(w, r, si) {
		return
	}
	p, err := report.Parse(r.URL.Query(), c.clock.Now())
	if err != nil {
		c.failText(w, r, http.StatusBadRequest, core.ErrorMessage(err))
		return
	}
	if c.reports == nil {
		c.fail(w, r, http.StatusServiceUnavailable, "error.unavailable")
		return
	}
	rep, err := report.Run(r.Context(), c.reports, p)
	var buf bytes.Buffer
	if err == nil {
		err = rep.WriteCSV(&buf)
	}
	if err != nil {
		c.log.Error("console report csv", "err", err)
		c.fail(w, r, http.StatusServiceUnavailable, "error.unavailable")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": rep.FileName()}))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

// reportForm fills the form from the query, or from p's defaults.
func (c *Console) reportForm(v *view, q url.Values, p report.Params) *reportView {
	or := func(name, def string) string {
		if s := strings.TrimSpace(q.Get(name)); s != "" {
			return s
		}
		return def
	}
	rv := &reportView{TZ: or("tz", "UTC"), Period: or("period", string(report.Day)), Group: q.Get("group")}
	if p.Location != nil {
		rv.From, rv.To = or("from", report.Date(p.From)), or("to", report.Date(p.To))
	}
	for _, pd := range []report.Period{report.Day, report.Week} {
		rv.Periods = append(rv.Periods, option{string(pd), v.T("console.reports.period." + string(pd)), rv.Period == string(pd)})
	}
	rv.Groups = append(rv.Groups, option{"", v.T("console.reports.group.none"), rv.Group == ""})
	for _, g := range report.Groups {
		rv.Groups = append(rv.Groups, option{string(g), v.T("console.reports.group." + string(g)), rv.Group == string(g)})
	}
	csv := url.Values{}
	for _, k := range []string{"from", "to", "period", "group", "tz"} {
		if s := strings.TrimSpace(q.Get(k)); s != "" {
			csv.Set(k, s)
		}
	}
	rv.CSV = "/console/reports.csv"
	if len(csv) > 0 {
		rv.CSV += "?" + csv.Encode()
	}
	return rv
}

// waitsChart draws the median and 90th percentile of the time from issue
// to join of each period of rep (a report without a grouping).
func waitsChart(v *view, rep *report.Report) *waitChart {
	ch := &waitChart{}
	var top time.Duration
	for _, l := range rep.Rows {
		top = max(top, l.IssueToJoin.P90)
	}
	if top == 0 {
		ch.Empty = true
		return ch
	}
	scale := niceCeil(top)
	plotW, plotH := float64(chartW-chartLeft-chartRight), float64(chartH-chartTop-chartBottom)
	n := len(rep.Rows)
	x := func(i int) float64 {
		if n == 1 {
			return chartLeft + plotW/2
		}
		return chartLeft + plotW*float64(i)/float64(n-1)
	}
	y := func(d time.Duration) float64 { return chartTop + plotH*(1-float64(d)/float64(scale)) }
	var med, p90 []string
	for i, l := range rep.Rows {
		w := l.IssueToJoin
		if w.N == 0 {
			continue
		}
		date := report.Date(l.Start)
		med = append(med, coord(x(i))+","+coord(y(w.Median)))
		p90 = append(p90, coord(x(i))+","+coord(y(w.P90)))
		ch.Median.Dots = append(ch.Median.Dots, dot{coord(x(i)), coord(y(w.Median)), date + ": " + v.T("console.reports.waits.median") + " " + durationText(v, w.Median)})
		ch.P90.Dots = append(ch.P90.Dots, dot{coord(x(i)), coord(y(w.P90)), date + ": " + v.T("console.reports.waits.p90") + " " + durationText(v, w.P90)})
	}
	ch.Median.Points, ch.P90.Points = strings.Join(med, " "), strings.Join(p90, " ")
	for _, f := range []float64{0, 0.5, 1} {
		d := time.Duration(float64(scale) * f)
		ch.YTicks = append(ch.YTicks, tick{X: coord(chartLeft - 8), Y: coord(y(d) + 4), Label: durationText(v, d)})
	}
	seen := map[int]bool{}
	for _, i := range []int{0, n / 2, n - 1} {
		if !seen[i] {
			seen[i] = true
			ch.XTicks = append(ch.XTicks, tick{X: coord(x(i)), Y: coord(chartH - chartBottom + 20), Label: report.Date(rep.Rows[i].Start)})
		}
	}
	return ch
}

// outcomeBars draws each channel's sessions of rep (grouped by channel)
// over the whole range, as stacked bars on one scale.
func outcomeBars(v *view, rep *report.Report) *barChart {
	totals := rep.Totals()
	ch := &barChart{}
	for _, k := range []string{"ended", "closed", "expired", "open"} {
		label := v.T("console.reports.col." + k)
		if k == "open" {
			label = v.T("console.reports.outcome.open")
		}
		ch.Legend = append(ch.Legend, segment{Class: k, Label: label})
	}
	most := 0
	for _, t := range totals {
		most = max(most, t.Issued)
	}
	plotW := float64(chartW - barLeft - barLabelW)
	for i, t := range totals {
		b := bar{Label: groupLabel(v, report.GroupChannel, t.Group), Total: strconv.Itoa(t.Issued),
			Y: chartTop + i*(barH+barGap)}
		b.TextY = b.Y + barH/2 + 5
		open := t.Issued - t.Ended - t.Closed - t.Expired
		x := float64(barLeft)
		for j, n := range []int{t.Ended, t.Closed, t.Expired, open} {
			if n <= 0 {
				continue
			}
			w := plotW * float64(n) / float64(most)
			s := ch.Legend[j]
			b.Segments = append(b.Segments, segment{Class: s.Class, Label: s.Label, X: coord(x), Width: coord(w), Count: n,
				Title: fmt.Sprintf("%s, %s: %d", b.Label, s.Label, n)})
			x += w
		}
		ch.Bars = append(ch.Bars, b)
	}
	ch.Height = chartTop + len(totals)*(barH+barGap) + chartTop
	return ch
}

// niceCeil rounds d up to 1, 2 or 5 times a power of ten seconds, or to
// 1, 2, 5, 10, 15 or 30 minutes, or whole hours, for a chart's top.
func niceCeil(d time.Duration) time.Duration {
	for _, step := range []time.Duration{10 * time.Second, 20 * time.Second, 30 * time.Second, time.Minute,
		2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour} {
		if d <= step {
			return step
		}
	}
	return time.Duration(math.Ceil(d.Hours())) * time.Hour
}

func coord(f float64) string { return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64) }

// durationText says a wait shortly: "45 s", "3.5 min", "1.2 h".
func durationText(v *view, d time.Duration) string {
	one := func(f float64) string { return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64) }
	switch {
	case d < time.Minute:
		return v.T("console.reports.unit.s", "n", one(d.Seconds()))
	case d < time.Hour:
		return v.T("console.reports.unit.min", "n", one(d.Minutes()))
	}
	return v.T("console.reports.unit.h", "n", one(d.Hours()))
}

func waitsText(v *view, w report.Waits) string {
	if w.N == 0 {
		return "–"
	}
	return durationText(v, w.Median) + " / " + durationText(v, w.P90)
}

func percent(f float64) string { return strconv.FormatFloat(math.Round(f*1000)/10, 'f', -1, 64) + " %" }

// groupLabel names a row's group: "(none)" for the sessions without one.
func groupLabel(v *view, g report.Group, name string) string {
	if name == "" && g != report.GroupNone {
		return v.T("console.reports.empty")
	}
	return name
}

// configuredRole is an agent's role as configured (Agent.Role): role
// takes an empty one for a supervisor.
func (c *Console) configuredRole(name string) string { return c.agents[name].Role }
