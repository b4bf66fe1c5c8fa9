package slack

import (
	"strings"
	"time"

	"github.com/assistbot/assistbot/bots/i18n"
	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
)

// Block IDs of the actions blocks, so that a payload says which kind of
// message was clicked.
const (
	blockCard   = "remote.card"
	blockAlert  = "remote.alert"
	blockThread = "remote.thread"
)

// slot stands for a piece of Slack markup (a date token, a mention) in a
// catalog sentence while the sentence is escaped; it cannot occur in a
// catalog text.
const slot = "\x00slot\x00"

// renderer turns bots/remote's platform-neutral cards and alerts into
// Block Kit, in the reader's language, with sealed button values.
type renderer struct {
	catalog *i18n.Catalog
	keys    keyring
}

func (r *renderer) t(locale, key string, kv ...string) string {
	return r.catalog.T(locale, key, kv...)
}

// fill escapes sentence and puts markup where slot was.
func fill(sentence, markup string) string {
	return strings.Replace(escape(sentence), slot, markup, 1)
}

// customerMarkup names a conversation's Slack customer with a mention,
// which Slack shows as the person's or channel's name without assistbot
// having to ask for it; "" for anyone else.
func customerMarkup(c *core.Conversation) string {
	if c == nil || c.Customer.Channel != core.ChannelSlack || c.CustomerName != "" {
		return ""
	}
	switch a := c.Customer.Address; {
	case validID(a, "UW"):
		return "<@" + a + ">"
	case validID(a, "CG"):
		return "<#" + a + ">"
	}
	return ""
}

// card appends the blocks of card, shown to an agent in channel, to dst.
func (r *renderer) card(dst []byte, card *remote.Card, conv *core.Conversation, locale, channel string) []byte {
	w := blocks{b: dst}
	var head strings.Builder
	if card.PIN != "" {
		w.header(card.PINLabel + " " + card.PIN)
		head.WriteString("*" + escape(card.Title) + "* · " + escape(card.StateLabel))
	} else {
		w.header(card.Title)
		head.WriteString("*" + escape(card.StateLabel) + "*")
	}
	if m := customerMarkup(conv); m != "" {
		head.WriteString("\n" + fill(r.t(locale, "card.customer", "customer", slot), m))
	} else if card.Customer != "" {
		head.WriteString("\n" + escape(card.Customer))
	}
	w.section(head.String())
	if len(card.Links) > 0 {
		fs := make([]string, 0, len(card.Links))
		for _, l := range card.Links {
			fs = append(fs, "*"+escape(l.Label)+"*\n"+escape(l.URL))
		}
		w.fields(fs...)
	}
	var ctx []string
	if card.Manual != "" {
		ctx = append(ctx, escape(card.Manual))
	}
	if !card.ExpiresAt.IsZero() {
		ctx = append(ctx, fill(r.t(locale, "card.expires", "time", slot), dateToken(card.ExpiresAt)))
	}
	if len(ctx) > 0 {
		w.context(ctx...)
	}
	if card.Delivery != "" {
		w.context(escape(r.t(locale, "slack.delivery_line", "status", card.Delivery)))
	}
	r.notes(&w, card.Notes)
	if len(card.Buttons) > 0 {
		w.actions(blockCard, r.buttons(card.Buttons, channel))
	}
	return w.b
}

// cardText is the plain text Slack shows where blocks cannot be shown
// (notifications, screen readers).
func (r *renderer) cardText(card *remote.Card, locale string) string {
	return r.t(locale, "slack.card_text", "title", card.Title, "state", card.StateLabel)
}

// alert appends the blocks of a desk alert posted in channel.
func (r *renderer) alert(dst []byte, a remote.Alert, channel string) []byte {
	w := blocks{b: dst}
	w.section(escape(a.Text))
	r.notes(&w, a.Notes)
	if len(a.Buttons) > 0 {
		w.actions(blockAlert, r.buttons(a.Buttons, channel))
	}
	return w.b
}

// thread appends the blocks of a desk thread's root message. conv, when
// known, lets a Slack customer be named with a mention.
func (r *renderer) thread(dst []byte, h remote.Alert, n core.Notice, conv *core.Conversation, locale, channel string) []byte {
	w := blocks{b: dst}
	text := escape(h.Text)
	if m := customerMarkup(conv); m != "" && n.Customer != "" {
		text = strings.Replace(text, escape(n.Customer), m, 1)
	}
	w.section(text)
	r.notes(&w, h.Notes)
	if len(h.Buttons) > 0 {
		w.actions(blockThread, r.buttons(h.Buttons, channel))
	}
	return w.b
}

func (r *renderer) notes(w *blocks, notes []string) {
	if len(notes) == 0 {
		return
	}
	es := make([]string, 0, min(len(notes), 10)) // a context block holds ten
	for _, n := range notes[:min(len(notes), 10)] {
		es = append(es, escape(n))
	}
	w.context(es...)
}

// buttons seals each button's value for channel; the buttons of one
// message nearly always share one value, which is sealed once.
func (r *renderer) buttons(bs []remote.Button, channel string) []button {
	out := make([]button, len(bs))
	var lastValue, lastSealed string
	for i, b := range bs {
		if b.Value != lastValue || lastSealed == "" {
			lastValue, lastSealed = b.Value, r.keys.seal(b.Value, channel)
		}
		out[i] = button{actionID: b.ActionID, label: b.Label, value: lastSealed, style: string(b.Style)}
	}
	return out
}

// dateToken is Slack's date formatting: each reader sees the time in
// their own time zone and format, and clients that cannot render it show
// the UTC fallback.
func dateToken(t time.Time) string {
	return "<!date^" + itoa(t.Unix()) + "^{time}|" + t.UTC().Format("15:04 UTC") + ">"
}
