package discord

import (
	"context"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/assistbot/assistbot/core"
)

// dm is a customer's DM to the bot as the gateway delivers it.
func (r *rig) dm(id, text string) *discordgo.MessageCreate {
	return &discordgo.MessageCreate{Message: &discordgo.Message{ID: id, ChannelID: r.fake.DMChannel(patID), Content: text,
		Author: &discordgo.User{ID: patID, Username: "pat", GlobalName: "Pat"}, Type: discordgo.MessageTypeDefault}}
}

// threadReply is a message in channel by member.
func threadReply(id, channel, text string, user *discordgo.User, roles ...string) *discordgo.MessageCreate {
	return &discordgo.MessageCreate{Message: &discordgo.Message{ID: id, ChannelID: channel, GuildID: guildID, Content: text,
		Author: user, Member: &discordgo.Member{Roles: roles}, Type: discordgo.MessageTypeDefault}}
}

// TestRelay drives the gateway handlers: a customer's DM opens a
// conversation and its desk thread; an agent's reply in the thread goes
// back as a DM; other messages are left alone.
func TestRelay(t *testing.T) {
	r := newRig(t)
	r.run()
	r.a.onMessageCreate(r.a.session, r.dm("380000000000000001", "My screen is frozen"))
	var thread string
	eventually(t, "the desk thread with the customer's message", func() bool {
		if th := r.fake.Threads(); len(th) == 1 {
			thread = th[0].ID
			return len(r.fake.Messages(thread)) == 1
		}
		return false
	})
	// A reply is relayed once the outbox has recorded the thread as the
	// conversation's: Discord shows the message a moment before that.
	eventually(t, "the conversation's thread recorded", func() bool {
		convs, _ := r.engine.Conversations(context.Background(), core.ConversationFilter{})
		return len(convs) == 1 && convs[0].DeskThread == thread
	})
	relayed := r.fake.Messages(thread)[0]
	if relayed.Content != "**Pat:** My screen is frozen" || string(relayed.AllowedMentions) != `{"parse":[],"replied_user":false}` {
		t.Errorf("relayed %q %s", relayed.Content, relayed.AllowedMentions)
	}
	golden(t, "thread_relayed", mustJSON(relayed), relayed.ID, "MESSAGE", thread, "THREAD")
	// Discord may deliver an event twice: it is recorded once.
	r.a.onMessageCreate(r.a.session, r.dm("380000000000000001", "My screen is frozen"))

	alice := &discordgo.User{ID: aliceID, Username: "alice"}
	r.a.onMessageCreate(r.a.session, threadReply("380000000000000002", thread, "Let's fix that: I'll send you a link.", alice, roleID))
	eventually(t, "the agent's reply as a DM", func() bool { return len(r.fake.DMs(patID)) == 1 })
	if got := r.fake.DMs(patID)[0].Content; got != "Let's fix that: I'll send you a link." {
		t.Errorf("DM %q", got)
	}

	// Left alone: a member without the role, a bot, a message elsewhere,
	// a thread-created system message.
	r.a.onMessageCreate(r.a.session, threadReply("380000000000000003", thread, "I am not an agent", &discordgo.User{ID: "800000000000000008", Username: "mallory"}, "999"))
	r.a.onMessageCreate(r.a.session, threadReply("380000000000000004", thread, "beep", &discordgo.User{ID: "810000000000000081", Username: "otherbot", Bot: true}, roleID))
	r.a.onMessageCreate(r.a.session, threadReply("380000000000000005", supportC, "general chat", alice, roleID))
	sys := threadReply("380000000000000006", thread, "", alice, roleID)
	sys.Type = discordgo.MessageTypeThreadCreated
	r.a.onMessageCreate(r.a.session, sys)

	convs, _ := r.engine.Conversations(context.Background(), core.ConversationFilter{})
	msgs, _ := r.engine.Messages(context.Background(), core.MessageFilter{ConversationID: convs[0].ID})
	var got []string
	for _, m := range msgs {
		got = append(got, string(m.Direction)+":"+m.Author+":"+m.Text)
	}
	want := "in:Pat:My screen is frozen|out:alice:Let's fix that: I'll send you a link."
	if strings.Join(got, "|") != want {
		t.Errorf("transcript %q, want %q", strings.Join(got, "|"), want)
	}
}

