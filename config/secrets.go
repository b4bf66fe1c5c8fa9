package config

import (
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"strings"
)

// Secrets returns the non-empty values of every secret field (those tagged
// secret:"true"; see SecretKeys), plus the password embedded in a
// PostgreSQL store.dsn, without duplicates, so that callers can scrub them
// from logs and error reports.
func (c *Config) Secrets() []string {
	if c == nil {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	collectSecrets(reflect.ValueOf(c).Elem(), false, add)
	add(dsnPassword(c.Store.DSN))
	return out
}

// collectSecrets calls add for every string under v that belongs to a
// secret field.
func collectSecrets(v reflect.Value, secret bool, add func(string)) {
	switch v.Kind() {
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if _, ok := yamlName(f); ok {
				collectSecrets(v.Field(i), secret || isSecret(f), add)
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			collectSecrets(v.Index(i), secret, add)
		}
	case reflect.String:
		if secret {
			add(v.String())
		}
	}
}

var dsnPasswordRE = regexp.MustCompile(`(?:^|\s)password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)`)

// dsnPassword extracts the password from a PostgreSQL connection string in
// URL form (postgres://user:pass@host/db) or key=value form
// (password=pass), or returns "".
func dsnPassword(dsn string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		if u, err := url.Parse(dsn); err == nil && u.User != nil {
			p, _ := u.User.Password()
			return p
		}
		// A URL net/url refuses (an unescaped character in the password)
		// may still reach a log in an error: take what sits between the
		// user's colon and the last @ before the host.
		rest := dsn[strings.Index(dsn, "://")+3:]
		if at := strings.LastIndexByte(rest, '@'); at > 0 {
			if colon := strings.IndexByte(rest[:at], ':'); colon >= 0 {
				return rest[colon+1 : at]
			}
		}
		return ""
	}
	m := dsnPasswordRE.FindStringSubmatch(dsn)
	if m == nil {
		return ""
	}
	p := m[1]
	if len(p) >= 2 && p[0] == '\'' && p[len(p)-1] == '\'' {
		p = strings.ReplaceAll(p[1:len(p)-1], `\'`, `'`)
		p = strings.ReplaceAll(p, `\\`, `\`)
	}
	return p
}

// Summary describes the configuration in one line for the start-up log.
// It contains no secrets and no store.dsn.
func (c *Config) Summary() string {
	if c == nil {
		return "no configuration"
	}
	onOff := func(b bool) string {
		if b {
			return "on"
		}
		return "off"
	}
	twilio := onOff(c.Twilio.Enabled)
	if c.Twilio.Enabled {
		twilio += " (desk " + c.Twilio.Desk + ")"
	}
	return fmt.Sprintf("listen %s, public URL %s, store %s, provider %s, locale %s, API tokens %d, "+
		"slack %s, discord %s, twilio %s, console agents %d, ICE servers %d, TURN %s, relay only %s, log %s/%s",
		c.Server.Listen, c.Server.PublicURL, c.Store.Driver, c.Provider.Kind, c.Locale, len(c.API.Tokens),
		onOff(c.Slack.Enabled), onOff(c.Discord.Enabled), twilio, len(c.Console.Agents),
		len(c.WebRTC.ICEServers), onOff(c.WebRTC.TURN.Enabled), onOff(c.WebRTC.RelayOnly), c.Log.Format, c.Log.Level)
}
