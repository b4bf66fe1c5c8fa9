package slack

import (
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/slack/slackfake"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
)

// BenchmarkVerify is the signature check of one slash command.
func BenchmarkVerify(b *testing.B) {
	v := newVerifier(testSecret)
	body := []byte(commandForm("<@U0CUSTOMER|pat>", "https://hooks.slack.com/commands/T0TEAM/1/x").Encode())
	h := slackfake.Sign(testSecret, time.Now(), body)
	b.ReportAllocs()
	for b.Loop() {
		if err := v.verify(h, body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseCommand reads one slash command's form.
func BenchmarkParseCommand(b *testing.B) {
	body := []byte(commandForm("<@U0CUSTOMER|pat>", "https://hooks.slack.com/commands/T0TEAM/1/x").Encode())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseCommand(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFreshCard renders a new session's card as the command's
// answer: bots/remote's Card and the Block Kit encoding.
func BenchmarkFreshCard(b *testing.B) {
	r := newCardRig(b, &coretest.Provider{})
	s := goldenSession(core.StateIssued, core.DeviceUnknown)
	c := goldenConversation(core.Endpoint{Channel: core.ChannelSlack, Address: customerID}, "pat")
	buf := make([]byte, 0, 8192)
	b.ReportAllocs()
	for b.Loop() {
		buf = r.a.freshCard(buf[:0], s, c, testChannel).json
	}
}
