package main

import "github.com/assistbot/assistbot/config"

// newConsolePlatform returns the web console and web chat's part of the program, or nil when
// it is not enabled.
func newConsolePlatform(cfg *config.Config) platform { return nil }
