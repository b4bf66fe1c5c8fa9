package meshcentral

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Consent bits of a device group or a device share: what the customer's
// device does when someone opens its desktop.
const (
	ConsentNotify  = 1  // show a notice that someone connected
	ConsentPrompt  = 8  // ask the customer, who may refuse
	ConsentToolbar = 64 // show a bar with which the customer can end it
)

// MeshFlagRemoveOnDisconnect is the device group flag that removes a
// device from the group when its agent disconnects.
const MeshFlagRemoveOnDisconnect = 1

// InviteFlagConnectOnly is the invitation flag that offers the customer an
// agent that connects while it runs and installs nothing.
const InviteFlagConnectOnly = 1

// ShareDesktop is the device share protocol of the remote desktop.
const ShareDesktop = 2

// Agent types MeshCentral reports for Android devices: they can be
// viewed, not controlled.
const (
	agentAndroidX86 = 12
	agentAndroid    = 14
)

// ErrInviteCodeInUse is returned by SetInviteCodes when another device
// group already has the code.
var ErrInviteCodeInUse = errors.New("meshcentral: invite code already in use")

// Mesh describes a device group to create.
type Mesh struct {
	// Name and Desc are shown to MeshCentral's users; the name also to
	// the customer, in the agent's window.
	Name string
	Desc string
	// Consent are the consent bits of the group's desktop sessions.
	Consent int
	// Flags are group flags such as MeshFlagRemoveOnDisconnect.
	Flags int
}

// CreateMesh creates an agent device group and returns its id
// ("mesh/<domain>/<random>"). The account becomes its administrator.
func (c *Client) CreateMesh(ctx context.Context, m Mesh) (string, error) {
	a, err := c.Call(ctx, Request{Command: map[string]any{
		"action": "createmesh", "meshname": m.Name, "meshtype": 2, "desc": m.Desc,
		"consent": m.Consent, "flags": m.Flags,
	}})
	if err != nil {
		return "", err
	}
	var r struct {
		MeshID string `json:"meshid"`
	}
	if err := a.Decode(&r); err != nil {
		return "", err
	}
	if !strings.HasPrefix(r.MeshID, "mesh/") {
		return "", fmt.Errorf("meshcentral createmesh: answer without a group id")
	}
	return r.MeshID, nil
}

// MeshesNamed returns the ids of the account's device groups called name.
func (c *Client) MeshesNamed(ctx context.Context, name string) ([]string, error) {
	// MeshCentral answers meshes without the responseid.
	a, err := c.Call(ctx, Request{Command: map[string]any{"action": "meshes"},
		Match: func(a Answer) bool { return a.Action == "meshes" }})
	if err != nil {
		return nil, err
	}
	var r struct {
		Meshes []struct {
			ID   string `json:"_id"`
			Name string `json:"name"`
		} `json:"meshes"`
	}
	if err := a.Decode(&r); err != nil {
		return nil, err
	}
	var out []string
	for _, m := range r.Meshes {
		if m.Name == name && strings.HasPrefix(m.ID, "mesh/") {
			out = append(out, m.ID)
		}
	}
	return out, nil
}

// SetInviteCodes sets the codes with which a customer reaches the group's
// agent download page (/invite), and what that page offers (flags). The
// server refuses a code that another live group has, not with an answer
// but with a notice; that is ErrInviteCodeInUse.
func (c *Client) SetInviteCodes(ctx context.Context, meshID string, codes []string, flags int) error {
	a, err := c.Call(ctx, Request{
		Command: map[string]any{"action": "editmesh", "meshid": meshID, "invite": map[string]any{"codes": codes, "flags": flags}},
		Match: func(a Answer) bool {
			if a.Action != "msg" {
				return false
			}
			var n struct {
				Type  string            `json:"type"`
				MsgID int               `json:"msgid"`
				Args  []json.RawMessage `json:"args"`
			}
			if a.Decode(&n) != nil || n.Type != "notify" || n.MsgID != 22 || len(n.Args) == 0 {
				return false
			}
			var code string
			json.Unmarshal(n.Args[0], &code)
			for _, c := range codes {
				if c == code {
					return true
				}
			}
			return false
		},
	})
	if err != nil {
		return err
	}
	if a.Action == "msg" {
		return ErrInviteCodeInUse
	}
	return nil
}

