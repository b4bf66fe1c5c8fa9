package main

import (
	"fmt"
	"log/slog"

	"github.com/assistbot/assistbot/adapters/provider/meshcentral"
	"github.com/assistbot/assistbot/config"
	"github.com/assistbot/assistbot/core"
)

// newMeshCentral builds the MeshCentral provider from the meshcentral
// section; its links carry proofs under linkKey, as the builtin
// provider's do. It makes no request: the server is first reached by the first
// PIN or by the watch that Run starts, and an unreachable server or a
// refused account shows there, with a message for the agent.
func newMeshCentral(cfg *config.Config, pins core.PINSource, linkKey []byte, log *slog.Logger) (*meshcentral.Provider, error) {
	m := cfg.MeshCentral
	o := meshcentral.Options{
		URL:           m.URL,
		Domain:        m.Domain,
		CAFile:        m.CAFile,
		CertSHA256:    m.CertSHA256,
		Consent:       m.Consent,
		ShareMinutes:  m.ShareMinutes,
		InviteMinutes: m.InviteMinutes,
		PublicURL:     cfg.Server.PublicURL,
		Digits:        cfg.PIN.Digits,
		PINs:          pins,
		LinkKey:       linkKey,
		Logger:        log.With("provider", meshcentral.Name),
	}
	// A login token replaces the user and password; config check refuses
	// both at once, and the variables behind them may still be set.
	if m.LoginToken != "" {
		o.LoginToken = m.LoginToken
	} else {
		o.User, o.Password = m.User, m.Password
	}
	p, err := meshcentral.New(o)
	if err != nil {
		return nil, fmt.Errorf("provider: %w", err)
	}
	return p, nil
}
