package meshcentral

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"

	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/linkproof"
)

// Name is the provider's name in config and in sessions.
const Name = "meshcentral"

// Defaults for Options.
const (
	DefaultConsent       = "prompt"
	DefaultShareMinutes  = 60
	DefaultInviteMinutes = 20
	DefaultDigits        = 6
	// DefaultStopWait is how long Release waits for the customer's agent
	// to end before it removes the device anyway.
	DefaultStopWait = 3 * time.Second
	// DefaultReadyWait is how long Start waits for an agent that has just
	// connected to be ready; the Linux agent takes about a second.
	DefaultReadyWait = 2 * time.Second
	// DefaultReportRetry is how soon Watch reports again what the engine
	// failed to take.
	DefaultReportRetry = 5 * time.Second
	// DefaultEndGrace is how long Watch gives the agent of a waiting or
	// active session, missing when the control connection opens again,
	// to come back before it reports the end: after a server restart the
	// agents reconnect too, within seconds.
	DefaultEndGrace = 30 * time.Second
)

// inviteTries is how many PINs Issue tries before giving up on codes the
// server says other groups hold.
const inviteTries = 5

// Options configure a Provider. URL, PublicURL and a login are required.
type Options struct {
	// URL is the MeshCentral server's address, such as
	// "https://mesh.example.com". Customers' browsers open its /invite
	// page, so it must be the address they can reach too.
	URL string
	// Domain is the MeshCentral domain when it is served under a path.
	Domain string
	// User and Password log in the service account; LoginToken, written
	// "~t:…:…", replaces both (see ClientOptions).
	User       string
	Password   string
	LoginToken string
	// CAFile and CertSHA256 say how the server's certificate is trusted
	// (see the package documentation).
	CAFile     string
	CertSHA256 string
	// Consent is "prompt", "notify" or "none" (see the package
	// documentation); "" is "prompt".
	Consent string
	// ShareMinutes is how long a technician's link works.
	ShareMinutes int
	// InviteMinutes is how long the customer has to connect: the ticket's
	// ExpiresAt, after which the engine releases the session.
	InviteMinutes int
	// PublicURL is assistbot's own base URL, under which the desktop,
	// mobile and manual links are.
	PublicURL string
	// LinkKey, when set, is the key of the proof the desktop and mobile
	// links carry beside the PIN (core.LinkProof): the portal lets whoever
	// follows them in without counting them as guesses.
	LinkKey []byte
	// Digits is the PIN length, 6 to 10; 0 is 6.
	Digits int
	// PINs draws the PINs; nil is core.RandomPINs{}.
	PINs core.PINSource
	// Logger receives the provider's warnings; nil drops them.
	Logger *slog.Logger

	// ConnectTimeout, RequestTimeout, PingInterval, Backoff, MaxBackoff
	// and DialContext tune the control connection (see ClientOptions).
	ConnectTimeout time.Duration
	RequestTimeout time.Duration
	PingInterval   time.Duration
	Backoff        time.Duration
	MaxBackoff     time.Duration
	DialContext    func(ctx context.Context, network, addr string) (net.Conn, error)
	// StopWait is how long Release waits for the customer's agent to end.
	StopWait time.Duration
	// ReadyWait is how long Start waits for an agent that just connected
	// to report its desktop (see awaitScreen).
	ReadyWait time.Duration
	// ReportRetry is how soon Watch makes again a report the engine
	// failed to take.
	ReportRetry time.Duration
	// EndGrace is how long Watch waits for a missing agent to come back
	// after its connection opens again (see DefaultEndGrace).
	EndGrace time.Duration
}

// Provider issues MeshCentral invite codes as PINs, watches the customer's
// agent arrive and leave, and hands technicians device shares. It is safe
// for concurrent use.
type Provider struct {
	opt     Options
	client  *Client
	base    string
	consent int
	pins    core.PINSource
	log     *slog.Logger
}

var (
	_ core.Provider = (*Provider)(nil)
	_ core.Watcher  = (*Provider)(nil)
	_ core.Starter  = (*Provider)(nil)
	_ core.Releaser = (*Provider)(nil)
)

