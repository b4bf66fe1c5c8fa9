package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/assistbot/assistbot/adapters/console"
)

// minPasswordRunes is the shortest console password agent add accepts.
const minPasswordRunes = 10

// agentCommand is "agent add NAME": it reads a password from the
// terminal (twice, without echo) or from standard input, and prints the
// console.agents entry with its argon2id hash. The password itself is
// never printed.
func (c *cli) agentCommand() *cobra.Command {
	parent := &cobra.Command{
		Use:   "agent",
		Short: "Make console agents",
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return usageErr(`"agent" needs a subcommand: add`)
		},
	}
	parent.AddCommand(&cobra.Command{
		Use:   "add NAME",
		Short: "Print a console agent entry with the hash of a password you type",
		Long: fmt.Sprintf(`add reads a password from the terminal, twice and without showing it, or
the first line of standard input, and prints the lines to put under
console.agents: the name and an argon2id hash of the password (64 MiB,
3 passes, 4 lanes). The password is never printed. NAME is 1 to 64
characters without spaces; the password at least %d characters.`, minPasswordRunes),
		Example: `  assistbot agent add alice
  printf '%s\n' "$PASSWORD" | assistbot agent add alice`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr("give the agent's name: assistbot agent add NAME (the password is read from the terminal or standard input)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.agentAdd(c.ctx, args[0])
		},
	})
	return parent
}

// agentCommand runs "assistbot agent ARGS" with stdin, for tests.
func agentCommand(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr, getenv: func(string) (string, bool) { return "", false }}
	return c.run(append([]string{"agent"}, args...))
}

// agentAdd makes the console.agents entry of name.
func (c *cli) agentAdd(ctx context.Context, name string) error {
	if name == "" || strings.ContainsFunc(name, unicode.IsSpace) || utf8.RuneCountInString(name) > 64 || !utf8.ValidString(name) {
		return usageErr("agent name %q must be 1 to 64 characters without spaces", name)
	}
	password, err := readPassword(ctx, c.stdin, c.stderr, name)
	if err != nil {
		fmt.Fprintf(c.stderr, "assistbot: %v\n", err)
		return failed()
	}
	if n := utf8.RuneCountInString(password); n < minPasswordRunes {
		fmt.Fprintf(c.stderr, "assistbot: %s; use at least %d\n", passwordLength(n), minPasswordRunes)
		return failed()
	}
	hash, err := console.HashPassword(password)
	if err != nil {
		fmt.Fprintf(c.stderr, "assistbot: %v\n", err)
		return failed()
	}
	fmt.Fprintf(c.stdout, "# Add this entry under console.agents in the configuration file:\n"+
		"console:\n  agents:\n    - name: %q\n      password_hash: %q\n", name, hash)
	return nil
}

// passwordLength says how long a password is, in a sentence.
func passwordLength(n int) string {
	switch n {
	case 0:
		return "the password is empty"
	case 1:
		return "the password is 1 character long"
	}
	return fmt.Sprintf("the password is %d characters long", n)
}

// readPassword reads the password: from a terminal with the echo off,
// asking twice, or else the first line of stdin (for scripts: printf
// '%s\n' "$PW" | assistbot agent add alice). Ctrl-C gives up and turns
// the echo back on.
func readPassword(ctx context.Context, stdin io.Reader, stderr io.Writer, name string) (string, error) {
	lines := make(chan string)
	failed := make(chan error, 1)
	r := bufio.NewReader(stdin)
	next := func() (string, error) {
		go func() {
			line, err := r.ReadString('\n')
			if err != nil && (err != io.EOF || line == "") {
				failed <- errors.New("no password on standard input")
				return
			}
			lines <- strings.TrimRight(line, "\r\n")
		}()
		select {
		case l := <-lines:
			return l, nil
		case err := <-failed:
			return "", err
		case <-ctx.Done():
			return "", errors.New("interrupted")
		}
	}
	f, ok := stdin.(*os.File)
	if !ok || !isTerminal(f) {
		return next()
	}
	restore := echoOff(f, stderr)
	defer restore()
	fmt.Fprintf(stderr, "Password for %s: ", name)
	first, err := next()
	fmt.Fprintln(stderr)
	if err != nil {
		return "", err
	}
	fmt.Fprint(stderr, "Same password again: ")
	second, err := next()
	fmt.Fprintln(stderr)
	if err != nil {
		return "", err
	}
	if first != second {
		return "", errors.New("the two passwords differ")
	}
	return first, nil
}

// isTerminal reports whether f is a character device such as a terminal.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// echoOff stops the terminal from showing what is typed, with stty (every
// Unix has it), and returns the function that turns it back on. Where
// stty is missing the password shows, and the user is told so.
func echoOff(f *os.File, stderr io.Writer) func() {
	stty := func(arg string) error {
		cmd := exec.Command("stty", arg)
		cmd.Stdin = f
		return cmd.Run()
	}
	if err := stty("-echo"); err != nil {
		fmt.Fprintln(stderr, "assistbot: cannot hide typing on this terminal; the password will show as you type it")
		return func() {}
	}
	return func() { _ = stty("echo") }
}
