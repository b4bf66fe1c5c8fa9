package main

import "github.com/assistbot/assistbot/config"

// newTwilioPlatform returns Twilio SMS's part of the program, or nil when
// it is not enabled.
func newTwilioPlatform(cfg *config.Config) platform { return nil }
