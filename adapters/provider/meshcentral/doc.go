// Package meshcentral is the provider for a self-hosted MeshCentral
// server: the technician gets real remote control (or view only) of the
// customer's computer through a MeshCentral device share, and the
// customer runs MeshCentral's connect-only agent, which installs nothing
// and stops being reachable when it is closed.
//
// # The flow
//
// MeshCentral has no REST API: everything goes through one WebSocket,
// control.ashx, on which JSON commands are answered with the responseid
// they carried and the server pushes events. The Client keeps one such
// connection per server, logged in as a service account.
//
//   - Issue creates a device group for the session, named after the
//     session id (no customer data), whose devices are removed when they
//     disconnect, and gives it an invite code: the PIN. The customer's
//     page is MeshCentral's /invite?c=PIN (Ticket.CustomerURL): it holds
//     the code and leads to the agent downloads for each system, set to
//     connect only. Another group holding the same code makes the server
//     refuse it; another PIN is drawn then.
//   - Watch follows the pushed events: when an agent connects in the group
//     of a session whose PIN is live, it reports the customer's join
//     (desktop, or mobile for MeshCentral's Android agent) and, once the
//     engine takes it, removes the group's invite code, so that the PIN
//     lets nobody else in; when the agent of a waiting or active session
//     disconnects, it reports the end. After every connection of the
//     control socket it lists the groups of the live sessions once, to
//     catch what happened while it was down; a session whose agent is
//     missing then ends only if it is still missing EndGrace later, as
//     agents reconnect after a server restart too.
//   - Start creates a desktop device share for the customer's device (the
//     first of the group to connect), in
//     the technician's name, view only for core.ModeView (the server
//     enforces it), valid ShareMinutes; its link opens the customer's
//     desktop in a browser without a MeshCentral account. An agent that
//     has just connected reports its desktop only once the core the server
//     sends it runs and has found the display, a second or more later;
//     Start waits up to ReadyWait for that. An Android device can be
//     viewed, not controlled; there is no agent for iOS.
//   - Release (and Revoke, which does the same) removes everything made
//     for the session: the invite code, the device shares, the customer's
//     agent (asked to end itself through its console), the device, and the
//     group. What is already gone is skipped.
//
// # Why the invite code and not an invitation link
//
// MeshCentral can also make invitation links (createInviteLink) that need
// no code at all, but they count their lifetime in whole hours and the
// server keeps serving them after their group is deleted: an agent
// downloaded that way would bring the deleted group back (MeshCentral
// undeletes a group when one of its agents connects). The invite code is
// looked up among live groups at every visit, so Revoke ends it at once,
// and its lifetime is the session's. The customer presses one button on
// the /invite page, where the code is already filled in; the page also
// lets them type it.
//
// That undeleting is also why Release stops the customer's agent before
// deleting the group: a connect-only agent left running would reconnect
// and restore the group. The agent is asked to end through its console
// (the Linux agent does, within milliseconds); one that does not is
// logged, and is disconnected with its device removed.
//
// # Consent
//
// Options.Consent sets what the customer's computer does when the
// technician opens it, both for the group and for each share:
//
//   - "prompt" (the default): a notice and a toolbar, and the customer must
//     accept first (bits 1, 8 and 64: 73);
//   - "notify": a notice and a toolbar, without asking (1 and 64: 65);
//   - "none": the toolbar only (64). assistbot never lets a technician on
//     a customer's screen unseen: the toolbar shows the session and lets
//     the customer end it.
//
// # Trusting the server
//
// The control socket is TLS unless the URL says http:// or ws://. The
// server's certificate is trusted through Options.CAFile, a PEM file of
// authorities (MeshCentral's own root is
// meshcentral-data/root-cert-public.crt), or Options.CertSHA256, the
// SHA-256 fingerprint of the server's certificate as
// "openssl x509 -noout -fingerprint -sha256" prints it, which is trusted
// whoever signed it; with both, the certificate must pass both. With
// neither, the system's roots decide, as for a certificate from a public
// authority. Verification is never turned off without the pin in its place.
//
// # The service account
//
// The account needs the right to create device groups. It logs in with
// Options.User and Options.Password, or with a login token (My account,
// Login tokens), which can be revoked on its own and works for an account
// that asks people for a second factor.
package meshcentral
