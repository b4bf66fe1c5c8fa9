package main

import "github.com/assistbot/assistbot/config"

// newDiscordPlatform returns Discord's part of the program, or nil when
// it is not enabled.
func newDiscordPlatform(cfg *config.Config) platform { return nil }
