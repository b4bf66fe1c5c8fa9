package remote_test

import (
	"testing"

	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
)

// The console and the chat style a line by its kind: the customer's
// messages apart from the desk's, and links apart from both.
func TestTranscriptLineKind(t *testing.T) {
	for _, tc := range []struct {
		line remote.TranscriptLine
		want string
	}{
		{remote.TranscriptLine{Message: &core.Message{Direction: core.FromCustomer}}, "in"},
		{remote.TranscriptLine{Message: &core.Message{Direction: core.FromAgent}}, "out"},
		{remote.TranscriptLine{Link: &remote.SentLink{}}, "link"},
	} {
		if got := tc.line.Kind(); got != tc.want {
			t.Errorf("%+v: kind %q, want %q", tc.line, got, tc.want)
		}
	}
}
