package meshcentral_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/provider/meshcentral"
	"github.com/assistbot/assistbot/adapters/provider/meshcentral/meshcentraltest"
	"github.com/assistbot/assistbot/core"
)

// target is a MeshCentral server the conformance sequence runs against.
type target struct {
	// client is logged in with the right account; quick is another with a
	// short request timeout; refusing has a wrong password.
	client, quick, refusing *meshcentral.Client
	// host is the server's host:port, replaced in messages.
	host string
	// connect runs a connect-only agent holding meshID's settings and
	// returns when the server has its device.
	connect func(t *testing.T, meshID string)
}

// conformance makes the calls the provider relies on, in the order it
// makes them, and returns what it reads from each answer, with ids and
// times replaced by what they are. The fake's transcript must equal the
// real server's: that is how the fake is kept from drifting.
func conformance(t *testing.T, tg target) []string {
	t.Helper()
	ctx := context.Background()
	c := tg.client
	var out []string
	names := map[string]string{}
	name := func(kind, id string) string {
		if id == "" {
			return kind + ":<empty>"
		}
		if n, ok := names[id]; ok {
			return n
		}
		n := fmt.Sprintf("<%s%d>", kind, len(names)+1)
		names[id] = n
		return n
	}
	describe := func(err error) string {
		var se *meshcentral.ServerError
		switch {
		case err == nil:
			return "ok"
		case errors.Is(err, meshcentral.ErrInviteCodeInUse):
			return "invite code in use"
		case errors.As(err, &se):
			return "refused " + se.Action + ": " + se.Result
		case core.ErrorCode(err) != core.CodeInternal:
			return fmt.Sprintf("%s: %s", core.ErrorCode(err), strings.ReplaceAll(core.ErrorMessage(err), tg.host, "<host>"))
		}
		return "error: " + err.Error()
	}
	log := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }

	_, err := tg.refusing.CreateMesh(ctx, meshcentral.Mesh{Name: "refused"})
	log("login with a wrong password: %s", describe(err))

	a, err := c.CreateMesh(ctx, meshcentral.Mesh{Name: "conformance a", Desc: "d", Consent: 73, Flags: meshcentral.MeshFlagRemoveOnDisconnect})
	log("createmesh: %s %s", name("mesh", a), describe(err))
	if err != nil {
		return out
	}
	// What reclaims a group whose createmesh went unanswered.
	named, err := c.MeshesNamed(ctx, "conformance a")
	var found []string
	for _, id := range named {
		found = append(found, name("mesh", id))
	}
	log("meshes named %q: %v %s", "conformance a", found, describe(err))
	log("mesh id form: %v", strings.HasPrefix(a, "mesh//") && len(a) > 40)
	b, err := c.CreateMesh(ctx, meshcentral.Mesh{Name: "conformance b", Consent: 64})
	log("createmesh: %s %s", name("mesh", b), describe(err))

	code := fmt.Sprintf("%08d", time.Now().UnixNano()%100000000)
	log("invite code on a: %s", describe(c.SetInviteCodes(ctx, a, []string{code}, meshcentral.InviteFlagConnectOnly)))
	log("same code on b: %s", describe(c.SetInviteCodes(ctx, b, []string{code}, meshcentral.InviteFlagConnectOnly)))
	log("other code on b: %s", describe(c.SetInviteCodes(ctx, b, []string{code + "1"}, meshcentral.InviteFlagConnectOnly)))

	nodes, err := c.Nodes(ctx, a)
	log("nodes of a, empty: %d %s", len(nodes), describe(err))
	_, err = c.Nodes(ctx, "mesh//"+strings.Repeat("x", 64))
	log("nodes of an unknown group: %s", describe(err))

	link, err := c.CreateInviteLink(ctx, a, 1, meshcentral.InviteFlagConnectOnly)
	log("invite link: %s hours=%d agentinvite=%v cookie=%v", describe(err), link.Hours,
		strings.Contains(link.URL, "/agentinvite?c="), link.Cookie != "" && strings.HasSuffix(link.URL, link.Cookie))

	tg.connect(t, a)
	// The agent is ready once the core the server sends it runs and has
	// found the display.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		nodes, err = c.Nodes(ctx, a)
		if err != nil || len(nodes) != 1 || nodes[0].Ready() && nodes[0].HasDesktop() || time.Now().After(deadline) {
			break
		}
	}
	log("nodes of a after the agent connects: %d %s", len(nodes), describe(err))
	if len(nodes) != 1 {
		return out
	}
	n := nodes[0]
	log("node: %s in %s connected=%v ready=%v desktop=%v mobile=%v since=%v", name("node", n.ID), name("mesh", n.MeshID),
		n.Connected(), n.Ready(), n.HasDesktop(), n.Mobile(), n.ConnectedAt > 0)

	start := time.Now()
	share, err := c.CreateDeviceShare(ctx, meshcentral.ShareRequest{NodeID: n.ID, Guest: "conformance", Protocol: meshcentral.ShareDesktop,
		Consent: 73, Minutes: 10, ViewOnly: true})
	log("share: %s %s sharing=%v guest=%q p=%d consent=%d view=%v expires=%s", describe(err), name("share", share.PublicID),
		strings.Contains(share.URL, "/sharing?c="), share.Guest, share.Protocol, share.Consent, share.ViewOnly,
		time.UnixMilli(share.ExpireTime).Sub(start).Round(time.Minute))
	_, err = c.CreateDeviceShare(ctx, meshcentral.ShareRequest{NodeID: "node//" + strings.Repeat("x", 64), Guest: "x", Protocol: meshcentral.ShareDesktop, Minutes: 10})
	log("share of an unknown device: %s", describe(err))

	shares, err := c.DeviceShares(ctx, n.ID)
	log("shares: %d %s", len(shares), describe(err))
	for _, s := range shares {
		log("listed share: %s same url=%v guest=%q p=%d consent=%d view=%v expires=%s", name("share", s.PublicID), s.URL == share.URL,
			s.Guest, s.Protocol, s.Consent, s.ViewOnly, time.UnixMilli(s.ExpireTime).Sub(start).Round(time.Minute))
	}
	_, err = c.DeviceShares(ctx, "node//"+strings.Repeat("x", 64))
	log("shares of an unknown device: %s", describe(err))

	removed, err := c.RemoveDeviceShare(ctx, n.ID, share.PublicID)
	log("remove share: %v %s", removed, describe(err))
	removed, err = c.RemoveDeviceShare(ctx, n.ID, share.PublicID)
	log("remove it again: %v %s", removed, describe(err))
	// A guest name's length is counted in UTF-16 units, as JavaScript
	// does: 64 emoji are 128, the most; 65 are too many.
	for _, emoji := range []int{64, 65} {
		sh, err := c.CreateDeviceShare(ctx, meshcentral.ShareRequest{NodeID: n.ID, Guest: strings.Repeat("\U0001F600", emoji),
			Protocol: meshcentral.ShareDesktop, Minutes: 10, ViewOnly: true})
		log("share for a guest of %d emoji: %s", emoji, describe(err))
		if err == nil {
			c.RemoveDeviceShare(ctx, n.ID, sh.PublicID)
		}
	}
	shares, err = c.DeviceShares(ctx, n.ID)
	log("shares after removal: %d %s", len(shares), describe(err))

	log("stop the agent: %s", describe(c.StopAgent(ctx, n.ID)))
	deadline := time.Now().Add(10 * time.Second)
	for {
		nodes, err = c.Nodes(ctx, a)
		if err != nil || len(nodes) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	log("nodes of a once the agent ended: %d %s", len(nodes), describe(err))
	log("stop an agent not connected: %s", describe(c.StopAgent(ctx, n.ID)))
	log("remove an unknown device: %s", describe(c.RemoveDevice(ctx, n.ID)))

	log("clear invite codes: %s", describe(c.ClearInviteCodes(ctx, a)))
	log("delete a: %s", describe(c.DeleteMesh(ctx, a)))
	log("delete a again: %s", describe(c.DeleteMesh(ctx, a)))
	log("delete an unknown group: %s", describe(c.DeleteMesh(ctx, "mesh//"+strings.Repeat("x", 64))))
	_, err = c.Nodes(ctx, a)
	log("nodes of deleted a: %s", describe(err))
	log("delete b: %s", describe(c.DeleteMesh(ctx, b)))

	// MeshCentral does not answer an edit of a group the account lost.
	log("clear the codes of deleted a: %s", describe(tg.quick.ClearInviteCodes(ctx, a)))
	return out
}

func TestFakeRunsTheConformanceSequence(t *testing.T) {
	got := conformance(t, fakeTarget(t))
	for _, line := range got {
		t.Log(line)
	}
	if len(got) < 30 {
		t.Fatalf("the sequence stopped early:\n%s", strings.Join(got, "\n"))
	}
}

// fakeTarget is the fake as a conformance target.
func fakeTarget(t *testing.T) target {
	fake := meshcentraltest.New(t)
	c, _ := newClient(t, fake, nil)
	quick, _ := newClient(t, fake, func(o *meshcentral.ClientOptions) { o.RequestTimeout = 300 * time.Millisecond })
	refusing, _ := newClient(t, fake, func(o *meshcentral.ClientOptions) { o.Password = "wrong" })
	return target{
		client: c, quick: quick, refusing: refusing, host: strings.TrimPrefix(fake.URL, "https://"),
		connect: func(t *testing.T, meshID string) {
			if _, err := fake.ConnectAgent(meshID, meshcentraltest.Agent{}); err != nil {
				t.Fatal(err)
			}
		},
	}
}
