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

	"github.com/assistbot/assistbot/adapters/console"
)

// minPasswordRunes is the shortest console password agent add accepts.
const minPasswordRunes = 10

// agent runs "assistbot agent add NAME": it reads a password from the
// terminal (twice, without echo) or from standard input, and prints the
// console.agents entry with its argon2id hash. The password itself is
// never printed.
func (c *cli) agent(ctx context.Context, args []string) int {
	return agentCommand(ctx, args, os.Stdin, c.stdout, c.stderr)
}

func agentCommand(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) != 2 || args[0] != "add" {
		fmt.Fprintf(stderr, "assistbot: usage: assistbot agent add NAME (the password is read from the terminal or standard input)\n")
		return exitUsage
	}
	name := args[1]
	if name == "" || strings.ContainsFunc(name, unicode.IsSpace) || utf8.RuneCountInString(name) > 64 || !utf8.ValidString(name) {
		fmt.Fprintf(stderr, "assistbot: agent name %q must be 1 to 64 characters without spaces\n", name)
		return exitUsage
	}
	password, err := readPassword(ctx, stdin, stderr, name)
	if err != nil {
		fmt.Fprintf(stderr, "assistbot: %v\n", err)
		return exitFailed
	}
	if n := utf8.RuneCountInString(password); n < minPasswordRunes {
		fmt.Fprintf(stderr, "assistbot: the password is %d characters long; use at least %d\n", n, minPasswordRunes)
		return exitFailed
	}
	hash, err := console.HashPassword(password)
	if err != nil {
		fmt.Fprintf(stderr, "assistbot: %v\n", err)
		return exitFailed
	}
	fmt.Fprintf(stdout, "# Add this entry under console.agents in the configuration file:\n"+
		"console:\n  agents:\n    - name: %q\n      password_hash: %q\n", name, hash)
	return exitOK
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
