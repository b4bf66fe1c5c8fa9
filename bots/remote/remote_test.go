package remote_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/bots/i18n"
	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
	"github.com/assistbot/assistbot/core/outbox"
)

var (
	ctx   = context.Background()
	alice = core.Actor{Kind: core.ActorAgent, Name: "alice"}
	pat   = core.Endpoint{Channel: core.ChannelSMS, Address: "+12015550123"}
)

type rig struct {
	bot      *remote.Bot
	engine   *core.Engine
	clock    *coretest.Clock
	provider *coretest.Provider
}

func newRig(t *testing.T) *rig {
	t.Helper()
	cat, err := i18n.New("en")
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{clock: coretest.NewClock(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)), provider: &coretest.Provider{}}
	r.engine = core.NewEngine(core.Options{Courier: outbox.New(outbox.Options{}),
		Store: coretest.NewMemStore(), Provider: r.provider, Clock: r.clock,
		Channels: []core.Channel{&coretest.Channel{ChannelName: core.ChannelSMS}, &coretest.Channel{ChannelName: core.ChannelWeb}},
	})
	r.bot = remote.New(r.engine, cat)
	return r
}

func (r *rig) issue(t *testing.T, customer core.Endpoint) (*core.Session, *core.Conversation) {
	t.Helper()
	s, c, err := r.engine.Issue(ctx, core.Request{Customer: customer, Agent: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

func actions(bs []remote.Button) string {
	var out []string
	for _, b := range bs {
		name := strings.TrimPrefix(b.ActionID, "remote.")
		if b.Style == remote.StylePrimary {
			name += "*"
		}
		out = append(out, name)
	}
	return strings.Join(out, " ")
}

func TestCardByState(t *testing.T) {
	r := newRig(t)
	s, c := r.issue(t, pat)
	card := r.bot.Card(ctx, s, c, "en")
	if card.PIN != s.PIN || len(card.Links) != 2 || card.Links[1].URL != s.MobileURL || card.Customer != "Customer: …0123" ||
		card.Expires != "Expires at 09:20 UTC" || card.StateLabel != "PIN issued" || card.Manual != "Or enter the PIN at "+s.ManualURL {
		t.Errorf("issued card = %+v", card)
	}
	// SMS customer: the mobile link is the one to send.
	if got := actions(card.Buttons); got != "send_desktop send_mobile* regenerate close" {
		t.Errorf("issued buttons = %s", got)
	}
	for _, b := range card.Buttons {
		if b.Value != s.ID {
			t.Errorf("button %s carries %q, want the session id", b.ActionID, b.Value)
		}
	}

	t.Run("web customer: desktop first", func(t *testing.T) {
		s, c := r.issue(t, core.Endpoint{Channel: core.ChannelWeb, Address: "chat-1"})
		if got := actions(r.bot.Card(ctx, s, c, "en").Buttons); got != "send_desktop* send_mobile regenerate close" {
			t.Errorf("buttons = %s", got)
		}
	})
	t.Run("sent, with delivery status", func(t *testing.T) {
		s, _, err := r.engine.Send(ctx, s.ID, alice, core.LinkMobile)
		if err != nil {
			t.Fatal(err)
		}
		card := r.bot.Card(ctx, s, c, "en")
		if card.StateLabel != "Link sent" || card.Delivery != "Sending…" {
			t.Errorf("sent card = %+v", card)
		}
	})
	t.Run("waiting on a phone", func(t *testing.T) {
		s, c := r.issue(t, core.Endpoint{Channel: core.ChannelWeb, Address: "chat-2"})
		j, _, err := r.engine.Join(ctx, s.PIN, core.DeviceMobile)
		if err != nil {
			t.Fatal(err)
		}
		card := r.bot.Card(ctx, j, c, "en")
		if got := actions(card.Buttons); got != "start_view* close" {
			t.Errorf("buttons = %s", got)
		}
		if card.PIN != "" || len(card.Links) != 0 {
			t.Error("a used PIN is still shown")
		}
		if len(card.Notes) != 1 || !strings.Contains(card.Notes[0], "Mobile devices") {
			t.Errorf("notes = %v", card.Notes)
		}
	})
	t.Run("waiting on a computer", func(t *testing.T) {
		s, c := r.issue(t, core.Endpoint{Channel: core.ChannelWeb, Address: "chat-3"})
		j, _, _ := r.engine.Join(ctx, s.PIN, core.DeviceDesktop)
		if got := actions(r.bot.Card(ctx, j, c, "en").Buttons); got != "start_control* start_view close" {
			t.Errorf("buttons = %s", got)
		}
	})
	t.Run("active", func(t *testing.T) {
		s, c := r.issue(t, core.Endpoint{Channel: core.ChannelWeb, Address: "chat-4"})
		r.engine.Join(ctx, s.PIN, core.DeviceDesktop)
		a, err := r.engine.Start(ctx, s.ID, alice, core.ModeView)
		if err != nil {
			t.Fatal(err)
		}
		if got := actions(r.bot.Card(ctx, a, c, "en").Buttons); got != "end" {
			t.Errorf("buttons = %s", got)
		}
	})
	t.Run("expired", func(t *testing.T) {
		s, c := r.issue(t, core.Endpoint{Channel: core.ChannelWeb, Address: "chat-5"})
		r.clock.Add(time.Hour)
		e, _ := r.engine.Session(ctx, s.ID)
		card := r.bot.Card(ctx, e, c, "en")
		if got := actions(card.Buttons); got != "regenerate* close" || card.PIN != "" {
			t.Errorf("expired card: %s, pin %q", got, card.PIN)
		}
	})
	t.Run("closed", func(t *testing.T) {
		s, c := r.issue(t, core.Endpoint{Channel: core.ChannelWeb, Address: "chat-6"})
		cl, _ := r.engine.Close(ctx, s.ID, alice)
		card := r.bot.Card(ctx, cl, c, "en")
		if !card.Closed || len(card.Buttons) != 0 || card.PIN != "" {
			t.Errorf("closed card = %+v", card)
		}
	})
	t.Run("korean", func(t *testing.T) {
		s, c := r.issue(t, core.Endpoint{Channel: core.ChannelWeb, Address: "chat-7"})
		card := r.bot.Card(ctx, s, c, "ko-KR")
		if card.Buttons[0].Label == "Send desktop link" || card.Title == "Remote support" {
			t.Errorf("korean card in English: %+v", card)
		}
	})
}

func TestNewCard(t *testing.T) {
	r := newRig(t)
	s, c := r.issue(t, pat)
	fresh := r.bot.NewCard(s, c, "en")
	full := r.bot.Card(ctx, s, c, "en")
	if fresh.PIN != full.PIN || actions(fresh.Buttons) != actions(full.Buttons) || fresh.Delivery != "" {
		t.Errorf("new card %+v differs from %+v", fresh, full)
	}
}

// TestCardWithoutConversation renders a session whose conversation the
// caller could not load: no customer line, no panic.
func TestCardWithoutConversation(t *testing.T) {
	r := newRig(t)
	s, _ := r.issue(t, pat)
	card := r.bot.Card(ctx, s, nil, "en")
	if card.Customer != "" || card.PIN != s.PIN {
		t.Errorf("card = %+v", card)
	}
}

func TestCardViewOnlyProvider(t *testing.T) {
	r := newRig(t)
	r.provider.ModeList = []core.Mode{core.ModeView}
	s, c := r.issue(t, core.Endpoint{Channel: core.ChannelWeb, Address: "chat-1"})
	j, _, _ := r.engine.Join(ctx, s.PIN, core.DeviceDesktop)
	card := r.bot.Card(ctx, j, c, "en")
	if got := actions(card.Buttons); got != "start_view* close" {
		t.Errorf("buttons = %s", got)
	}
	if len(card.Notes) != 1 || !strings.Contains(card.Notes[0], "remote control needs") {
		t.Errorf("notes = %v", card.Notes)
	}
}

// TestCardWatchLink: with the console showing shared screens, the card of
// an active view-only session of the builtin provider links to where the
// technician watches it; other cards do not.
func TestCardWatchLink(t *testing.T) {
	r := newRig(t)
	r.provider.ProviderName = "builtin"
	r.bot.WatchAt("https://support.example.com")
	view, c := r.issue(t, core.Endpoint{Channel: core.ChannelWeb, Address: "chat-1"})
	j, _, _ := r.engine.Join(ctx, view.PIN, core.DeviceDesktop)
	if card := r.bot.Card(ctx, j, c, "en"); len(card.Links) != 0 {
		t.Errorf("a waiting card links to %v", card.Links)
	}
	active, err := r.engine.Start(ctx, j.ID, core.Actor{Kind: core.ActorTechnician, Name: "U1"}, core.ModeView)
	if err != nil {
		t.Fatal(err)
	}
	card := r.bot.Card(ctx, active, c, "en")
	want := remote.Link{Label: "Watch the customer's screen", URL: "https://support.example.com/console/sessions/" + active.ID}
	if len(card.Links) != 1 || card.Links[0] != want {
		t.Errorf("links = %+v; want %+v", card.Links, want)
	}

	control, c2 := r.issue(t, core.Endpoint{Channel: core.ChannelWeb, Address: "chat-2"})
	j2, _, _ := r.engine.Join(ctx, control.PIN, core.DeviceDesktop)
	started, _ := r.engine.Start(ctx, j2.ID, core.Actor{Kind: core.ActorTechnician, Name: "U1"}, core.ModeControl)
	if card := r.bot.Card(ctx, started, c2, "en"); len(card.Links) != 0 {
		t.Errorf("a remote-control card links to %v", card.Links)
	}
	other := newRig(t) // not the builtin provider, and no console
	s3, c3 := other.issue(t, core.Endpoint{Channel: core.ChannelWeb, Address: "chat-3"})
	j3, _, _ := other.engine.Join(ctx, s3.PIN, core.DeviceDesktop)
	a3, _ := other.engine.Start(ctx, j3.ID, core.Actor{Kind: core.ActorTechnician, Name: "U1"}, core.ModeView)
	if card := other.bot.Card(ctx, a3, c3, "en"); len(card.Links) != 0 {
		t.Errorf("a card without the console links to %v", card.Links)
	}
}

func TestAct(t *testing.T) {
	r := newRig(t)
	s, _ := r.issue(t, pat)
	res, err := r.bot.Act(ctx, alice, remote.ActionSendMobile, s.ID)
	if err != nil || res.Session.State != core.StateSent || res.Delivery == nil || res.Delivery.Notice.Link != s.MobileURL {
		t.Fatalf("send mobile: %+v, %v", res, err)
	}
	res, err = r.bot.Act(ctx, alice, remote.ActionRegenerate, s.ID)
	if err != nil || res.Session.PIN == s.PIN {
		t.Fatalf("regenerate: %+v, %v", res, err)
	}
	j, _, _ := r.engine.Join(ctx, res.Session.PIN, core.DeviceDesktop)
	res, err = r.bot.Act(ctx, alice, remote.ActionStartControl, j.ID)
	if err != nil || res.Session.Mode != core.ModeControl || res.Session.Technician != "alice" {
		t.Fatalf("start control: %+v, %v", res, err)
	}
	if evs, _ := r.engine.Events(ctx, s.ID); evs[len(evs)-1].Actor != "technician:alice" {
		t.Errorf("start recorded as %q", evs[len(evs)-1].Actor)
	}
	if res, err = r.bot.Act(ctx, alice, remote.ActionEnd, j.ID); err != nil || res.Session.State != core.StateEnded {
		t.Fatalf("end: %+v, %v", res, err)
	}
	t.Run("close after the end dismisses the card", func(t *testing.T) {
		res, err := r.bot.Act(ctx, alice, remote.ActionClose, j.ID)
		if err != nil || !res.Dismissed {
			t.Errorf("close: %+v, %v", res, err)
		}
	})
	t.Run("close an expired session dismisses", func(t *testing.T) {
		s, _ := r.issue(t, core.Endpoint{Channel: core.ChannelWeb, Address: "chat-9"})
		r.clock.Add(time.Hour)
		if res, err := r.bot.Act(ctx, alice, remote.ActionClose, s.ID); err != nil || !res.Dismissed {
			t.Errorf("close: %+v, %v", res, err)
		}
	})
	t.Run("unknown action", func(t *testing.T) {
		_, err := r.bot.Act(ctx, alice, "remote.teleport", s.ID)
		if core.ErrorCode(err) != core.CodeInvalid {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("start view on a fresh session is refused", func(t *testing.T) {
		s, _ := r.issue(t, core.Endpoint{Channel: core.ChannelWeb, Address: "chat-10"})
		_, err := r.bot.Act(ctx, alice, remote.ActionStartView, s.ID)
		if got := r.bot.ErrorText(err, "en"); got != "This session is PIN issued, so that is not possible now." {
			t.Errorf("error text = %q", got)
		}
	})
}

func TestErrorText(t *testing.T) {
	r := newRig(t)
	for name, tc := range map[string]struct {
		err  error
		want string
	}{
		"not found":   {core.Errorf(core.CodeNotFound, "x"), "That remote support session no longer exists."},
		"expired":     {core.Errorf(core.CodeExpired, "x"), "The PIN has expired. Generate another code."},
		"transition":  {&core.TransitionError{From: core.StateEnded, Action: core.ActionSend}, "This session is Ended, so that is not possible now."},
		"no customer": {core.ErrNoCustomer, "This session has no customer to send the link to."},
		"unavailable": {core.Errorf(core.CodeUnavailable, "log in to the LogMeIn Rescue Technician Console"), "The remote support service is unavailable: log in to the LogMeIn Rescue Technician Console"},
		"busy":        {core.Errorf(core.CodeConflict, "x"), "The remote support service is unavailable. Please try again in a moment."},
		"invalid":     {core.Errorf(core.CodeInvalid, "the message is empty"), "That request is not valid: the message is empty"},
		"internal":    {context.DeadlineExceeded, "Something went wrong. Please try again."},
	} {
		if got := r.bot.ErrorText(tc.err, "en"); got != tc.want {
			t.Errorf("%s: %q, want %q", name, got, tc.want)
		}
	}
}

// TestControlRefusedTranslated starts remote control where the engine
// refuses it: a phone, and a provider that only offers view. A Korean
// agent reads why in Korean, from the catalog, not the engine's English
// sentence inside a Korean one; the error's code and message, which the
// JSON API shows, stay the engine's.
func TestControlRefusedTranslated(t *testing.T) {
	for _, tc := range []struct {
		name   string
		device core.Device
		modes  []core.Mode
		en, ko string
	}{
		{"phone", core.DeviceMobile, nil,
			"Remote control is not possible: a mobile device can be viewed but not controlled. Start the session in view only mode.",
			"휴대폰이나 태블릿은 화면 보기만 가능하며 제어할 수 없습니다. 보기 전용 모드로 세션을 시작하세요."},
		{"view-only provider", core.DeviceDesktop, []core.Mode{core.ModeView},
			"This provider offers view only; remote control needs a provider with its own agent, such as LogMeIn Rescue. Start the session in view only mode.",
			"이 제공자는 화면 보기만 지원합니다. 원격 제어에는 LogMeIn Rescue처럼 자체 에이전트가 있는 제공자가 필요합니다. 보기 전용 모드로 세션을 시작하세요."},
		{"phone and view-only provider", core.DeviceMobile, []core.Mode{core.ModeView},
			"Remote control is not possible: a mobile device can be viewed but not controlled. Start the session in view only mode.",
			"휴대폰이나 태블릿은 화면 보기만 가능하며 제어할 수 없습니다. 보기 전용 모드로 세션을 시작하세요."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			r.provider.ModeList = tc.modes
			s, _ := r.issue(t, core.Endpoint{Channel: core.ChannelWeb, Address: "chat-refused"})
			if _, _, err := r.engine.Join(ctx, s.PIN, tc.device); err != nil {
				t.Fatal(err)
			}
			_, err := r.bot.Act(ctx, alice, remote.ActionStartControl, s.ID)
			if core.ErrorCode(err) != core.CodeInvalid {
				t.Fatalf("start control: %v (code %q), want %q", err, core.ErrorCode(err), core.CodeInvalid)
			}
			engine := core.ErrorMessage(err)
			if !strings.Contains(engine, "mobile") && !strings.Contains(engine, "provider") {
				t.Errorf("the engine's own message became %q", engine)
			}
			if got := r.bot.ErrorText(err, "ko"); got != tc.ko {
				t.Errorf("Korean agent reads %q\nwant %q", got, tc.ko)
			}
			if got := r.bot.ErrorText(err, "en"); got != tc.en {
				t.Errorf("English agent reads %q\nwant %q", got, tc.en)
			}
			// Starting in view, as the text says, works.
			if v, err := r.bot.Act(ctx, alice, remote.ActionStartView, s.ID); err != nil || v.Session.Mode != core.ModeView {
				t.Errorf("start view: %+v, %v", v, err)
			}
		})
	}
	t.Run("other refusals keep their text", func(t *testing.T) {
		r := newRig(t)
		s, _ := r.issue(t, core.Endpoint{Channel: core.ChannelWeb, Address: "chat-fresh"})
		_, err := r.bot.Act(ctx, alice, remote.ActionStartControl, s.ID)
		want := r.bot.ErrorText(&core.TransitionError{From: core.StateIssued, Action: core.ActionStart}, "ko")
		if got := r.bot.ErrorText(err, "ko"); got != want {
			t.Errorf("start control before the customer joined: %q, want %q", got, want)
		}
	})
}

func TestDeskAlert(t *testing.T) {
	r := newRig(t)
	for name, tc := range map[string]struct {
		n           core.Notice
		text, byttn string
	}{
		"waiting desktop": {core.Notice{Action: core.ActionJoin, Device: core.DeviceDesktop, SessionID: "s1"}, "Customer is waiting (computer).", "start_control* start_view end"},
		"waiting phone":   {core.Notice{Action: core.ActionJoin, Device: core.DeviceMobile, SessionID: "s1"}, "Customer is waiting (phone or tablet).", "start_view* end"},
		"started":         {core.Notice{Action: core.ActionStart, Mode: core.ModeView, Actor: "tom"}, "tom started the session (view only).", "end"},
		"ended":           {core.Notice{Action: core.ActionEnd}, "The remote support session ended.", ""},
		"expired":         {core.Notice{Action: core.ActionExpire}, "The PIN expired before the customer joined.", ""},
	} {
		a := r.bot.DeskAlert(tc.n)
		if a.Text != tc.text || actions(a.Buttons) != tc.byttn {
			t.Errorf("%s: %q [%s], want %q [%s]", name, a.Text, actions(a.Buttons), tc.text, tc.byttn)
		}
	}
}

func TestThreadHeaderAndCustomerText(t *testing.T) {
	r := newRig(t)
	h := r.bot.ThreadHeader(core.Notice{ConversationID: "c1", Customer: "…0123", CustomerChannel: core.ChannelSMS, Locale: "ko"}, "en")
	if h.Text != "SMS conversation with …0123 (Korean)" || actions(h.Buttons) != "issue* close_conversation" || h.Buttons[0].Value != "c1" || h.Buttons[1].Value != "c1" {
		t.Errorf("header = %+v", h)
	}
	conv := &core.Conversation{ID: "c1", Customer: core.Endpoint{Channel: core.ChannelSMS, Address: "+15550100123"}, Locale: "ko"}
	closed := r.bot.ClosedHeader(conv, "alice", "de")
	if len(closed.Buttons) != 0 || !strings.HasPrefix(closed.Text, "SMS-Unterhaltung") || len(closed.Notes) != 1 || !strings.Contains(closed.Notes[0], "alice") {
		t.Errorf("closed header = %+v, want the German header without buttons, saying who closed it", closed)
	}
	if found := r.bot.ClosedHeader(conv, "", "en"); len(found.Buttons) != 0 || len(found.Notes) != 1 || found.Notes[0] != "This conversation is closed. The customer's next message opens a new one." {
		t.Errorf("header of a conversation found closed = %+v", found)
	}
	link := r.bot.CustomerText(core.Notice{Kind: core.NoticeLink, Locale: "es", Link: "https://support.example.com/m/012345", PIN: "012345"})
	if !strings.Contains(link, "https://support.example.com/m/012345") || !strings.Contains(link, "012345") || strings.Contains(link, "Remote support") {
		t.Errorf("spanish link text = %q", link)
	}
	if n, ok := i18n.GSM7Septets(link); !ok || n > 160 {
		t.Errorf("link text is not one GSM-7 segment: %d, %v", n, ok)
	}
	if got := r.bot.CustomerText(core.Notice{Kind: core.NoticeText, Text: "Try restarting."}); got != "Try restarting." {
		t.Errorf("text = %q", got)
	}
}

func TestParseCommand(t *testing.T) {
	for in, want := range map[string]struct {
		ok bool
		c  remote.Command
	}{
		"":                       {true, remote.Command{}},
		"  ":                     {true, remote.Command{}},
		"help":                   {true, remote.Command{Help: true}},
		"HELP":                   {true, remote.Command{Help: true}},
		"<@U0123ABC>":            {true, remote.Command{Target: "<@U0123ABC>"}},
		"<@U0123ABC|pat> mobile": {true, remote.Command{Target: "<@U0123ABC|pat>", Device: "mobile"}},
		"@pat":                   {true, remote.Command{Target: "@pat"}},
		"+12015550123":           {true, remote.Command{Target: "+12015550123", Phone: true}},
		"(201) 555-0123 desktop": {true, remote.Command{Target: "(201) 555-0123", Phone: true, Device: "desktop"}},
		"mobile":                 {true, remote.Command{Device: "mobile"}},
		"please help":            {false, remote.Command{}},
		"12345":                  {false, remote.Command{}},
		"@pat @sam":              {false, remote.Command{}},
		"+1 555 abc":             {false, remote.Command{}},
	} {
		got, ok := remote.ParseCommand(in)
		if ok != want.ok || got != want.c {
			t.Errorf("ParseCommand(%q) = %+v, %v; want %+v, %v", in, got, ok, want.c, want.ok)
		}
	}
}