// New checks o and returns a Provider. It makes no request: the server is
// first reached by Issue or Watch.
func New(o Options) (*Provider, error) {
	o, err := withDefaults(o)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(o.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("meshcentral: public url %q is not an absolute http(s) url", o.PublicURL)
	}
	consent, err := consentBits(o.Consent)
	if err != nil {
		return nil, err
	}
	log := o.Logger.With("provider", Name)
	c, err := NewClient(ClientOptions{
		URL: o.URL, Domain: o.Domain, User: o.User, Password: o.Password, LoginToken: o.LoginToken,
		CAFile: o.CAFile, CertSHA256: o.CertSHA256,
		ConnectTimeout: o.ConnectTimeout, RequestTimeout: o.RequestTimeout, PingInterval: o.PingInterval,
		Backoff: o.Backoff, MaxBackoff: o.MaxBackoff, DialContext: o.DialContext, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	return &Provider{opt: o, client: c, base: strings.TrimRight(o.PublicURL, "/"), consent: consent, pins: o.PINs, log: log}, nil
}

func withDefaults(o Options) (Options, error) {
	if o.Digits == 0 {
		o.Digits = DefaultDigits
	}
	if o.Digits < core.MinPINDigits || o.Digits > core.MaxPINDigits {
		return o, fmt.Errorf("meshcentral: pin digits must be %d to %d, not %d", core.MinPINDigits, core.MaxPINDigits, o.Digits)
	}
	if o.ShareMinutes == 0 {
		o.ShareMinutes = DefaultShareMinutes
	}
	if o.InviteMinutes == 0 {
		o.InviteMinutes = DefaultInviteMinutes
	}
	if o.ShareMinutes < 0 || o.InviteMinutes < 0 {
		return o, errors.New("meshcentral: share and invite minutes must be positive")
	}
	if o.StopWait <= 0 {
		o.StopWait = DefaultStopWait
	}
	if o.ReadyWait <= 0 {
		o.ReadyWait = DefaultReadyWait
	}
	if o.ReportRetry <= 0 {
		o.ReportRetry = DefaultReportRetry
	}
	if o.EndGrace <= 0 {
		o.EndGrace = DefaultEndGrace
	}
	if o.PINs == nil {
		o.PINs = core.RandomPINs{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.PublicURL = strings.TrimSpace(o.PublicURL)
	return o, nil
}

// consentBits maps the consent setting to MeshCentral's bits.
func consentBits(s string) (int, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "prompt":
		return ConsentNotify | ConsentPrompt | ConsentToolbar, nil
	case "notify":
		return ConsentNotify | ConsentToolbar, nil
	case "none":
		return ConsentToolbar, nil
	}
	return 0, fmt.Errorf(`meshcentral: consent %q is not "prompt", "notify" or "none"`, s)
}

// Client returns the provider's control connection, for tools and tests.
func (p *Provider) Client() *Client { return p.client }

// Close closes the control connection.
func (p *Provider) Close() error { return p.client.Close() }

// desktopProof is what the desktop link carries after its PIN: the
// proof that it was issued, when the provider has a link key.
func (p *Provider) desktopProof(sessionID, pin string) string {
	if len(p.opt.LinkKey) == 0 || sessionID == "" {
		return ""
	}
	return "&k=" + linkproof.Make(p.opt.LinkKey, sessionID, pin)
}

// mobileProof is desktopProof for the mobile link.
func (p *Provider) mobileProof(sessionID, pin string) string {
	if len(p.opt.LinkKey) == 0 || sessionID == "" {
		return ""
	}
	return "/" + linkproof.Make(p.opt.LinkKey, sessionID, pin)
}

// Name implements core.Provider.
func (p *Provider) Name() string { return Name }

// Modes implements core.Provider: remote control and view only.
func (p *Provider) Modes() []core.Mode { return []core.Mode{core.ModeControl, core.ModeView} }

// Issue implements core.Provider: a device group for the session, whose
// invite code is the PIN. A code another group holds is replaced by a new
// one, a few times.
func (p *Provider) Issue(ctx context.Context, req core.IssueRequest) (core.Ticket, error) {
	id := req.SessionID
	if id == "" {
		id = core.NewID()
	}
	desc := "assistbot remote-support session " + id
	if a := clean(req.Agent, 64); a != "" {
		desc += ", opened by " + a
	}
	name := "assistbot " + id
	meshID, err := p.client.CreateMesh(ctx, Mesh{
		Name: name, Desc: desc, Consent: p.consent, Flags: MeshFlagRemoveOnDisconnect,
	})
	if err != nil {
		var refused *ServerError
		if !errors.As(err, &refused) {
			// No answer is no refusal: the group may have been made.
			go p.reclaim(name, id)
		}
		return core.Ticket{}, p.fail("create a device group", err)
	}
	var pin string
	for try := 1; ; try++ {
		pin, err = p.pins.PIN(p.opt.Digits)
		if err != nil {
			p.discard(ctx, meshID, id)
			return core.Ticket{}, fmt.Errorf("meshcentral: %w", err)
		}
		err = p.client.SetInviteCodes(ctx, meshID, []string{pin}, InviteFlagConnectOnly)
		if !errors.Is(err, ErrInviteCodeInUse) || try == inviteTries {
			break
		}
		p.log.Info("meshcentral: invite code held by another group; drawing another", "session_id", id, "try", try)
	}
	if err != nil {
		p.discard(ctx, meshID, id)
		if errors.Is(err, ErrInviteCodeInUse) {
			return core.Ticket{}, &core.Error{Code: core.CodeUnavailable, Retry: time.Second,
				Message: "MeshCentral refused every code tried; try again", Err: fmt.Errorf("meshcentral: %d tries: %w", inviteTries, err)}
		}
		return core.Ticket{}, p.fail("set the invite code", err)
	}
	p.log.Info("meshcentral: device group created", "session_id", id)
	return core.Ticket{
		PIN:         pin,
		DesktopURL:  p.base + "/?code=" + pin + p.desktopProof(req.SessionID, pin),
		MobileURL:   p.base + "/m/" + pin + p.mobileProof(req.SessionID, pin),
		ManualURL:   p.base + "/",
		Ref:         meshID,
		ExpiresAt:   time.Now().Add(time.Duration(p.opt.InviteMinutes) * time.Minute),
		CustomerURL: p.client.Base() + "/invite?c=" + url.QueryEscape(pin),
	}, nil
}

// discard deletes a group that Issue could not finish.
func (p *Provider) discard(ctx context.Context, meshID, sessionID string) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.client.opt.RequestTimeout+time.Second)
	defer cancel()
	if err := p.client.DeleteMesh(dctx, meshID); err != nil {
		p.log.Warn("meshcentral: could not delete the device group of a failed issue", "session_id", sessionID, "err", err)
	}
}

// reclaimTries is how often reclaim looks for the group, each time
// waiting a RequestTimeout longer first: a server too slow to answer
// createmesh may be slow to answer the look too.
const reclaimTries = 3

// reclaim deletes, in the background, the device group called name that
// a createmesh left unanswered may have made: its answer, had it come,
// would have named it.
func (p *Provider) reclaim(name, sessionID string) {
	timeout := p.client.opt.RequestTimeout
	var err error
	for try := 1; try <= reclaimTries; try++ {
		time.Sleep(time.Duration(try) * timeout)
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		var ids []string
		ids, err = p.client.MeshesNamed(ctx, name)
		cancel()
		if err != nil {
			continue
		}
		for _, meshID := range ids {
			p.discard(context.Background(), meshID, sessionID)
		}
		return
	}
	p.log.Warn("meshcentral: could not look for the device group of an unanswered issue; delete it by hand if it is there",
		"session_id", sessionID, "group", name, "err", err)
}

// Revoke implements core.Provider: it does what Release does, since a
// group deleted while an agent still holds it would come back.
func (p *Provider) Revoke(ctx context.Context, s *core.Session) error {
	return p.release(ctx, s)
}

// Release implements core.Releaser: the session's invite code, device
// shares, agent, devices and group go, in that order. A group already
// gone, or never made, is not an error.
func (p *Provider) Release(ctx context.Context, s *core.Session) error {
	return p.release(ctx, s)
}

func (p *Provider) release(ctx context.Context, s *core.Session) error {
	meshID := s.ProviderRef
	if !strings.HasPrefix(meshID, "mesh/") {
		return nil
	}
	nodes, err := p.client.Nodes(ctx, meshID)
	if IsResult(err, "Invalid group id") {
		return nil // deleted already, or not this account's
	}
	if err != nil {
		return p.fail("look up the session's device group", err)
	}
	devices := len(nodes)
	// The code goes first, so that no one else connects while the rest
	// is cleared away.
	if err := p.client.ClearInviteCodes(ctx, meshID); err != nil {
		return p.fail("remove the invite code", err)
	}
	for _, n := range nodes {
		if err := p.removeShares(ctx, n.ID); err != nil {
			return p.fail("remove the technician's links", err)
		}
	}
	var running []string
	for _, n := range nodes {
		if n.Connected() {
			running = append(running, n.ID)
		}
	}
	if len(running) > 0 {
		left := p.stopAgents(ctx, running)
		if len(left) > 0 {
			p.log.Warn("meshcentral: the customer's agent did not end when asked; MeshCentral restores the group should it reconnect",
				"session_id", s.ID, "agents", len(left))
		}
		if nodes, err = p.client.Nodes(ctx, meshID); err != nil && !IsResult(err, "Invalid group id") {
			return p.fail("look up the session's device group", err)
		}
	}
	for _, n := range nodes {
		// Disconnects an agent that would not end; the group's deletion
		// below removes the device records in any case.
		if err := p.client.RemoveDevice(ctx, n.ID); err != nil && !IsResult(err, "Denied") {
			return p.fail("remove the customer's device", err)
		}
	}
	err = p.client.DeleteMesh(ctx, meshID)
	if err != nil && !IsResult(err, "Unknown device group") && !IsResult(err, "Access denied") {
		return p.fail("delete the device group", err)
	}
	p.log.Info("meshcentral: device group released", "session_id", s.ID, "devices", devices)
	return nil
}

// removeShares removes every share of a device.
func (p *Provider) removeShares(ctx context.Context, nodeID string) error {
	shares, err := p.client.DeviceShares(ctx, nodeID)
	if IsResult(err, "Invalid node id") {
		return nil
	}
	if err != nil {
		return err
	}
	for _, sh := range shares {
		if _, err := p.client.RemoveDeviceShare(ctx, nodeID, sh.PublicID); err != nil && !IsResult(err, "Invalid node id") {
			return err
		}
	}
	return nil
}

// stopAgents asks the agents to end and waits, at most StopWait, until the
// server reports them gone; it returns those still there. An agent that
// connected a moment ago ignores its console until its core runs: it is
// asked again then.
func (p *Provider) stopAgents(ctx context.Context, nodeIDs []string) []string {
	stop := func(ctx context.Context, id string) {
		if err := p.client.StopAgent(ctx, id); err != nil {
			p.log.Debug("meshcentral: ask agent to end", "err", err)
		}
	}
	wait := p.client.awaitGone(ctx, nodeIDs, stop)
	for _, id := range nodeIDs {
		stop(ctx, id)
	}
	return wait(p.opt.StopWait)
}

// Start implements core.Starter: a desktop share of the session's
// connected device, in the technician's name, view only for ModeView.
func (p *Provider) Start(ctx context.Context, s *core.Session, mode core.Mode, technician string) (string, error) {
	if !mode.Valid() {
		return "", core.Errorf(core.CodeInvalid, "unknown mode %q", mode)
	}
	if !strings.HasPrefix(s.ProviderRef, "mesh/") {
		return "", core.Errorf(core.CodeInvalid, "the session has no MeshCentral device group")
	}
	nodes, err := p.client.Nodes(ctx, s.ProviderRef)
	if IsResult(err, "Invalid group id") {
		return "", core.Wrap(core.CodeInvalid, err, "the session's device group is gone from MeshCentral")
	}
	if err != nil {
		return "", p.fail("look up the customer's device", err)
	}
	n, ok := pickNode(nodes)
	if !ok {
		return "", core.Errorf(core.CodeInvalid, "the customer's device is not connected")
	}
	if !n.Mobile() && !hasScreen(n) {
		if n, err = p.awaitScreen(ctx, s.ProviderRef, n); err != nil {
			return "", err
		}
	}
	if n.Mobile() && mode == core.ModeControl {
		return "", core.Errorf(core.CodeInvalid, "the customer's Android device can be viewed, not controlled: start in view only")
	}
	if !n.Mobile() && !hasScreen(n) {
		detail := fmt.Errorf("meshcentral: agent type %d reports capabilities %d, core %q", n.Agent.ID, n.Agent.Caps, n.Agent.Core)
		if !n.Ready() {
			return "", &core.Error{Code: core.CodeUnavailable, Retry: 2 * time.Second, Err: detail,
				Message: "the customer's device is still connecting; try again in a moment"}
		}
		return "", core.Wrap(core.CodeInvalid, detail, "the customer's device has no screen to share")
	}
	guest := clean(technician, 100)
	if guest == "" {
		guest = "Technician"
	}
	share, err := p.client.CreateDeviceShare(ctx, ShareRequest{
		NodeID: n.ID, Guest: guest, Protocol: ShareDesktop, Consent: p.consent,
		Minutes: p.opt.ShareMinutes, ViewOnly: mode == core.ModeView,
	})
	if err != nil {
		return "", p.fail("create the technician's link", err)
	}
	p.log.Info("meshcentral: device share created", "session_id", s.ID, "mode", mode)
	return share.URL, nil
}

// hasScreen reports whether a desktop agent is ready to be opened: its
// core runs and has found a display.
func hasScreen(n Node) bool { return n.Ready() && n.HasDesktop() }

// awaitScreen waits, at most ReadyWait, for the agent of n, which has just
// connected, to report its desktop, and returns the device as it is then.
// The agent reports it once the core the server sends it runs, and on
// Linux only once it has found the display, which can take a moment more.
func (p *Provider) awaitScreen(ctx context.Context, meshID string, n Node) (Node, error) {
	wait := p.client.awaitNode(ctx, n.ID, hasScreen)
	// Looked at again once listening, so that a change made meanwhile is
	// not missed.
	nodes, err := p.client.Nodes(ctx, meshID)
	if err != nil {
		wait(0)
		return Node{}, p.fail("look up the customer's device", err)
	}
	for _, m := range nodes {
		if m.ID == n.ID && hasScreen(m) {
			wait(0)
			return m, nil
		}
	}
	wait(p.opt.ReadyWait)
	if ctx.Err() != nil {
		return Node{}, ctx.Err()
	}
	if nodes, err = p.client.Nodes(ctx, meshID); err != nil {
		return Node{}, p.fail("look up the customer's device", err)
	}
	for _, m := range nodes {
		if m.ID == n.ID && m.Connected() {
			return m, nil
		}
	}
	return Node{}, core.Errorf(core.CodeInvalid, "the customer's device is not connected")
}

// pickNode chooses the device a technician opens: a connected one, with a
// desktop if any has one, the first to have connected: the customer's,
// whose joining closed the invite (see closeInvite).
func pickNode(nodes []Node) (Node, bool) {
	var up []Node
	for _, n := range nodes {
		if n.Connected() {
			up = append(up, n)
		}
	}
	if len(up) == 0 {
		return Node{}, false
	}
	sort.SliceStable(up, func(i, j int) bool {
		if up[i].HasDesktop() != up[j].HasDesktop() {
			return up[i].HasDesktop()
		}
		return up[i].ConnectedAt < up[j].ConnectedAt
	})
	return up[0], true
}

// fail turns a failed exchange into the error a user sees: one from the
// connection keeps its message; a refusal or an answer not understood
// gets one, with the server's words as the detail only.
func (p *Provider) fail(what string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("meshcentral: %s: %w", what, err)
	}
	var ce *core.Error
	if errors.As(err, &ce) {
		return fmt.Errorf("meshcentral: %s: %w", what, err)
	}
	var se *ServerError
	if errors.As(err, &se) {
		switch {
		case se.Action == "createmesh" && (se.Result == "Permission denied" || se.Result == "Email verification required"):
			return core.Wrap(core.CodeUnauthorized, err, "MeshCentral does not let the service account create device groups (meshcentral.user)")
		case se.Result == "Access denied" || se.Result == "Denied":
			return core.Wrap(core.CodeUnauthorized, err, "MeshCentral refused the service account the right to "+what)
		}
		p.log.Warn("meshcentral: server refused a command", "what", what, "err", err)
		return core.Wrap(core.CodeUnavailable, err, "MeshCentral refused to "+what+"; ask an admin to check the logs")
	}
	p.log.Warn("meshcentral: unexpected answer", "what", what, "err", err)
	return core.Wrap(core.CodeUnavailable, err, "MeshCentral gave an answer assistbot does not understand; ask an admin to check the logs")
}

// clean makes a name fit for MeshCentral's fields: printable, one line,
// at most n UTF-16 units, which is how MeshCentral's JavaScript counts a
// string's length (an emoji is two).
func clean(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	units := 0
	for i, r := range s {
		if units += utf16.RuneLen(r); units > n {
			return s[:i]
		}
	}
	return s
}
