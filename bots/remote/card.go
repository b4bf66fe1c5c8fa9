package remote

import (
	"context"
	"net/url"
	"time"

	"github.com/assistbot/assistbot/core"
)

// Action ids of the card's buttons: Slack action_id, Discord custom_id
// prefix, console form value. They are part of the external contract.
const (
	ActionSendDesktop  = "remote.send_desktop"
	ActionSendMobile   = "remote.send_mobile"
	ActionRegenerate   = "remote.regenerate"
	ActionClose        = "remote.close"
	ActionStartControl = "remote.start_control"
	ActionStartView    = "remote.start_view"
	ActionEnd          = "remote.end"
	// ActionIssue is the "Remote support" button on a relayed
	// conversation's desk thread; its value names the conversation.
	ActionIssue = "remote.issue"
	// ActionCloseConversation is the "Close conversation" button beside
	// it: the customer's next message opens a new conversation.
	ActionCloseConversation = "remote.close_conversation"
)

// Style is how prominent a button is.
type Style string

// The button styles.
const (
	StyleDefault Style = ""
	StylePrimary Style = "primary"
	StyleDanger  Style = "danger"
)

// Button is one button of a card. Value is the opaque key of what it acts
// on (a session or conversation id); adapters check that the clicking user
// may act on it before acting.
type Button struct {
	ActionID string
	Label    string
	Value    string
	Style    Style
}

// Link is a labelled URL.
type Link struct {
	Label string
	URL   string
}

// Card is what an agent sees of a session, in their language. Adapters
// render it as Block Kit, Discord components or HTML.
type Card struct {
	SessionID  string
	Title      string
	Customer   string // "Customer: …0123", empty without a customer
	State      core.State
	StateLabel string
	PINLabel   string
	PIN        string // empty once the PIN no longer works
	Links      []Link // desktop, then mobile; empty once the PIN no longer works
	Manual     string // "Or enter the PIN at …"
	// ExpiresAt is when the PIN stops working; Expires is that time as
	// text in UTC, for platforms that cannot show it in the reader's zone.
	ExpiresAt time.Time
	Expires   string
	// Delivery says what became of the last link sent ("Delivered").
	Delivery string
	// Notes explain what the buttons cannot do ("Mobile devices can be
	// viewed but not controlled.").
	Notes   []string
	Buttons []Button
	// Closed means the session was closed: the card should go away or
	// say so (Notes holds the sentence).
	Closed bool

	// shown is what the card was drawn from, for Cards.
	shown Shown
}

// Card returns the card of session s of conversation c in locale, with the
// status of the last link delivered.
func (b *Bot) Card(ctx context.Context, s *core.Session, c *core.Conversation, locale string) Card {
	card := b.card(s, c, locale)
	if ds, err := b.engine.Deliveries(ctx, s.ID); err == nil {
		for _, d := range ds { // newest first
			if d.Notice.Kind == core.NoticeLink {
				card.Delivery = b.DeliveryStatus(d, locale)
				card.shown.Link = d.Status
				break
			}
		}
	}
	return card
}

// NewCard returns the card of a session just issued, which has sent
// nothing yet: Card without the look-up of deliveries, for the command
// path that answers an agent within the platform's deadline.
func (b *Bot) NewCard(s *core.Session, c *core.Conversation, locale string) Card {
	return b.card(s, c, locale)
}

