package slack

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	slackapi "github.com/slack-go/slack"

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

// Slack's limits on what a message holds, in characters: past them Slack
// refuses the message, so longer texts are cut.
const (
	maxText    = 3000 // a message's text, a section, a context element
	maxHeader  = 150
	maxField   = 2000
	maxLabel   = 75 // a button's
	maxContext = 10 // elements of a context block
)

// slot stands for a piece of Slack markup (a date token, a mention) in a
// catalog sentence while the sentence is escaped; it cannot occur in a
// catalog text.
const slot = "\x00slot\x00"

// message is a message for the Web API: its fallback text, escaped, and
// its blocks (none for a sentence alone).
type message struct {
	text   string
	blocks []slackapi.Block
}

// options returns what the Web API call carries of m.
func (m message) options() []slackapi.MsgOption {
	opts := []slackapi.MsgOption{slackapi.MsgOptionText(m.text, false)}
	if m.blocks != nil {
		opts = append(opts, slackapi.MsgOptionBlocks(m.blocks...))
	}
	return opts
}

// renderer turns bots/remote's platform-neutral cards and alerts into
// Block Kit, in the reader's language, with sealed button values.
type renderer struct {
	catalog *i18n.Catalog
	keys    keyring
}

func (r *renderer) t(locale, key string, kv ...string) string {
	return r.catalog.T(locale, key, kv...)
}

// view is what an agent is shown privately, laid out as Block Kit once
// for both of its encodings: slack-go's blocks for the Web API (message),
// and the slash command's hand-built answer (writeAnswer). It is a card,
// or, without a header, a sentence alone. Its texts are escaped and cut
// to Slack's limits.
type view struct {
	text     string   // the fallback text
	header   string   // plain text: "PIN 012345", or the card's title
	head     string   // mrkdwn: the state, and who the customer is
	links    []string // mrkdwn fields: a label and a URL each
	context  []string // mrkdwn: where to type the PIN, when it expires
	delivery string   // mrkdwn: what became of the link sent
	notes    []string // mrkdwn
	buttons  []button
	picker   *picker // the colleague picker of a card
}

// button is a button of an actions block, its value sealed.
type button struct {
	actionID, label, value, style string
}

// textView is a sentence alone.
func textView(text string) view { return view{text: escape(text)} }

// cardView lays out card, shown to an agent in channel. conv, when known,
// lets a Slack customer be named with a mention.
func (a *Adapter) cardView(card *remote.Card, conv *core.Conversation, channel string) view {
	r, locale := &a.render, a.locale
	v := view{text: escape(r.t(locale, "slack.card_text", "title", card.Title, "state", card.StateLabel))}
	var head strings.Builder
	if card.PIN != "" {
		v.header = truncate(card.PINLabel+" "+card.PIN, maxHeader)
		head.WriteString("*" + escape(card.Title) + "* · " + escape(card.StateLabel))
	} else {
		v.header = truncate(card.Title, maxHeader)
		head.WriteString("*" + escape(card.StateLabel) + "*")
	}
	if m := customerMarkup(conv); m != "" {
		head.WriteString("\n" + fill(r.t(locale, "card.customer", "customer", slot), m))
	} else if card.Customer != "" {
		head.WriteString("\n" + escape(card.Customer))
	}
	v.head = truncate(head.String(), maxText)
	// The links and the context share one allocation.
	texts := make([]string, 0, len(card.Links)+2)
	for _, l := range card.Links {
		texts = append(texts, truncate("*"+escape(l.Label)+"*\n"+escape(l.URL), maxField))
	}
	v.links, v.context = texts, texts[len(texts):]
	if card.Manual != "" {
		v.context = append(v.context, truncate(escape(card.Manual), maxText))
	}
	if !card.ExpiresAt.IsZero() {
		v.context = append(v.context, truncate(fill(r.t(locale, "card.expires", "time", slot), dateToken(card.ExpiresAt)), maxText))
	}
	if card.Delivery != "" {
		v.delivery = truncate(escape(r.t(locale, "slack.delivery_line", "status", card.Delivery)), maxText)
	}
	v.notes = notes(card.Notes)
	v.buttons = r.buttons(card.Buttons, channel)
	v.picker = a.pickerOf(card, channel)
	return v
}

