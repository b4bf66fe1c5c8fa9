package slack

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	slackapi "github.com/slack-go/slack"

	"github.com/assistbot/assistbot/bots/i18n"
	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
	"github.com/assistbot/assistbot/core/outbox"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-golden +got):\n%s", name, diff)
	}
}

// pretty indents a message for its golden file, and checks on the way
// that it is valid JSON.
func pretty(t *testing.T, msg []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := json.Indent(&b, msg, "", "  "); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, msg)
	}
	return append(b.Bytes(), '\n')
}

// sameBlocks checks that the slash command's hand-built answer says what
// the Web API's blocks of the same view say (the fast path and the plain
// one agree), and that slack-go reads the answer's blocks back unchanged:
// what the hand-written encoder writes is Block Kit as the SDK models it,
// with no field it would drop or misread.
func sameBlocks(t *testing.T, answer []byte, msg message) {
	t.Helper()
	var a struct {
		Text   string          `json:"text"`
		Blocks json.RawMessage `json:"blocks"`
	}
	if err := json.Unmarshal(answer, &a); err != nil {
		t.Fatalf("answer %s: %v", answer, err)
	}
	if a.Text != msg.text {
		t.Errorf("answer text %q, Web API text %q", a.Text, msg.text)
	}
	var written, plain, reread any
	_ = json.Unmarshal(a.Blocks, &written)
	_ = json.Unmarshal(marshalBlocks(t, msg.blocks), &plain)
	if diff := cmp.Diff(plain, written); diff != "" {
		t.Errorf("the answer's blocks differ from the Web API's (-Web API +answer):\n%s", diff)
	}
	var bs slackapi.Blocks
	if err := json.Unmarshal(a.Blocks, &bs); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal(marshalBlocks(t, bs.BlockSet), &reread)
	if diff := cmp.Diff(written, reread); diff != "" {
		t.Errorf("slack-go reads the blocks differently (-written +reread):\n%s", diff)
	}
	for _, b := range bs.BlockSet {
		if _, ok := b.(*slackapi.UnknownBlock); ok {
			t.Errorf("slack-go does not know block %+v", b)
		}
	}
}

// marshalBlocks encodes blocks as the Web API call does, without
// encoding/json's HTML escapes (Slack's markup is < and >).
func marshalBlocks(t *testing.T, blocks []slackapi.Block) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(blocks); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSpace(b.Bytes())
}

// goldenBlocks compares blocks with the JSON array in testdata/name:
// as JSON values, since slack-go orders a button's keys its own way.
func goldenBlocks(t *testing.T, name string, blocks []slackapi.Block) {
	t.Helper()
	got := pretty(t, marshalBlocks(t, blocks))
	if *update {
		golden(t, name, got)
		return
	}
	want, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	var w, g any
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal(got, &g)
	if diff := cmp.Diff(w, g); diff != "" {
		t.Errorf("%s differs (-golden +got):\n%s", name, diff)
	}
}

// cardRig renders cards of sessions with fixed IDs and times.
type cardRig struct {
	a      *Adapter
	bot    *remote.Bot
	engine *core.Engine
}

func newCardRig(t testing.TB, p *coretest.Provider) *cardRig {
	cat, err := i18n.New("en")
	if err != nil {
		t.Fatal(err)
	}
	e := core.NewEngine(core.Options{Courier: outbox.New(outbox.Options{}), Store: coretest.NewMemStore(), Provider: p})
	bot := remote.New(e, cat)
	a, err := New(Options{Engine: e, Bot: bot, BotToken: "xoxb-golden", SigningSecret: "s", APIURL: "http://127.0.0.1:1/api/"})
	if err != nil {
		t.Fatal(err)
	}
	return &cardRig{a: a, bot: bot, engine: e}
}

var goldenTime = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

func goldenSession(state core.State, device core.Device) *core.Session {
	return &core.Session{
		ID: "06h15kcard0000000000000000", ConversationID: "06h15kconv0000000000000000", Provider: "builtin",
		PIN: "012345", PINExpiresAt: goldenTime.Add(20 * time.Minute),
		DesktopURL: "https://support.example.com/?code=012345", MobileURL: "https://support.example.com/m/012345",
		ManualURL: "https://support.example.com/", State: state, Device: device, Agent: "alice", Locale: "en",
		CreatedAt: goldenTime, UpdatedAt: goldenTime,
	}
}

func goldenConversation(customer core.Endpoint, name string) *core.Conversation {
	return &core.Conversation{ID: "06h15kconv0000000000000000", Customer: customer, CustomerName: name,
		Desk: core.Endpoint{Channel: core.ChannelSlack, Address: testDesk}, Locale: "en", State: core.ConversationOpen}
}

