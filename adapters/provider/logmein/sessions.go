package logmein

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/assistbot/assistbot/core"
)

// row is one session of getSession's table.
type row struct {
	id         string // Rescue's session id
	status     string
	technician string
	fields     []string
}

// phase is how far a session got, in the order sessions get there.
type phase int

const (
	phaseNone   phase = iota // the customer has not entered the PIN
	phaseJoined              // the customer is there: Connecting, Waiting…
	phaseActive              // a technician picked the session up
	phaseEnded               // Closed…, Timed out…, Aborted…
)

// joinedStatuses are the statuses, besides Connecting and Waiting, in which
// the customer has arrived but nothing is to be reported beyond that: a
// held, transferred or rebooting session is not over, and is not newly
// started either.
var joinedStatuses = map[string]bool{
	"connecting": true, "waiting": true,
	"on hold": true, "transferring": true, "transferred": true,
	"reconnecting": true, "rebooting": true, "rebooted": true,
	"disconnected": true, "offline": true, "not available": true,
}

// phaseOf maps a getSession status onto a phase. The statuses are those
// getSession documents, in English: the API writes them in the language
// of the authcode's user, so another language reads as unknown.
func phaseOf(status string) (phase, bool) {
	s := strings.ToLower(strings.Join(strings.Fields(status), " "))
	switch {
	case s == "active":
		return phaseActive, true
	case joinedStatuses[s]:
		return phaseJoined, true
	case strings.HasPrefix(s, "closed"), strings.HasPrefix(s, "timed out"), strings.HasPrefix(s, "aborted"):
		return phaseEnded, true
	}
	return phaseNone, false
}

// phaseOfState is how far a session in state st got, as far as the
// engine knows.
func phaseOfState(st core.State) phase {
	switch st {
	case core.StateIssued, core.StateSent:
		return phaseNone
	case core.StateWaiting:
		return phaseJoined
	case core.StateActive:
		return phaseActive
	}
	return phaseEnded
}

// errNotOK says an answer did not start with OK.
var errNotOK = errors.New("answer is not OK")

// sessions asks getSession_v3 for the current sessions of the node.
func (p *Provider) sessions(ctx context.Context) ([]row, error) {
	const method = "getSession_v3.aspx"
	code, err := p.auth(ctx)
	if err != nil {
		return nil, err
	}
	body, err := p.call(ctx, method, url.Values{"node": {p.opt.NodeID}, "noderef": {"NODE"}, "authcode": {code}})
	if err != nil {
		return nil, err
	}
	rows, skipped, err := parseSessions(body)
	switch {
	case errors.Is(err, errNotOK):
		err = p.failure(method, body)
		if core.ErrorCode(err) == core.CodeUnauthorized {
			p.forget(code)
		}
		return nil, err
	case err != nil:
		return nil, p.protocol(method, err.Error(), body)
	}
	if skipped > 0 {
		p.log.Debug("logmein: getSession rows skipped", "count", skipped)
	}
	return rows, nil
}

// parseSessions reads getSession's answer: OK, then a header line naming
// the columns, then one line per session, each line ending with "|". The
// columns are found by name, so getSession's versions (v3 adds custom
// fields 3 to 5) all read alike. A line too short to be a row, or whose
// ID is not a number, is skipped and counted: a line break inside a
// field that a technician edited splits a row in two.
func parseSessions(body string) (rows []row, skipped int, err error) {
	rest, ok := okAnswer(body)
	if !ok {
		return nil, 0, errNotOK
	}
	var lines []string
	for _, l := range strings.Split(rest, "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return nil, 0, nil
	}
	col := map[string]int{}
	for i, name := range cells(lines[0]) {
		if _, dup := col[strings.ToLower(name)]; !dup {
			col[strings.ToLower(name)] = i
		}
	}
	idCol, okID := col["id"]
	statusCol, okStatus := col["status"]
	if !okID || !okStatus {
		return nil, 0, errors.New("no ID and Status columns in the header")
	}
	techCol, okTech := col["technician"]
	need := max(idCol, statusCol) + 1
	if okTech {
		need = max(need, techCol+1)
	}
	for _, l := range lines[1:] {
		f := cells(l)
		if len(f) < need || !allDigits(f[idCol]) {
			skipped++
			continue
		}
		r := row{id: f[idCol], status: f[statusCol], fields: f}
		if okTech {
			r.technician = f[techCol]
		}
		rows = append(rows, r)
	}
	return rows, skipped, nil
}

// cells splits a line of the table, dropping the "|" that ends it.
func cells(line string) []string {
	line = strings.TrimSuffix(strings.TrimRight(line, " \t\r"), "|")
	f := strings.Split(line, "|")
	for i := range f {
		f[i] = strings.TrimSpace(f[i])
	}
	return f
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// match finds the row of each live session: the one with a field equal to
// the session id (the custom field Issue filled in; a tracking column
// too, should getSession ever list one). Searching every field, not a
// column, keeps matching right when a "|" that a technician typed into an
// earlier field shifts the columns. Of several rows for one session (a
// transfer leaves the old leg behind) the most telling wins: active, then
// joined, then ended.
func match(rows []row, live map[string]bool) map[string]row {
	out := map[string]row{}
	for _, r := range rows {
		for _, f := range r.fields {
			if !live[f] {
				continue
			}
			if old, ok := out[f]; !ok || rank(r.status) > rank(old.status) {
				out[f] = r
			}
			break
		}
	}
	return out
}

func rank(status string) int {
	switch ph, ok := phaseOf(status); {
	case !ok:
		return 0
	case ph == phaseEnded:
		return 1
	case ph == phaseJoined:
		return 2
	}
	return 3
}
