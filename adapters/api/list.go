package api

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/assistbot/assistbot/adapters/web"
	"github.com/assistbot/assistbot/core"
)

// listParams are the query parameters of GET /api/v1/sessions.
var listParams = []string{"state", "conversation_id", "agent", "channel", "since", "until", "cursor", "limit"}

// customerChannels are the channels a customer can be on, for the channel
// filter.
var customerChannels = []string{core.ChannelSMS, core.ChannelSlack, core.ChannelDiscord, core.ChannelWeb}

// The sizes of a page: the default, and the most one can hold, which is
// also the most the stores return at once.
const (
	defaultPage = 100
	maxPage     = 1000
)

// listQuery is a parsed GET /api/v1/sessions.
type listQuery struct {
	// filter holds every filter but the states, and the cursor.
	filter core.SessionFilter
	states []core.State
	limit  int
}

// handleList lists sessions, newest first, a page at a time.
func (a *API) handleList(w http.ResponseWriter, r *http.Request) error {
	q, err := parseList(r.URL.Query())
	if err != nil {
		return err
	}
	page, next, err := a.listPage(r.Context(), q)
	if err != nil {
		return err
	}
	convs := map[string]*core.Conversation{}
	out := make([]sessionJSON, 0, len(page))
	for _, sess := range page {
		j, err := a.toSession(r.Context(), sess, convs)
		if err != nil {
			return err
		}
		out = append(out, j)
	}
	web.WriteJSON(w, http.StatusOK, sessionListJSON{Sessions: out, NextCursor: next})
	return nil
}

// parseList reads the list query. Unknown parameters are refused rather
// than ignored, so a misspelt filter does not silently list everything;
// an empty value is no filter, so a script may send cursor= on its first
// call. Of a parameter given twice, the last counts, but for state, whose
// values add up.
func parseList(q url.Values) (listQuery, error) {
	out := listQuery{limit: defaultPage}
	f := &out.filter
	for name, values := range q {
		v := values[len(values)-1]
		switch name {
		case "state":
			for _, v := range values {
				for st := range strings.SplitSeq(v, ",") {
					st = strings.TrimSpace(st)
					if st == "" {
						continue
					}
					if !core.State(st).Valid() {
						return out, core.Errorf(core.CodeInvalid, "unknown state %q; use %s", st, stateList())
					}
					if !slices.Contains(out.states, core.State(st)) {
						out.states = append(out.states, core.State(st))
					}
				}
			}
		case "conversation_id":
			f.ConversationID = v
		case "agent":
			f.Agent = v
		case "channel":
			if v != "" && !slices.Contains(customerChannels, v) {
				return out, core.Errorf(core.CodeInvalid, "unknown channel %q; use %s", v, strings.Join(customerChannels, ", "))
			}
			f.Channel = v
		case "since", "until":
			t, err := parseTime(name, v)
			if err != nil {
				return out, err
			}
			if name == "since" {
				f.Since = t
			} else {
				f.Until = t
			}
		case "cursor":
			if v == "" {
				continue
			}
			created, id, ok := decodeCursor(v)
			if !ok {
				return out, core.Errorf(core.CodeInvalid, "cursor %q is not one this API returned: pass next_cursor as it came, or leave cursor out to start from the newest", v)
			}
			f.AfterCreatedAt, f.AfterID = created, id
		case "limit":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > maxPage {
				return out, core.Errorf(core.CodeInvalid, "limit must be a whole number from 1 to %d", maxPage)
			}
			out.limit = n
		default:
			return out, core.Errorf(core.CodeInvalid, "unknown query parameter %q; use %s", name, strings.Join(listParams, ", "))
		}
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return out, core.Errorf(core.CodeInvalid, "since must be before until")
	}
	return out, nil
}