// TestCardGolden renders the card in every state a session can be in, as
// Slack receives it.
func TestCardGolden(t *testing.T) {
	sms := goldenConversation(core.Endpoint{Channel: core.ChannelSMS, Address: "+12015550123"}, "")
	slackUser := goldenConversation(core.Endpoint{Channel: core.ChannelSlack, Address: customerID}, "")
	named := goldenConversation(core.Endpoint{Channel: core.ChannelSlack, Address: customerID}, "Pat <VIP> & co")
	cases := []struct {
		name     string
		s        *core.Session
		c        *core.Conversation
		provider *coretest.Provider
		delivery *core.Delivery
	}{
		{name: "issued_sms", s: goldenSession(core.StateIssued, core.DeviceUnknown), c: sms},
		{name: "issued_slack_user", s: goldenSession(core.StateIssued, core.DeviceUnknown), c: slackUser},
		{name: "issued_named", s: goldenSession(core.StateIssued, core.DeviceUnknown), c: named},
		{name: "sent_queued", s: goldenSession(core.StateSent, core.DeviceUnknown), c: slackUser, delivery: &core.Delivery{Status: core.DeliveryQueued}},
		{name: "sent_delivered", s: goldenSession(core.StateSent, core.DeviceUnknown), c: slackUser, delivery: &core.Delivery{Status: core.DeliveryDelivered}},
		{name: "sent_failed", s: goldenSession(core.StateSent, core.DeviceUnknown), c: sms, delivery: &core.Delivery{Status: core.DeliveryFailed, Reason: "number opted out"}},
		{name: "waiting_desktop", s: goldenSession(core.StateWaiting, core.DeviceDesktop), c: slackUser},
		{name: "waiting_mobile", s: goldenSession(core.StateWaiting, core.DeviceMobile), c: sms},
		{name: "waiting_view_only_provider", s: goldenSession(core.StateWaiting, core.DeviceDesktop), c: slackUser, provider: &coretest.Provider{ModeList: []core.Mode{core.ModeView}}},
		{name: "active", s: goldenSession(core.StateActive, core.DeviceDesktop), c: slackUser},
		{name: "ended", s: goldenSession(core.StateEnded, core.DeviceDesktop), c: slackUser},
		{name: "expired", s: goldenSession(core.StateExpired, core.DeviceUnknown), c: sms},
		{name: "closed", s: goldenSession(core.StateClosed, core.DeviceUnknown), c: sms},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.provider
			if p == nil {
				p = &coretest.Provider{}
			}
			r := newCardRig(t, p)
			card := r.bot.Card(ctx, tc.s, tc.c, "en")
			if tc.delivery != nil {
				card.Delivery = r.bot.DeliveryStatus(tc.delivery, "en")
			}
			v := r.a.cardView(&card, tc.c, testChannel)
			answer := answerJSON(&v)
			sameBlocks(t, answer, v.message())
			golden(t, "cards/"+tc.name+".json", pretty(t, answer))
		})
	}
}

// TestCardKorean renders a card for a Korean-speaking desk.
func TestCardKorean(t *testing.T) {
	r := newCardRig(t, &coretest.Provider{})
	r.a.locale = "ko"
	c := goldenConversation(core.Endpoint{Channel: core.ChannelSMS, Address: "+12015550123"}, "")
	card := r.bot.Card(ctx, goldenSession(core.StateIssued, core.DeviceUnknown), c, "ko")
	v := r.a.cardView(&card, c, testChannel)
	golden(t, "cards/issued_ko.json", pretty(t, answerJSON(&v)))
}

// TestAlertGolden renders the desk's alerts and a thread's header.
func TestAlertGolden(t *testing.T) {
	r := newCardRig(t, &coretest.Provider{})
	for name, n := range map[string]core.Notice{
		"waiting_desktop": {Kind: core.NoticeSession, Action: core.ActionJoin, Device: core.DeviceDesktop, SessionID: "06h15kcard0000000000000000", Locale: "en"},
		"waiting_mobile":  {Kind: core.NoticeSession, Action: core.ActionJoin, Device: core.DeviceMobile, SessionID: "06h15kcard0000000000000000", Locale: "en"},
		"started":         {Kind: core.NoticeSession, Action: core.ActionStart, Mode: core.ModeControl, Actor: "tom", SessionID: "06h15kcard0000000000000000", Locale: "en"},
		"ended":           {Kind: core.NoticeSession, Action: core.ActionEnd, SessionID: "06h15kcard0000000000000000", Locale: "en"},
		"expired":         {Kind: core.NoticeSession, Action: core.ActionExpire, SessionID: "06h15kcard0000000000000000", Locale: "en"},
	} {
		t.Run(name, func(t *testing.T) {
			goldenBlocks(t, "alerts/"+name+".json", r.a.render.alert(r.bot.DeskAlert(n), testDesk).blocks)
		})
	}
	for name, tc := range map[string]struct {
		n    core.Notice
		conv *core.Conversation
	}{
		"thread_sms":   {core.Notice{ConversationID: "06h15kconv0000000000000000", Customer: "…0123", CustomerChannel: core.ChannelSMS, Locale: "ko"}, nil},
		"thread_slack": {core.Notice{ConversationID: "06h15kconv0000000000000000", Customer: "…OMER", CustomerChannel: core.ChannelSlack, Locale: "en"}, goldenConversation(core.Endpoint{Channel: core.ChannelSlack, Address: customerID}, "")},
	} {
		t.Run(name, func(t *testing.T) {
			goldenBlocks(t, "alerts/"+name+".json", r.a.render.thread(r.bot.ThreadHeader(tc.n, "en"), tc.n, tc.conv, testDesk).blocks)
		})
	}
	t.Run("thread_closed", func(t *testing.T) {
		conv := goldenConversation(core.Endpoint{Channel: core.ChannelSlack, Address: customerID}, "")
		h := r.bot.ClosedHeader(conv, "alice", "en")
		goldenBlocks(t, "alerts/thread_closed.json", r.a.render.thread(h, remote.HeaderNotice(conv), conv, testDesk).blocks)
	})
}

// TestAppendString checks the JSON string encoder against encoding/json
// on what names and messages can hold.
func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain", `quote " backslash \ slash /`, "tab\tnew\nline\rcr", "\x00\x01\x1f", "한국어 日本語 Ünïcödé",
		"bad \xff utf8 \xc3", "line\u2028sep\u2029", "<script>&amp;", "emoji 🧑‍💻"} {
		got := appendString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Errorf("%q: invalid JSON %s: %v", s, got, err)
			continue
		}
		want, _ := json.Marshal(s)
		var wantBack string
		_ = json.Unmarshal(want, &wantBack)
		if back != wantBack {
			t.Errorf("%q reads back as %q, encoding/json gives %q", s, back, wantBack)
		}
	}
}
