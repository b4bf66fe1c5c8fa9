package discord

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
)

// Embed colours by session state: Discord's blurple while the PIN is
// live, yellow while the customer waits, green while active, grey after.
const (
	colorLive    = 0x5865F2
	colorWaiting = 0xFEE75C
	colorActive  = 0x57F287
	colorOver    = 0x99AAB5
)

// Discord's limits on what assistbot writes.
const (
	maxContent    = 2000
	maxThreadName = 100
	maxCustomID   = 100
)

// message is what assistbot posts, edits or answers with, before it is
// shaped for the REST call that carries it.
type message struct {
	Content    string
	Embeds     []*discordgo.MessageEmbed
	Components []discordgo.MessageComponent
	// Mention is the one user the message may ping; nobody otherwise.
	Mention string
	// Role is the one role the message may ping, and Here lets it ping
	// the channel (@here): an escalation's last reminder.
	Role string
	Here bool
}

// allowed says whom a message may ping: nobody (relayed text can hold
// "@everyone"), or the one customer, role or channel being mentioned.
func (m message) allowed() *discordgo.MessageAllowedMentions {
	a := &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}
	if m.Mention != "" {
		a.Users = []string{m.Mention}
	}
	if m.Role != "" {
		a.Roles = []string{m.Role}
	}
	if m.Here {
		a.Parse = append(a.Parse, discordgo.AllowedMentionTypeEveryone)
	}
	return a
}

// components returns m's components, never nil: an update without
// buttons must send an empty list to remove the old ones.
func (m message) components() []discordgo.MessageComponent {
	if m.Components == nil {
		return []discordgo.MessageComponent{}
	}
	return m.Components
}

func (m message) embeds() []*discordgo.MessageEmbed {
	if m.Embeds == nil {
		return []*discordgo.MessageEmbed{}
	}
	return m.Embeds
}

// reply answers an interaction with m: typ is
// InteractionResponseChannelMessageWithSource (a new message, ephemeral
// here) or InteractionResponseUpdateMessage (edit the clicked message).
func (m message) reply(typ discordgo.InteractionResponseType) *discordgo.InteractionResponse {
	d := &discordgo.InteractionResponseData{Content: m.Content, Embeds: m.embeds(), Components: m.components(), AllowedMentions: m.allowed()}
	if typ == discordgo.InteractionResponseChannelMessageWithSource {
		d.Flags = discordgo.MessageFlagsEphemeral
	}
	return &discordgo.InteractionResponse{Type: typ, Data: d}
}

// send shapes m as a new channel message without link previews: the
// customer's link is not unfurled.
func (m message) send() *discordgo.MessageSend {
	return &discordgo.MessageSend{Content: m.Content, Embeds: m.Embeds, Components: m.Components,
		AllowedMentions: m.allowed(), Flags: discordgo.MessageFlagsSuppressEmbeds}
}

// edit shapes m as the replacement of message id in channel.
func (m message) edit(channel, id string) *discordgo.MessageEdit {
	e := discordgo.NewMessageEdit(channel, id)
	content, comps, embeds := m.Content, m.components(), m.embeds()
	e.Content, e.Components, e.Embeds, e.AllowedMentions = &content, &comps, &embeds, m.allowed()
	return e
}

// webhookEdit shapes m as the edit of an interaction's original message.
func (m message) webhookEdit() *discordgo.WebhookEdit {
	content, comps, embeds := m.Content, m.components(), m.embeds()
	return &discordgo.WebhookEdit{Content: &content, Components: &comps, Embeds: &embeds, AllowedMentions: m.allowed()}
}

// text returns an ephemeral-ready message of one sentence.
func text(s string) message { return message{Content: truncate(s, maxContent)} }

