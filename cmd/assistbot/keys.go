package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/assistbot/assistbot/adapters/console"
	"github.com/assistbot/assistbot/adapters/portal"
	"github.com/assistbot/assistbot/adapters/webchat"
)

// sharedKey is a signing key the replicas share through the store.
type sharedKey struct {
	name string
	size int
	what string
}

// sharedKeys are the keys "keys rotate" knows, in the order it lists them.
var sharedKeys = []sharedKey{
	{console.KeyName, console.KeySize, "the console's CSRF tokens"},
	{webchat.KeyName, 32, "the web chat's customer ids and CSRF tokens"},
	{portal.LinkKeyName, portal.LinkKeySize, "the proofs in the links sent to customers"},
}

// keysCommand is "keys rotate": it replaces the signing keys the replicas
// share, keeping the old ones as the previous keys.
func (c *cli) keysCommand() *cobra.Command {
	parent := &cobra.Command{
		Use:   "keys",
		Short: "Manage the signing keys the replicas share",
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return usageErr(`"keys" needs a subcommand: rotate`)
		},
	}
	var names []string
	for _, k := range sharedKeys {
		names = append(names, k.name)
	}
	parent.AddCommand(&cobra.Command{
		Use:   "rotate [NAME...]",
		Short: "Make new signing keys in the store; the old ones still verify until the next rotation",
		Long: `rotate makes a new random key for each key named (every key without a
name) in the store that the replicas share. The key it replaces becomes the
previous key, which still verifies: what was signed just before keeps
working. Every running replica accepts the new key at once, when another
replica signed with it, and signs with it within a minute; except that the
provider signs links with the link key of when its replica started.

` + keyList() + `
Rotating a key twice retires its oldest key: pages and links signed with it
stop working (a customer reloads the chat, an agent signs in again, a link
sent with the oldest link key counts as a typed code). Restart every
replica between two rotations of ` + portal.LinkKeyName + `.`,
		Example: `  assistbot --config assistbot.yaml keys rotate
  assistbot --config assistbot.yaml keys rotate console.csrf`,
		ValidArgs: names,
		RunE:      func(cmd *cobra.Command, args []string) error { return c.rotateKeys(c.ctx, args) },
	})
	return parent
}

// keyList lists the shared keys for the help.
func keyList() string {
	var b strings.Builder
	b.WriteString("The keys:\n")
	for _, k := range sharedKeys {
		fmt.Fprintf(&b, "  %-14s %s\n", k.name, k.what)
	}
	return b.String()
}

func (c *cli) rotateKeys(ctx context.Context, names []string) error {
	var todo []sharedKey
	for _, n := range names {
		i := slices.IndexFunc(sharedKeys, func(k sharedKey) bool { return k.name == n })
		if i < 0 {
			var known []string
			for _, k := range sharedKeys {
				known = append(known, k.name)
			}
			return usageErr("no key is called %q; the keys are %s", n, strings.Join(known, ", "))
		}
		todo = append(todo, sharedKeys[i])
	}
	if len(todo) == 0 {
		todo = sharedKeys
	}
	cfg, err := c.loadConfig()
	if err != nil {
		printProblems(c.stderr, err)
		return failed()
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	store, err := openStore(ctx, cfg.Store)
	if err != nil {
		fmt.Fprintf(c.stderr, "assistbot: %v\n", err)
		return failed()
	}
	defer store.Close()
	for _, k := range todo {
		if err := store.RotateKey(ctx, k.name, k.size); err != nil {
			fmt.Fprintf(c.stderr, "assistbot: rotate %s: %v\n", k.name, err)
			return failed()
		}
		fmt.Fprintf(c.stdout, "rotated %s (%s)\n", k.name, k.what)
	}
	return nil
}
