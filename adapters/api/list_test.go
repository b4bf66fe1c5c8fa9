package api

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/web/webtest"
	"github.com/assistbot/assistbot/core"
)

// listAll pages through GET /api/v1/sessions?query with pages of size,
// checking that each page but the last is full, and returns the ids in
// order.
func (r *rig) listAll(t *testing.T, query string, size int) []string {
	t.Helper()
	return r.listFrom(t, query, size, "")
}

// listFrom pages as listAll does, from cursor.
func (r *rig) listFrom(t *testing.T, query string, size int, cursor string) []string {
	t.Helper()
	var ids []string
	for page := 0; ; page++ {
		if page > 100 {
			t.Fatalf("%s: more than 100 pages", query)
		}
		q := fmt.Sprintf("/api/v1/sessions?%s&limit=%d&cursor=%s", query, size, url.QueryEscape(cursor))
		resp, got := r.call(http.MethodGet, q, "")
		webtest.WantStatus(t, resp, "", http.StatusOK)
		list, _ := got["sessions"].([]any)
		for _, s := range list {
			ids = append(ids, s.(map[string]any)["id"].(string))
		}
		next, ok := got["next_cursor"].(string)
		if !ok {
			return ids
		}
		if len(list) != size {
			t.Errorf("%s: a page of %d before the last, want %d", q, len(list), size)
		}
		cursor = next
	}
}

// ids returns the ids of sessions.
func ids(list []*core.Session) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = s.ID
	}
	return out
}

// TestAPIListPages lists sessions a page at a time: newest first, ties in
// time by id, each session once, whatever the page size, and with each
// filter.
func TestAPIListPages(t *testing.T) {
	r := newRig(t)
	issue := func(agent string, customer core.Endpoint) *core.Session {
		s, _, err := r.Engine.Issue(ctx, core.Request{Customer: customer, Agent: agent})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	var all []*core.Session
	// Five at T0, at once, one before; then one a minute for five
	// minutes, by several agents and on several channels.
	for i := range 5 {
		all = append(all, issue("alice", core.Endpoint{Channel: core.ChannelWeb, Address: fmt.Sprintf("t0-%d", i)}))
	}
	r.Clock.Add(-time.Minute)
	oldest := issue("bob", core.Endpoint{})
	r.Clock.Add(time.Minute)
	for i := range 5 {
		r.Clock.Add(time.Minute)
		agent, ep := "alice", core.Endpoint{Channel: core.ChannelSMS, Address: fmt.Sprintf("+1201555010%d", i)}
		if i%2 == 1 {
			agent, ep = "bob", core.Endpoint{Channel: core.ChannelWeb, Address: fmt.Sprintf("later-%d", i)}
		}
		all = append(all, issue(agent, ep))
	}
	all = append(all, oldest)
	want, err := r.Engine.Sessions(ctx, core.SessionFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != len(all) {
		t.Fatalf("%d sessions, want %d", len(want), len(all))
	}
	byID := map[string]*core.Session{}
	for _, s := range all {
		byID[s.ID] = s
	}
	filter := func(keep func(s *core.Session) bool) []string {
		var out []string
		for _, s := range want {
			if keep(s) {
				out = append(out, s.ID)
			}
		}
		return out
	}
	channelOf := map[string]string{}
	for _, s := range all {
		channelOf[s.ID] = r.Conversation(s.ConversationID).Customer.Channel
	}
	t1 := webtest.T0.Add(2 * time.Minute)
	t3 := webtest.T0.Add(4 * time.Minute)
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"", ids(want)},
		{"agent=alice", filter(func(s *core.Session) bool { return s.Agent == "alice" })},
		{"agent=Alice", nil},
		{"channel=web", filter(func(s *core.Session) bool { return channelOf[s.ID] == "web" })},
		{"channel=discord", nil},
		{"since=" + t1.Format(time.RFC3339), filter(func(s *core.Session) bool { return !s.CreatedAt.Before(t1) })},
		{"until=" + t1.Format(time.RFC3339), filter(func(s *core.Session) bool { return s.CreatedAt.Before(t1) })},
		{"since=" + t1.Format(time.RFC3339) + "&until=" + t3.Format(time.RFC3339),
			filter(func(s *core.Session) bool { return !s.CreatedAt.Before(t1) && s.CreatedAt.Before(t3) })},
		// An offset, its + sent as is: the query reads it as a space.
		{"since=" + t1.In(time.FixedZone("KST", 9*3600)).Format(time.RFC3339), filter(func(s *core.Session) bool { return !s.CreatedAt.Before(t1) })},
		{"agent=bob&channel=web&state=issued", filter(func(s *core.Session) bool { return s.Agent == "bob" && channelOf[s.ID] == "web" })},
		{"conversation_id=" + all[0].ConversationID, []string{all[0].ID}},
	} {
		for _, size := range []int{1, 2, 3, 1000} {
			if got := r.listAll(t, c.query, size); !slices.Equal(got, c.want) {
				t.Errorf("%s, pages of %d:\n got %v\nwant %v", c.query, size, got, c.want)
			}
		}
	}
	// The five at T0 go by id, descending.
	atT0 := filter(func(s *core.Session) bool { return s.CreatedAt.Equal(webtest.T0) })
	if len(atT0) != 5 || !slices.IsSortedFunc(atT0, func(a, b string) int { return strings.Compare(b, a) }) {
		t.Errorf("the sessions at T0 came as %v", atT0)
	}
	// Sessions issued after a page was read come before it, not in the
	// pages after it.
	resp, first := r.call(http.MethodGet, "/api/v1/sessions?limit=4", "")
	webtest.WantStatus(t, resp, "", http.StatusOK)
	r.Clock.Add(time.Minute)
	issue("carol", core.Endpoint{})
	rest := r.listFrom(t, "", 2, first["next_cursor"].(string))
	if !slices.Equal(rest, ids(want)[4:]) {
		t.Errorf("after a new session, the pages after the first hold %v, want %v", rest, ids(want)[4:])
	}
}

