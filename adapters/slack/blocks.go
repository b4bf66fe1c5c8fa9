package slack

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"

	slackapi "github.com/slack-go/slack"
)

// blocks writes a Block Kit "blocks" array as JSON. The slash command
// answers with a card on every request, so the card is appended straight
// into a byte slice: encoding/json over slack-go's block types costs about
// 9µs and 35 allocations a card, a fifth of the request's budget. Tests
// check that what it writes reads back through slack-go's own types.
type blocks struct {
	b []byte
	n int // blocks written
}

// button is one element of an actions block.
type button struct {
	actionID, label, value, style string
}

func (w *blocks) open() {
	if w.n > 0 {
		w.b = append(w.b, ',')
	}
	w.n++
}

// header adds a header block: Slack's largest text.
func (w *blocks) header(text string) {
	w.open()
	w.b = append(w.b, `{"type":"header","text":`...)
	w.plain(truncate(text, 150))
	w.b = append(w.b, '}')
}

// section adds a section block of mrkdwn text, already escaped.
func (w *blocks) section(mrkdwn string) {
	w.open()
	w.b = append(w.b, `{"type":"section","text":`...)
	w.mrkdwn(truncate(mrkdwn, 3000))
	w.b = append(w.b, '}')
}

// fields adds a section block of mrkdwn fields (two columns), already
// escaped.
func (w *blocks) fields(fields ...string) {
	w.open()
	w.b = append(w.b, `{"type":"section","fields":[`...)
	for i, f := range fields {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.mrkdwn(truncate(f, 2000))
	}
	w.b = append(w.b, "]}"...)
}

// context adds a context block of mrkdwn elements, already escaped.
func (w *blocks) context(elements ...string) {
	w.open()
	w.b = append(w.b, `{"type":"context","elements":[`...)
	for i, e := range elements {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.mrkdwn(truncate(e, 3000))
	}
	w.b = append(w.b, "]}"...)
}

// actions adds an actions block of buttons.
func (w *blocks) actions(blockID string, buttons []button) {
	w.open()
	w.b = append(w.b, `{"type":"actions","block_id":`...)
	w.b = appendString(w.b, blockID)
	w.b = append(w.b, `,"elements":[`...)
	for i, bt := range buttons {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = append(w.b, `{"type":"button","action_id":`...)
		w.b = appendString(w.b, bt.actionID)
		w.b = append(w.b, `,"text":`...)
		w.plain(truncate(bt.label, 75))
		w.b = append(w.b, `,"value":`...)
		w.b = appendString(w.b, bt.value)
		if bt.style != "" {
			w.b = append(w.b, `,"style":`...)
			w.b = appendString(w.b, bt.style)
		}
		w.b = append(w.b, '}')
	}
	w.b = append(w.b, "]}"...)
}

func (w *blocks) plain(text string) {
	w.b = append(w.b, `{"type":"plain_text","text":`...)
	w.b = appendString(w.b, text)
	w.b = append(w.b, `,"emoji":true}`...)
}

func (w *blocks) mrkdwn(text string) {
	w.b = append(w.b, `{"type":"mrkdwn","text":`...)
	w.b = appendString(w.b, text)
	w.b = append(w.b, '}')
}

// message is a message as Slack takes it in a command's answer, a Socket
// Mode ack or a response_url post:
// {"response_type":..,"text":..,"blocks":[..]}.
type message struct {
	json   []byte // the whole message
	text   string // the fallback text, escaped
	blocks []byte // the blocks inside json (without brackets); nil for text only
}

// openMessage appends the start of a message with blocks, up to the
// blocks themselves; closeMessage appends its end. responseType may be
// empty.
func openMessage(dst []byte, responseType, text string) []byte {
	dst = append(dst, '{')
	if responseType != "" {
		dst = append(dst, `"response_type":`...)
		dst = appendString(dst, responseType)
		dst = append(dst, ',')
	}
	dst = append(dst, `"text":`...)
	dst = appendString(dst, truncate(text, 3000))
	return append(dst, `,"blocks":[`...)
}

func closeMessage(dst []byte) []byte { return append(dst, "]}"...) }

// textMessage appends a message of text alone.
func textMessage(dst []byte, responseType, text string) message {
	start := len(dst)
	dst = append(dst, '{')
	if responseType != "" {
		dst = append(dst, `"response_type":`...)
		dst = appendString(dst, responseType)
		dst = append(dst, ',')
	}
	dst = append(dst, `"text":`...)
	dst = appendString(dst, truncate(text, 3000))
	dst = append(dst, '}')
	return message{json: dst[start:], text: text}
}

// sdkBlocks reads blocks JSON back into slack-go's types, for the Web API
// calls made through the SDK (never on the command's path).
func sdkBlocks(blockJSON []byte) ([]slackapi.Block, error) {
	var bs slackapi.Blocks
	data := make([]byte, 0, len(blockJSON)+2)
	data = append(append(append(data, '['), blockJSON...), ']')
	if err := json.Unmarshal(data, &bs); err != nil {
		return nil, fmt.Errorf("slack: read blocks: %w", err)
	}
	return bs.BlockSet, nil
}

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD,
// as encoding/json does; runs of characters that need no escaping are
// copied at once.
func appendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
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

// itoa is strconv.FormatInt for the date tokens.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }
