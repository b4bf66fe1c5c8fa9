package main

import (
	"fmt"
	"log/slog"

	"github.com/assistbot/assistbot/adapters/provider/logmein"
	"github.com/assistbot/assistbot/config"
	"github.com/assistbot/assistbot/core"
)

// newLogMeIn builds the LogMeIn Rescue provider from the logmein section.
// It makes no request: a refused authcode shows on the first PIN, with a
// message for the agent.
func newLogMeIn(cfg *config.Config, log *slog.Logger) (core.Provider, error) {
	m := cfg.LogMeIn
	p, err := logmein.New(logmein.Options{
		APIURL:        m.APIURL,
		AuthCode:      m.AuthCode,
		Email:         m.Email,
		Password:      m.Password,
		NodeID:        m.NodeID,
		NoTechConsole: m.NoTechConsole,
		IDField:       m.IDField,
		PollInterval:  m.PollInterval,
		DesktopLink:   m.DesktopLink,
		MobileLink:    m.MobileLink,
		ManualURL:     m.ManualURL,
		Logger:        log,
	})
	if err != nil {
		return nil, fmt.Errorf("provider: %w", err)
	}
	return p, nil
}
