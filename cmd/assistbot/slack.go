package main

import "github.com/assistbot/assistbot/config"

// newSlackPlatform returns Slack's part of the program, or nil when
// it is not enabled.
func newSlackPlatform(cfg *config.Config) platform { return nil }
