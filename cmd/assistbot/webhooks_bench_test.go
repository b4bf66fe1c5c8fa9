package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/assistbot/assistbot/config"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
)

// BenchmarkWebhookDelivery measures how many webhook deliveries one
// replica on SQLite gets out to a fast receiver: each op is one event
// recorded (a customer's message) and delivered, signed, to one endpoint.
func BenchmarkWebhookDelivery(b *testing.B) {
	var got atomic.Int64
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got.Add(1) }))
	defer rcv.Close()
	m := &Main{PINs: coretest.NewPINs("246810")}
	cfg := config.Default()
	cfg.Server.Listen = "127.0.0.1:0"
	cfg.Store.DSN = b.TempDir() + "/assistbot.db"
	cfg.API.Tokens = []string{testToken}
	cfg.WebhooksAllowPrivate = true
	cfg.Webhooks = []config.Webhook{{ID: "bench", URL: rcv.URL, Secret: hookSecret, Events: []string{"message.received"}}}
	m.Config = cfg
	ctx, cancel := context.WithCancel(context.Background())
	if err := m.Open(ctx); err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	defer func() { cancel(); <-done; m.Close() }()
	e := m.Engine()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		_, _, err := e.CustomerMessage(ctx, core.Inbound{Customer: core.Endpoint{Channel: core.ChannelWeb, Address: "bench-customer"},
			Text: "message", Source: "bench-" + time.Now().Format(time.RFC3339Nano) + "-" + string(rune('a'+i%26))})
		if err != nil {
			b.Fatal(err)
		}
	}
	for got.Load() < int64(b.N) {
		if time.Since(start) > 5*time.Minute {
			b.Fatalf("delivered %d of %d", got.Load(), b.N)
		}
		time.Sleep(time.Millisecond)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
}
