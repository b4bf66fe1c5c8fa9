package slack

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"time"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// Socket Mode reconnection backoff, after Slack or the network dropped
// the connection for good (slack-go reconnects on its own when Slack asks
// it to).
const (
	socketBackoffMin = time.Second
	socketBackoffMax = time.Minute
)

// runSocket receives commands, interactions and events over Socket Mode
// until ctx ends: apps.connections.open, with the app-level token, gives
// a WebSocket URL, and every request arrives on it in an envelope to be
// acknowledged within 3 seconds. The handlers are the HTTP routes'; the
// connection itself is authenticated, so there is no signature to check.
func (a *Adapter) runSocket(ctx context.Context) error {
	api := slackapi.New(a.botToken, slackapi.OptionAppLevelToken(a.appToken),
		slackapi.OptionAPIURL(a.apiURL.String()), slackapi.OptionHTTPClient(a.client))
	wait := socketBackoffMin
	for ctx.Err() == nil {
		start := time.Now()
		err := a.socketOnce(ctx, api)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(start) > socketBackoffMax {
			wait = socketBackoffMin
		}
		a.log.Error("socket mode connection lost; reconnecting", "err", err, "wait", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		wait = min(2*wait, socketBackoffMax)
	}
	return nil
}

// socketOnce runs one Socket Mode client until it fails or ctx ends.
func (a *Adapter) socketOnce(ctx context.Context, api *slackapi.Client) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sm := socketmode.New(api, socketmode.OptionLog(slogLogger{a.log}))
	done := make(chan error, 1)
	go func() { done <- sm.RunContext(ctx) }()
	for {
		select {
		case err := <-done:
			return err
		case evt := <-sm.Events:
			a.socketEvent(ctx, sm, evt)
		}
	}
}

// socketEvent handles one Socket Mode event without holding up the next.
func (a *Adapter) socketEvent(ctx context.Context, sm *socketmode.Client, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnected:
		a.log.Info("socket mode connected")
		return
	case socketmode.EventTypeInvalidAuth:
		a.log.Error("socket mode: Slack refused slack.app_token")
		return
	case socketmode.EventTypeErrorBadMessage:
		// Acknowledged all the same, or Slack would send it again and
		// again (an event type slack-go does not know, say).
		a.log.Warn("socket mode: a message slack-go could not read")
		if bad, ok := evt.Data.(*socketmode.ErrorBadMessage); ok {
			var env struct {
				EnvelopeID string `json:"envelope_id"`
			}
			if json.Unmarshal(bad.Message, &env) == nil && env.EnvelopeID != "" {
				_ = sm.AckCtx(ctx, env.EnvelopeID, nil)
			}
		}
		return
	}
	req := evt.Request
	if req == nil || req.EnvelopeID == "" {
		return
	}
	ack := func(payload any) {
		if err := sm.AckCtx(ctx, req.EnvelopeID, payload); err != nil {
			a.log.Warn("socket mode: acknowledge", "err", err)
		}
	}
	a.later(ctx, func(ctx context.Context) {
		switch evt.Type {
		case socketmode.EventTypeSlashCommand:
			c, ok := evt.Data.(slackapi.SlashCommand)
			if !ok || c.UserID == "" || c.TeamID == "" {
				ack(nil)
				return
			}
			// The card travels in the acknowledgement.
			answer, answered := a.command(ctx, &c, func(interim view) { ack(json.RawMessage(answerJSON(&interim))) })
			if !answered {
				ack(json.RawMessage(answerJSON(&answer)))
			}
		case socketmode.EventTypeInteractive:
			ic, err := decodeInteraction(req.Payload)
			if err != nil {
				ack(nil)
				return
			}
			a.interaction(ctx, ic, func() { ack(nil) })
		case socketmode.EventTypeEventsAPI:
			ev, err := parseEvent(req.Payload)
			if err != nil {
				ack(nil)
				return
			}
			// As over HTTP: an event whose work (a user lookup at Slack)
			// outlasts the budget is acknowledged while it goes on, so
			// that Slack does not send it again; a failure known in time
			// is not acknowledged, and Slack sends it again.
			var failed error
			answered := a.ackBy(time.Now(), func() { ack(nil) }, func() { failed = a.event(ctx, ev, strconv.Itoa(req.RetryAttempt)) })
			if !answered && failed == nil {
				ack(nil)
			}
		default:
			ack(nil)
		}
	})
}

// slogLogger feeds slack-go's logging into the adapter's logger, at debug
// level: the SDK logs routine reconnections that operators need not see.
type slogLogger struct{ log *slog.Logger }

// Output implements slack-go's logger interface.
func (l slogLogger) Output(_ int, s string) error {
	l.log.Debug(s, "source", "slack-go")
	return nil
}
