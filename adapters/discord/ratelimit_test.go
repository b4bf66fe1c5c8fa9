package discord

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/assistbot/assistbot/core"
)

// rateLimited is Discord's 429 body asking for a wait of secs seconds.
func rateLimited(secs string) string {
	return `{"message":"You are being rate limited.","retry_after":` + secs + `,"global":false}`
}

// requestsTo returns the requests made with method to path, in order.
func (r *rig) requestsTo(method, path string) []time.Time {
	var at []time.Time
	for _, q := range r.fake.Requests() {
		if q.Method == method && q.Path == path {
			at = append(at, q.At)
		}
	}
	return at
}

// TestRateLimitedOutsideOutbox: what the outbox does not carry (an
// interaction's answer over the gateway, a deferred card, a card's edit,
// a note in a desk thread) waits out a short Retry-After and is sent once
// more, instead of being lost after a 429; a long one is not waited for.
func TestRateLimitedOutsideOutbox(t *testing.T) {
	t.Run("gateway answer", func(t *testing.T) {
		r := newRig(t)
		r.fake.Fail("POST", "interactions/", 429, rateLimited("0.05"), nil, 1)
		in := r.remoteCommand(agent(), supportC, customerOption(patID))
		r.a.onInteractionCreate(r.a.session, &discordgo.InteractionCreate{Interaction: in.decode(t)})
		at := r.requestsTo("POST", "interactions/"+in["id"].(string)+"/"+in["token"].(string)+"/callback")
		if len(at) != 2 || at[1].Sub(at[0]) < 40*time.Millisecond {
			t.Fatalf("callbacks at %v, want a second one after the 50 ms asked", at)
		}
		if strings.Contains(r.logs.String(), "interaction response") {
			t.Errorf("the retried answer was logged as failed:\n%s", r.logs)
		}
	})
	t.Run("gateway answer, wait too long", func(t *testing.T) {
		r := newRig(t)
		r.fake.Fail("POST", "interactions/", 429, rateLimited("5"), nil, 1)
		in := r.remoteCommand(agent(), supportC, customerOption(patID))
		start := time.Now()
		r.a.onInteractionCreate(r.a.session, &discordgo.InteractionCreate{Interaction: in.decode(t)})
		at := r.requestsTo("POST", "interactions/"+in["id"].(string)+"/"+in["token"].(string)+"/callback")
		// Waiting would take the 5 s asked for; anything short of that is
		// the adapter giving up at once, however slow the machine.
		if len(at) != 1 || time.Since(start) >= 5*time.Second || !strings.Contains(r.logs.String(), "interaction response") {
			t.Errorf("%d callbacks in %v, want one, not waited for, and logged:\n%s", len(at), time.Since(start), r.logs)
		}
	})
	// limited is do for retryRateLimited: a 429 asking for wait.
	limited := func(calls *int, wait time.Duration) func() error {
		return func() error {
			*calls++
			return &discordgo.RateLimitError{RateLimit: &discordgo.RateLimit{TooManyRequests: &discordgo.TooManyRequests{RetryAfter: wait}}}
		}
	}
	t.Run("past the interaction's deadline", func(t *testing.T) {
		r := newRig(t)
		calls := 0
		err := r.a.retryRateLimited(context.Background(), time.Now().Add(5*time.Millisecond), limited(&calls, 50*time.Millisecond))
		if calls != 1 || err == nil {
			t.Errorf("%d calls, err %v: an answer that would come after the token's deadline was retried", calls, err)
		}
	})
	t.Run("wait too long", func(t *testing.T) {
		r := newRig(t)
		calls, start := 0, time.Now()
		err := r.a.retryRateLimited(context.Background(), time.Time{}, limited(&calls, maxRetryWait+time.Second))
		if calls != 1 || err == nil || time.Since(start) >= maxRetryWait+time.Second {
			t.Errorf("%d calls in %v, err %v: a Retry-After over %v was waited for", calls, time.Since(start), err, maxRetryWait)
		}
	})
	t.Run("deferred card", func(t *testing.T) {
		release := make(chan struct{})
		r := newRig(t, func(o *Options) { o.DeferAfter = 20 * time.Millisecond })
		r.provider.IssueFunc = func(ctx context.Context, req core.IssueRequest) (core.Ticket, error) {
			<-release
			return core.Ticket{PIN: "012345", DesktopURL: "https://support.example.com/?code=012345"}, nil
		}
		r.fake.Fail("PATCH", "webhooks/", 429, rateLimited("0.05"), nil, 1)
		in := r.remoteCommand(agent(), supportC, customerOption(patID))
		r.post(in.json())
		close(release)
		eventually(t, "the deferred card after the 429", func() bool {
			_, ok := r.fake.Webhook(in["token"].(string))
			return ok
		})
	})
	t.Run("card refresh", func(t *testing.T) {
		r := newRig(t)
		r.run()
		r.fake.Fail("PATCH", "webhooks/", 429, rateLimited("0.05"), nil, 1)
		s := r.issue()
		click := r.click(agent(), supportC, "remote.send_mobile:"+s.ID, "card-1", 64)
		r.post(click.json())
		eventually(t, "the card showing the delivery after the 429", func() bool {
			m, ok := r.fake.Webhook(click["token"].(string))
			return ok && strings.Contains(string(m.Embeds), "Link to the customer: Sent")
		})
		if strings.Contains(r.logs.String(), "refresh card") {
			t.Errorf("the retried edit was logged as failed:\n%s", r.logs)
		}
	})
	t.Run("thread note", func(t *testing.T) {
		r := newRig(t)
		r.run()
		r.a.onMessageCreate(r.a.session, r.dm("391000000000000001", "hello"))
		var thread string
		eventually(t, "the conversation's thread recorded", func() bool {
			convs, _ := r.engine.Conversations(context.Background(), core.ConversationFilter{})
			if len(convs) == 1 {
				thread = convs[0].DeskThread
			}
			return thread != ""
		})
		r.fake.RefuseDMs(patID)
		r.fake.Fail("POST", "channels/"+thread+"/messages", 429, rateLimited("0.05"), nil, 1)
		r.a.onMessageCreate(r.a.session, threadReply("391000000000000002", thread, "are you there?", &discordgo.User{ID: aliceID, Username: "alice"}, roleID))
		eventually(t, "the failed reply reported in the thread after the 429", func() bool {
			for _, m := range r.fake.Messages(thread) {
				if strings.HasPrefix(m.Content, "This reply was not delivered") {
					return true
				}
			}
			return false
		})
	})
}