// message is v for the Web API.
func (v view) message() message {
	if v.header == "" {
		return message{text: v.text}
	}
	bs := []slackapi.Block{
		slackapi.NewHeaderBlock(plainObject(v.header)),
		slackapi.NewSectionBlock(mrkdwnObject(v.head), nil, nil),
	}
	if len(v.links) > 0 {
		fields := make([]*slackapi.TextBlockObject, len(v.links))
		for i, l := range v.links {
			fields[i] = mrkdwnObject(l)
		}
		bs = append(bs, slackapi.NewSectionBlock(nil, fields, nil))
	}
	if len(v.context) > 0 {
		bs = append(bs, contextBlock(v.context))
	}
	if v.delivery != "" {
		bs = append(bs, contextBlock([]string{v.delivery}))
	}
	if len(v.notes) > 0 {
		bs = append(bs, contextBlock(v.notes))
	}
	if len(v.buttons) > 0 {
		bs = append(bs, actionsBlock(blockCard, v.buttons))
	}
	if v.picker != nil {
		bs = append(bs, v.picker.block())
	}
	return message{text: v.text, blocks: bs}
}

// alert renders a desk alert posted in channel.
func (r *renderer) alert(a remote.Alert, channel string) message {
	return r.sectionMessage(escape(a.Text), escape(a.Text), a.Notes, blockAlert, a.Buttons, channel)
}

// thread renders the first message of a desk thread. conv, when known,
// lets a Slack customer be named with a mention.
func (r *renderer) thread(h remote.Alert, n core.Notice, conv *core.Conversation, channel string) message {
	section := escape(h.Text)
	if m := customerMarkup(conv); m != "" && n.Customer != "" {
		section = strings.Replace(section, escape(n.Customer), m, 1)
	}
	return r.sectionMessage(escape(h.Text), section, h.Notes, blockThread, h.Buttons, channel)
}

// sectionMessage is a section of mrkdwn, its notes and its buttons.
func (r *renderer) sectionMessage(text, section string, ns []string, blockID string, bs []remote.Button, channel string) message {
	blocks := []slackapi.Block{slackapi.NewSectionBlock(mrkdwnObject(truncate(section, maxText)), nil, nil)}
	if es := notes(ns); len(es) > 0 {
		blocks = append(blocks, contextBlock(es))
	}
	if len(bs) > 0 {
		blocks = append(blocks, actionsBlock(blockID, r.buttons(bs, channel)))
	}
	return message{text: text, blocks: blocks}
}

// notes escapes notes for a context block, which holds ten.
func notes(ns []string) []string {
	if len(ns) == 0 {
		return nil
	}
	es := make([]string, 0, min(len(ns), maxContext))
	for _, n := range ns[:min(len(ns), maxContext)] {
		es = append(es, truncate(escape(n), maxText))
	}
	return es
}

// buttons seals each button's value for channel; the buttons of one
// message nearly always share one value, which is sealed once.
func (r *renderer) buttons(bs []remote.Button, channel string) []button {
	if len(bs) == 0 {
		return nil
	}
	out := make([]button, len(bs))
	var lastValue, lastSealed string
	for i, b := range bs {
		if b.Value != lastValue || lastSealed == "" {
			lastValue, lastSealed = b.Value, r.keys.seal(b.Value, channel)
		}
		out[i] = button{actionID: b.ActionID, label: truncate(b.Label, maxLabel), value: lastSealed, style: string(b.Style)}
	}
	return out
}

func plainObject(text string) *slackapi.TextBlockObject {
	return slackapi.NewTextBlockObject(slackapi.PlainTextType, text, true, false)
}

func mrkdwnObject(text string) *slackapi.TextBlockObject {
	return slackapi.NewTextBlockObject(slackapi.MarkdownType, text, false, false)
}

func contextBlock(elements []string) *slackapi.ContextBlock {
	es := make([]slackapi.MixedElement, len(elements))
	for i, e := range elements {
		es[i] = mrkdwnObject(e)
	}
	return slackapi.NewContextBlock("", es...)
}

func actionsBlock(blockID string, bs []button) *slackapi.ActionBlock {
	es := make([]slackapi.BlockElement, len(bs))
	for i, b := range bs {
		es[i] = slackapi.NewButtonBlockElement(b.actionID, b.value, plainObject(b.label)).WithStyle(slackapi.Style(b.style))
	}
	return slackapi.NewActionBlock(blockID, es...)
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

// dateToken is Slack's date formatting: each reader sees the time in
// their own time zone and format, and clients that cannot render it show
// the UTC fallback.
func dateToken(t time.Time) string {
	// Appended into one buffer: it is on every slash command's path.
	b := make([]byte, 0, 48)
	b = strconv.AppendInt(append(b, "<!date^"...), t.Unix(), 10)
	b = t.UTC().AppendFormat(append(b, "^{time}|"...), "15:04 UTC")
	return string(append(b, '>'))
}

// truncate cuts s to at most n runes, Slack's limit for the field, with
// an ellipsis, so that an overlong name cannot make Slack refuse a card.
func truncate(s string, n int) string {
	if len(s) <= n || utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