// parseTime reads the time of parameter name in RFC 3339 form. A query
// string's "+" reads as a space, so a space where the offset's sign
// belongs is taken back for a "+".
func parseTime(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil && strings.Contains(v, " ") {
		t, err = time.Parse(time.RFC3339, strings.ReplaceAll(v, " ", "+"))
	}
	if err != nil {
		return time.Time{}, core.Errorf(core.CodeInvalid, "%s must be a time in RFC 3339 form, as 2026-11-25T09:00:00Z or 2026-11-25T18:00:00%%2B09:00, not %q", name, v)
	}
	return t, nil
}

func stateList() string {
	names := make([]string, len(core.States))
	for i, s := range core.States {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// A cursor is where a listing stopped: the creation time and id of the
// last session it went past, which the next page lists from. To the
// client it is an opaque string.

func encodeCursor(s *core.Session) string {
	return base64.RawURLEncoding.EncodeToString([]byte(s.CreatedAt.UTC().Format(time.RFC3339Nano) + " " + s.ID))
}

func decodeCursor(v string) (created time.Time, id string, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return time.Time{}, "", false
	}
	at, id, ok := strings.Cut(string(b), " ")
	if !ok || id == "" {
		return time.Time{}, "", false
	}
	created, err = time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return time.Time{}, "", false
	}
	return created, id, true
}

// Reading a page. The engine reads a session's state as of now: one whose
// PIN lifetime passed is expired before the sweeper records it. It asks
// the store for the states wanted, and for issued and sent as well when
// expired is wanted, and leaves out what does not read as wanted. What it
// leaves out, the API cannot see, and a short answer could then be taken
// for the end of the list. So the API asks it for the states with which
// it leaves nothing out, when that costs nothing, and picks the wanted
// ones itself:
//
//   - expired wanted: issued and sent are read anyway; asking for them
//     too, nothing is left out;
//   - issued or sent wanted, expired not: asking for expired would read
//     every expired session ever. The engine leaves out the sessions
//     whose PIN passed moments ago (the sweeper records each within
//     seconds), so the API reads a few more than it needs and takes an
//     answer shorter by more than that margin as the end;
//   - other states, or none: nothing can be left out.
//
// A page reads the store a few times at most; when the wanted sessions
// are rare among those read, it may come back short, or empty, with a
// next_cursor all the same.

// leftOutMargin is how many sessions the engine may leave out of one
// read, in the second case, before a short read ends a listing early.
const leftOutMargin = 32

// maxReads bounds the reads of one page.
const maxReads = 8

// engineStates returns the states to ask the engine for, and the margin
// for what it may leave out.
func engineStates(want []core.State) ([]core.State, int) {
	has := func(s core.State) bool { return slices.Contains(want, s) }
	switch {
	case has(core.StateExpired):
		states := slices.Clone(want)
		for _, s := range []core.State{core.StateIssued, core.StateSent} {
			if !has(s) {
				states = append(states, s)
			}
		}
		return states, 0
	case has(core.StateIssued) || has(core.StateSent):
		return want, leftOutMargin
	}
	return want, 0
}

// listPage reads the page q asks for, and the cursor of the next one, ""
// when no wanted session follows.
func (a *API) listPage(ctx context.Context, q listQuery) ([]*core.Session, string, error) {
	f := q.filter
	var margin int
	f.States, margin = engineStates(q.states)
	var page []*core.Session
	var last *core.Session // the last session read and gone past
	next := func() string {
		if last == nil {
			return ""
		}
		return encodeCursor(last)
	}
	for range maxReads {
		// One more than the page needs, to know whether any follows.
		ask := min(q.limit-len(page)+1+margin, maxPage)
		f.Limit = ask
		if last != nil {
			f.AfterCreatedAt, f.AfterID = last.CreatedAt, last.ID
		}
		got, err := a.engine.Sessions(ctx, f)
		if err != nil {
			return nil, "", err
		}
		for _, s := range got {
			if len(q.states) > 0 && !slices.Contains(q.states, s.State) {
				last = s
				continue
			}
			if len(page) == q.limit {
				return page, next(), nil
			}
			page, last = append(page, s), s
		}
		if len(got) < ask-margin {
			return page, "", nil
		}
	}
	return page, next(), nil
}
