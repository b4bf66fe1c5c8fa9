package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/assistbot/assistbot/adapters/discord"
	"github.com/assistbot/assistbot/adapters/metrics"
	"github.com/assistbot/assistbot/adapters/portal"
	"github.com/assistbot/assistbot/adapters/provider/builtin"
	"github.com/assistbot/assistbot/adapters/provider/meshcentral"
	"github.com/assistbot/assistbot/adapters/store/postgres"
	"github.com/assistbot/assistbot/adapters/store/sqlite"
	"github.com/assistbot/assistbot/adapters/turn"
	"github.com/assistbot/assistbot/adapters/twilio"
	"github.com/assistbot/assistbot/adapters/web"
	"github.com/assistbot/assistbot/bots/i18n"
	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/config"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/escalation"
	"github.com/assistbot/assistbot/core/outbox"
	"github.com/assistbot/assistbot/core/replicas"
	"github.com/assistbot/assistbot/core/retention"
	hooks "github.com/assistbot/assistbot/core/webhook"
)

// serveCommand is "serve", also what "assistbot" alone runs.
func (c *cli) serveCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the portal, the console, the API and the enabled platforms (the default)",
		Long: `serve validates the configuration (refusing to start, with every problem
listed, when it is not valid), then serves on server.listen until it gets
SIGINT or SIGTERM: then it stops taking requests, lets those in flight
finish within server.shutdown_timeout, lets the outbox finish what it is
delivering, and exits 0.`,
		Example: `  assistbot serve
  assistbot --config assistbot.yaml serve --listen 127.0.0.1:9090
  ASSISTBOT_API_TOKEN=$(openssl rand -hex 32) assistbot`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return c.serve(c.ctx) },
	}
	cmd.Flags().StringVar(&c.listen, "listen", "", "the address to serve on, overriding server.listen")
	return cmd
}

// serve runs the server until ctx ends (SIGINT, SIGTERM).
func (c *cli) serve(ctx context.Context) error {
	cfg, err := c.loadConfig()
	if cfg != nil {
		if c.listen != "" {
			cfg.Server.Listen = c.listen
		}
		followListen(cfg)
	}
	if err := check(cfg, err); err != nil {
		printProblems(c.stderr, err)
		return &exit{code: exitUsage}
	}
	m := &Main{Config: cfg, Logger: newLogger(cfg.Log, c.stderr, cfg.Secrets()), Out: c.stdout}
	if err := m.Open(ctx); err != nil {
		m.Logger.Error("start", "err", err)
		m.Close()
		return failed()
	}
	err = m.Run(ctx)
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		m.Logger.Error("stop", "err", err)
		return failed()
	}
	return nil
}

// Main is the whole program wired together from a Config. End-to-end
// tests build one with a loopback listener and fakes where they need them.
type Main struct {
	Config *config.Config
	Logger *slog.Logger
	// Out receives the start-up banner (where the portal is).
	Out io.Writer
	// Clock and PINs replace the real clock and crypto/rand PINs when set.
	Clock core.Clock
	PINs  core.PINSource
	// Provider, when set, replaces the configured provider (tests: a
	// fake with remote control and a page of its own for the customer).
	Provider core.Provider
	// Listener, when set, is served on instead of binding server.listen
	// (tests that must know the address before Open: it is in
	// server.public_url).
	Listener net.Listener

	store   core.Store
	engine  *core.Engine
	hooks   *hooks.Dispatcher // delivers the webhooks; the engine writes through it
	bot     *remote.Bot
	catalog *i18n.Catalog
	// web is the server every web surface and platform mounts its
	// routes on.
	web *web.Server
	// technicianLinks: the provider hands technicians a link of its own
	// when they start (a core.Starter), which the console opens.
	technicianLinks bool
	// loops are the web surfaces' background work and the retention's
	// pruning, run while the server serves.
	loops []runner
	turn  *turn.Server // the embedded TURN server, when enabled
	// closers release what Open made beside the store (the MeshCentral
	// provider's control connection), when Close runs.
	closers   []func() error
	platforms []platform
	// notes are what the surfaces and platforms want the start-up banner
	// to say; signInNote, the one-time sign-in, is said last.
	notes      []string
	signInNote string
	ln         net.Listener
	http       *http.Server
	// replicas, when the store is shared, carries updates between this
	// replica and the others.
	replicas *replicas.Replicas

	// linkKeys are the store's "link-proof" keys, current then previous,
	// as this process started: the provider signs its links with the
	// first. The portal follows the key through rotations by itself,
	// and accepts the previous one, so a rotation needs a restart of
	// every replica before the next one.
	linkKeys [2][]byte
}

