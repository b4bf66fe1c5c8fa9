package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/assistbot/assistbot/adapters/store/postgres"
	"github.com/assistbot/assistbot/config"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

// cli is one invocation of the program.
type cli struct {
	ctx            context.Context
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) (string, bool)
	configPath     string
	// listen overrides server.listen for serve; it is accepted before the
	// command too, since serve is the default ("assistbot --listen :9090").
	listen string
}

// exit ends a command with a code: a failure whose message the command
// printed already, or a usage error to explain.
type exit struct {
	code int
	err  error // for exitUsage: what was wrong with the command line
}

func (e *exit) Error() string {
	if e.err != nil {
		return e.err.Error()
	}
	return fmt.Sprintf("exit %d", e.code)
}

// failed ends a command whose failure it has printed.
func failed() error { return &exit{code: exitFailed} }

// usageErr ends a command whose command line was wrong.
func usageErr(format string, args ...any) error {
	return &exit{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// run executes the command line args and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) (string, bool)) int {
	return (&cli{ctx: ctx, stdin: os.Stdin, stdout: stdout, stderr: stderr, getenv: getenv}).run(args)
}

func (c *cli) run(args []string) int {
	if p, ok := c.getenv("ASSISTBOT_CONFIG"); ok {
		c.configPath = p
	}
	root := c.root()
	root.SetArgs(args)
	root.SetIn(c.stdin)
	root.SetOut(c.stdout)
	root.SetErr(c.stderr)
	cmd, err := root.ExecuteC()
	if err == nil {
		return exitOK
	}
	var e *exit
	if errors.As(err, &e) {
		if e.err == nil {
			return e.code // the command printed why
		}
		err = e.err
		if e.code != exitUsage {
			fmt.Fprintf(c.stderr, "assistbot: %v\n", err)
			return e.code
		}
	}
	// Everything else is a command line that cobra or a command refused.
	fmt.Fprintf(c.stderr, "assistbot: %v\n", err)
	lines := []string{cmd.UseLine()}
	switch {
	case !cmd.HasParent():
		lines = []string{"assistbot [--config PATH] <command> [flags]"}
	case cmd.HasAvailableSubCommands():
		lines = nil
		for _, l := range leaves(cmd) {
			lines = append(lines, cmd.CommandPath()+" "+l.line)
		}
	}
	for _, l := range lines {
		fmt.Fprintf(c.stderr, "usage: %s\n", l)
	}
	fmt.Fprintf(c.stderr, "Run \"%s\" for flags and examples.\n", strings.Replace(cmd.CommandPath(), "assistbot", "assistbot help", 1))
	return exitUsage
}

// root is the command tree. serve is the default command: "assistbot"
// alone, or with --listen, serves.
func (c *cli) root() *cobra.Command {
	root := &cobra.Command{
		Use:   "assistbot",
		Short: "Start remote-support sessions from the conversations agents are already in",
		Long: `assistbot issues remote-support PINs and links from Slack, Discord, SMS,
its own web console and a JSON API, and follows each session to its end.
Without a command it serves (see "assistbot help serve").

The configuration is read from --config PATH or $ASSISTBOT_CONFIG; without
either, the defaults and the ASSISTBOT_* environment variables apply.`,
		Args:          cobra.NoArgs,
		SilenceErrors: true,
		SilenceUsage:  true,
		Version:       versionString(),
		RunE:          func(cmd *cobra.Command, args []string) error { return c.serve(c.ctx) },
	}
	root.SetVersionTemplate("assistbot {{.Version}}\n")
	root.PersistentFlags().StringVar(&c.configPath, "config", c.configPath, "the configuration file (default $ASSISTBOT_CONFIG; none: the defaults)")
	root.Flags().StringVar(&c.listen, "listen", "", "the address to serve on, overriding server.listen (serve is the default command)")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return &exit{code: exitUsage, err: err} })
	root.AddCommand(c.serveCommand(), c.configCommand(), c.agentCommand(), c.healthcheckCommand(),
		c.versionCommand(), c.slackCommand(), c.discordCommand(), c.keysCommand())
	root.SetUsageFunc(usage)
	return root
}

// leaf is a command that does something, below another: its command
// line from there ("agent add NAME") and what it does.
type leaf struct{ line, short string }

