package discord

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/assistbot/assistbot/adapters/discord/discordtest"
	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
)

// delivery waits for session id's newest delivery of kind to leave the
// queue and returns it.
func (r *rig) delivery(id string, kind core.NoticeKind) *core.Delivery {
	r.t.Helper()
	var found *core.Delivery
	eventually(r.t, "a "+string(kind)+" delivery to finish", func() bool {
		ds, _ := r.engine.Deliveries(context.Background(), id)
		for _, d := range ds {
			if d.Notice.Kind == kind && d.Status != core.DeliveryQueued {
				found = d
				return true
			}
		}
		return false
	})
	return found
}

// TestSendLinkDM sends the desktop link from the card: the customer gets
// a DM (DM channel first, then the message) without a link preview and
// without pinging anyone.
func TestSendLinkDM(t *testing.T) {
	r := newRig(t)
	r.run()
	s := r.issue()
	r.post(r.click(agent(), supportC, remote.ActionSendDesktop+":"+s.ID, "card-1", 64).json())
	d := r.delivery(s.ID, core.NoticeLink)
	if d.Status != core.DeliverySent {
		t.Fatalf("delivery %s: %s", d.Status, d.Reason)
	}
	reqs := r.fake.Requests()
	if reqs[0].Method != "POST" || reqs[0].Path != "users/@me/channels" || !strings.Contains(string(reqs[0].Body), patID) {
		t.Errorf("first request %s %s %s, want the DM channel", reqs[0].Method, reqs[0].Path, reqs[0].Body)
	}
	dms := r.fake.DMs(patID)
	if len(dms) != 1 {
		t.Fatalf("%d DMs", len(dms))
	}
	m, _ := json.Marshal(dms[0])
	golden(t, "dm_link", m, dms[0].ID, "MESSAGE", dms[0].ChannelID, "DM_CHANNEL")
	if d.ExternalID != dms[0].ChannelID+"/"+dms[0].ID {
		t.Errorf("external id %q", d.ExternalID)
	}
}

// TestDMsRefused: when Discord refuses the DM (50007), the link is posted
// in the channel where the agent named the customer, mentioning only
// them, and the delivery's reason tells the agent which happened.
func TestDMsRefused(t *testing.T) {
	r := newRig(t)
	r.run()
	r.fake.RefuseDMs(patID)
	s := r.issue()
	clicked := r.post(r.click(agent(), supportC, remote.ActionSendDesktop+":"+s.ID, "card-1", 64).json())
	d := r.delivery(s.ID, core.NoticeLink)
	want := "Pat does not accept direct messages from this bot (DMs closed, or no shared server), so the message was posted in <#" + supportC + "> with a mention instead."
	if d.Status != core.DeliveryFailed || d.Reason != want {
		t.Errorf("delivery %s %q, want failed %q", d.Status, d.Reason, want)
	}
	posted := r.fake.Messages(supportC)
	if len(posted) != 1 || !strings.HasPrefix(posted[0].Content, "<@"+patID+"> ") || !strings.Contains(posted[0].Content, s.DesktopURL) ||
		string(posted[0].AllowedMentions) != `{"parse":[],"users":["`+patID+`"],"replied_user":false}` {
		t.Fatalf("channel post %+v", posted)
	}
	golden(t, "channel_mention", mustJSON(posted[0]), posted[0].ID, "MESSAGE")
	// The card says so when the agent looks again.
	conv, _ := r.engine.Conversation(context.Background(), s.ConversationID)
	card := r.a.bot.Card(context.Background(), s, conv, "en")
	if card.Delivery != "Not delivered: "+want {
		t.Errorf("card delivery line %q", card.Delivery)
	}
	// This process shows it on the agent's card, and the conversation has
	// no thread yet: nothing is added to the desk channel.
	// The card is the click's answer, or an edit of it through either
	// interaction's token (both name the same message), depending on
	// whether the outbox was done before the click was answered.
	eventually(t, "the card refreshed", func() bool {
		if strings.Contains(clicked.Body.String(), "Not delivered") {
			return true
		}
		for _, tok := range []string{"itoken1", "itoken2"} {
			if m, ok := r.fake.Webhook(tok); ok && strings.Contains(string(m.Embeds), "Not delivered") {
				return true
			}
		}
		return false
	})
	if n := len(r.fake.Messages(deskID)); n != 0 {
		t.Errorf("%d messages in the desk channel", n)
	}
}