// Open builds everything and starts listening; Run then serves.
func (m *Main) Open(ctx context.Context) error {
	cfg := m.Config
	if m.Logger == nil {
		m.Logger = slog.New(slog.DiscardHandler)
	}
	if m.Out == nil {
		m.Out = io.Discard
	}
	catalog, err := i18n.New(cfg.Locale)
	if err != nil {
		return fmt.Errorf("locale: %w", err)
	}
	m.catalog = catalog
	if m.store, err = openStore(ctx, cfg.Store); err != nil {
		return err
	}
	if m.linkKeys[0], m.linkKeys[1], err = m.store.Key(ctx, portal.LinkKeyName, portal.LinkKeySize); err != nil {
		return fmt.Errorf("store: link key: %w", err)
	}
	provider, err := m.provider()
	if err != nil {
		return err
	}
	_, m.technicianLinks = provider.(core.Starter)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mx, err := metrics.New(metrics.Options{Registerer: reg, Stats: m.store.Stats, Token: cfg.Metrics.Token, Logger: m.Logger})
	if err != nil {
		return err
	}
	if m.hooks, err = m.newWebhooks(); err != nil {
		return err
	}
	var shared core.Replicas
	if b, ok := m.store.(core.Broadcaster); ok {
		m.replicas = replicas.New(b, m.store, m.Clock, m.Logger)
		shared = m.replicas
	}
	m.engine = core.NewEngine(core.Options{Courier: outbox.New(outbox.Options{}), Replicas: shared,
		Store:    hooks.Wrap(m.store, m.hooks),
		Provider: provider,
		Clock:    m.Clock,
		PINTTL:   cfg.PIN.TTL,
		Locale:   catalog.Default(),
		Logger:   m.Logger,
		Addresses: map[string]func(string) (string, error){
			core.ChannelSMS:     twilio.NumberParser(cfg.Twilio.DefaultRegion),
			core.ChannelDiscord: discord.ParseUserID,
		},
		Observe:  mx.Observe,
		Policies: []core.DuePolicy{escalation.Policy{After: cfg.Escalation.After, Unopened: cfg.Escalation.UnopenedAfter}},
	})
	if err := m.hooks.Open(ctx); err != nil {
		return err
	}
	if cfg.Store.Retention > 0 {
		st, ok := m.store.(retention.Store)
		if !ok {
			return fmt.Errorf("store.retention: the %s store cannot prune", cfg.Store.Driver)
		}
		m.loops = append(m.loops, retention.New(retention.Options{Store: st, Keep: cfg.Store.Retention,
			Clock: m.Clock, Logger: m.Logger.With("component", "retention"), Observe: mx.Pruned}))
	}
	m.bot = remote.New(m.engine, catalog)
	if cfg.Console.Enabled && cfg.Provider.Kind == "builtin" {
		// Slack and Discord cards link to the console's view of a screen.
		m.bot.WatchAt(strings.TrimRight(cfg.Server.PublicURL, "/"))
	}
	// The web surfaces, then each enabled platform, add their channels to
	// the engine and their routes to the server, before anything is
	// served.
	if err := m.openWeb(ctx, mx); err != nil {
		return err
	}
	for _, p := range m.enabledPlatforms() {
		if err := p.open(ctx, m); err != nil {
			return fmt.Errorf("%s: %w", p.name(), err)
		}
		m.platforms = append(m.platforms, p)
	}
	if m.signInNote != "" {
		m.notes = append(m.notes, m.signInNote)
	}
	m.http = &http.Server{
		Handler:           m.web,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn),
	}
	if m.ln = m.Listener; m.ln == nil {
		if m.ln, err = net.Listen("tcp", cfg.Server.Listen); err != nil {
			return fmt.Errorf("server.listen: %w", err)
		}
	}
	// Start-up allocates heavily once (phone metadata, templates, the
	// one-time agent's password hash) and then rarely: hand that memory
	// back now rather than when the scavenger gets to it.
	debug.FreeOSMemory()
	// The listener is bound, so connections wait in its backlog until Run
	// serves them: the banner can tell people where to go already.
	m.Logger.Info("assistbot started", "version", version, "addr", m.ln.Addr().String(), "config", cfg.Summary())
	fmt.Fprintf(m.Out, "assistbot %s is serving on %s\n  customer portal:    %s/\n  API:                %s/api/v1/sessions\n",
		version, m.ln.Addr(), cfg.Server.PublicURL, cfg.Server.PublicURL)
	for _, n := range m.notes {
		fmt.Fprintln(m.Out, n)
	}
	return nil
}

// announce adds a line to the start-up banner, which Run prints once the
// server listens.
func (m *Main) announce(format string, args ...any) {
	m.notes = append(m.notes, fmt.Sprintf(format, args...))
}

// Addr returns the address the server listens on.
func (m *Main) Addr() net.Addr { return m.ln.Addr() }

// Engine returns the running engine.
func (m *Main) Engine() *core.Engine { return m.engine }

// URL returns the base URL at which the server is reached on this host.
func (m *Main) URL() string { return "http://" + m.ln.Addr().String() }