// leaves lists the commands below cmd that do something, a parent that
// only groups others (and refuses to run alone) not included.
func leaves(cmd *cobra.Command) []leaf {
	var out []leaf
	var walk func(c *cobra.Command, prefix string)
	walk = func(c *cobra.Command, prefix string) {
		for _, s := range c.Commands() {
			if !s.IsAvailableCommand() {
				continue
			}
			if !s.HasAvailableSubCommands() {
				out = append(out, leaf{line: strings.TrimSpace(prefix + " " + s.Use), short: s.Short})
			}
			walk(s, strings.TrimSpace(prefix+" "+s.Name()))
		}
	}
	walk(cmd, "")
	return out
}

// usage writes a command's usage: its command line, its examples, the
// whole command line of each command under it ("agent add NAME", not
// "agent"), and its flags with their defaults.
func usage(cmd *cobra.Command) error {
	w := cmd.OutOrStderr()
	fmt.Fprintf(w, "Usage:\n")
	if cmd.Runnable() {
		fmt.Fprintf(w, "  %s\n", cmd.UseLine())
	}
	if cmd.HasAvailableSubCommands() {
		fmt.Fprintf(w, "  %s [command]\n", cmd.CommandPath())
	}
	if cmd.HasExample() {
		fmt.Fprintf(w, "\nExamples:\n%s\n", cmd.Example)
	}
	if cmd.HasAvailableSubCommands() {
		fmt.Fprintf(w, "\nCommands:\n")
		for _, l := range leaves(cmd) {
			fmt.Fprintf(w, "  %-34s %s\n", l.line, l.short)
		}
	}
	if cmd.HasAvailableLocalFlags() {
		fmt.Fprintf(w, "\nFlags:\n%s", cmd.LocalFlags().FlagUsages())
	}
	if cmd.HasAvailableInheritedFlags() {
		fmt.Fprintf(w, "\nGlobal flags:\n%s", cmd.InheritedFlags().FlagUsages())
	}
	if cmd.HasAvailableSubCommands() {
		fmt.Fprintf(w, "\nRun \"assistbot help <command>\" for a command's flags and examples.\n")
	}
	return nil
}

// loadConfig reads the configuration: the file when one is named, else
// the defaults, then the environment overlay. On problems it still
// returns what loaded, for checkConfig.
func (c *cli) loadConfig() (*config.Config, error) {
	if c.configPath == "" {
		return config.Load(nil, c.getenv)
	}
	return config.LoadFile(c.configPath, c.getenv)
}

// checkConfig loads and validates the configuration and returns it, or
// every problem found in one list.
func (c *cli) checkConfig() (*config.Config, error) {
	cfg, err := c.loadConfig()
	if err := check(cfg, err); err != nil {
		return nil, err
	}
	return cfg, nil
}

// check is config.Check with what only the store's driver can tell: a
// PostgreSQL store.dsn that does not parse (a bad port, a pool setting
// that is not a number) is named here rather than failing the start.
func check(cfg *config.Config, loadErr error) error {
	err := config.Check(cfg, loadErr)
	var ps config.Problems
	if cfg == nil || cfg.Store.Driver != "postgres" || strings.TrimSpace(cfg.Store.DSN) == "" || (err != nil && !errors.As(err, &ps)) {
		return err
	}
	if derr := postgres.CheckDSN(cfg.Store.DSN); derr != nil {
		return append(ps, config.Problem{Key: "store.dsn", Message: derr.Error()})
	}
	return err
}

// configCommand is "config check".
func (c *cli) configCommand() *cobra.Command {
	parent := &cobra.Command{
		Use:   "config",
		Short: "Check the configuration",
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return usageErr(`"config" needs a subcommand: check`)
		},
	}
	parent.AddCommand(&cobra.Command{
		Use:   "check",
		Short: "Validate the configuration and list every problem with its key",
		Long: `check loads the configuration (the file, then the ASSISTBOT_* environment
variables) and validates it, and prints every problem in one run, each with
its key path and, where it came from an environment variable, that
variable's name. It never prints a secret. It exits 0 when the
configuration is valid, and 1 otherwise.`,
		Example: `  assistbot config check
  assistbot --config /etc/assistbot/assistbot.yaml config check
  ASSISTBOT_PIN_DIGITS=8 assistbot config check`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := c.checkConfig()
			if err != nil {
				printProblems(c.stderr, err)
				return failed()
			}
			fmt.Fprintf(c.stdout, "configuration is valid: %s\n", cfg.Summary())
			return nil
		},
	})
	return parent
}

// versionCommand is "version".
func (c *cli) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the version",
		Example: "  assistbot version",
		Args:    cobra.NoArgs,
		Run:     func(cmd *cobra.Command, args []string) { fmt.Fprintln(c.stdout, "assistbot", versionString()) },
	}
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