// ClearInviteCodes removes the group's invite codes: /invite no longer
// leads to it. The server does not answer for a group the account cannot
// edit (one already deleted), so that waits for RequestTimeout.
func (c *Client) ClearInviteCodes(ctx context.Context, meshID string) error {
	_, err := c.Call(ctx, Request{Command: map[string]any{"action": "editmesh", "meshid": meshID, "invite": "*"}})
	return err
}

// DeleteMesh deletes a device group and the devices in it. The server
// answers "Unknown device group" for a group it never had and
// "Access denied" for one already deleted.
func (c *Client) DeleteMesh(ctx context.Context, meshID string) error {
	_, err := c.Call(ctx, Request{Command: map[string]any{"action": "deletemesh", "meshid": meshID}})
	return err
}

// InviteLink is an agent invitation link.
type InviteLink struct {
	// URL is the link; Cookie is its encrypted part, the c parameter.
	URL    string `json:"url"`
	Cookie string `json:"cookie"`
	// Hours is the link's lifetime as the server recorded it.
	Hours int `json:"expire"`
}

// CreateInviteLink makes a link to the group's agent download page that
// needs no code. Its lifetime is counted in whole hours (0 is forever),
// and the server keeps honouring it after the group is deleted, so the
// provider does not hand it out.
func (c *Client) CreateInviteLink(ctx context.Context, meshID string, hours, flags int) (InviteLink, error) {
	a, err := c.Call(ctx, Request{Command: map[string]any{"action": "createInviteLink", "meshid": meshID, "expire": hours, "flags": flags}})
	if err != nil {
		return InviteLink{}, err
	}
	var l InviteLink
	if err := a.Decode(&l); err != nil {
		return InviteLink{}, err
	}
	if l.URL == "" {
		return InviteLink{}, errors.New("meshcentral createInviteLink: answer without a url")
	}
	return l, nil
}

// Node is a device as the nodes command lists it.
type Node struct {
	// ID is the device's id ("node/<domain>/<random>").
	ID string `json:"_id"`
	// MeshID is its group's id.
	MeshID string `json:"-"`
	// Name is the device's name, its host name by default.
	Name string `json:"name"`
	// Conn is the device's connectivity: bit 1 is its agent.
	Conn int `json:"conn"`
	// Agent is what the device's agent reported about itself.
	Agent struct {
		// ID is the agent's type (6 is Linux x86-64, 14 Android).
		ID int `json:"id"`
		// Caps are its capabilities: bit 1 is a desktop.
		Caps int `json:"caps"`
		// Core is the version of the agent's core, the code the server
		// sends it once it connects; "" until the core runs. Only then
		// does the agent report its desktop and obey its console.
		Core string `json:"core"`
	} `json:"agent"`
	// ConnectedAt is when the agent connected, in Unix milliseconds.
	ConnectedAt int64 `json:"agct"`
}

// Connected reports whether the device's agent is connected.
func (n Node) Connected() bool { return n.Conn&1 != 0 }

// Mobile reports whether the device runs MeshCentral's Android agent.
func (n Node) Mobile() bool { return n.Agent.ID == agentAndroid || n.Agent.ID == agentAndroidX86 }

// HasDesktop reports whether the agent offers a desktop to share.
func (n Node) HasDesktop() bool { return n.Agent.Caps&1 != 0 }

// Ready reports whether the agent's core runs: until then it reports no
// desktop and ignores its console.
func (n Node) Ready() bool { return n.Agent.Core != "" }

// Nodes lists the devices of a group. A group that is gone, or that the
// account may not see, is the server's "Invalid group id".
func (c *Client) Nodes(ctx context.Context, meshID string) ([]Node, error) {
	a, err := c.Call(ctx, Request{Command: map[string]any{"action": "nodes", "meshid": meshID}})
	if err != nil {
		return nil, err
	}
	var r struct {
		Nodes map[string][]Node `json:"nodes"`
	}
	if err := a.Decode(&r); err != nil {
		return nil, err
	}
	var out []Node
	for mesh, nodes := range r.Nodes {
		for _, n := range nodes {
			n.MeshID = mesh
			out = append(out, n)
		}
	}
	return out, nil
}

// ShareRequest describes a device share: a link with which someone
// without a MeshCentral account opens a device.
type ShareRequest struct {
	// NodeID is the device shared.
	NodeID string
	// Guest is the name the customer's device shows for the guest.
	Guest string
	// Protocol is what is shared: ShareDesktop.
	Protocol int
	// Consent are the consent bits the share asks for.
	Consent int
	// Minutes is the link's lifetime.
	Minutes int
	// ViewOnly makes the server refuse the guest's input.
	ViewOnly bool
}

