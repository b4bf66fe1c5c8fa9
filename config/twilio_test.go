package config

import (
	"strings"
	"testing"
)

// TestTwilioKeywordReplies reads twilio.keyword_replies from the file and
// from ASSISTBOT_TWILIO_KEYWORD_REPLIES; it is off by default because
// Twilio answers the keywords itself on most numbers.
func TestTwilioKeywordReplies(t *testing.T) {
	if Default().Twilio.KeywordReplies {
		t.Error("keyword_replies is on by default")
	}
	c, err := Load(strings.NewReader("twilio:\n  keyword_replies: true\n"), env(nil))
	if err != nil || !c.Twilio.KeywordReplies {
		t.Errorf("from the file: %v, %v", c.Twilio.KeywordReplies, err)
	}
	c, err = Load(nil, env(map[string]string{"ASSISTBOT_TWILIO_KEYWORD_REPLIES": "yes"}))
	if err != nil || !c.Twilio.KeywordReplies {
		t.Errorf("from the environment: %v, %v", c.Twilio.KeywordReplies, err)
	}
}