// TestReplyRefusedAndFailed: a reply the engine refuses is answered in
// the thread at once; a reply Discord cannot deliver is reported in the
// thread when the delivery fails.
func TestReplyRefusedAndFailed(t *testing.T) {
	r := newRig(t)
	r.run()
	r.a.onMessageCreate(r.a.session, r.dm("390000000000000001", "hello"))
	var thread string
	eventually(t, "the desk thread", func() bool {
		if th := r.fake.Threads(); len(th) == 1 {
			thread = th[0].ID
			return true
		}
		return false
	})
	eventually(t, "the conversation's thread recorded", func() bool {
		convs, _ := r.engine.Conversations(context.Background(), core.ConversationFilter{})
		return len(convs) == 1 && convs[0].DeskThread == thread
	})
	alice := &discordgo.User{ID: aliceID, Username: "alice"}

	r.fake.RefuseDMs(patID)
	r.a.onMessageCreate(r.a.session, threadReply("390000000000000002", thread, "are you there?", alice, roleID))
	eventually(t, "the failure reported in the thread", func() bool {
		for _, m := range r.fake.Messages(thread) {
			if strings.HasPrefix(m.Content, "This reply was not delivered: Pat does not accept direct messages") {
				return true
			}
		}
		return false
	})

	convs, _ := r.engine.Conversations(context.Background(), core.ConversationFilter{})
	if _, err := r.engine.CloseConversation(context.Background(), convs[0].ID, core.Actor{Kind: core.ActorAgent, Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	r.a.onMessageCreate(r.a.session, threadReply("390000000000000003", thread, "one more thing", alice, roleID))
	// The refusal reads as on Slack (remote.Bot.RelayRefusal).
	eventually(t, "the refusal answered in the thread", func() bool {
		for _, m := range r.fake.Messages(thread) {
			if m.Content == "Your reply was not sent to the customer. That request is not valid: the conversation is closed" && strings.Contains(string(m.Reference), "390000000000000003") {
				return true
			}
		}
		return false
	})
}

// TestGatewayInteraction drives the gateway's InteractionCreate: the
// card goes back through the interaction callback endpoint.
func TestGatewayInteraction(t *testing.T) {
	r := newRig(t)
	in := r.remoteCommand(agent(), supportC, customerOption(patID))
	r.a.onInteractionCreate(r.a.session, &discordgo.InteractionCreate{Interaction: in.decode(t)})
	reqs := r.fake.Requests()
	if len(reqs) != 1 || reqs[0].Method != "POST" || reqs[0].Path != "interactions/"+in["id"].(string)+"/"+in["token"].(string)+"/callback" {
		t.Fatalf("requests %+v", reqs)
	}
	golden(t, "card_issued", reqs[0].Body, r.sessions()[0].ID, "SESSION")

	// A member without the role gets the refusal the same way.
	in = r.remoteCommand(stranger(), supportC, customerOption(patID))
	r.a.onInteractionCreate(r.a.session, &discordgo.InteractionCreate{Interaction: in.decode(t)})
	reqs = r.fake.Requests()
	golden(t, "refused_not_agent", reqs[len(reqs)-1].Body)
}

// TestCardFollowsSession: after the link is sent, the agent's card shows
// the delivery status and, when the customer joins, the start buttons,
// through the interaction token, without a click.
func TestCardFollowsSession(t *testing.T) {
	r := newRig(t)
	r.run()
	s := r.issue()
	click := r.click(agent(), supportC, "remote.send_mobile:"+s.ID, "card-1", 64)
	r.post(click.json())
	tok := click["token"].(string)
	// The delivery may finish before or after the click's token replaces
	// the command's; in Discord both edit the same card.
	eventually(t, "the card showing the delivery", func() bool {
		for _, tk := range []string{"itoken1", tok} {
			if m, ok := r.fake.Webhook(tk); ok && strings.Contains(string(m.Embeds), "Link to the customer: Sent") {
				return true
			}
		}
		return false
	})
	if _, _, err := r.engine.Join(context.Background(), s.PIN, core.DeviceMobile); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the card showing the waiting customer", func() bool {
		m, _ := r.fake.Webhook(tok)
		return strings.Contains(string(m.Embeds), "Customer is waiting") && strings.Contains(string(m.Components), "remote.start_view:"+s.ID)
	})
}

// TestEmptyThreadReply: a reply that arrives without its text (the
// Message Content intent is off) is not relayed, and the operator is told
// once what to enable.
func TestEmptyThreadReply(t *testing.T) {
	r := newRig(t)
	conv, _, err := r.engine.CustomerMessage(context.Background(), core.Inbound{
		Customer: core.Endpoint{Channel: "discord", Address: patID}, Name: "Pat", Text: "hi", Desk: r.a.Desk()})
	if err != nil {
		t.Fatal(err)
	}
	r.setThread(conv.ID, "396000000000000039")
	alice := &discordgo.User{ID: aliceID, Username: "alice"}
	for _, id := range []string{"396000000000000001", "396000000000000002"} {
		r.a.onMessageCreate(r.a.session, threadReply(id, "396000000000000039", "", alice, roleID))
	}
	if n := strings.Count(r.logs.String(), "enable the Message Content Intent"); n != 1 {
		t.Errorf("%d warnings:\n%s", n, r.logs)
	}
	if msgs, _ := r.engine.Messages(context.Background(), core.MessageFilter{ConversationID: conv.ID}); len(msgs) != 1 {
		t.Errorf("%d messages in the transcript", len(msgs))
	}
}
