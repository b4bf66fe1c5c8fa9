// Package turn runs an embedded TURN server (RFC 8656, on
// github.com/pion/turn/v4) for deployments behind NAT that have no TURN
// server of their own, so that a customer's browser and a technician's
// browser can reach each other for screen sharing.
//
// # Credentials
//
// Browsers get time-limited credentials in the TURN REST scheme
// (draft-uberti-behave-turn-rest): the user name is "<unix expiry>:assistbot"
// and the credential is base64(HMAC-SHA1(secret, user name)). The server
// keeps no list of users: it recomputes the credential from the user name and
// refuses it once the expiry has passed. Replicas that share the secret
// accept each other's credentials; with no secret configured, each process
// draws a random one and accepts only its own.
//
// # Which peers a relay may reach
//
// A relay hands any web page that obtained credentials a UDP socket on this
// server, so it must not become a way into the server's own network. The
// server refuses permissions (CreatePermission and ChannelBind) for peers
// that are:
//
//   - loopback (127.0.0.0/8, ::1): services on this host;
//   - unspecified (0.0.0.0, ::) or in 0.0.0.0/8, which Linux delivers to
//     this host;
//   - the IPv4 broadcast address or multicast (224.0.0.0/4, ff00::/8);
//   - link-local (169.254.0.0/16, where cloud metadata services live, and
//     fe80::/10).
//
// The one exception is the relay's own public address (Options.PublicIP),
// even when it falls in those ranges (tests use 127.0.0.1): two browsers
// that both use this relay talk to each other through it. Private ranges
// (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7) stay allowed,
// because a browser on the same private network as a relay is a legitimate
// peer; deployments that must keep relays out of their private networks
// should firewall the relay ports' outbound traffic.
//
// Relays are UDP over IPv4 only (pion allocates them as "udp4"), so the
// public address must be an IPv4 address.
package turn
