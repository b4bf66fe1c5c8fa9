package discord

import (
	"context"
	"time"

	"github.com/bwmarrin/discordgo"
)

// workTimeout bounds what one interaction does (issuing a PIN may call
// a provider), detached from the request that brought it.
const workTimeout = 30 * time.Second

// Discord's deadlines for an interaction: its first answer must arrive
// within answerWindow of its creation, and its token edits the answer
// and sends follow-ups for tokenLife.
const (
	answerWindow = 3 * time.Second
	tokenLife    = 15 * time.Minute
)

// responder sends an interaction's initial response: as the body of the
// webhook request, or by REST when it came over the gateway. It is
// called exactly once, by the goroutine that received the interaction.
type responder func(*discordgo.InteractionResponse) error

// interact handles an authenticated, valid interaction, however it
// arrived: PING gets PONG, /remote a card, a button its action.
func (a *Adapter) interact(ctx context.Context, i *discordgo.Interaction, respond responder) {
	switch i.Type {
	case discordgo.InteractionPing:
		a.respond(i, respond, &discordgo.InteractionResponse{Type: discordgo.InteractionResponsePong})
	case discordgo.InteractionApplicationCommand:
		a.answer(ctx, i, respond, a.command, &discordgo.InteractionResponse{
			Type: discordgo.InteractionResponseDeferredChannelMessageWithSource,
			Data: &discordgo.InteractionResponseData{Flags: discordgo.MessageFlagsEphemeral},
		})
	case discordgo.InteractionMessageComponent:
		a.answer(ctx, i, respond, a.click, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredMessageUpdate})
	}
}

// answer runs work and responds with its result if it is ready within
// deferAfter; otherwise it responds with deferred at once (Discord allows
// three seconds) and delivers the result later through the interaction
// token, which stays valid for fifteen minutes.
func (a *Adapter) answer(ctx context.Context, i *discordgo.Interaction, respond responder,
	work func(context.Context, *discordgo.Interaction) *discordgo.InteractionResponse, deferred *discordgo.InteractionResponse) {
	received := time.Now()
	done := make(chan *discordgo.InteractionResponse, 1)
	a.work.Go(func() {
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), workTimeout)
		defer cancel()
		done <- work(wctx, i)
	})
	timer := time.NewTimer(a.deferAfter)
	defer timer.Stop()
	select {
	case r := <-done:
		a.respond(i, respond, r)
		return
	case <-timer.C:
	}
	if !a.respond(i, respond, deferred) {
		return
	}
	a.work.Go(func() {
		r := <-done
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), workTimeout)
		defer cancel()
		if err := a.followUp(fctx, i, r, received.Add(tokenLife)); err != nil {
			a.log.Warn("interaction follow-up", "interaction_id", i.ID, "err", err)
		}
	})
}

// respond sends r and logs a failure; it reports success.
func (a *Adapter) respond(i *discordgo.Interaction, respond responder, r *discordgo.InteractionResponse) bool {
	if err := respond(r); err != nil {
		a.log.Warn("interaction response", "interaction_id", i.ID, "type", int(r.Type), "err", err)
		return false
	}
	return true
}

// followUp delivers a deferred interaction's result: it edits the
// original message (the deferred card, or the clicked message) or, for a
// new ephemeral message after a click, posts it as a follow-up. A 429 is
// retried once while the interaction's token works (until by).
func (a *Adapter) followUp(ctx context.Context, i *discordgo.Interaction, r *discordgo.InteractionResponse, by time.Time) error {
	d := r.Data
	if d == nil {
		return nil
	}
	if i.Type == discordgo.InteractionMessageComponent && r.Type == discordgo.InteractionResponseChannelMessageWithSource {
		params := &discordgo.WebhookParams{
			Content: d.Content, Embeds: d.Embeds, Components: d.Components, AllowedMentions: d.AllowedMentions,
			Flags: discordgo.MessageFlagsEphemeral,
		}
		err := a.retryRateLimited(ctx, by, func() error {
			_, err := a.session.FollowupMessageCreate(i, false, params, discordgo.WithContext(ctx))
			return err
		})
		return a.apiError("follow-up", err)
	}
	content, comps, embeds := d.Content, d.Components, d.Embeds
	edit := &discordgo.WebhookEdit{Content: &content, Components: &comps, Embeds: &embeds, AllowedMentions: d.AllowedMentions}
	err := a.retryRateLimited(ctx, by, func() error {
		_, err := a.session.InteractionResponseEdit(i, edit, discordgo.WithContext(ctx))
		return err
	})
	return a.apiError("edit original response", err)
}

// onInteractionCreate handles an interaction that arrived over the
// gateway; the response goes back by REST. A 429 is retried once if the
// answer can still arrive within Discord's three seconds.
func (a *Adapter) onInteractionCreate(s *discordgo.Session, ic *discordgo.InteractionCreate) {
	if ic == nil || ic.Interaction == nil {
		return
	}
	received := time.Now()
	i := ic.Interaction
	if err := checkInteraction(i, a.appID); err != nil {
		a.log.Warn("ignored a gateway interaction", "err", err)
		return
	}
	ctx := context.Background()
	a.interact(ctx, i, func(r *discordgo.InteractionResponse) error {
		rctx, cancel := context.WithTimeout(ctx, restTimeout)
		defer cancel()
		err := a.retryRateLimited(rctx, received.Add(answerWindow), func() error {
			return s.InteractionRespond(i, r, discordgo.WithContext(rctx))
		})
		return a.apiError("respond", err)
	})
}
