package main

import (
	"io"
	"net/http"
	"testing"

	"github.com/assistbot/assistbot/adapters/store/postgres/pgtest"
	"github.com/assistbot/assistbot/config"
	"github.com/assistbot/assistbot/core/coretest"
)

// TestPortalGarbledIDOnPostgres: a link whose session id holds invalid
// UTF-8, which PostgreSQL cannot compare, is an unknown link on the
// portal's status page, its state and the hand-off link, as a wrong code
// is, not a 500 and an error in the log.
func TestPortalGarbledIDOnPostgres(t *testing.T) {
	dsn := pgtest.Schema(t)
	s := startMain(t, func(c *config.Config) {
		c.Store = config.Store{Driver: "postgres", DSN: dsn}
		c.Server.PublicURL = "https://support.example.com"
	}, &Main{PINs: coretest.NewPINs("012345")})
	for _, p := range []string{"/s/%ff?k=abcdefg", "/s/%ff/state?k=abcdefg", "/h/%ff.99999999999.AAAA"} {
		resp, err := http.Get(s.url + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Errorf("GET %s: %d (%.60s)", p, resp.StatusCode, b)
		}
	}
}
