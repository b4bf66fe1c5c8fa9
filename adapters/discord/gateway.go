package discord

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
)

// intents are the gateway events assistbot asks for: guild and thread
// events, guild messages (agents' replies in desk threads) and DMs
// (customers). Message Content is privileged: without it guild messages
// arrive without their text, so replies in threads could not be relayed.
// DMs to the bot carry their text either way.
const intents = discordgo.IntentsGuilds | discordgo.IntentsGuildMessages |
	discordgo.IntentsDirectMessages | discordgo.IntentMessageContent

// Gateway close codes that no reconnection can fix.
const (
	closeAuthenticationFailed = 4004
	closeDisallowedIntents    = 4014
)

// maxBackoff caps the wait between two attempts to connect.
const maxBackoff = 5 * time.Minute

// ErrTokenRefused is returned by Run when Discord refused the bot token.
var ErrTokenRefused = errors.New("discord: Discord refused the bot token (HTTP 401); set a valid discord.token and restart")

// Run follows the engine's updates (card refreshes, the headers of
// conversations closed, failed replies) and, with Options.Gateway, holds
// the gateway connection that brings interactions and messages, until ctx
// ends. It returns ErrTokenRefused, without retrying, once Discord refused
// the bot token, and an error when the gateway refuses the requested
// intents.
func (a *Adapter) Run(ctx context.Context) error {
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { a.watch(wctx) })
	err := a.runGateway(wctx)
	stop()
	wg.Wait()
	a.work.Wait()
	a.cards.Wait()
	return err
}

// gatewayLock names the lock that lets one replica at a time hold the
// gateway: Discord sends each event to every connection of a bot, so two
// replicas connected would relay every message twice.
const gatewayLock = "discord-gateway"

// DefaultLockRetry is how often a replica without the gateway asks for it
// again: one that dies is replaced within this, plus the moment the
// database takes to see its connection gone.
const DefaultLockRetry = 5 * time.Second

// runGateway connects (when configured) and waits for the end. With a
// Locker, only the replica that holds the gateway lock connects; the
// others wait for it and take over when its holder goes.
func (a *Adapter) runGateway(ctx context.Context) error {
	if !a.gateway {
		select {
		case <-ctx.Done():
			return nil
		case <-a.halted:
			return ErrTokenRefused
		}
	}
	if a.locker == nil {
		return a.holdGateway(ctx, nil)
	}
	told := false
	for {
		lost, release, ok, err := a.locker.TryLock(ctx, gatewayLock)
		switch {
		case err != nil && ctx.Err() == nil:
			a.log.Warn("ask for the Discord gateway lock", "err", err)
		case ok:
			a.log.Info("this replica holds the Discord gateway")
			err := a.holdGateway(ctx, lost)
			release()
			if err != nil || ctx.Err() != nil {
				return err
			}
			a.log.Warn("lost the Discord gateway lock (the database connection dropped); another replica may take it over")
			told = false
		case !told:
			a.log.Info("another replica holds the Discord gateway; this one takes it over if that one goes")
			told = true
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(a.lockRetry):
		}
	}
}

// holdGateway connects and stays connected until ctx ends, the lock is
// lost (lost closes), or Discord refuses the token.
func (a *Adapter) holdGateway(ctx context.Context, lost <-chan struct{}) error {
	if err := a.connect(ctx); err != nil || ctx.Err() != nil {
		return err
	}
	defer a.session.Close()
	select {
	case <-ctx.Done():
		return nil
	case <-lost:
		return nil
	case <-a.halted:
		return ErrTokenRefused
	}
}

// connect opens the gateway connection, trying again with backoff while
// Discord cannot be reached. discordgo reconnects by itself afterwards.
func (a *Adapter) connect(ctx context.Context) error {
	a.session.Identify.Intents = intents
	a.gatewayLogs.Do(func() {
		a.session.AddHandler(func(_ *discordgo.Session, _ *discordgo.Ready) { a.log.Info("connected to the Discord gateway") })
		a.session.AddHandler(func(_ *discordgo.Session, _ *discordgo.Disconnect) {
			a.log.Warn("disconnected from the Discord gateway; reconnecting")
		})
	})
	wait := time.Second
	for {
		// A REST call first: it checks the token where a 401 stops
		// everything, rather than in a websocket close discordgo would
		// keep retrying.
		_, err := a.session.User("@me", discordgo.WithContext(ctx))
		if err == nil {
			err = a.session.Open()
		}
		var ce *websocket.CloseError
		switch {
		case err == nil:
			return nil
		case a.isHalted():
			return ErrTokenRefused
		case errors.As(err, &ce) && ce.Code == closeAuthenticationFailed:
			a.halt()
			return ErrTokenRefused
		case errors.As(err, &ce) && ce.Code == closeDisallowedIntents:
			return fmt.Errorf("discord: the gateway refused the Message Content intent; enable it on the Bot page of the Discord Developer Portal: %w", err)
		}
		a.log.Warn("cannot connect to the Discord gateway; trying again", "wait", wait, "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		wait = min(2*wait, maxBackoff)
	}
}