// TestAPIListStates: a session reads in its state as of now, in a listing
// page by page too: one whose PIN lifetime passed, unrecorded, is expired,
// and listed with the expired ones, not the issued.
func TestAPIListStates(t *testing.T) {
	r := newRig(t)
	issue := func(address string) *core.Session {
		s, _, err := r.Engine.Issue(ctx, core.Request{Customer: core.Endpoint{Channel: core.ChannelWeb, Address: address}})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for i := range 7 {
		issue(fmt.Sprintf("old-%d", i))
	}
	r.Clock.Add(core.DefaultPINTTL - time.Minute)
	for i := range 4 {
		s := issue(fmt.Sprintf("new-%d", i))
		if i == 1 {
			r.Join(s, core.DeviceDesktop)
		}
	}
	r.Clock.Add(2 * time.Minute) // the first seven are past their lifetime, unrecorded
	all, err := r.Engine.Sessions(ctx, core.SessionFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	in := func(states ...core.State) []string {
		var out []string
		for _, s := range all {
			if slices.Contains(states, s.State) {
				out = append(out, s.ID)
			}
		}
		return out
	}
	if n := len(in(core.StateExpired)); n != 7 {
		t.Fatalf("%d sessions read expired, want 7", n)
	}
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"state=issued", in(core.StateIssued)},
		{"state=expired", in(core.StateExpired)},
		{"state=waiting", in(core.StateWaiting)},
		{"state=issued,waiting", in(core.StateIssued, core.StateWaiting)},
		{"state=expired&state=waiting", in(core.StateExpired, core.StateWaiting)},
		{"state=sent", nil},
	} {
		for _, size := range []int{1, 2, 5} {
			if got := r.listAll(t, c.query, size); !slices.Equal(got, c.want) {
				t.Errorf("%s, pages of %d:\n got %v\nwant %v", c.query, size, got, c.want)
			}
		}
	}
}

// TestAPIListRefused: a bad value is refused with 400 invalid and a
// message that names the parameter; an empty one is no filter.
func TestAPIListRefused(t *testing.T) {
	r := newRig(t)
	r.Issue("en")
	for _, c := range []struct{ query, message string }{
		{"since=yesterday", `since must be a time in RFC 3339 form, as 2026-11-25T09:00:00Z or 2026-11-25T18:00:00%2B09:00, not "yesterday"`},
		{"until=2026-11-25", `until must be a time in RFC 3339 form`},
		{"since=2026-11-25T10:00:00Z&until=2026-11-25T10:00:00Z", "since must be before until"},
		{"cursor=abc", `cursor "abc" is not one this API returned`},
		{"cursor=" + url.QueryEscape("MjAyNi0xMS0yNVQwOTowMDowMFo"), "cursor"}, // a time without an id
		{"limit=0", "limit must be a whole number from 1 to 1000"},
		{"limit=1001", "limit must be a whole number from 1 to 1000"},
		{"channel=SMS", `unknown channel "SMS"; use sms, slack, discord, web`},
		{"channel=console", `unknown channel "console"`},
		{"state=open", `unknown state "open"`},
		{"after=x", `unknown query parameter "after"; use state, conversation_id, agent, channel, since, until, cursor, limit`},
	} {
		resp, got := r.call(http.MethodGet, "/api/v1/sessions?"+c.query, "")
		webtest.WantStatus(t, resp, "", http.StatusBadRequest)
		if code, msg := apiError(t, got); code != "invalid" || !strings.Contains(msg, c.message) {
			t.Errorf("%s: %s %q, want invalid with %q", c.query, code, msg, c.message)
		}
	}
	for _, q := range []string{"agent=&channel=&since=&until=&cursor=&conversation_id=", "state=,"} {
		resp, got := r.call(http.MethodGet, "/api/v1/sessions?"+q, "")
		webtest.WantStatus(t, resp, "", http.StatusOK)
		if l, _ := got["sessions"].([]any); len(l) != 1 {
			t.Errorf("%s: %v, want the one session", q, got)
		}
	}
}