// Run serves until ctx ends, then stops taking requests, lets those in
// flight finish within server.shutdown_timeout, and drains the outbox.
func (m *Main) Run(ctx context.Context) error {
	cfg := m.Config
	engineCtx, stopEngine := context.WithCancel(context.WithoutCancel(ctx))
	engineDone := make(chan error, 1)
	go func() { engineDone <- m.engine.Run(engineCtx) }()
	hooksDone := make(chan struct{})
	go func() { m.hooks.Run(engineCtx); close(hooksDone) }()
	// Platforms' own loops (a gateway, Socket Mode) and the web
	// surfaces' (event streams, signaling sockets) stop with the server:
	// once requests stop, so do events, and the shutdown waits for no
	// stream.
	platformCtx, stopPlatforms := context.WithCancel(ctx)
	var platformsDone sync.WaitGroup
	for _, p := range m.platforms {
		platformsDone.Go(func() {
			if err := p.run(platformCtx); err != nil && platformCtx.Err() == nil {
				m.Logger.Error("platform stopped", "platform", p.name(), "err", err)
			}
		})
	}
	for _, l := range m.loops {
		platformsDone.Go(func() {
			if err := l.Run(platformCtx); err != nil && platformCtx.Err() == nil {
				m.Logger.Error("web surface stopped", "surface", fmt.Sprintf("%T", l), "err", err)
			}
		})
	}

	m.awaitReplicas(ctx)
	serveDone := make(chan error, 1)
	go func() { serveDone <- m.http.Serve(m.ln) }()

	var err error
	select {
	case <-ctx.Done():
		m.Logger.Info("shutting down", "timeout", cfg.Server.ShutdownTimeout)
		sctx, cancel := context.WithTimeout(context.Background(), cfg.Server.ShutdownTimeout)
		err = m.http.Shutdown(sctx)
		cancel()
		<-serveDone
	case err = <-serveDone:
		err = fmt.Errorf("serve: %w", err)
	}
	stopPlatforms()
	platformsDone.Wait()
	stopEngine()
	<-engineDone
	<-hooksDone
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	m.Logger.Info("stopped")
	return err
}

// Close releases what Open acquired.
func (m *Main) Close() error {
	if m.ln != nil {
		m.ln.Close()
	}
	if m.turn != nil {
		m.turn.Close()
	}
	for _, close := range m.closers {
		_ = close()
	}
	if m.store != nil {
		return m.store.Close()
	}
	return nil
}

// replicasWait bounds how long Run waits to hear the other replicas
// before it serves anyway.
const replicasWait = 10 * time.Second

// awaitReplicas waits until this replica hears the others, so that no
// live view opens before it could follow their changes; connections wait
// in the listener's backlog meanwhile.
func (m *Main) awaitReplicas(ctx context.Context) {
	if m.replicas == nil {
		return
	}
	t := time.NewTimer(replicasWait)
	defer t.Stop()
	select {
	case <-m.replicas.Ready():
	case <-ctx.Done():
	case <-t.C:
		m.Logger.Warn("not yet hearing the other replicas; serving anyway: a live view opened meanwhile may miss their changes until it reloads", "waited", replicasWait)
	}
}

// followListen points the default public URL (http://localhost:8080) at
// the port actually listened on, so that "serve --listen :9090" on a
// laptop hands out links that work. An explicit public_url is kept.
func followListen(cfg *config.Config) {
	def := config.Default().Server
	if cfg.Server.PublicURL != def.PublicURL || cfg.Server.Listen == def.Listen {
		return
	}
	if _, port, err := net.SplitHostPort(cfg.Server.Listen); err == nil && port != "" && port != "0" {
		cfg.Server.PublicURL = "http://localhost:" + port
	}
}

// openStore opens the configured store.
func openStore(ctx context.Context, cfg config.Store) (core.Store, error) {
	switch cfg.Driver {
	case "sqlite":
		s, err := sqlite.Open(ctx, cfg.DSN)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		return s, nil
	case "postgres":
		s, err := postgres.Open(ctx, cfg.DSN)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		return s, nil
	}
	return nil, fmt.Errorf("store.driver: %q is not supported; use sqlite or postgres", cfg.Driver)
}

// provider builds the configured remote-support provider.
func (m *Main) provider() (core.Provider, error) {
	cfg := m.Config
	if m.Provider != nil {
		return m.Provider, nil
	}
	switch cfg.Provider.Kind {
	case builtin.Name:
		p, err := builtin.New(builtin.Options{PublicURL: cfg.Server.PublicURL, PINs: m.PINs, Digits: cfg.PIN.Digits, LinkKey: m.linkKeys[0]})
		if err != nil {
			return nil, fmt.Errorf("provider: %w", err)
		}
		return p, nil
	case "logmein":
		return newLogMeIn(cfg, m.Logger)
	case meshcentral.Name:
		p, err := newMeshCentral(cfg, m.PINs, m.linkKeys[0], m.Logger)
		if err != nil {
			return nil, err
		}
		m.closers = append(m.closers, p.Close)
		return p, nil
	}
	return nil, fmt.Errorf("provider.kind: %q is not available in this build; use builtin, meshcentral or logmein", cfg.Provider.Kind)
}

// parseProxies reads server.trusted_proxies: addresses and CIDR ranges.
func parseProxies(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for i, s := range list {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("server.trusted_proxies[%d]: %q is neither an address nor a CIDR range", i, s)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