// TestDMsRefusedNowhereToMention: a customer who DMed first (no channel
// known) and closed their DMs since: the reason says nothing was posted,
// and so does the conversation's desk thread.
func TestDMsRefusedNowhereToMention(t *testing.T) {
	r := newRig(t)
	r.run()
	r.fake.RefuseDMs(patID)
	conv, _, err := r.engine.CustomerMessage(context.Background(), core.Inbound{
		Customer: core.Endpoint{Channel: "discord", Address: patID}, Name: "Pat", Text: "help", Desk: r.a.Desk()})
	if err != nil {
		t.Fatal(err)
	}
	thread := r.deskThread(conv.ID)
	s, _, err := r.engine.Issue(context.Background(), core.Request{ConversationID: conv.ID, Agent: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.engine.Send(context.Background(), s.ID, core.Actor{Kind: core.ActorAgent, Name: "alice"}, core.LinkMobile); err != nil {
		t.Fatal(err)
	}
	d := r.delivery(s.ID, core.NoticeLink)
	if d.Status != core.DeliveryFailed || !strings.Contains(d.Reason, "there is no channel where they could be mentioned") {
		t.Errorf("delivery %s %q", d.Status, d.Reason)
	}
	note := r.waitMessage(thread, "Link to the customer: Not delivered: ")
	golden(t, "thread_link_failed", mustJSON(note), note.ID, "MESSAGE", thread, "THREAD")
}

// TestDMsRefusedOnAnotherReplica: the channel where the agent ran
// /remote is kept with the session, so another replica, or this one after
// a restart, mentions the customer there when their DMs are closed. A
// session issued elsewhere (the console, the API) has no such channel
// until an agent presses a button on its card; until then a refused DM
// has nowhere to mention the customer, and the desk says so.
func TestDMsRefusedOnAnotherReplica(t *testing.T) {
	t.Run("kept with the session", func(t *testing.T) {
		r := newRig(t)
		r.fake.RefuseDMs(patID)
		s := r.issue()
		if s.Origin != supportC {
			t.Fatalf("session origin %q, want the channel of /remote", s.Origin)
		}
		b := r.replica()
		r.run(b)
		// Sent by another way than the card (the console, the API), and
		// delivered by a replica that never saw the command.
		if _, _, err := r.engine.Send(context.Background(), s.ID, core.Actor{Kind: core.ActorAgent, Name: "alice"}, core.LinkDesktop); err != nil {
			t.Fatal(err)
		}
		d := r.delivery(s.ID, core.NoticeLink)
		if d.Status != core.DeliveryFailed || !strings.Contains(d.Reason, "was posted in <#"+supportC+"> with a mention") {
			t.Errorf("delivery %s %q", d.Status, d.Reason)
		}
		if posted := r.fake.Messages(supportC); len(posted) != 1 || !strings.HasPrefix(posted[0].Content, "<@"+patID+"> ") {
			t.Errorf("channel posts %+v", posted)
		}
	})
	apiSession := func(r *rig) *core.Session {
		s, _, err := r.engine.Issue(context.Background(), core.Request{Customer: core.Endpoint{Channel: core.ChannelDiscord, Address: patID},
			CustomerName: "Pat", Desk: r.a.Desk(), Agent: "alice"})
		if err != nil {
			r.t.Fatal(err)
		}
		return s
	}
	t.Run("learned from the card", func(t *testing.T) {
		r := newRig(t)
		r.fake.RefuseDMs(patID)
		s := apiSession(r)
		b := r.replica()
		r.run(b)
		r.postTo(b, r.click(agent(), supportC, remote.ActionSendDesktop+":"+s.ID, "card-1", 64).json())
		d := r.delivery(s.ID, core.NoticeLink)
		if d.Status != core.DeliveryFailed || !strings.Contains(d.Reason, "was posted in <#"+supportC+"> with a mention") {
			t.Errorf("delivery %s %q", d.Status, d.Reason)
		}
		if posted := r.fake.Messages(supportC); len(posted) != 1 || !strings.HasPrefix(posted[0].Content, "<@"+patID+"> ") {
			t.Errorf("channel posts %+v", posted)
		}
	})
	t.Run("nothing remembered", func(t *testing.T) {
		r := newRig(t)
		r.fake.RefuseDMs(patID)
		s := apiSession(r)
		b := r.replica()
		r.run(b)
		if _, _, err := r.engine.Send(context.Background(), s.ID, core.Actor{Kind: core.ActorAgent, Name: "alice"}, core.LinkDesktop); err != nil {
			t.Fatal(err)
		}
		d := r.delivery(s.ID, core.NoticeLink)
		if d.Status != core.DeliveryFailed || !strings.Contains(d.Reason, "there is no channel where they could be mentioned") {
			t.Errorf("delivery %s %q", d.Status, d.Reason)
		}
		// The conversation has no thread yet: the desk channel is told.
		// In the desk channel, the note says whose conversation it is.
		note := r.waitMessage(deskID, "**Pat**: Link to the customer: Not delivered: Pat does not accept direct messages")
		if string(note.AllowedMentions) != `{"parse":[],"replied_user":false}` {
			t.Errorf("the note may ping: %s", note.AllowedMentions)
		}
		if n := len(r.fake.Messages(supportC)); n != 0 {
			t.Errorf("%d posts in the channel of /remote", n)
		}
	})
}

// TestRemoteInDeskNotRemembered: /remote customer:@pat run in the desk
// channel, or /remote run in another conversation's thread, is not where
// the customer can be mentioned (only agents see the desk): a refused DM
// is reported, not posted there.
func TestRemoteInDeskNotRemembered(t *testing.T) {
	for _, where := range []string{deskID, "397000000000000039"} {
		r := newRig(t)
		r.fake.RefuseDMs(patID)
		other, _, err := r.engine.CustomerMessage(context.Background(), core.Inbound{
			Customer: core.Endpoint{Channel: "discord", Address: "720000000000000072"}, Name: "Sam", Text: "hi", Desk: r.a.Desk()})
		if err != nil {
			t.Fatal(err)
		}
		r.setThread(other.ID, "397000000000000039")
		r.decodeResponse(r.post(r.remoteCommand(agent(), where, customerOption(patID)).json()))
		ss, _ := r.engine.Sessions(context.Background(), core.SessionFilter{})
		var s *core.Session
		for _, x := range ss {
			if x.ConversationID != other.ID {
				s = x
			}
		}
		r.run()
		r.post(r.click(agent(), where, remote.ActionSendDesktop+":"+s.ID, "card-1", 64).json())
		d := r.delivery(s.ID, core.NoticeLink)
		if d.Status != core.DeliveryFailed || !strings.Contains(d.Reason, "there is no channel where they could be mentioned") {
			t.Errorf("/remote in %s: delivery %s %q", where, d.Status, d.Reason)
		}
		for _, m := range r.fake.Messages(where) {
			if strings.Contains(m.Content, "<@"+patID+">") {
				t.Errorf("/remote in %s: the customer was mentioned where only agents look: %q", where, m.Content)
			}
		}
	}
}

// deskThread waits for conversation id's desk thread to be recorded.
func (r *rig) deskThread(id string) string {
	r.t.Helper()
	var thread string
	eventually(r.t, "the conversation's desk thread", func() bool {
		c, err := r.engine.Conversation(context.Background(), id)
		if err == nil {
			thread = c.DeskThread
		}
		return thread != ""
	})
	return thread
}

// waitMessage waits for a message in channel that starts with prefix.
func (r *rig) waitMessage(channel, prefix string) discordtest.Message {
	r.t.Helper()
	var found discordtest.Message
	eventually(r.t, "a message in "+channel+" starting "+prefix, func() bool {
		for _, m := range r.fake.Messages(channel) {
			if strings.HasPrefix(m.Content, prefix) {
				found = m
				return true
			}
		}
		return false
	})
	return found
}

// TestDeskThread: the first desk notice of a conversation starts its
// thread under a header with the "Remote support" button; the session's
// later notices edit that alert in place.
func TestDeskThread(t *testing.T) {
	r := newRig(t)
	r.run()
	s := r.issue()
	if _, _, err := r.engine.Join(context.Background(), s.PIN, core.DeviceDesktop); err != nil {
		t.Fatal(err)
	}
	alert := r.delivery(s.ID, core.NoticeSession)
	threads := r.fake.Threads()
	if alert.Status != core.DeliverySent || len(threads) != 1 || threads[0].ParentID != deskID {
		t.Fatalf("delivery %s %q, threads %+v", alert.Status, alert.Reason, threads)
	}
	header := r.fake.Messages(deskID)
	in := r.fake.Messages(threads[0].ID)
	if len(header) != 1 || header[0].ID != threads[0].ID || len(in) != 1 {
		t.Fatalf("header %+v, thread %+v", header, in)
	}
	golden(t, "desk_header", mustJSON(header[0]), s.ConversationID, "CONVERSATION", header[0].ID, "THREAD")
	golden(t, "desk_waiting", mustJSON(in[0]), s.ID, "SESSION", in[0].ID, "MESSAGE", threads[0].ID, "THREAD")
	if threads[0].Name != "Discord DM conversation with Pat (English)" {
		t.Errorf("thread name %q", threads[0].Name)
	}
	conv, _ := r.engine.Conversation(context.Background(), s.ConversationID)
	if conv.DeskThread != threads[0].ID {
		t.Errorf("desk thread recorded %q, want %q", conv.DeskThread, threads[0].ID)
	}

	if _, err := r.engine.Start(context.Background(), s.ID, core.Actor{Kind: core.ActorTechnician, Name: "tom"}, core.ModeControl); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the alert edited in place", func() bool {
		in = r.fake.Messages(threads[0].ID)
		return len(in) == 1 && in[0].Edits == 1
	})
	if in[0].Content != "tom started the session (remote control)." || !strings.Contains(string(in[0].Components), remote.ActionEnd+":"+s.ID) {
		t.Errorf("edited alert %q %s", in[0].Content, in[0].Components)
	}
	if n := len(r.fake.Threads()); n != 1 {
		t.Errorf("%d threads for one conversation", n)
	}
}

