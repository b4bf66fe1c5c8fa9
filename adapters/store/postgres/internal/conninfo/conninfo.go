// Package conninfo reads the PostgreSQL store's DSN, a postgres:// URL or
// key=value pairs as libpq reads them: it parses it into pgxpool's
// configuration with the store's defaults (Parse), names the server and
// database it connects to for messages (Target), and finds the passwords
// it holds (Secrets) so that no message shows them (Scrub, ScrubErr).
package conninfo

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultConnectTimeout bounds a connection attempt when the DSN sets no
// connect_timeout: a host that drops packets would otherwise hold Open
// for as long as the kernel keeps retrying.
const DefaultConnectTimeout = 10 * time.Second

// Parse parses dsn with pgxpool, which reads the pool settings
// (pool_max_conns, pool_max_conn_lifetime, …; see docs/postgres.md) and
// hands the rest to pgx, and fills in the store's defaults where the DSN
// is silent.
func Parse(dsn string) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message quotes the DSN, masking the password as well as
		// it can in a string it could not parse: say what is wrong
		// without it.
		problem := Scrub(parseProblem(err), Secrets(dsn))
		if strings.HasPrefix(problem, "pool_") || strings.HasPrefix(problem, "cannot parse pool_") {
			return nil, fmt.Errorf("the DSN has an invalid pool setting: %s", problem)
		}
		return nil, fmt.Errorf("the DSN is not a valid PostgreSQL connection string (postgres://user@host:5432/db?sslmode=… or host=… dbname=…): %s",
			problem)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.PingTimeout == 0 {
		// pgxpool pings a connection idle for over a second before
		// handing it out. Bound that check as a connection attempt is
		// bounded, so that a server gone silent (a failover, a dropped
		// route) fails the caller instead of hanging it.
		cfg.PingTimeout = cfg.ConnConfig.ConnectTimeout
	}
	return cfg, nil
}

// parseProblem returns what pgx found wrong with a DSN, without the DSN
// it quotes.
func parseProblem(err error) string {
	msg := err.Error()
	// "cannot parse `<dsn>`: <problem>"
	if i := strings.Index(msg, "`: "); strings.HasPrefix(msg, "cannot parse `") && i >= 0 {
		return msg[i+3:]
	}
	return msg
}

// Target names the server and database a configuration connects to, for
// error messages: user@host:port/database, never the password.
func Target(cc *pgx.ConnConfig) string {
	host := cc.Host
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "/") {
		host = "[" + host + "]" // an IPv6 address
	}
	return fmt.Sprintf("%s@%s:%d/%s", cc.User, host, cc.Port, cc.Database)
}

// passwordKV finds password values in a key=value DSN, quoted or not.
var passwordKV = regexp.MustCompile(`(?:^|\s)(?:ssl)?password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)`)

// userinfoPassword finds the password of a URL DSN that url.Parse cannot
// read.
var userinfoPassword = regexp.MustCompile(`^[a-z]+://[^:/@]*:([^@]*)@`)

// queryPassword finds password parameters of a URL DSN, parsed or not.
var queryPassword = regexp.MustCompile(`[?&](?:ssl)?password=([^&#]*)`)

// Secrets returns the strings of dsn that may be passwords, so that no
// message made from it shows them. It errs on the side of finding too
// much: scrubbing a word that was not a password costs nothing.
func Secrets(dsn string) []string {
	var out []string
	add := func(s string) {
		if s != "" {
			out = append(out, s)
			if u, err := url.QueryUnescape(s); err == nil && u != s {
				out = append(out, u)
			}
		}
	}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		if u, err := url.Parse(dsn); err == nil {
			if u.User != nil {
				p, _ := u.User.Password()
				add(p)
			}
			for _, k := range []string{"password", "sslpassword"} {
				for _, v := range u.Query()[k] {
					add(v)
				}
			}
		} else if m := userinfoPassword.FindStringSubmatch(dsn); m != nil {
			add(m[1])
		}
		for _, m := range queryPassword.FindAllStringSubmatch(dsn, -1) {
			add(m[1])
		}
		return out
	}
	for _, m := range passwordKV.FindAllStringSubmatch(dsn, -1) {
		v := m[1]
		if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
			add(v)
			v = strings.ReplaceAll(strings.ReplaceAll(v[1:len(v)-1], `\'`, `'`), `\\`, `\`)
		}
		add(v)
	}
	return out
}

// Scrub replaces each secret in msg with xxxxx, longest first so that a
// secret containing another is masked whole. Each is replaced once: a
// secret found in the mask itself ("x") must not loop.
func Scrub(msg string, secrets []string) string {
	sorted := slices.Clone(secrets)
	slices.SortFunc(sorted, func(a, b string) int { return len(b) - len(a) })
	for _, s := range sorted {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "xxxxx")
		}
	}
	return msg
}

// scrubbedError is an error whose message has had the DSN's secrets
// masked. It still unwraps to the original, so that callers can test it
// with errors.Is and errors.As.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// ScrubErr returns err with the secrets masked in its message.
func ScrubErr(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	msg := Scrub(err.Error(), secrets)
	if msg == err.Error() {
		return err
	}
	return &scrubbedError{msg: msg, err: err}
}
