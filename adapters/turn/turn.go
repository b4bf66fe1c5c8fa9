package turn

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // the TURN REST scheme is defined with HMAC-SHA1
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/pion/logging"
	pionturn "github.com/pion/turn/v4"
)

// DefaultTTL is the credential lifetime when Options.TTL is zero.
const DefaultTTL = 12 * time.Hour

// user is the name part of every credential's user name.
const user = "assistbot"

// Options configure a Server.
type Options struct {
	// Listen is the UDP host:port to listen on, such as ":3478".
	Listen string
	// Realm is the TURN authentication realm.
	Realm string
	// PublicIP is the IPv4 address browsers reach this server and its relays
	// on; it is advertised as the relay address.
	PublicIP netip.Addr
	// Host is the host name (or IP address) put in the turn: URL handed to
	// browsers; empty means PublicIP.
	Host string
	// Secret is the shared secret for time-limited credentials; empty means
	// 32 random bytes, drawn once per Start.
	Secret string
	// TTL is the credential lifetime; zero means DefaultTTL.
	TTL time.Duration
	// Logger receives pion's logs, all at debug level or below; nil
	// discards them.
	Logger *slog.Logger
}

// Credentials are what a browser needs to use the server: an RTCIceServer.
type Credentials struct {
	// URLs are the turn: URLs of the server.
	URLs []string
	// Username is the time-limited user name, "<unix expiry>:assistbot".
	Username string
	// Credential is the password for Username.
	Credential string
	// Expires is when the server stops accepting the credentials for new
	// requests.
	Expires time.Time
}

// Server is a running embedded TURN server.
type Server struct {
	srv    *pionturn.Server
	conn   net.PacketConn
	url    string
	secret string
	ttl    time.Duration
	now    func() time.Time

	closeOnce sync.Once
	closeErr  error
}

// Start listens on o.Listen (UDP) and serves TURN until Close. Its errors
// name the option or the step that failed.
func Start(o Options) (*Server, error) {
	if o.Realm == "" {
		return nil, errors.New("turn: no realm (Options.Realm)")
	}
	pub := o.PublicIP.Unmap()
	switch {
	case !pub.IsValid():
		return nil, errors.New("turn: no public IP address (Options.PublicIP)")
	case !pub.Is4():
		return nil, fmt.Errorf("turn: public IP %s is not IPv4; relays are IPv4 only (Options.PublicIP)", pub)
	case pub.IsUnspecified():
		return nil, fmt.Errorf("turn: public IP %s is unspecified; browsers cannot reach it (Options.PublicIP)", pub)
	}
	if o.TTL < 0 {
		return nil, fmt.Errorf("turn: negative credential lifetime %s (Options.TTL)", o.TTL)
	}
	if o.TTL == 0 {
		o.TTL = DefaultTTL
	}
	if o.Secret == "" {
		b := make([]byte, 32)
		_, _ = rand.Read(b) // never fails; see crypto/rand.Read
		o.Secret = string(b)
	}
	if o.Host == "" {
		o.Host = pub.String()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Listen == "" {
		return nil, errors.New("turn: no listen address (Options.Listen)")
	}

	conn, err := net.ListenPacket("udp", o.Listen)
	if err != nil {
		return nil, fmt.Errorf("turn: %w", err) // "listen udp <addr>: <reason>"
	}
	bound, ok := conn.LocalAddr().(*net.UDPAddr)
	if !ok {
		_ = conn.Close()
		return nil, fmt.Errorf("turn: listen udp %s: unexpected address %v", o.Listen, conn.LocalAddr())
	}
	logs := loggerFactory{o.Logger}
	srv, err := pionturn.NewServer(pionturn.ServerConfig{
		Realm:         o.Realm,
		AuthHandler:   pionturn.LongTermTURNRESTAuthHandler(o.Secret, logs.NewLogger("auth")),
		LoggerFactory: logs,
		PacketConnConfigs: []pionturn.PacketConnConfig{{
			PacketConn: conn,
			RelayAddressGenerator: &pionturn.RelayAddressGeneratorStatic{
				RelayAddress: net.IP(pub.AsSlice()),
				Address:      relayBindAddress(bound),
			},
			PermissionHandler: permissionHandler(pub),
		}},
	})
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("turn: start server: %w", err)
	}
	return &Server{
		srv:    srv,
		conn:   conn,
		url:    "turn:" + net.JoinHostPort(o.Host, strconv.Itoa(bound.Port)) + "?transport=udp",
		secret: o.Secret,
		ttl:    o.TTL,
		now:    time.Now,
	}, nil
}

