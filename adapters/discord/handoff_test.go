package discord

import (
	"context"
	"strings"
	"testing"

	"github.com/assistbot/assistbot/adapters/discord/discordtest"
	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
)

const bobID = "510000000000000051" // another agent

// pick is a pick on a card's colleague picker (a user select menu,
// component type 5): member picked user, whose roles are roles.
func (r *rig) pick(member map[string]any, sessionID, user string, roles []string) interaction {
	i := r.base(3, member, supportC)
	resolved := map[string]any{"users": map[string]any{user: map[string]any{"id": user, "username": "bob", "global_name": "Bob"}}}
	if roles != nil {
		resolved["members"] = map[string]any{user: map[string]any{"roles": roles}}
	}
	i["data"] = map[string]any{"custom_id": remote.ActionHandoff + ":" + sessionID, "component_type": 5, "values": []string{user}, "resolved": resolved}
	i["message"] = map[string]any{"id": "120000000000000012", "channel_id": supportC, "flags": 64, "content": ""}
	return i
}

// TestHandoffFromCard: an agent picks a colleague on their card; the card
// says so, the session is the colleague's, the desk thread mentions them
// (and pings nobody else), nothing goes to the customer, and each refusal
// is an ephemeral answer that changes nothing.
func TestHandoffFromCard(t *testing.T) {
	r := newRig(t)
	r.run()
	r.post(r.remoteCommand(agent(), supportC, customerOption(patID)).json())
	s := r.sessions()[0]
	bob := map[string]any{"user": map[string]any{"id": bobID, "username": "bob"}, "roles": []string{roleID}}

	for _, c := range []struct {
		name, want string
		in         interaction
	}{
		{"no agent", "Bob is not an agent of this desk", r.pick(agent(), s.ID, "800000000000000008", []string{"999"})},
		{"not a member", "Bob is not an agent of this desk", r.pick(agent(), s.ID, bobID, nil)},
		{"not hers", "Only the session's own agent or technician, or a supervisor", r.pick(bob, s.ID, aliceID, []string{roleID})},
		{"picked by a stranger", "Only support agents", r.pick(stranger(), s.ID, bobID, []string{roleID})},
	} {
		resp := r.decodeResponse(r.post(c.in.json()))
		if resp.Type != 4 || resp.Data.Flags != 64 || !strings.Contains(resp.Data.Content, c.want) {
			t.Errorf("%s: %d %d %q", c.name, resp.Type, resp.Data.Flags, resp.Data.Content)
		}
	}
	if got, _ := r.engine.Session(context.Background(), s.ID); got.Agent != "alice" {
		t.Fatalf("a refused hand-off changed the agent to %q", got.Agent)
	}

	resp := r.decodeResponse(r.post(r.pick(agent(), s.ID, bobID, []string{roleID}).json()))
	if resp.Type != 7 || resp.Data.Content != "Handed over to Bob." {
		t.Errorf("the answer: %d %q", resp.Type, resp.Data.Content)
	}
	got, _ := r.engine.Session(context.Background(), s.ID)
	if got.Agent != bobID {
		t.Errorf("agent %q", got.Agent)
	}
	var notice string
	eventually(t, "the desk thread's notice", func() bool {
		for _, th := range r.fake.Threads() {
			for _, m := range r.fake.Messages(th.ID) {
				if strings.Contains(m.Content, "<@"+bobID+">") {
					notice = m.Content + " " + string(m.AllowedMentions)
					return true
				}
			}
		}
		return false
	})
	if !strings.HasPrefix(notice, "alice handed this remote session to <@"+bobID+">.") || !strings.Contains(notice, `"users":["`+bobID+`"]`) {
		t.Errorf("notice %s", notice)
	}
	evs, _ := r.engine.Events(context.Background(), s.ID)
	if e := evs[len(evs)-1]; e.Action != core.ActionHandoff || e.Actor != "agent:alice" || e.Detail != "to "+bobID+", from alice" {
		t.Errorf("event %+v", e)
	}
	if dms := r.fake.DMs(patID); len(dms) != 0 {
		t.Errorf("the customer was sent %d messages", len(dms))
	}
	// A session that moved on.
	if _, err := r.engine.Close(context.Background(), s.ID, core.Actor{Kind: core.ActorAgent, Name: "bob"}); err != nil {
		t.Fatal(err)
	}
	resp = r.decodeResponse(r.post(r.pick(bob, s.ID, aliceID, []string{roleID}).json()))
	if resp.Type != 4 || !strings.Contains(resp.Data.Content, "This session is Closed") {
		t.Errorf("closed: %d %q", resp.Type, resp.Data.Content)
	}
}

// TestColleague: the API hands sessions to members of the desk's guild
// by user id; one without an agent role is known but not allowed, and
// someone outside the guild, or not an id, is unknown.
func TestColleague(t *testing.T) {
	r := newRig(t)
	r.fake.SetMember(guildID, "710000000000000071", discordtest.Member{Username: "bob", Roles: []string{roleID}})
	r.fake.SetMember(guildID, "720000000000000072", discordtest.Member{Username: "sam"})
	for _, tc := range []struct {
		id             string
		known, allowed bool
	}{
		{"710000000000000071", true, true},
		{"720000000000000072", true, false},
		{"730000000000000073", false, false},
		{"bob", false, false},
	} {
		if known, allowed := r.a.Colleague(context.Background(), tc.id); known != tc.known || allowed != tc.allowed {
			t.Errorf("Colleague(%s) = %v, %v; want %v, %v", tc.id, known, allowed, tc.known, tc.allowed)
		}
	}
}
