package api

import (
	"bytes"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/assistbot/assistbot/adapters/web"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/report"
)

// reportParams are the query parameters of GET /api/v1/reports.
var reportParams = []string{"from", "to", "period", "group", "tz"}

// reportJSON is a report (core/report): its parameters, every period of
// the range, and its rows.
type reportJSON struct {
	From    string           `json:"from"`
	To      string           `json:"to"`
	Period  report.Period    `json:"period"`
	Group   *string          `json:"group"`
	TZ      string           `json:"tz"`
	Periods []reportSpanJSON `json:"periods"`
	Rows    []reportRowJSON  `json:"rows"`
}

// reportSpanJSON is a period: its first day and the day after its last,
// in the report's time zone.
type reportSpanJSON struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

type reportRowJSON struct {
	reportSpanJSON
	// Group is the row's agent, technician, customer channel or provider;
	// "" for sessions without one, and for every row without a grouping.
	Group       string          `json:"group"`
	Issued      int             `json:"issued"`
	LinksSent   int             `json:"links_sent"`
	Joined      int             `json:"joined"`
	Started     int             `json:"started"`
	Ended       int             `json:"ended"`
	Closed      int             `json:"closed"`
	Expired     int             `json:"expired"`
	ActiveShare float64         `json:"active_share"`
	IssueToJoin reportWaitsJSON `json:"issue_to_join"`
	JoinToStart reportWaitsJSON `json:"join_to_start"`
}

// reportWaitsJSON are waits in seconds, null without a sample.
type reportWaitsJSON struct {
	Count         int      `json:"count"`
	MedianSeconds *float64 `json:"median_seconds"`
	P90Seconds    *float64 `json:"p90_seconds"`
}

func toWaits(w report.Waits) reportWaitsJSON {
	out := reportWaitsJSON{Count: w.N}
	if w.N > 0 {
		m, p := report.Seconds(w.Median), report.Seconds(w.P90)
		out.MedianSeconds, out.P90Seconds = &m, &p
	}
	return out
}

// handleReports answers a report of the sessions issued between two
// dates, by day or week, grouped or not: JSON, or CSV for a client that
// asks for text/csv. The API's tokens are operators' credentials, so a
// token may read every report, as a console supervisor may.
func (a *API) handleReports(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	for name := range q {
		if !slices.Contains(reportParams, name) {
			return core.Errorf(core.CodeInvalid, "unknown query parameter %q; use %s", name, strings.Join(reportParams, ", "))
		}
	}
	p, err := report.Parse(q, a.clock.Now())
	if err != nil {
		return err
	}
	if a.reports == nil {
		return core.Errorf(core.CodeUnavailable, "reports are not available: the store does not compute them")
	}
	rep, err := report.Run(r.Context(), a.reports, p)
	if err != nil {
		return err
	}
	if wantsCSV(r) {
		var buf bytes.Buffer
		if err := rep.WriteCSV(&buf); err != nil {
			return fmt.Errorf("report csv: %w", err)
		}
		h := w.Header()
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": rep.FileName()}))
		h.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(buf.Bytes())
		return nil
	}
	out := reportJSON{From: report.Date(p.From), To: report.Date(p.To), Period: p.Period, TZ: p.Location.String(),
		Periods: make([]reportSpanJSON, 0, len(rep.Periods)), Rows: make([]reportRowJSON, 0, len(rep.Rows))}
	if p.Group != report.GroupNone {
		g := string(p.Group)
		out.Group = &g
	}
	for _, s := range rep.Periods {
		out.Periods = append(out.Periods, reportSpanJSON{report.Date(s.Start), report.Date(s.End)})
	}
	for _, l := range rep.Rows {
		out.Rows = append(out.Rows, reportRowJSON{
			reportSpanJSON: reportSpanJSON{report.Date(l.Start), report.Date(l.End)},
			Group:          l.Group, Issued: l.Issued, LinksSent: l.LinksSent, Joined: l.Joined, Started: l.Started,
			Ended: l.Ended, Closed: l.Closed, Expired: l.Expired, ActiveShare: roundShare(l.ActiveShare()),
			IssueToJoin: toWaits(l.IssueToJoin), JoinToStart: toWaits(l.JoinToStart),
		})
	}
	web.WriteJSON(w, http.StatusOK, out)
	return nil
}

// roundShare keeps four decimals of a share.
func roundShare(f float64) float64 { return float64(int64(f*10000+0.5)) / 10000 }

// wantsCSV reports whether the client asks for CSV rather than JSON.
func wantsCSV(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(mt), "text/csv") {
			return true
		}
	}
	return false
}