// relayBindAddress returns the address relays listen on: the IPv4 address
// the server is bound to, or 0.0.0.0 when it is bound to all interfaces or
// to IPv6 (relays are "udp4" sockets).
func relayBindAddress(bound *net.UDPAddr) string {
	ip, ok := netip.AddrFromSlice(bound.IP)
	if ip = ip.Unmap(); !ok || !ip.Is4() || ip.IsUnspecified() {
		return "0.0.0.0"
	}
	return ip.String()
}

// Credentials returns fresh credentials that expire after the configured
// TTL.
func (s *Server) Credentials() Credentials {
	exp := time.Unix(s.now().Add(s.ttl).Unix(), 0)
	name := strconv.FormatInt(exp.Unix(), 10) + ":" + user
	return Credentials{
		URLs:       []string{s.url},
		Username:   name,
		Credential: sign(s.secret, name),
		Expires:    exp,
	}
}

// sign computes the credential for a TURN REST user name, as
// pionturn.GenerateLongTermTURNRESTCredentials does; it is written out so
// that the expiry comes from s.now and no impossible error needs handling.
func sign(secret, username string) string {
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(username)) // hash.Hash writes never fail
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Addr returns the UDP address the server is bound to.
func (s *Server) Addr() net.Addr { return s.conn.LocalAddr() }

// Close stops the server and releases its UDP port; relays are closed
// right after, by pion. Calling Close again does nothing.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		if err := s.srv.Close(); err != nil {
			s.closeErr = fmt.Errorf("turn: close: %w", err)
		}
	})
	return s.closeErr
}

// permissionHandler returns the handler that decides which peers relays
// may exchange packets with (see the package documentation).
func permissionHandler(own netip.Addr) pionturn.PermissionHandler {
	return func(_ net.Addr, peer net.IP) bool {
		ip, ok := netip.AddrFromSlice(peer)
		return ok && allowedPeer(ip, own)
	}
}

var broadcast = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// allowedPeer reports whether a relay may reach ip: anything but this
// host's own networks, unless ip is the relay's own address own.
func allowedPeer(ip, own netip.Addr) bool {
	ip = ip.Unmap()
	if ip == own.Unmap() {
		return true
	}
	switch {
	case !ip.IsValid(), ip.IsLoopback(), ip.IsUnspecified(), ip.IsMulticast(),
		ip.IsLinkLocalUnicast(), ip == broadcast:
		return false
	case ip.Is4() && ip.As4()[0] == 0: // 0.0.0.0/8: "this network", delivered locally
		return false
	}
	return true
}

// loggerFactory sends pion's logs to a slog.Logger at debug level (trace
// below it): pion logs every packet and every refused client, which are
// not an operator's concern.
type loggerFactory struct{ log *slog.Logger }

// NewLogger returns the logger for one pion scope.
func (f loggerFactory) NewLogger(scope string) logging.LeveledLogger {
	return leveledLogger{f.log.With("component", "turn", "scope", scope)}
}

// levelTrace is below slog.LevelDebug, for pion's trace messages.
const levelTrace = slog.LevelDebug - 4

// leveledLogger is a logging.LeveledLogger writing to slog; pion's level
// goes in the pion_level attribute.
type leveledLogger struct{ log *slog.Logger }

func (l leveledLogger) logf(level slog.Level, pionLevel, format string, args ...any) {
	ctx := context.Background()
	if !l.log.Enabled(ctx, level) {
		return
	}
	l.log.Log(ctx, level, fmt.Sprintf(format, args...), "pion_level", pionLevel)
}

func (l leveledLogger) Trace(msg string) { l.logf(levelTrace, "trace", "%s", msg) }
func (l leveledLogger) Tracef(format string, args ...any) {
	l.logf(levelTrace, "trace", format, args...)
}
func (l leveledLogger) Debug(msg string) { l.logf(slog.LevelDebug, "debug", "%s", msg) }
func (l leveledLogger) Debugf(format string, args ...any) {
	l.logf(slog.LevelDebug, "debug", format, args...)
}
func (l leveledLogger) Info(msg string) { l.logf(slog.LevelDebug, "info", "%s", msg) }
func (l leveledLogger) Infof(format string, args ...any) {
	l.logf(slog.LevelDebug, "info", format, args...)
}
func (l leveledLogger) Warn(msg string) { l.logf(slog.LevelDebug, "warn", "%s", msg) }
func (l leveledLogger) Warnf(format string, args ...any) {
	l.logf(slog.LevelDebug, "warn", format, args...)
}
func (l leveledLogger) Error(msg string) { l.logf(slog.LevelDebug, "error", "%s", msg) }
func (l leveledLogger) Errorf(format string, args ...any) {
	l.logf(slog.LevelDebug, "error", format, args...)
}
