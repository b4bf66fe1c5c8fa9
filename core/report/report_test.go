package report_test

import (
	"bytes"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
	"github.com/assistbot/assistbot/core/report"
)

var now = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

func parse(t *testing.T, q string) report.Params {
	t.Helper()
	v, err := url.ParseQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	p, err := report.Parse(v, now)
	if err != nil {
		t.Fatalf("Parse(%s): %v", q, err)
	}
	return p
}

func TestParseDefaults(t *testing.T) {
	p := parse(t, "")
	if p.Period != report.Day || p.Group != report.GroupNone || p.Location != time.UTC ||
		report.Date(p.From) != "2025-02-13" || report.Date(p.To) != "2025-03-14" || p.Days() != 30 {
		t.Errorf("defaults: %+v (%d days)", p, p.Days())
	}
}

func TestParseRefusals(t *testing.T) {
	for q, name := range map[string]string{
		"from=2025-13-01":               "from",
		"to=yesterday":                  "to",
		"from=2025-03-10&to=2025-03-01": "to",
		"period=month":                  "period",
		"group=customer":                "group",
		"tz=Mars/Olympus":               "tz",
		"tz=Local":                      "tz",
		"from=2024-01-01&to=2025-01-01": "366",
		"from=2024-02-28&to=2025-03-01": "368 days",
	} {
		v, _ := url.ParseQuery(q)
		_, err := report.Parse(v, now)
		if core.ErrorCode(err) != core.CodeInvalid || !strings.Contains(core.ErrorMessage(err), name) {
			t.Errorf("Parse(%s) = %v; want invalid naming %s", q, err, name)
		}
	}
	// 366 days, a leap year's, is the most.
	if p := parse(t, "from=2024-01-01&to=2024-12-31"); p.Days() != 366 {
		t.Errorf("2024 has %d days", p.Days())
	}
}

// TestBoundsDaylightSaving: days are from midnight to midnight in the
// zone, 23 hours long when the clocks go forward.
func TestBoundsDaylightSaving(t *testing.T) {
	p := parse(t, "from=2025-03-08&to=2025-03-10&tz=America/New_York")
	b := p.Bounds()
	if len(b) != 4 {
		t.Fatalf("bounds %v", b)
	}
	for i, want := range []string{"2025-03-08T05:00:00Z", "2025-03-09T05:00:00Z", "2025-03-10T04:00:00Z", "2025-03-11T04:00:00Z"} {
		if got := b[i].UTC().Format(time.RFC3339); got != want {
			t.Errorf("bound %d = %s, want %s", i, got, want)
		}
	}
}

// TestBoundsWhereMidnightIsSkipped: in zones whose clocks go forward at
// midnight, that day starts at 01:00; it is still the day asked for,
// 23 hours long, with its own date, as the default range ending on it
// is.
func TestBoundsWhereMidnightIsSkipped(t *testing.T) {
	for _, tc := range []struct{ q, want string }{
		{"from=2024-09-08&to=2024-09-09&tz=America/Santiago",
			"2024-09-08T04:00:00Z 2024-09-09T03:00:00Z 2024-09-10T03:00:00Z"},
		{"from=2025-03-09&to=2025-03-09&tz=America/Havana",
			"2025-03-09T05:00:00Z 2025-03-10T04:00:00Z"},
		{"from=2024-09-08&to=2024-09-08&tz=America/Santiago&period=week",
			"2024-09-02T04:00:00Z 2024-09-09T03:00:00Z"},
	} {
		p := parse(t, tc.q)
		var got, dates []string
		for _, b := range p.Bounds() {
			got = append(got, b.UTC().Format(time.RFC3339))
			dates = append(dates, report.Date(b))
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%s: bounds %v (dates %v), want %s", tc.q, got, dates, tc.want)
		}
		if v, _ := url.ParseQuery(tc.q); report.Date(p.From) != v.Get("from") || report.Date(p.To) != v.Get("to") {
			t.Errorf("%s: from %s to %s", tc.q, report.Date(p.From), report.Date(p.To))
		}
	}
	skipped := time.Date(2024, 9, 8, 15, 0, 0, 0, time.UTC)
	v, _ := url.ParseQuery("tz=America/Santiago")
	p, err := report.Parse(v, skipped)
	if err != nil || report.Date(p.To) != "2024-09-08" || report.Date(p.From) != "2024-08-10" || p.Days() != report.DefaultDays {
		t.Errorf("the default range ending on a day without midnight: %s to %s, %d days (%v)", report.Date(p.From), report.Date(p.To), p.Days(), err)
	}
}

// TestBoundsWeeks: whole ISO weeks, Monday to Monday, that hold the range.
func TestBoundsWeeks(t *testing.T) {
	p := parse(t, "from=2025-03-12&to=2025-03-17&period=week")
	var got []string
	for _, b := range p.Bounds() {
		got = append(got, report.Date(b))
	}
	if strings.Join(got, " ") != "2025-03-10 2025-03-17 2025-03-24" {
		t.Errorf("weeks %v", got)
	}
}

// TestRunFillsPeriods: without a grouping every period has its row.
func TestRunFillsPeriods(t *testing.T) {
	st := coretest.NewMemStore()
	rep, err := report.Run(t.Context(), st, parse(t, "from=2025-03-01&to=2025-03-03"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Periods) != 3 || len(rep.Rows) != 3 || rep.Rows[2].Issued != 0 || report.Date(rep.Rows[2].Start) != "2025-03-03" {
		t.Errorf("report %+v", rep)
	}
	grouped, err := report.Run(t.Context(), st, parse(t, "from=2025-03-01&to=2025-03-03&group=agent"))
	if err != nil || len(grouped.Rows) != 0 || len(grouped.Periods) != 3 {
		t.Errorf("grouped: %+v, %v", grouped, err)
	}
	var buf bytes.Buffer
	if err := rep.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 4 || lines[1] != "2025-03-01,2025-03-02,,0,0,0,0,0,0,0,0,0,,,0,," {
		t.Errorf("CSV:\n%s", buf.String())
	}
}
