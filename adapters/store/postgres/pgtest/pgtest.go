// Package pgtest gives tests a PostgreSQL schema of their own on the test
// server, so that tests and packages running at once do not see each
// other's rows.
//
// The server is $ASSISTBOT_TEST_POSTGRES_DSN, by default DefaultDSN. When
// it does not answer, tests skip with a message saying so, except under
// ASSISTBOT_CI=1, where they fail: CI must skip nothing.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultDSN is the test server when ASSISTBOT_TEST_POSTGRES_DSN is not
// set: a local PostgreSQL with trust authentication.
const DefaultDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// EnvDSN and EnvCI are the environment variables pgtest reads.
const (
	EnvDSN = "ASSISTBOT_TEST_POSTGRES_DSN"
	EnvCI  = "ASSISTBOT_CI"
)

// DSN returns the test server's connection string.
func DSN() string {
	if dsn := os.Getenv(EnvDSN); dsn != "" {
		return dsn
	}
	return DefaultDSN
}

// Connect connects to the test server, or ends t: with a skip when the
// server does not answer, or a failure under ASSISTBOT_CI=1 or when the
// DSN itself is wrong. The connection is closed when t ends.
func Connect(t testing.TB) *pgx.Conn {
	t.Helper()
	dsn := DSN()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatalf("%s is not a valid PostgreSQL connection string: %v", EnvDSN, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		msg := fmt.Sprintf("PostgreSQL not reachable at %s@%s:%d/%s; set %s: %v",
			cfg.User, cfg.Host, cfg.Port, cfg.Database, EnvDSN, err)
		if os.Getenv(EnvCI) == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// Schema creates a new, empty schema on the test server, drops it with
// everything in it when t ends, and returns a DSN whose search_path is
// that schema alone. It skips or fails t as Connect does.
func Schema(t testing.TB) string {
	t.Helper()
	conn := Connect(t)
	var b [6]byte
	rand.Read(b[:])
	name := "t_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		t.Fatalf("create schema %s: %v", name, err)
	}
	t.Cleanup(func() {
		// Registered after Connect's cleanup, so it runs before it, and
		// after the cleanups of whatever the test opens on the schema.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+name+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	return WithParam(DSN(), "search_path", name)
}

// WithParam returns dsn with a run-time parameter set (search_path,
// synchronous_commit…), in the DSN's own form: a URL query parameter or
// a key=value pair.
func WithParam(dsn, key, value string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err == nil {
			q := u.Query()
			q.Set(key, value)
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	return dsn + " " + key + "=" + value
}
