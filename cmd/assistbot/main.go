// Command assistbot serves remote support from the conversations agents
// are already in: Slack, Discord, SMS and its own web console.
//
//	assistbot [--config PATH] [serve [--listen ADDR]]
//	assistbot [--config PATH] config check
//	assistbot [--config PATH] healthcheck
//	assistbot version
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