// cardMessage renders the agent's card: an embed with the PIN, the links,
// the expiry in the reader's own time zone, the delivery status, and a
// row of buttons.
func (a *Adapter) cardMessage(c remote.Card, locale string) message {
	var lines []string
	if c.Customer != "" {
		lines = append(lines, c.Customer)
	}
	lines = append(lines, "**"+c.StateLabel+"**")
	if c.Delivery != "" {
		lines = append(lines, a.catalog.T(locale, "discord.card.delivery", "status", c.Delivery))
	}
	if !c.ExpiresAt.IsZero() {
		// <t:unix:t> is shown in each reader's own time zone.
		lines = append(lines, a.catalog.T(locale, "card.expires", "time", fmt.Sprintf("<t:%d:t>", c.ExpiresAt.Unix())))
	}
	if c.Manual != "" {
		lines = append(lines, c.Manual)
	}
	for _, n := range c.Notes {
		lines = append(lines, "*"+n+"*")
	}
	e := &discordgo.MessageEmbed{Type: discordgo.EmbedTypeRich, Title: c.Title, Description: strings.Join(lines, "\n"), Color: stateColor(c.State)}
	if c.PIN != "" {
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: c.PINLabel, Value: "`" + c.PIN + "`"})
	}
	for _, l := range c.Links {
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: l.Label, Value: l.URL})
	}
	m := message{Embeds: []*discordgo.MessageEmbed{e}, Components: buttonRow(c.Buttons)}
	if row := a.pickerRow(&c, locale); row != nil {
		m.Components = append(m.Components, row)
	}
	return m
}

// alertMessage renders a desk alert or a thread header: its sentence, its
// notes in italics, and its buttons.
func alertMessage(al remote.Alert) message {
	lines := []string{al.Text}
	for _, n := range al.Notes {
		lines = append(lines, "*"+n+"*")
	}
	return message{Content: truncate(strings.Join(lines, "\n"), maxContent), Components: buttonRow(al.Buttons)}
}

// relayedMessages renders a customer's message in the desk thread, in as
// many messages as Discord's maxContent characters a message need.
func relayedMessages(author, body string) []message {
	var out []message
	for _, part := range split(relayed(author, body), maxContent) {
		out = append(out, message{Content: part})
	}
	return out
}

// relayed is a customer's message for the desk thread, with its author.
func relayed(author, body string) string {
	if author == "" {
		return body
	}
	return "**" + escapeMarkdown(author) + ":** " + body
}

// split cuts s into parts of at most n characters, each ending at a line
// or word break in its last quarter when it has one.
func split(s string, n int) []string {
	var out []string
	r := []rune(s)
	for len(r) > n {
		cut := n
		for i := n; i > n*3/4; i-- {
			if r[i] == '\n' || r[i] == ' ' {
				cut = i
				break
			}
		}
		out = append(out, strings.TrimRight(string(r[:cut]), " \n"))
		r = []rune(strings.TrimLeft(string(r[cut:]), " \n"))
	}
	return append(out, string(r))
}

// buttonRow renders buttons as one action row (Discord allows five a
// row; cards have at most four). A button whose custom_id would exceed
// Discord's 100 characters is left out rather than sent to be refused.
func buttonRow(bs []remote.Button) []discordgo.MessageComponent {
	var row discordgo.ActionsRow
	for _, b := range bs {
		id := customID(b.ActionID, b.Value)
		if len(id) > maxCustomID || len(row.Components) == 5 {
			continue
		}
		row.Components = append(row.Components, discordgo.Button{Label: truncate(b.Label, 80), Style: buttonStyle(b.Style), CustomID: id})
	}
	if len(row.Components) == 0 {
		return nil
	}
	return []discordgo.MessageComponent{row}
}

func buttonStyle(s remote.Style) discordgo.ButtonStyle {
	switch s {
	case remote.StylePrimary:
		return discordgo.PrimaryButton
	case remote.StyleDanger:
		return discordgo.DangerButton
	}
	return discordgo.SecondaryButton
}

func stateColor(s core.State) int {
	switch s {
	case core.StateIssued, core.StateSent:
		return colorLive
	case core.StateWaiting:
		return colorWaiting
	case core.StateActive:
		return colorActive
	}
	return colorOver
}

// escapeMarkdown keeps a display name from formatting the line it heads.
func escapeMarkdown(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`\*_~|>#-[]()`+"`", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// truncate cuts s to at most n runes, ending with "…" when it cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
