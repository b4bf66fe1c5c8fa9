package main

import (
	"io"
	"log/slog"
	"strings"

	"github.com/assistbot/assistbot/config"
)

// newLogger returns the process logger for cfg, writing to w. As a last
// line of defence it replaces any configured secret that reaches a log
// attribute with "[redacted]"; code is still expected never to log one.
func newLogger(cfg config.Log, w io.Writer, secrets []string) *slog.Logger {
	var level slog.Level
	switch cfg.Level {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	var kept []string
	for _, s := range secrets {
		// Very short values would redact ordinary words; validation
		// requires real secrets to be long.
		if len(s) >= 8 {
			kept = append(kept, s)
		}
	}
	opts := &slog.HandlerOptions{Level: level}
	if len(kept) > 0 {
		opts.ReplaceAttr = func(groups []string, a slog.Attr) slog.Attr {
			switch a.Value.Kind() {
			case slog.KindString:
				a.Value = slog.StringValue(redact(a.Value.String(), kept))
			case slog.KindAny:
				if err, ok := a.Value.Any().(error); ok {
					a.Value = slog.StringValue(redact(err.Error(), kept))
				}
			}
			return a
		}
	}
	if cfg.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func redact(s string, secrets []string) string {
	for _, secret := range secrets {
		if strings.Contains(s, secret) {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	return s
}
