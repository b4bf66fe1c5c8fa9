// Command loadtest measures how fast assistbot answers agents: it sends
// signed Slack /remote slash commands, each with a fresh trigger id, over
// a fixed number of connections for a while, and prints the rate, the
// latency percentiles and the server's CPU and memory.
//
//	loadtest run --url http://127.0.0.1:8080 --secret S --pid 1234
//	loadtest run --spawn ./assistbot --seed 1000000
//	loadtest bare --listen 127.0.0.1:9090 --secret S
//	loadtest seed --dsn /tmp/load.db --sessions 1000000
//
// run with --spawn starts the assistbot binary itself, on a temporary
// SQLite database (seeded first with --seed stored sessions), pinned to
// one CPU with taskset when there is one, and reads its CPU time and
// resident memory from /proc. bare serves the fastest possible answer
// (verify the signature, return a fixed card), the bound a real server
// can approach. It needs nothing but Go: no wrk, no other service.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: loadtest <command> [flags]

commands:
  run    send signed /remote commands and report rate, latency, CPU and RSS
  bare   serve the bare bound: verify the signature, answer a fixed card
  seed   fill a SQLite or PostgreSQL store with sessions and their events

"loadtest <command> --help" lists a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "run":
		err = runLoad(ctx, args[1:], stdout, stderr)
	case "bare":
		err = serveBare(ctx, args[1:], stderr)
	case "seed":
		err = runSeed(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "loadtest: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "loadtest: %v\n", err)
		return 1
	}
	return 0
}
