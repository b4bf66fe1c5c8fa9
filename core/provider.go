package core

import (
	"context"
	"time"
)

// Provider issues PINs and links for remote-support sessions: assistbot's
// own portal (builtin) or a vendor such as LogMeIn Rescue.
type Provider interface {
	// Name identifies the provider in sessions and logs ("builtin").
	Name() string
	// Modes lists the modes a technician may start its sessions in.
	Modes() []Mode
	// Issue returns a new PIN and its links. It returns CodeUnavailable
	// when the provider cannot be reached or is over its rate, and
	// CodeUnauthorized when its credentials are refused.
	Issue(ctx context.Context, req IssueRequest) (Ticket, error)
	// Revoke makes a PIN unusable at the provider. Revoking an unknown or
	// already used PIN is not an error.
	Revoke(ctx context.Context, s *Session) error
}

// IssueRequest says what a PIN is for.
type IssueRequest struct {
	SessionID    string
	CustomerName string
	Agent        string
	Locale       string
}

// Ticket is what a provider issues: the PIN and the links that carry it.
type Ticket struct {
	PIN        string
	DesktopURL string
	MobileURL  string
	ManualURL  string
	// Ref is the provider's own id for the session, if it has one.
	Ref string
	// ExpiresAt, when set, is the provider's own deadline for the PIN;
	// the engine keeps the earlier of it and its configured lifetime.
	ExpiresAt time.Time
	// CustomerURL, when set, is the provider's own page that connects the
	// customer's device (MeshCentral's invite page). The desktop link is
	// then assistbot's landing page, which explains what will happen and
	// leads there; without it the links are the provider's.
	CustomerURL string
}

// SupportsMode reports whether p lets a technician start in mode m.
func SupportsMode(p Provider, m Mode) bool {
	for _, v := range p.Modes() {
		if v == m {
			return true
		}
	}
	return false
}

// Starter is implemented by providers whose technician joins a session
// through a link of the provider's own (a MeshCentral device share). The
// engine calls Start when a technician starts a waiting session and
// records the link with the session; the technician is handed it. A
// provider that cannot start in mode returns CodeInvalid, one that cannot
// be reached CodeUnavailable.
type Starter interface {
	Start(ctx context.Context, s *Session, mode Mode, technician string) (link string, err error)
}

// Releaser is implemented by providers that keep objects per session at
// the vendor (a device group, a device, a share link). The engine calls
// Release once the session is over (ended, closed, expired) so that
// nothing made for it outlives it. Releasing what is already gone is not
// an error.
type Releaser interface {
	Release(ctx context.Context, s *Session) error
}

// StatusReport is what a provider that watches its own sessions reports
// about one of them.
type StatusReport struct {
	SessionID  string
	Action     Action // ActionJoin, ActionStart or ActionEnd
	Device     Device
	Mode       Mode
	Technician string
}

// Watcher is implemented by providers that learn about customer arrival
// and session status themselves (by polling a vendor API). Watch runs until
// ctx ends and calls report for each change; live returns the sessions the
// provider should watch.
type Watcher interface {
	Watch(ctx context.Context, live func(context.Context) ([]*Session, error), report func(context.Context, StatusReport) error) error
}
