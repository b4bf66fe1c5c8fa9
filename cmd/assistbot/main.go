// Command assistbot serves remote support from the conversations agents
// are already in: Slack, Discord, SMS and its own web console.
//
//	assistbot [--config PATH] [serve [--listen ADDR]]
//	assistbot [--config PATH] config check
//	assistbot agent add NAME
//	assistbot [--config PATH] slack manifest [--url URL] [--socket-mode]
//	assistbot [--config PATH] discord sync-commands
//	assistbot [--config PATH] healthcheck
//	assistbot version
//	assistbot help [command]
//
// The command line is github.com/spf13/cobra's: every command has its own
// help with its flags, defaults and an example, a flag is never taken for
// an argument, and "assistbot completion bash" (zsh, fish, powershell)
// prints shell completion.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv)
	stop()
	os.Exit(code)
}
