package main

import (
	"cmp"
	"context"
	"strings"
	"unicode/utf16"

	"github.com/assistbot/assistbot/adapters/provider/logmein"
	"github.com/assistbot/assistbot/adapters/twilio"
	"github.com/assistbot/assistbot/bots/i18n"
	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/config"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/linkproof"
)

// newTwilioPlatform returns Twilio SMS's part of the program, or nil when
// it is not enabled: the "sms" channel and the /twilio/sms and
// /twilio/status webhooks. It makes no request to Twilio at start: wrong
// credentials show on the first message, as a reason on the agent's card.
func newTwilioPlatform(cfg *config.Config) platform {
	if !cfg.Twilio.Enabled {
		return nil
	}
	return &adapterPlatform{label: "twilio", build: func(_ context.Context, m *Main) (adapter, error) {
		t := cfg.Twilio
		a, err := twilio.New(twilio.Options{
			Engine:              m.engine,
			Bot:                 m.bot,
			AccountSID:          t.AccountSID,
			AuthToken:           t.AuthToken,
			From:                t.From,
			MessagingServiceSID: t.MessagingServiceSID,
			PublicURL:           cfg.Server.PublicURL,
			APIURL:              t.APIURL,
			Region:              t.DefaultRegion,
			MPS:                 t.MPS,
			Desk:                smsDesk(cfg),
			KeywordReplies:      t.KeywordReplies,
			Clock:               m.Clock,
			Logger:              m.Logger,
		})
		if err != nil {
			return nil, err
		}
		if long := longLinkTexts(cfg, m.bot); len(long) > 0 {
			key := "server.public_url"
			if cfg.Provider.Kind == "logmein" {
				key = "logmein.mobile_link"
			}
			m.Logger.Warn("the link SMS takes more than one segment in some languages: customers still get one message, but each segment is billed; shorter links keep it in one",
				"languages", strings.Join(long, ","), "key", key)
		}
		m.announce("  Twilio webhooks:   %s%s (incoming SMS), %s%s (status)",
			cfg.Server.PublicURL, twilio.PathSMS, cfg.Server.PublicURL, twilio.PathStatus)
		return a, nil
	}}
}

// smsDesk is where the conversations customers open by texting are
// followed: twilio.desk names the platform, whose desk_channel holds the
// threads; the console needs no address.
func smsDesk(cfg *config.Config) core.Endpoint {
	switch cfg.Twilio.Desk {
	case core.ChannelSlack:
		return core.Endpoint{Channel: core.ChannelSlack, Address: cfg.Slack.DeskChannel}
	case core.ChannelDiscord:
		return core.Endpoint{Channel: core.ChannelDiscord, Address: cfg.Discord.DeskChannel}
	}
	return core.Endpoint{Channel: core.ChannelConsole}
}

// longLinkTexts lists the languages whose link SMS, with the mobile link
// (what SMS customers get unless the agent picks the desktop one) and the
// longest PIN the configuration allows, does not fit one segment: 160
// GSM-7 characters, or 70 UTF-16 units for a text that needs UCS-2 (Korean
// and Japanese always do).
func longLinkTexts(cfg *config.Config, bot *remote.Bot) []string {
	pin := strings.Repeat("0", cfg.PIN.Digits)
	// assistbot's own mobile link carries the proof that it was issued
	// after the PIN (core.LinkProof).
	link := strings.TrimSuffix(cfg.Server.PublicURL, "/") + "/m/" + pin + "/" + strings.Repeat("A", linkproof.Len)
	if cfg.Provider.Kind == "logmein" {
		link = strings.ReplaceAll(cmp.Or(cfg.LogMeIn.MobileLink, logmein.DefaultMobileLink), "{pin}", pin)
	}
	var long []string
	for _, lang := range bot.Catalog().Supported() {
		if !oneSegment(bot.CustomerText(core.Notice{Kind: core.NoticeLink, Locale: lang, Link: link, PIN: pin})) {
			long = append(long, lang)
		}
	}
	return long
}

// oneSegment reports whether an SMS body fits one segment.
func oneSegment(body string) bool {
	if n, ok := i18n.GSM7Septets(body); ok {
		return n <= 160
	}
	return len(utf16.Encode([]rune(body))) <= 70
}
