package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/assistbot/assistbot/config"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

const usage = `usage: assistbot [--config PATH] <command>

commands:
  serve [--listen ADDR]   serve the portal, the API and the enabled platforms (the default)
  config check            validate the configuration and list every problem
  healthcheck             exit 0 when the running server answers /healthz
  agent add NAME          print a console.agents entry; the password is read from the terminal or stdin
  version                 print the version
  discord sync-commands   register /remote with Discord (in discord.guild_id, or globally)
  slack manifest          print the Slack app manifest (--url URL: the public base URL)

The configuration is read from --config PATH or $ASSISTBOT_CONFIG; without
either, the defaults and ASSISTBOT_* environment variables apply.
`

// cli is one invocation of the program.
type cli struct {
	stdout, stderr io.Writer
	getenv         func(string) (string, bool)
	configPath     string
	// listen overrides server.listen for serve; it is accepted before the
	// command too, since serve is the default ("assistbot --listen :9090").
	listen string
}

// run executes the command line args and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) (string, bool)) int {
	c := &cli{stdout: stdout, stderr: stderr, getenv: getenv}
	if p, ok := getenv("ASSISTBOT_CONFIG"); ok {
		c.configPath = p
	}
	fs := c.flags("assistbot")
	fs.StringVar(&c.listen, "listen", "", "listen address, overriding server.listen")
	if err := fs.Parse(args); err != nil {
		return c.usageError(err)
	}
	args = fs.Args()
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return c.serve(ctx, args)
	case "config":
		if len(args) == 0 || args[0] != "check" {
			return c.usageError(errors.New(`"config" needs a subcommand: check`))
		}
		return c.configCheck(args[1:])
	case "agent":
		return c.agent(ctx, args)
	case "healthcheck":
		return c.healthcheck(ctx, args)
	case "discord":
		return c.discord(ctx, args)
	case "slack":
		return c.slackCommand(args)
	case "version", "--version":
		fmt.Fprintln(c.stdout, "assistbot", versionString())
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(c.stdout, usage)
		return exitOK
	}
	return c.usageError(fmt.Errorf("unknown command %q", cmd))
}

// flags returns a flag set with the global --config flag.
func (c *cli) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.configPath, "config", c.configPath, "configuration file")
	return fs
}

func (c *cli) usageError(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(c.stdout, usage)
		return exitOK
	}
	fmt.Fprintf(c.stderr, "assistbot: %v\n\n%s", err, usage)
	return exitUsage
}

// loadConfig reads the configuration: the file when one is named, else
// the defaults, then the environment overlay.
func (c *cli) loadConfig() (*config.Config, error) {
	if c.configPath == "" {
		return config.Load(nil, c.getenv)
	}
	return config.LoadFile(c.configPath, c.getenv)
}

// configCheck validates the configuration and prints every problem.
func (c *cli) configCheck(args []string) int {
	fs := c.flags("config check")
	if err := fs.Parse(args); err != nil {
		return c.usageError(err)
	}
	cfg, err := c.loadConfig()
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		printProblems(c.stderr, err)
		return exitFailed
	}
	fmt.Fprintf(c.stdout, "configuration is valid: %s\n", cfg.Summary())
	return exitOK
}

// printProblems writes a configuration error one problem per line.
func printProblems(w io.Writer, err error) {
	fmt.Fprintln(w, "configuration problems:")
	for _, line := range strings.Split(err.Error(), "\n") {
		fmt.Fprintf(w, "  %s\n", line)
	}
}

// versionString is the build's version, with the VCS revision when the
// binary was built from a checkout.
func versionString() string {
	v := version
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
	}
	return v
}
