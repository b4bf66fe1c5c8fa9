package discord

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"

	"github.com/bwmarrin/discordgo"

	"github.com/assistbot/assistbot/bots/i18n"
)

// maxDescription is Discord's limit on command and option descriptions.
const maxDescription = 100

// discordLocales maps a catalog language to the Discord locales it
// describes commands in.
func discordLocales(code string) []discordgo.Locale {
	switch code {
	case "en":
		return []discordgo.Locale{discordgo.EnglishUS, discordgo.EnglishGB}
	case "es":
		return []discordgo.Locale{discordgo.SpanishES, discordgo.SpanishLATAM}
	case "ko":
		return []discordgo.Locale{discordgo.Korean}
	case "ja":
		return []discordgo.Locale{discordgo.Japanese}
	case "de":
		return []discordgo.Locale{discordgo.German}
	case "fr":
		return []discordgo.Locale{discordgo.French}
	}
	return nil
}

// Commands returns the application commands assistbot registers: /remote
// with an optional customer (a member) and device (desktop or mobile),
// usable in guilds only, described in the catalog's default language and
// translated into the others.
func Commands(c *i18n.Catalog) []*discordgo.ApplicationCommand {
	text := func(key string) (string, *map[discordgo.Locale]string) {
		loc := map[discordgo.Locale]string{}
		for _, code := range c.Supported() {
			for _, l := range discordLocales(code) {
				loc[l] = truncate(c.T(code, key), maxDescription)
			}
		}
		return truncate(c.T(c.Default(), key), maxDescription), &loc
	}
	choice := func(value, key string) *discordgo.ApplicationCommandOptionChoice {
		name, loc := text(key)
		return &discordgo.ApplicationCommandOptionChoice{Name: name, NameLocalizations: *loc, Value: value}
	}
	desc, descLoc := text("discord.command.description")
	customer, customerLoc := text("discord.option.customer")
	device, deviceLoc := text("discord.option.device")
	return []*discordgo.ApplicationCommand{{
		Type:                     discordgo.ChatApplicationCommand,
		Name:                     CommandName,
		Description:              desc,
		DescriptionLocalizations: descLoc,
		Contexts:                 &[]discordgo.InteractionContextType{discordgo.InteractionContextGuild},
		Options: []*discordgo.ApplicationCommandOption{
			{Type: discordgo.ApplicationCommandOptionUser, Name: "customer", Description: customer, DescriptionLocalizations: *customerLoc},
			{Type: discordgo.ApplicationCommandOptionString, Name: "device", Description: device, DescriptionLocalizations: *deviceLoc,
				Choices: []*discordgo.ApplicationCommandOptionChoice{choice("desktop", "card.desktop_link"), choice("mobile", "card.mobile_link")}},
		},
	}}
}

// SyncOptions say where to register the commands.
type SyncOptions struct {
	Token         string
	ApplicationID string
	// GuildID registers the commands in one guild, where they appear at
	// once; empty registers them globally.
	GuildID string
	APIURL  string
	Catalog *i18n.Catalog
	// Transport carries the request; default http.DefaultTransport.
	Transport http.RoundTripper
}

// SyncCommands registers Commands by bulk overwrite: afterwards the
// application has exactly these commands in the guild (or globally), and
// running it again changes nothing. It returns what Discord registered.
func SyncCommands(ctx context.Context, o SyncOptions) ([]*discordgo.ApplicationCommand, error) {
	if o.Token == "" || o.ApplicationID == "" || o.Catalog == nil {
		return nil, errors.New("discord: registering commands needs the token, the application id and a catalog")
	}
	var refused atomic.Bool
	s, err := newSession(o.Token, o.APIURL, o.Transport, func() { refused.Store(true) }, refused.Load)
	if err != nil {
		return nil, err
	}
	return syncCommands(ctx, s, o.ApplicationID, o.GuildID, o.Catalog)
}

// SyncCommands registers the commands with the adapter's own settings;
// serve does it at start when discord.sync_commands is true.
func (a *Adapter) SyncCommands(ctx context.Context) ([]*discordgo.ApplicationCommand, error) {
	if a.appID == "" {
		return nil, errors.New("discord: registering commands needs the application id")
	}
	if a.isHalted() {
		return nil, ErrTokenRefused
	}
	return syncCommands(ctx, a.session, a.appID, a.guild, a.catalog)
}

func syncCommands(ctx context.Context, s *discordgo.Session, appID, guildID string, c *i18n.Catalog) ([]*discordgo.ApplicationCommand, error) {
	got, err := s.ApplicationCommandBulkOverwrite(appID, guildID, Commands(c), discordgo.WithContext(ctx))
	if err != nil {
		where := "globally"
		if guildID != "" {
			where = "in guild " + guildID
		}
		if httpStatus(err) == http.StatusUnauthorized {
			return nil, fmt.Errorf("discord: register commands %s: %w", where, ErrTokenRefused)
		}
		return nil, fmt.Errorf("discord: register commands %s: %w", where, err)
	}
	return got, nil
}
