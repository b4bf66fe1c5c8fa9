package twilio

import "strings"

// keyword is what a one-word text asks of the sender.
type keyword int

// The keywords.
const (
	noKeyword keyword = iota
	// optOut: the customer wants no more messages.
	optOut
	// optIn: the customer wants messages again.
	optIn
	// help: the customer asks what this number is.
	help
)

// classify reads the keyword of an incoming text. Like Twilio, it only
// counts a text that is the keyword alone ("stop", " STOP "), never one in
// a sentence ("please stop calling"). optOutType is Twilio's own reading
// (the OptOutType parameter, sent when Advanced Opt-Out matched a keyword
// the admin configured, in any language) and wins when present. YES opts
// in only a number that had opted out: that is when Twilio honours it,
// and elsewhere it is an ordinary answer.
func classify(text, optOutType string, optedOut bool) keyword {
	switch strings.ToUpper(strings.TrimSpace(optOutType)) {
	case "STOP":
		return optOut
	case "START":
		return optIn
	case "HELP":
		return help
	}
	switch strings.ToUpper(strings.TrimSpace(text)) {
	case "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT":
		return optOut
	case "START", "UNSTOP":
		return optIn
	case "YES":
		if optedOut {
			return optIn
		}
	case "HELP", "INFO":
		return help
	}
	return noKeyword
}
