package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"

	"github.com/assistbot/assistbot/adapters/turn"
	"github.com/assistbot/assistbot/config"
)

// startTURN starts the embedded TURN server when c.WebRTC.TURN.Enabled;
// nil, nil otherwise. The caller closes the server.
//
// The relay address is webrtc.turn.public_ip, or else server.public_url's
// host: as is when it is an IP address, resolved (IPv4 first) when it is a
// name. The turn: URL handed to browsers names webrtc.turn.public_ip when it
// is set, since public_url's name may lead to an HTTP load balancer that
// does not pass TURN's UDP on, and public_url's host otherwise.
func startTURN(ctx context.Context, c *config.Config, log *slog.Logger) (*turn.Server, error) {
	t := c.WebRTC.TURN
	if !t.Enabled {
		return nil, nil
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	u, err := url.Parse(c.Server.PublicURL)
	if err != nil || u.Hostname() == "" {
		return nil, fmt.Errorf("webrtc.turn: server.public_url %q has no host name to put in turn: URLs", c.Server.PublicURL)
	}
	host := u.Hostname()
	ip, err := turnPublicIP(ctx, t.PublicIP, host)
	if err != nil {
		return nil, err
	}
	if t.PublicIP != "" {
		host = ip.String()
	}
	s, err := turn.Start(turn.Options{
		Listen:   t.Listen,
		Realm:    t.Realm,
		PublicIP: ip,
		Host:     host,
		Secret:   t.Secret,
		Logger:   log,
	})
	var opErr *net.OpError
	switch {
	case errors.As(err, &opErr) && opErr.Op == "listen":
		return nil, fmt.Errorf("webrtc.turn.listen: %w", err)
	case err != nil:
		return nil, fmt.Errorf("webrtc.turn: %w", err)
	}
	log.Info("embedded TURN server listening", "addr", s.Addr().String(), "public_ip", ip.String(), "host", host)
	return s, nil
}

// turnPublicIP returns the relay address: configured, when set (config
// validation has checked it), else public_url's host, resolved if needed.
func turnPublicIP(ctx context.Context, configured, host string) (netip.Addr, error) {
	if configured != "" {
		ip, err := netip.ParseAddr(configured)
		if err != nil {
			return netip.Addr{}, fmt.Errorf("webrtc.turn.public_ip: %q is not an IP address", configured)
		}
		return ip.Unmap(), nil
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip = ip.Unmap(); !ip.Is4() {
			return netip.Addr{}, fmt.Errorf("webrtc.turn.public_ip is not set and server.public_url's host %s is not IPv4, "+
				"which TURN relays need; set webrtc.turn.public_ip to the server's public IPv4 address", ip)
		}
		return ip, nil
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("webrtc.turn.public_ip is not set and server.public_url's host %q does not resolve (%w); "+
			"set webrtc.turn.public_ip to the server's public IPv4 address", host, err)
	}
	for _, ip := range ips {
		if ip = ip.Unmap(); ip.Is4() {
			return ip, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("webrtc.turn.public_ip is not set and server.public_url's host %q has no IPv4 address, "+
		"which TURN relays need; set webrtc.turn.public_ip to the server's public IPv4 address", host)
}
