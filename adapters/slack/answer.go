package slack

import "unicode/utf8"

// The slash command answers every request with a card, so the answer is
// written straight into bytes: encoding/json over slack-go's block types
// costs about 9µs and 35 allocations a card, a fifth of the request's
// budget. appendAnswerJSON is the only way in (writeAnswer, for HTTP, and
// answerJSON, for Socket Mode, call it); render_test.go checks that it
// says what view.message, the Web API's blocks, says.

// answerJSON returns v as a slash command's answer: an ephemeral message.
func answerJSON(v *view) []byte { return appendAnswerJSON(make([]byte, 0, 2048), v) }

// appendAnswerJSON appends v as a slash command's answer to dst.
func appendAnswerJSON(dst []byte, v *view) []byte {
	dst = append(dst, `{"response_type":"ephemeral","text":`...)
	dst = appendString(dst, truncate(v.text, maxText))
	if v.header == "" {
		return append(dst, '}')
	}
	w := blockWriter{b: append(dst, `,"blocks":[`...)}
	w.open(`{"type":"header","text":`)
	w.plain(v.header)
	w.open(`{"type":"section","text":`)
	w.mrkdwn(v.head)
	if len(v.links) > 0 {
		w.open(`{"type":"section","fields":[`)
		w.mrkdwns(v.links)
		w.b = append(w.b, ']')
	}
	if len(v.context) > 0 {
		w.context(v.context)
	}
	if v.delivery != "" {
		w.open(`{"type":"context","elements":[`)
		w.mrkdwn(v.delivery)
		w.b = append(w.b, ']')
	}
	if len(v.notes) > 0 {
		w.context(v.notes)
	}
	if len(v.buttons) > 0 {
		w.actions(blockCard, v.buttons)
	}
	if v.picker != nil {
		w.picker(v.picker)
	}
	return append(w.b, "}]}"...)
}

// blockWriter writes the blocks of a "blocks" array; each block is left
// open for its contents, and closed by the next one or the array's end.
type blockWriter struct {
	b []byte
	n int // blocks written
}

func (w *blockWriter) open(start string) {
	if w.n > 0 {
		w.b = append(w.b, "},"...)
	}
	w.n++
	w.b = append(w.b, start...)
}

func (w *blockWriter) context(elements []string) {
	w.open(`{"type":"context","elements":[`)
	w.mrkdwns(elements)
	w.b = append(w.b, ']')
}

func (w *blockWriter) actions(blockID string, buttons []button) {
	w.open(`{"type":"actions","block_id":`)
	w.b = appendString(w.b, blockID)
	w.b = append(w.b, `,"elements":[`...)
	for i, bt := range buttons {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = append(w.b, `{"type":"button","action_id":`...)
		w.b = appendString(w.b, bt.actionID)
		w.b = append(w.b, `,"text":`...)
		w.plain(bt.label)
		w.b = append(w.b, `,"value":`...)
		w.b = appendString(w.b, bt.value)
		if bt.style != "" {
			w.b = append(w.b, `,"style":`...)
			w.b = appendString(w.b, bt.style)
		}
		w.b = append(w.b, '}')
	}
	w.b = append(w.b, ']')
}

func (w *blockWriter) plain(text string) {
	w.b = append(w.b, `{"type":"plain_text","text":`...)
	w.b = appendString(w.b, text)
	w.b = append(w.b, `,"emoji":true}`...)
}

func (w *blockWriter) mrkdwn(text string) {
	w.b = append(w.b, `{"type":"mrkdwn","text":`...)
	w.b = appendString(w.b, text)
	w.b = append(w.b, '}')
}

func (w *blockWriter) mrkdwns(texts []string) {
	for i, t := range texts {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.mrkdwn(t)
	}
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
