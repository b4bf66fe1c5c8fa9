package main

import (
	"context"
	"net/http"
	"testing"

	"github.com/assistbot/assistbot/adapters/store/postgres"
	"github.com/assistbot/assistbot/adapters/store/postgres/pgtest"
	"github.com/assistbot/assistbot/config"
	"github.com/assistbot/assistbot/core/coretest"
)

// TestPostgresEndToEnd runs Main with store.driver postgres on a schema of
// its own on the test server (ASSISTBOT_TEST_POSTGRES_DSN): the API
// creates a session and reads it back, and another store on the same
// database, as a second replica would, reads it too. Without a server
// the test skips, unless ASSISTBOT_CI=1.
func TestPostgresEndToEnd(t *testing.T) {
	dsn := pgtest.Schema(t)
	s := startMain(t, func(c *config.Config) {
		c.Store = config.Store{Driver: "postgres", DSN: dsn}
		c.Server.PublicURL = "https://support.example.com"
	}, &Main{PINs: coretest.NewPINs("012345")})

	var created apiSession
	if code := s.api("POST", "/api/v1/sessions", `{"customer":{"channel":"web","address":"chat-pat"},"agent":"alice"}`, &created); code != http.StatusCreated {
		t.Fatalf("create: %d %+v", code, created)
	}
	if created.PIN != "012345" || created.State != "issued" {
		t.Fatalf("created %+v", created)
	}
	var got apiSession
	if code := s.api("GET", "/api/v1/sessions/"+created.ID, "", &got); code != http.StatusOK || got != created {
		t.Errorf("read back: %d %+v, want %+v", code, got, created)
	}

	replica, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer replica.Close()
	sess, err := replica.FindSessionByPIN(context.Background(), "012345")
	if err != nil || sess.ID != created.ID || sess.Agent != "alice" {
		t.Errorf("another replica reads %+v, %v; want session %s of alice", sess, err, created.ID)
	}
	if evs, err := replica.FindEvents(context.Background(), created.ID); err != nil || len(evs) != 1 || evs[0].Action != "issue" {
		t.Errorf("events: %+v, %v; want the issue event", evs, err)
	}
}
