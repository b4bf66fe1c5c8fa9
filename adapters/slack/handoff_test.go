package slack

import (
	"net/http"
	"strings"
	"testing"

	"github.com/assistbot/assistbot/adapters/slack/slackfake"
	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
)

// pick posts the block_actions payload of a card's colleague picker:
// user picked colleague on the card of the session sealed in blockID.
func (r *rig) pick(user, blockID, colleague, hook string) int {
	r.t.Helper()
	p := clickPayload(user, remote.ActionHandoff, "", testChannel, r.fake.ResponseURL(hook), true)
	p["actions"] = []map[string]any{{"action_id": remote.ActionHandoff, "block_id": blockID, "type": "users_select",
		"selected_user": colleague, "action_ts": "1700000001.000001"}}
	return r.interact(p)
}

// pickerBlock returns the block_id of the card's colleague picker.
func (a answer) pickerBlock() string {
	for _, b := range a.Blocks {
		if strings.HasPrefix(b.BlockID, blockHandoff+":") {
			return b.BlockID
		}
	}
	return ""
}

// TestHandoffFromCard: an agent picks a colleague on their card; the
// session becomes the colleague's, the desk thread mentions them, the
// log says who handed it to whom, nothing reaches the customer, and
// every refusal is told to the picker alone and changes nothing.
func TestHandoffFromCard(t *testing.T) {
	r := newRig(t)
	r.fake.SetUser("U0OTHER", User("bob", "en-US"))
	code, card := r.command(commandForm("<@"+customerID+">", r.fake.ResponseURL("cmd")))
	if code != http.StatusOK || card.pickerBlock() == "" {
		t.Fatalf("/remote: %d, no picker in %s", code, card.raw)
	}
	s := r.sessions()[0]
	block := card.pickerBlock()
	told := func(hook, text string) {
		t.Helper()
		r.fake.Wait(t, "response_url", wait, func(c slackfake.Call) bool {
			return c.Hook == hook && strings.Contains(c.Field("text"), text)
		})
	}

	// Refused: a user who is no agent; a button sealed for another channel.
	if code := r.pick(testAgent, block, stranger, "p1"); code != http.StatusOK {
		t.Fatalf("pick: %d", code)
	}
	told("p1", "is not an agent of this desk")
	forged := blockHandoff + ":" + r.a.render.keys.seal(s.ID, "C0ELSEWHERE")
	r.pick(testAgent, forged, "U0OTHER", "p2")
	told("p2", "")
	if got, _ := r.engine.Session(ctx, s.ID); got.Agent != "alice" {
		t.Fatalf("a refused hand-off changed the agent to %q", got.Agent)
	}

	// alice hands her session to bob.
	r.pick(testAgent, block, "U0OTHER", "p3")
	told("p3", "Handed over to bob.")
	post := r.fake.Wait(t, "chat.postMessage", wait, func(c slackfake.Call) bool {
		return c.Field("channel") == testDesk && strings.Contains(c.Field("text"), "<@U0OTHER>")
	})
	if text := post.Field("text"); text != "alice handed this remote session to <@U0OTHER>." || post.Field("thread_ts") == "" {
		t.Errorf("the desk's notice: %v", post.Form)
	}
	got, _ := r.engine.Session(ctx, s.ID)
	if got.Agent != "U0OTHER" {
		t.Errorf("agent %q", got.Agent)
	}
	evs, _ := r.engine.Events(ctx, s.ID)
	if e := evs[len(evs)-1]; e.Action != core.ActionHandoff || e.Actor != "agent:alice" || e.Detail != "to U0OTHER, from alice" {
		t.Errorf("event %+v", e)
	}
	for _, c := range r.fake.Calls("chat.postMessage") {
		if c.Field("channel") == customerID {
			t.Errorf("something went to the customer: %v", c.Form)
		}
	}

	// alice no longer holds it: she may not hand it on.
	r.pick(testAgent, block, "U0OTHER", "p4")
	told("p4", "Only the session's own agent or technician, or a supervisor")
	// A session that moved on.
	if _, err := r.engine.Close(ctx, s.ID, core.Actor{Kind: core.ActorAgent, Name: "bob"}); err != nil {
		t.Fatal(err)
	}
	r.pick("U0OTHER", block, testAgent, "p5")
	told("p5", "This session is Closed")
	if got, _ := r.engine.Session(ctx, s.ID); got.Agent != "U0OTHER" {
		t.Errorf("a refused hand-off changed the agent to %q", got.Agent)
	}
}