func (b *Bot) card(s *core.Session, c *core.Conversation, locale string) Card {
	t := func(key string, kv ...string) string { return b.catalog.T(locale, key, kv...) }
	card := Card{
		SessionID:  s.ID,
		Title:      t("card.title"),
		State:      s.State,
		StateLabel: t("state." + string(s.State)),
		PINLabel:   t("card.pin"),
		shown:      Shown{Version: s.Version},
	}
	if c != nil {
		if label := core.CustomerLabel(c); label != "" {
			card.Customer = t("card.customer", "customer", label)
		}
	}
	if s.State.PINLive() {
		card.PIN = s.PIN
		card.Links = []Link{{t("card.desktop_link"), s.DesktopURL}, {t("card.mobile_link"), s.MobileURL}}
		card.Manual = t("card.manual", "url", s.ManualURL)
		card.ExpiresAt = s.PINExpiresAt
		card.Expires = t("card.expires", "time", s.PINExpiresAt.UTC().Format("15:04 UTC"))
	}
	key := core.Endpoint{}
	if c != nil {
		key = c.Customer
	}
	switch s.State {
	case core.StateIssued, core.StateSent:
		desktop, mobile := StylePrimary, StyleDefault
		if key.Channel == core.ChannelSMS {
			desktop, mobile = StyleDefault, StylePrimary
		}
		card.Buttons = []Button{
			{ActionSendDesktop, t("card.send_desktop"), s.ID, desktop},
			{ActionSendMobile, t("card.send_mobile"), s.ID, mobile},
			{ActionRegenerate, t("card.regenerate"), s.ID, StyleDefault},
			{ActionClose, t("card.close"), s.ID, StyleDanger},
		}
	case core.StateWaiting:
		card.Buttons, card.Notes = b.startButtons(s, locale)
		card.Buttons = append(card.Buttons, Button{ActionClose, t("card.close"), s.ID, StyleDanger})
	case core.StateActive:
		card.Buttons = []Button{{ActionEnd, t("alert.end"), s.ID, StyleDanger}}
		if b.watch != "" && s.Mode == core.ModeView && s.Provider == builtinProvider {
			card.Links = []Link{{t("card.watch"), b.watch + "/console/sessions/" + url.PathEscape(s.ID)}}
		}
	case core.StateExpired:
		card.Notes = []string{t("alert.expired")}
		card.Buttons = []Button{
			{ActionRegenerate, t("card.regenerate"), s.ID, StylePrimary},
			{ActionClose, t("card.close"), s.ID, StyleDefault},
		}
	case core.StateClosed:
		card.Closed = true
		card.Notes = []string{t("card.closed")}
	}
	return card
}

// startButtons returns the buttons that start a waiting session, and why
// remote control is missing when it is.
func (b *Bot) startButtons(s *core.Session, locale string) ([]Button, []string) {
	t := func(key string, kv ...string) string { return b.catalog.T(locale, key, kv...) }
	var buttons []Button
	var notes []string
	switch {
	case s.Device == core.DeviceMobile:
		notes = append(notes, t("alert.view_only_mobile"))
	case !b.engine.Supports(core.ModeControl):
		notes = append(notes, t("card.view_only_provider"))
	default:
		buttons = append(buttons, Button{ActionStartControl, t("alert.start_control"), s.ID, StylePrimary})
	}
	view := StyleDefault
	if len(buttons) == 0 {
		view = StylePrimary
	}
	buttons = append(buttons, Button{ActionStartView, t("alert.start_view"), s.ID, view})
	return buttons, notes
}

// DeliveryStatus describes a delivery for the agent: "Sent", "Delivered",
// "Not delivered: number opted out".
func (b *Bot) DeliveryStatus(d *core.Delivery, locale string) string {
	if d.Status == core.DeliveryFailed {
		return b.catalog.T(locale, "delivery.failed", "reason", d.Reason)
	}
	return b.catalog.T(locale, "delivery."+string(d.Status))
}

// TechnicianLink is the private message that hands the technician who
// just started session s the provider's link to the customer's computer
// (a MeshCentral share), or "" when the provider has none. Platforms show
// it only to that technician: whoever has the link reaches the computer.
func (b *Bot) TechnicianLink(s *core.Session, locale string) string {
	if s == nil || s.TechnicianURL == "" || s.State != core.StateActive {
		return ""
	}
	key := "card.technician_link_view"
	if s.Mode == core.ModeControl {
		key = "card.technician_link_control"
	}
	return b.catalog.T(locale, key, "url", s.TechnicianURL)
}