// TestDeskThreadStartRetried: the thread failed to start once (a 429:
// threads have tight rate limits). The retry starts it from the header
// already posted, instead of a second header with buttons of its own;
// and a retry told the thread already exists (its answer was lost) takes
// that thread.
func TestDeskThreadStartRetried(t *testing.T) {
	for _, tc := range []struct{ name, status, body string }{
		{"rate limited", "429", `{"message":"You are being rate limited.","retry_after":0.01,"global":false}`},
		{"already started", "400", `{"message":"A thread has already been created for this message","code":160004}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			status, _ := strconv.Atoi(tc.status)
			r.fake.Fail("POST", "channels/"+deskID+"/messages/", status, tc.body, nil, 1)
			d := &core.Delivery{ConversationID: "conv1", To: core.Endpoint{Channel: core.ChannelDiscord, Address: deskID},
				Notice: core.Notice{Kind: core.NoticeSession, Action: core.ActionJoin, SessionID: "s1", ConversationID: "conv1",
					Customer: "Pat", CustomerChannel: core.ChannelDiscord}}
			_, err := r.a.deliver(context.Background(), d)
			if tc.status == "429" {
				if core.ErrorCode(err) != core.CodeUnavailable {
					t.Fatalf("first attempt: %v, want unavailable", err)
				}
				_, err = r.a.deliver(context.Background(), d)
			}
			if err != nil {
				t.Fatal(err)
			}
			headers := r.fake.Messages(deskID)
			if len(headers) != 1 {
				t.Fatalf("%d headers in the desk channel for one conversation", len(headers))
			}
			if in := r.fake.Messages(headers[0].ID); len(in) != 1 {
				t.Errorf("%d messages in the thread, want the alert", len(in))
			}
		})
	}
}

// TestDeliveryFaults maps Discord's failures to what the outbox does:
// retry later (5xx, 429 with its Retry-After) or fail with a reason.
func TestDeliveryFaults(t *testing.T) {
	for _, tc := range []struct {
		name      string
		status    int
		body      string
		header    http.Header
		code      core.Code
		retry     time.Duration
		reasonHas string
	}{
		{"server error", 502, `{"message":"Bad Gateway","code":0}`, nil, core.CodeUnavailable, 0, "not available"},
		{"unavailable with Retry-After", 503, `{}`, http.Header{"Retry-After": {"7"}}, core.CodeUnavailable, 7 * time.Second, "not available"},
		{"rate limited", 429, `{"message":"You are being rate limited.","retry_after":2.5,"global":false}`, nil, core.CodeUnavailable, 2500 * time.Millisecond, "slow down"},
		{"missing permissions", 403, `{"message":"Missing Permissions","code":50013}`, nil, core.CodeInvalid, 0, "Discord refused it: Missing Permissions (50013)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			r.fake.Fail("POST", "users/@me/channels", tc.status, tc.body, tc.header, 1)
			_, err := r.a.deliver(context.Background(), &core.Delivery{To: core.Endpoint{Channel: "discord", Address: patID},
				Notice: core.Notice{Kind: core.NoticeText, Text: "hello"}})
			retry, _ := core.RetryAfter(err)
			if core.ErrorCode(err) != tc.code || retry != tc.retry || !strings.Contains(core.ErrorMessage(err), tc.reasonHas) {
				t.Errorf("err %v: code %s retry %v message %q", err, core.ErrorCode(err), retry, core.ErrorMessage(err))
			}
		})
	}
}

// TestTokenRefused: a 401 stops the adapter with one clear log line; it
// sends nothing more, fails deliveries with a reason, and Run returns.
func TestTokenRefused(t *testing.T) {
	r := newRig(t)
	r.fake.Token = "another-token"
	to := &core.Delivery{To: core.Endpoint{Channel: "discord", Address: patID}, Notice: core.Notice{Kind: core.NoticeText, Text: "hello"}}
	_, err := r.a.deliver(context.Background(), to)
	if core.ErrorCode(err) != core.CodeUnauthorized || !strings.Contains(core.ErrorMessage(err), "discord.token") {
		t.Errorf("first delivery: %v", err)
	}
	sent := len(r.fake.Requests())
	for range 3 {
		if _, err := r.a.deliver(context.Background(), to); core.ErrorCode(err) != core.CodeUnauthorized {
			t.Errorf("later delivery: %v", err)
		}
	}
	if n := len(r.fake.Requests()); n != sent {
		t.Errorf("%d more requests after the token was refused", n-sent)
	}
	if strings.Count(r.logs.String(), "refused the bot token") != 1 {
		t.Errorf("want one log line about the token:\n%s", r.logs)
	}
	done := make(chan error, 1)
	go func() { done <- r.a.Run(context.Background()) }()
	select {
	case err := <-done:
		if err != ErrTokenRefused {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run kept going after the token was refused")
	}
}

// TestInteractionTokenExpired: a 401 on an interaction's webhook or
// callback says that interaction's token expired, not that the bot token
// is wrong: the adapter keeps working. A 401 for the bot token still
// stops it.
func TestInteractionTokenExpired(t *testing.T) {
	release := make(chan struct{})
	r := newRig(t, func(o *Options) { o.DeferAfter = 20 * time.Millisecond })
	r.provider.IssueFunc = func(ctx context.Context, req core.IssueRequest) (core.Ticket, error) {
		<-release
		return core.Ticket{PIN: "012345", DesktopURL: "https://support.example.com/?code=012345"}, nil
	}
	expired := `{"message":"Invalid Webhook Token","code":50027}`
	r.fake.Fail("PATCH", "webhooks/", 401, expired, nil, 1)
	r.fake.Fail("POST", "interactions/", 401, expired, nil, 1)
	in := r.remoteCommand(agent(), supportC, customerOption(patID))
	r.post(in.json())
	close(release)
	edit := "webhooks/" + appID + "/" + in["token"].(string) + "/messages/@original"
	eventually(t, "the refused edit of the deferred card", func() bool {
		for _, q := range r.fake.Requests() {
			if q.Method == "PATCH" && q.Path == edit {
				return true
			}
		}
		return false
	})
	r.a.work.Wait()
	r.a.onInteractionCreate(r.a.session, &discordgo.InteractionCreate{Interaction: r.remoteCommand(agent(), supportC, customerOption(patID)).decode(t)})
	if r.a.isHalted() {
		t.Fatalf("an expired interaction token stopped the adapter:\n%s", r.logs)
	}
	to := &core.Delivery{To: core.Endpoint{Channel: "discord", Address: patID}, Notice: core.Notice{Kind: core.NoticeText, Text: "hello"}}
	if _, err := r.a.deliver(context.Background(), to); err != nil {
		t.Fatalf("delivery after an expired interaction token: %v", err)
	}
	if strings.Contains(r.logs.String(), "refused the bot token") {
		t.Errorf("logged a refused bot token:\n%s", r.logs)
	}
	r.fake.Token = "another-token"
	if _, err := r.a.deliver(context.Background(), to); core.ErrorCode(err) != core.CodeUnauthorized || !r.a.isHalted() {
		t.Errorf("a refused bot token: %v, halted %v", err, r.a.isHalted())
	}
}

// TestRateLimiterRespected: when Discord says a bucket is empty
// (X-RateLimit-Remaining: 0), discordgo's limiter holds the next request
// on that route until the bucket resets.
func TestRateLimiterRespected(t *testing.T) {
	r := newRig(t)
	r.fake.Fail("POST", "users/@me/channels", 200, `{"id":"360000000000000036","type":1}`,
		http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset-After": {"0.3"}, "X-Ratelimit-Bucket": {"dm"}}, 1)
	for range 2 {
		r.a.dms.Purge() // no cache: both deliveries open the DM channel
		if _, err := r.a.deliver(context.Background(), &core.Delivery{To: core.Endpoint{Channel: "discord", Address: patID},
			Notice: core.Notice{Kind: core.NoticeText, Text: "hello"}}); err != nil {
			t.Fatal(err)
		}
	}
	var at []time.Time
	for _, q := range r.fake.Requests() {
		if q.Path == "users/@me/channels" {
			at = append(at, q.At)
		}
	}
	if len(at) != 2 || at[1].Sub(at[0]) < 250*time.Millisecond {
		t.Errorf("the second request came %v after the first, want at least the 0.3 s reset", at[1].Sub(at[0]))
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// TestHeaderFollowsClose: a closed conversation has its thread header
// rewritten, wherever it was closed (the console, the API, the header's
// button): no buttons, and who closed it.
func TestHeaderFollowsClose(t *testing.T) {
	r := newRig(t)
	r.run()
	s := r.issue()
	if _, _, err := r.engine.Join(context.Background(), s.PIN, core.DeviceDesktop); err != nil {
		t.Fatal(err)
	}
	r.delivery(s.ID, core.NoticeSession)
	conv, _ := r.engine.Conversation(context.Background(), s.ConversationID)
	if conv.DeskThread == "" {
		t.Fatal("no desk thread")
	}
	header := func(closedBy string) func() bool {
		return func() bool {
			for _, m := range r.fake.Messages(deskID) {
				if m.ID == conv.DeskThread {
					return strings.Contains(m.Content, "Conversation closed by "+closedBy) && !strings.Contains(string(m.Components), remote.ActionIssue)
				}
			}
			return false
		}
	}
	// Closed from the console or the API.
	if _, err := r.engine.CloseConversation(context.Background(), conv.ID, core.Actor{Kind: core.ActorAgent, Name: "bob"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the header rewritten", header("bob"))

	// Closed with the header's own button, in a conversation Pat opens
	// anew: the click is answered with a deferred update, and the header
	// is rewritten the same way.
	again := r.patWrote("")
	thread := r.deskThread(again.ID)
	if resp := r.decodeResponse(r.post(r.click(agent(), deskID, remote.ActionCloseConversation+":"+again.ID, thread, 0).json())); resp.Type != 6 {
		t.Fatalf("type %d, want 6 (deferred update)", resp.Type)
	}
	conv = again
	conv.DeskThread = thread
	eventually(t, "the header rewritten after the click", header("alice"))
}
