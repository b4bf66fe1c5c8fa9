package main

import (
	"context"
	"fmt"

	"github.com/assistbot/assistbot/adapters/api"
	"github.com/assistbot/assistbot/adapters/webhook"
	"github.com/assistbot/assistbot/core"
	hooks "github.com/assistbot/assistbot/core/webhook"
)

// newWebhooks makes the webhook dispatcher from the configuration. Its
// Notify is set once the engine exists.
func (m *Main) newWebhooks() (*hooks.Dispatcher, error) {
	st, ok := m.store.(hooks.Store)
	if !ok {
		return nil, fmt.Errorf("webhooks: the %T store keeps no webhooks", m.store)
	}
	cfg := m.Config
	var configured []*hooks.Endpoint
	for _, w := range cfg.Webhooks {
		configured = append(configured, &hooks.Endpoint{ID: w.ID, URL: w.URL, Secret: w.Secret, Events: w.Events,
			Description: w.Description, Source: hooks.SourceConfig})
	}
	return &hooks.Dispatcher{
		Store:      st,
		Sender:     webhook.New(webhook.Options{AllowPrivate: cfg.WebhooksAllowPrivate, Clock: m.Clock, UserAgent: "assistbot/" + version}),
		Clock:      m.Clock,
		Logger:     m.Logger.With("component", "webhooks"),
		Configured: configured,
		Notify:     m.webhookDisabled,
	}, nil
}

// apiWebhooks is what the API manages webhooks with.
func (m *Main) apiWebhooks() *api.Webhooks {
	if m.hooks == nil {
		return nil
	}
	return &api.Webhooks{Store: m.hooks.Store, Reload: m.hooks.Reload, AllowPrivate: m.Config.WebhooksAllowPrivate, Clock: m.Clock}
}

// webhookDisabled tells the desk that an endpoint was disabled: as a
// message from the endpoint in a conversation of its own on the desk (the
// console when it is enabled, else Slack's or Discord's desk channel), so
// that it shows where agents look and is closed like any other. It is
// written to the store with its desk notice, as the engine writes a
// customer's message; the engine takes no customer on channel webhook.
func (m *Main) webhookDisabled(ctx context.Context, ep *hooks.Endpoint) {
	cfg := m.Config
	desk := core.Endpoint{Channel: core.ChannelConsole}
	switch {
	case cfg.Console.Enabled:
	case cfg.Slack.Enabled && cfg.Slack.DeskChannel != "":
		desk = core.Endpoint{Channel: core.ChannelSlack, Address: cfg.Slack.DeskChannel}
	case cfg.Discord.Enabled && cfg.Discord.DeskChannel != "":
		desk = core.Endpoint{Channel: core.ChannelDiscord, Address: cfg.Discord.DeskChannel}
	}
	name := "assistbot webhooks (" + ep.ID + ")"
	text := fmt.Sprintf("The webhook endpoint %s was disabled: %s. Nothing more is sent to it until it is "+
		"re-enabled with PATCH /api/v1/webhooks/%s {\"enabled\": true}; its deliveries are listed at "+
		"GET /api/v1/webhooks/%s/deliveries.", ep.ID, ep.DisabledReason, ep.ID, ep.ID)
	clock := m.Clock
	if clock == nil {
		clock = core.SystemClock{}
	}
	now := clock.Now()
	from := core.Endpoint{Channel: core.ChannelWebhook, Address: ep.ID}
	ch := &core.MessageChange{}
	conv, err := m.store.FindOpenConversation(ctx, from)
	if err != nil {
		conv = &core.Conversation{ID: core.NewID(), Customer: from, CustomerName: name, Desk: desk,
			Locale: m.catalog.Default(), State: core.ConversationOpen, CreatedAt: now, UpdatedAt: now}
		ch.Conversation = conv
	}
	ch.Message = &core.Message{ConversationID: conv.ID, Direction: core.FromCustomer, Author: name, Text: text, At: now}
	ch.Deliveries = []*core.Delivery{{ConversationID: conv.ID, To: conv.Desk,
		Notice: core.Notice{Kind: core.NoticeText, Locale: conv.Locale, ConversationID: conv.ID, Customer: name,
			CustomerChannel: core.ChannelWebhook, Author: name, Text: text},
		Status: core.DeliveryQueued, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}}
	if err := m.store.AppendMessage(ctx, ch); err != nil {
		m.Logger.Error("webhooks: tell the desk an endpoint was disabled", "webhook_id", ep.ID, "err", err)
	}
}