// Share is a device share.
type Share struct {
	// PublicID identifies the share for RemoveDeviceShare.
	PublicID string `json:"publicid"`
	// URL is the link; the server lists it only to the account that
	// made the share.
	URL string `json:"url"`
	// Guest, Protocol, Consent and ViewOnly are as requested.
	Guest    string `json:"guestName"`
	Protocol int    `json:"p"`
	Consent  int    `json:"consent"`
	ViewOnly bool   `json:"viewOnly"`
	// ExpireTime is when the link stops working, in Unix milliseconds.
	ExpireTime int64 `json:"expireTime"`
}

// CreateDeviceShare creates a device share and returns its link, a
// sharing page that needs no account.
func (c *Client) CreateDeviceShare(ctx context.Context, r ShareRequest) (Share, error) {
	a, err := c.Call(ctx, Request{Command: map[string]any{
		"action": "createDeviceShareLink", "nodeid": r.NodeID, "guestname": r.Guest, "p": r.Protocol,
		"consent": r.Consent, "expire": r.Minutes, "viewOnly": r.ViewOnly,
	}})
	if err != nil {
		return Share{}, err
	}
	var s struct {
		PublicID string `json:"publicid"`
		URL      string `json:"url"`
		Guest    string `json:"guestname"`
		Protocol int    `json:"p"`
		Consent  int    `json:"consent"`
		ViewOnly bool   `json:"viewOnly"`
		Expire   int64  `json:"expire"` // the request's minutes, answered as a time
	}
	if err := a.Decode(&s); err != nil {
		return Share{}, err
	}
	if s.URL == "" || s.PublicID == "" {
		return Share{}, errors.New("meshcentral createDeviceShareLink: answer without a link")
	}
	return Share{PublicID: s.PublicID, URL: s.URL, Guest: s.Guest, Protocol: s.Protocol, Consent: s.Consent,
		ViewOnly: s.ViewOnly, ExpireTime: s.Expire}, nil
}

// DeviceShares lists a device's shares. The server answers it without the
// responseid, so the answer is recognised by the node it names.
func (c *Client) DeviceShares(ctx context.Context, nodeID string) ([]Share, error) {
	a, err := c.Call(ctx, Request{
		Command: map[string]any{"action": "deviceShares", "nodeid": nodeID},
		Match: func(a Answer) bool {
			if a.Action != "deviceShares" {
				return false
			}
			var r struct {
				NodeID string `json:"nodeid"`
			}
			return a.Decode(&r) == nil && r.NodeID == nodeID
		},
	})
	if err != nil {
		return nil, err
	}
	var r struct {
		Shares []Share `json:"deviceShares"`
	}
	if err := a.Decode(&r); err != nil {
		return nil, err
	}
	return r.Shares, nil
}

// RemoveDeviceShare removes a device share; it reports whether there was
// one with that id.
func (c *Client) RemoveDeviceShare(ctx context.Context, nodeID, publicID string) (bool, error) {
	a, err := c.Call(ctx, Request{Command: map[string]any{"action": "removeDeviceShare", "nodeid": nodeID, "publicid": publicID}})
	if err != nil {
		if IsResult(err, "Invalid device share identifier.") {
			return false, nil
		}
		return false, err
	}
	var r struct {
		Removed json.RawMessage `json:"removed"`
	}
	if err := a.Decode(&r); err != nil {
		return false, err
	}
	return len(r.Removed) > 0 && string(r.Removed) != "null", nil
}

// RemoveDevice removes a device from its group and disconnects its agent.
// The server answers "Denied" for a device it does not know.
func (c *Client) RemoveDevice(ctx context.Context, nodeID string) error {
	_, err := c.Call(ctx, Request{Command: map[string]any{"action": "removedevices", "nodeids": []string{nodeID}}})
	return err
}

// StopAgent asks a device's agent to end itself through its console. A
// connect-only agent (and any agent in a group that removes devices on
// disconnect) is then removed from its group. An installed agent is
// restarted by its service manager.
func (c *Client) StopAgent(ctx context.Context, nodeID string) error {
	_, err := c.Call(ctx, Request{Command: map[string]any{
		"action": "msg", "type": "console", "nodeid": nodeID, "value": "eval process.kill(process.pid)",
	}})
	return err
}
