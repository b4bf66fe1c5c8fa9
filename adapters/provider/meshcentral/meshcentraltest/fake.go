// Package meshcentraltest is a fake MeshCentral server for tests: an
// httptest TLS server whose control.ashx speaks MeshCentral's JSON over a
// WebSocket as version 1.1.55 does, including its irregularities (answers
// without the responseid, a refusal sent as a notice, two answers to one
// command), checked against the real server by the provider's integration
// test. It keeps device groups, devices and device shares in memory, and
// lets a test connect and disconnect customer agents, take the server down
// and bring it back, and silence commands.
package meshcentraltest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"html"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/coder/websocket"
)

// The account the fake accepts.
const (
	User     = "assistbot"
	Password = "correct horse battery staple"
)

// Agent types, as MeshCentral numbers them.
const (
	AgentLinux   = 6
	AgentAndroid = 14
)

// reconnectDelay is how soon a running agent comes back after the server
// dropped it, as the real agent does within about 150 ms.
const reconnectDelay = 20 * time.Millisecond

// Config tunes a fake.
type Config struct {
	// Domain serves the account under /Domain/, as a MeshCentral domain.
	Domain string
}

// Agent describes a customer's agent.
type Agent struct {
	// Type is the agent type: AgentLinux (the default) or AgentAndroid.
	Type int
	// NoDesktop makes the agent report no desktop capability.
	NoDesktop bool
	// Stubborn makes the agent ignore the request to end itself.
	Stubborn bool
	// CoreDelay is how long after connecting the agent runs the core the
	// server sends it: until then, like the real agent for about a
	// second, it reports no desktop and ignores its console. 0 is 20ms; a
	// negative delay never loads it.
	CoreDelay time.Duration
	// DesktopDelay is how much later than its core the agent reports its
	// desktop, as the Linux agent does when it finds the display late.
	DesktopDelay time.Duration
	// Name is the device's name; "customer-pc" by default.
	Name string
}

// MeshInfo is what the fake holds about a device group.
type MeshInfo struct {
	// Name, Desc, Consent and Flags are as the group was made or edited.
	Name    string
	Desc    string
	Consent int
	Flags   int
	// InviteCodes and InviteFlags are the group's invitation, if any.
	InviteCodes []string
	InviteFlags int
	// Deleted is a group deleted (which MeshCentral keeps, marked).
	Deleted bool
	// Nodes are the ids of the devices in the group.
	Nodes []string
}

// ShareInfo is a device share.
type ShareInfo struct {
	// PublicID identifies the share; NodeID is the device shared.
	PublicID string
	NodeID   string
	// Guest, Protocol, Consent and ViewOnly are as requested.
	Guest    string
	Protocol int
	Consent  int
	ViewOnly bool
	// URL is the link, which works until Expire.
	URL    string
	Expire time.Time
}

// Server is a running fake. Its methods are safe for concurrent use.
type Server struct {
	// URL is the server's base URL, https://127.0.0.1:port, for
	// ClientOptions.URL.
	URL string

	srv    *httptest.Server
	domain string
	path   string // "" or "/domain"

	mu       sync.Mutex
	token    [2]string // a login token's user and password
	down     bool
	meshes   map[string]*mesh
	order    []string // mesh ids, oldest first
	nodes    map[string]*node
	agents   map[string]*agent // by node id, while the agent runs
	shares   map[string]*share
	invites  map[string]string // agentinvite token -> mesh id
	conns    map[*session]bool
	silent   map[string]bool
	commands []string
	logins   int
	closed   bool
	wg       sync.WaitGroup
}

type mesh struct {
	id, name, desc    string
	consent, flags    int
	invite            []string
	inviteFlags       int
	hasInvite         bool
	deleted, unlinked bool
	creation          int64
}

type node struct {
	id, meshid, name string
	typ, caps        int
	core             string
	connectedAt      int64
}

type agent struct {
	Agent
	nodeid, meshid string
}

type share struct {
	ShareInfo
	start int64
}

// session is one control socket. Its messages go out in the order they
// were sent, as on the real server's socket.
type session struct {
	ws  *websocket.Conn
	ctx context.Context
	out chan []byte
}

// send queues a message without waiting; a client too slow to take 4096
// of them is cut off.
func (s *session) send(v any) {
	b, _ := json.Marshal(v)
	select {
	case s.out <- b:
	default:
		s.ws.CloseNow()
	}
}

func (s *session) write() {
	for {
		select {
		case <-s.ctx.Done():
			return
		case b := <-s.out:
			wctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
			err := s.ws.Write(wctx, websocket.MessageText, b)
			cancel()
			if err != nil {
				return
			}
		}
	}
}

// New starts a fake in the default domain. It stops when the test ends.
func New(t testing.TB) *Server { return NewWithConfig(t, Config{}) }

// NewWithConfig starts a fake configured by c. It stops when the test
// ends.
func NewWithConfig(t testing.TB, c Config) *Server {
	s := &Server{
		domain:  strings.Trim(c.Domain, "/"),
		token:   [2]string{"~t:" + randomID(16), randomID(20)},
		meshes:  map[string]*mesh{},
		nodes:   map[string]*node{},
		agents:  map[string]*agent{},
		shares:  map[string]*share{},
		invites: map[string]string{},
		conns:   map[*session]bool{},
		silent:  map[string]bool{},
	}
	if s.domain != "" {
		s.path = "/" + s.domain
	}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	// A certificate of its own, unlike httptest's shared one, so that
	// two fakes do not trust each other.
	s.srv.TLS = &tls.Config{Certificates: []tls.Certificate{newCertificate(t)}}
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.srv.StartTLS()
	s.URL = s.srv.URL
	t.Cleanup(s.close)
	return s
}

func (s *Server) close() {
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.ws.CloseNow()
	}
	s.mu.Unlock()
	s.srv.Close()
	s.wg.Wait()
}

// LoginToken returns a login token the fake accepts, in the form
// ClientOptions.LoginToken takes.
func (s *Server) LoginToken() string { return s.token[0] + ":" + s.token[1] }

// CertSHA256 returns the SHA-256 fingerprint of the server's certificate,
// as openssl prints it.
func (s *Server) CertSHA256() string {
	sum := sha256.Sum256(s.srv.Certificate().Raw)
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var parts []string
	for i := 0; i < len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, ":")
}

// WriteCAFile writes the server's certificate, which signs itself, to a
// PEM file in a temporary directory and returns its path.
func (s *Server) WriteCAFile(t testing.TB) string {
	path := filepath.Join(t.TempDir(), "meshcentral-ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw})
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Client returns an HTTP client that trusts the server, for its pages.
func (s *Server) Client() *http.Client {
	c := s.srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// Down closes the control sockets and refuses new ones until Up; agents
// still come and go meanwhile, unseen by the control sockets.
func (s *Server) Down() {
	s.mu.Lock()
	s.down = true
	for c := range s.conns {
		c.ws.CloseNow()
	}
	s.mu.Unlock()
}

// Up accepts control sockets again.
func (s *Server) Up() {
	s.mu.Lock()
	s.down = false
	s.mu.Unlock()
}

// Connections returns how many control sockets are open.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Logins returns how many logins succeeded.
func (s *Server) Logins() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins
}

// Silence makes the fake receive the commands of action without ever
// answering them.
func (s *Server) Silence(action string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.silent[action] = true
}

// Commands returns the actions of the commands received, in order.
func (s *Server) Commands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.commands...)
}

// Mesh returns what the fake holds about a device group.
func (s *Server) Mesh(meshID string) (MeshInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.meshes[meshID]
	if m == nil {
		return MeshInfo{}, false
	}
	info := MeshInfo{Name: m.name, Desc: m.desc, Consent: m.consent, Flags: m.flags,
		InviteCodes: append([]string(nil), m.invite...), InviteFlags: m.inviteFlags, Deleted: m.deleted}
	for _, n := range s.nodes {
		if n.meshid == meshID {
			info.Nodes = append(info.Nodes, n.id)
		}
	}
	sort.Strings(info.Nodes)
	return info, true
}

// MeshCount returns how many device groups exist and are not deleted.
func (s *Server) MeshCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, m := range s.meshes {
		if !m.deleted {
			n++
		}
	}
	return n
}

// Shares returns the device shares of a device.
func (s *Server) Shares(nodeID string) []ShareInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ShareInfo
	for _, sh := range s.shares {
		if sh.NodeID == nodeID {
			out = append(out, sh.ShareInfo)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PublicID < out[j].PublicID })
	return out
}

// AgentRunning reports whether the agent of a device still runs.
func (s *Server) AgentRunning(nodeID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.agents[nodeID] != nil
}

// CoreRunning reports whether the agent of a device runs the core the
// server sent it, and so has reported what it can do.
func (s *Server) CoreRunning(nodeID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.nodes[nodeID]
	return n != nil && n.core != ""
}

// JoinWithCode is the customer typing code on the /invite page and
// running the connect-only agent it offers. It fails when no live group
// has the code.
func (s *Server) JoinWithCode(code string, a Agent) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.byCode(code)
	if m == nil {
		return "", fmt.Errorf("meshcentraltest: no device group has invite code %q", code)
	}
	return s.connectAgent(m, a), nil
}

// ConnectAgent runs an agent that holds the group's settings (its .msh),
// as an agent the customer kept would. Like the real server, the fake
// undeletes a deleted group when one of its agents connects.
func (s *Server) ConnectAgent(meshID string, a Agent) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.meshes[meshID]
	if m == nil {
		return "", fmt.Errorf("meshcentraltest: no device group %q", meshID)
	}
	return s.connectAgent(m, a), nil
}

// DisconnectAgent is the customer closing the agent.
func (s *Server) DisconnectAgent(nodeID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.agents, nodeID)
	s.agentGone(nodeID)
}

func (s *Server) byCode(code string) *mesh {
	for _, id := range s.order {
		m := s.meshes[id]
		if m.deleted || !m.hasInvite {
			continue
		}
		for _, c := range m.invite {
			if c == code {
				return m
			}
		}
	}
	return nil
}

func (s *Server) connectAgent(m *mesh, a Agent) string {
	if a.Type == 0 {
		a.Type = AgentLinux
	}
	if a.Name == "" {
		a.Name = "customer-pc"
	}
	id := "node/" + s.domain + "/" + randomID(64)
	s.agents[id] = &agent{Agent: a, nodeid: id, meshid: m.id}
	s.agentArrives(id)
	return id
}

// agentArrives adds the running agent's device and tells the sockets.
func (s *Server) agentArrives(nodeID string) {
	a := s.agents[nodeID]
	m := s.meshes[a.meshid]
	if m.deleted {
		// MeshCentral brings back a deleted group one of whose agents
		// connects, and gives its users their rights back.
		m.deleted, m.unlinked = false, false
		s.event(map[string]any{"etype": "mesh", "meshid": m.id, "name": m.name, "mtype": 2, "action": "createmesh", "msgid": 56, "msg": "Device group undeleted: " + m.id, "domain": s.domain})
	}
	// Console, JavaScript, temporary and compression, as the real agent
	// first reports.
	n := &node{id: nodeID, meshid: a.meshid, name: a.Name, typ: a.Type, caps: 8 | 16 | 32 | 256, connectedAt: time.Now().UnixMilli()}
	s.nodes[nodeID] = n
	s.event(map[string]any{"etype": "node", "action": "addnode", "node": s.nodeDoc(n, true), "domain": s.domain})
	s.event(map[string]any{"action": "nodeconnect", "meshid": n.meshid, "nodeid": n.id, "domain": s.domain, "conn": 1, "pwr": 1, "ct": n.connectedAt, "nolog": 1, "nopeers": 1})
	delay := a.CoreDelay
	if delay == 0 {
		delay = 20 * time.Millisecond
	}
	if delay < 0 {
		return
	}
	time.AfterFunc(delay, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed || s.nodes[nodeID] != n || s.agents[nodeID] != a {
			return
		}
		// The core runs: the agent reports what it can do.
		n.caps, n.core = 2|4|8|16, "fake core"
		if a.DesktopDelay == 0 && !a.NoDesktop {
			n.caps |= 1
		}
		s.event(map[string]any{"etype": "node", "action": "changenode", "nodeid": n.id, "domain": s.domain, "node": s.nodeDoc(n, true)})
		if a.DesktopDelay > 0 && !a.NoDesktop {
			time.AfterFunc(a.DesktopDelay, func() {
				s.mu.Lock()
				defer s.mu.Unlock()
				if s.closed || s.nodes[nodeID] != n {
					return
				}
				n.caps |= 1
				s.event(map[string]any{"etype": "node", "action": "changenode", "nodeid": n.id, "domain": s.domain, "node": s.nodeDoc(n, true)})
			})
		}
	})
}

// agentGone is a device's agent disconnecting: the device goes with it,
// since the fake's agents connect only.
func (s *Server) agentGone(nodeID string) {
	n := s.nodes[nodeID]
	if n == nil {
		return
	}
	delete(s.nodes, nodeID)
	s.event(map[string]any{"action": "nodeconnect", "meshid": n.meshid, "nodeid": n.id, "domain": s.domain, "conn": 0, "pwr": 0, "nolog": 1, "nopeers": 1})
	s.event(map[string]any{"etype": "node", "action": "removenode", "nodeid": n.id, "domain": s.domain, "nolog": 1})
	s.dropShares(nodeID)
}

func (s *Server) dropShares(nodeID string) {
	for id, sh := range s.shares {
		if sh.NodeID == nodeID {
			delete(s.shares, id)
		}
	}
}

// event pushes an event to every control socket.
func (s *Server) event(e map[string]any) {
	msg := map[string]any{"action": "event", "event": e}
	for c := range s.conns {
		c.send(msg)
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimPrefix(r.URL.Path, s.path)
	if s.path != "" && p == r.URL.Path {
		http.NotFound(w, r)
		return
	}
	switch p {
	case "/control.ashx":
		s.control(w, r)
	case "/invite":
		s.invitePage(w, r)
	case "/agentinvite":
		s.agentInvitePage(w, r)
	case "/sharing":
		s.sharingPage(w, r)
	default:
		http.NotFound(w, r)
	}
}

// control is control.ashx: the login, then commands until the socket
// closes.
func (s *Server) control(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	down := s.down || s.closed
	s.mu.Unlock()
	if down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	ws.SetReadLimit(1 << 20)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	c := &session{ws: ws, ctx: ctx, out: make(chan []byte, 4096)}
	user, ok := s.login(r.Header.Get("x-meshauth"))
	if !ok {
		b, _ := json.Marshal(map[string]any{"action": "close", "cause": "noauth", "msg": "noauth-2d"})
		ws.Write(ctx, websocket.MessageText, b)
		ws.Close(websocket.StatusNormalClosure, "")
		return
	}
	go c.write()
	s.mu.Lock()
	if s.down || s.closed {
		s.mu.Unlock()
		ws.CloseNow()
		return
	}
	s.logins++
	s.conns[c] = true
	s.wg.Add(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		ws.CloseNow()
		s.wg.Done()
	}()
	c.send(map[string]any{"action": "serverinfo", "serverinfo": map[string]any{"domain": s.domain, "name": "127.0.0.1"}})
	c.send(map[string]any{"action": "userinfo", "userinfo": map[string]any{"_id": "user/" + s.domain + "/" + user, "name": user, "siteadmin": 4294967295}})
	c.send(map[string]any{"action": "traceinfo", "traceSources": nil})
	for {
		typ, data, err := ws.Read(ctx)
		if err != nil {
			return
		}
		if typ != websocket.MessageText {
			continue
		}
		var cmd map[string]any
		if json.Unmarshal(data, &cmd) != nil {
			continue
		}
		s.command(c, cmd)
	}
}

// login checks the x-meshauth header: base64 user, base64 password.
func (s *Server) login(h string) (string, bool) {
	parts := strings.Split(h, ",")
	if len(parts) < 2 || len(parts) > 3 {
		return "", false
	}
	var v []string
	for _, p := range parts[:2] {
		b, err := base64.StdEncoding.DecodeString(p)
		if err != nil {
			return "", false
		}
		v = append(v, string(b))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case v[0] == User && v[1] == Password:
		return User, true
	case v[0] == s.token[0] && v[1] == s.token[1]:
		return User, true
	}
	return "", false
}

// command answers one command as MeshCentral 1.1.55 does.
func (s *Server) command(c *session, cmd map[string]any) {
	action, _ := cmd["action"].(string)
	rid := cmd["responseid"]
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commands = append(s.commands, action)
	if s.silent[action] {
		return
	}
	answer := func(v map[string]any) {
		if rid != nil {
			v["responseid"] = rid
		}
		c.send(v)
	}
	refuse := func(as, result string) {
		if rid != nil {
			c.send(map[string]any{"action": as, "responseid": rid, "result": result})
		}
	}
	str := func(k string) string { v, _ := cmd[k].(string); return v }
	num := func(k string) (int, bool) { v, ok := cmd[k].(float64); return int(v), ok }

	switch action {
	case "createmesh":
		name := str("meshname")
		if n := len(name); n < 1 || n > 128 {
			refuse(action, "Invalid group name")
			return
		}
		if t, _ := num("meshtype"); t != 2 {
			refuse(action, "Invalid group type")
			return
		}
		m := &mesh{id: "mesh/" + s.domain + "/" + randomID(64), name: name, desc: str("desc"), creation: time.Now().UnixMilli()}
		m.consent, _ = num("consent")
		m.flags, _ = num("flags")
		s.meshes[m.id] = m
		s.order = append(s.order, m.id)
		links := map[string]any{"user/" + s.domain + "/" + User: map[string]any{"name": User, "rights": 4294967295}}
		s.event(map[string]any{"etype": "user", "action": "accountchange", "domain": s.domain, "nolog": 1})
		s.event(map[string]any{"etype": "mesh", "meshid": m.id, "mtype": 2, "action": "createmesh", "domain": s.domain, "msgid": 76})
		answer(map[string]any{"action": action, "result": "ok", "meshid": m.id, "links": links})

	case "editmesh":
		m := s.meshes[str("meshid")]
		if m == nil {
			refuse(action, "Invalid group identifier ")
			return
		}
		if m.deleted || m.unlinked {
			return // no rights on it: MeshCentral says nothing
		}
		if v, ok := num("consent"); ok {
			m.consent = v
		}
		if v, ok := num("flags"); ok {
			m.flags = v
		}
		switch inv := cmd["invite"].(type) {
		case string:
			if inv == "*" {
				m.invite, m.hasInvite, m.inviteFlags = nil, false, 0
			}
		case map[string]any:
			codes, _ := inv["codes"].([]any)
			flags, ok := inv["flags"].(float64)
			if codes == nil || !ok {
				break
			}
			var list []string
			for _, x := range codes {
				code, _ := x.(string)
				for _, other := range s.meshes {
					if other != m && !other.deleted && other.hasInvite && contains(other.invite, code) {
						c.send(map[string]any{"action": "msg", "type": "notify", "id": 0.5, "value": "Error, invite code \"" + code + "\" already in use.",
							"title": "Invite Codes", "userid": "user/" + s.domain + "/" + User, "username": User, "tag": nil, "titleid": 6, "msgid": 22, "args": []any{code}})
						return
					}
				}
				list = append(list, code)
			}
			m.invite, m.hasInvite, m.inviteFlags = list, true, int(flags)
		}
		s.event(map[string]any{"etype": "mesh", "meshid": m.id, "action": "meshchange", "domain": s.domain, "msgid": 142})
		answer(map[string]any{"action": action, "result": "ok"})

	case "deletemesh":
		m := s.meshes[str("meshid")]
		switch {
		case m == nil:
			refuse(action, "Unknown device group")
			return
		case m.deleted || m.unlinked:
			refuse(action, "Access denied")
			return
		}
		s.event(map[string]any{"etype": "mesh", "meshid": m.id, "action": "deletemesh", "domain": s.domain, "msgid": 77})
		m.deleted, m.unlinked = true, true
		m.invite, m.hasInvite = nil, false
		// The device records go; agents still connected stay connected.
		for id, n := range s.nodes {
			if n.meshid == m.id {
				delete(s.nodes, id)
			}
		}
		answer(map[string]any{"action": action, "result": "ok"})

	case "createInviteLink":
		m := s.meshes[str("meshid")]
		hours, ok1 := num("expire")
		flags, ok2 := num("flags")
		ok2 = ok2 && flags >= 0 && flags <= 256
		switch {
		case !ok1 || hours < 0:
			refuse(action, "Invalid expire time")
			return
		case !ok2:
			refuse(action, "Invalid flags")
			return
		case m == nil || m.unlinked:
			refuse(action, "Invalid group id")
			return
		}
		cookie := randomID(120)
		s.invites[cookie] = m.id
		url := "https://127.0.0.1:" + s.port() + s.path + "/agentinvite?c=" + cookie
		answer(map[string]any{"action": action, "meshid": m.id, "url": url, "expire": hours, "cookie": cookie, "tag": cmd["tag"]})

	case "nodes":
		id := str("meshid")
		m := s.meshes[id]
		if m == nil || m.deleted || m.unlinked {
			refuse(action, "Invalid group id")
			return
		}
		list := []any{}
		var ids []string
		for nid, n := range s.nodes {
			if n.meshid == id {
				ids = append(ids, nid)
			}
		}
		sort.Strings(ids)
		for _, nid := range ids {
			list = append(list, s.nodeDoc(s.nodes[nid], false))
		}
		nodes := map[string]any{}
		if len(list) > 0 {
			nodes[id] = list
		}
		answer(map[string]any{"action": action, "nodes": nodes, "tag": cmd["tag"]})

	case "meshes":
		var list []any
		for _, id := range s.order {
			m := s.meshes[id]
			if m.deleted || m.unlinked {
				continue
			}
			doc := map[string]any{"type": "mesh", "_id": m.id, "name": m.name, "mtype": 2, "desc": m.desc, "domain": s.domain, "consent": m.consent, "creation": m.creation}
			if m.hasInvite {
				doc["invite"] = map[string]any{"codes": m.invite, "flags": m.inviteFlags}
			}
			list = append(list, doc)
		}
		c.send(map[string]any{"action": "meshes", "meshes": list, "tag": cmd["tag"]})

	case "createDeviceShareLink":
		guest := str("guestname")
		p, okP := num("p")
		consent, okC := num("consent")
		minutes, okE := num("expire")
		switch {
		case guest == "" || len(utf16.Encode([]rune(guest))) > 128: // JavaScript's length
			refuse(action, "Invalid guest name")
			return
		case !okC || consent < 0 || consent > 256:
			refuse(action, "Invalid flags")
			return
		case !okP || p < 1 || p > 31:
			refuse(action, "Invalid protocol")
			return
		case !okE:
			refuse(action, "No time specified")
			return
		}
		n := s.nodes[str("nodeid")]
		if n == nil {
			refuse("deviceShares", "Invalid node id")
			return
		}
		start := time.Now().UnixMilli()
		expire := start + int64(minutes)*60000
		pub := randomID(12)
		url := "https://127.0.0.1:" + s.port() + s.path + "/sharing?c=" + randomID(100)
		viewOnly, _ := cmd["viewOnly"].(bool)
		s.shares[pub] = &share{ShareInfo: ShareInfo{PublicID: pub, NodeID: n.id, Guest: guest, Protocol: p, Consent: consent,
			ViewOnly: viewOnly, URL: url, Expire: time.UnixMilli(expire)}, start: start}
		out := map[string]any{}
		for k, v := range cmd {
			out[k] = v
		}
		out["start"], out["expire"], out["url"], out["publicid"] = start, expire, url, pub
		if rid != nil {
			out["result"] = "OK"
		}
		c.send(out)
		s.event(map[string]any{"etype": "node", "meshid": n.meshid, "nodeid": n.id, "action": "addedDeviceShare", "msgid": 101, "domain": s.domain})

	case "deviceShares":
		n := s.nodes[str("nodeid")]
		if n == nil {
			refuse("deviceShares", "Invalid node id")
			return
		}
		c.send(map[string]any{"action": "deviceShares", "nodeid": n.id, "deviceShares": s.shareDocs(n.id)})

	case "removeDeviceShare":
		n := s.nodes[str("nodeid")]
		if n == nil {
			refuse("deviceShares", "Invalid node id")
			return
		}
		pub := str("publicid")
		var removed any
		if sh := s.shares[pub]; sh != nil && sh.NodeID == n.id {
			removed = shareDoc(sh)
			delete(s.shares, pub)
		}
		answer(map[string]any{"action": action, "nodeid": n.id, "publicid": pub, "removed": removed})
		if removed != nil {
			answer(map[string]any{"action": action, "result": "OK"})
		} else {
			answer(map[string]any{"action": action, "result": "Invalid device share identifier."})
		}

	case "removedevices":
		ids, _ := cmd["nodeids"].([]any)
		for _, x := range ids {
			id, _ := x.(string)
			n := s.nodes[id]
			if n == nil {
				refuse(action, "Denied")
				continue
			}
			s.event(map[string]any{"etype": "node", "action": "removenode", "nodeid": n.id, "msgid": 87, "domain": s.domain})
			s.agentGone(id)
			if s.agents[id] != nil {
				// The agent is still running: it connects again and is
				// added again.
				s.later(func() {
					if s.agents[id] != nil && s.nodes[id] == nil {
						s.agentArrives(id)
					}
				})
			}
			answer(map[string]any{"action": action, "result": "ok"})
		}

	case "msg":
		id := str("nodeid")
		a := s.agents[id]
		if str("type") != "console" || a == nil || s.nodes[id] == nil {
			refuse(action, "Unable to route")
			return
		}
		answer(map[string]any{"action": action, "result": "OK", "tag": cmd["tag"]})
		s.event(map[string]any{"etype": "node", "action": "agentlog", "nodeid": id, "domain": s.domain, "msg": "Processing console command: " + str("value"), "msgid": 17})
		// Until its core runs, the agent has no console to obey.
		if strings.TrimSpace(str("value")) == "eval process.kill(process.pid)" && !a.Stubborn && s.nodes[id].core != "" {
			delete(s.agents, id)
			s.later(func() { s.agentGone(id) })
		}
	}
}

// later runs f under the lock after the agents' reconnect delay.
func (s *Server) later(f func()) {
	time.AfterFunc(reconnectDelay, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.closed {
			f()
		}
	})
}

func (s *Server) nodeDoc(n *node, withMesh bool) map[string]any {
	ag := map[string]any{"ver": 0, "id": n.typ, "caps": n.caps}
	if n.core != "" {
		ag["core"], ag["root"] = n.core, false
	}
	doc := map[string]any{"type": "node", "mtype": 2, "_id": n.id, "icon": 1, "name": n.name, "rname": n.name, "domain": s.domain,
		"agent": ag, "host": nil, "firstconnect": n.connectedAt, "ip": "127.0.0.1", "osdesc": "Fake OS"}
	if withMesh {
		doc["meshid"] = n.meshid
	} else if s.agents[n.id] != nil {
		doc["conn"], doc["pwr"], doc["agct"] = 1, 1, n.connectedAt
	}
	return doc
}

func (s *Server) shareDocs(nodeID string) []any {
	var ids []string
	for id, sh := range s.shares {
		if sh.NodeID == nodeID {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	out := []any{}
	for _, id := range ids {
		out = append(out, shareDoc(s.shares[id]))
	}
	return out
}

func shareDoc(sh *share) map[string]any {
	doc := map[string]any{"p": sh.Protocol, "publicid": sh.PublicID, "userid": "user//" + User, "guestName": sh.Guest,
		"consent": sh.Consent, "url": sh.URL, "startTime": sh.start, "expireTime": sh.Expire.UnixMilli()}
	if sh.ViewOnly {
		doc["viewOnly"] = true
	}
	return doc
}

func (s *Server) port() string {
	i := strings.LastIndexByte(s.URL, ':')
	return s.URL[i+1:]
}

// invitePage is /invite: a form for the code, which it may hold already
// (?c=); a known code leads to the group's agent page.
func (s *Server) invitePage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if r.Method == http.MethodPost {
		r.ParseForm()
		code := r.PostForm.Get("inviteCode")
		s.mu.Lock()
		m := s.byCode(code)
		var token string
		if m != nil {
			token = randomID(120)
			s.invites[token] = m.id
		}
		s.mu.Unlock()
		if m != nil {
			http.Redirect(w, r, s.path+"/agentinvite?c="+token, http.StatusFound)
			return
		}
		fmt.Fprint(w, `<html><body><p>Bad invitation code.</p><form method=post><input id="inviteCode" name="inviteCode"></form></body></html>`)
		return
	}
	fmt.Fprintf(w, `<html><body><form method=post><input id="inviteCode" name="inviteCode" value="%s"></form></body></html>`, html.EscapeString(r.URL.Query().Get("c")))
}

// agentInvitePage is /agentinvite: the agent downloads of a group.
func (s *Server) agentInvitePage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	id := s.invites[r.URL.Query().Get("c")]
	m := s.meshes[id]
	s.mu.Unlock()
	if m == nil {
		http.NotFound(w, r)
		return
	}
	fmt.Fprintf(w, "<html><body>Agents for %s, connect only.</body></html>", html.EscapeString(m.name))
}

// sharingPage is /sharing: a device share's page while the share lives.
func (s *Server) sharingPage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sh := range s.shares {
		if strings.HasSuffix(sh.URL, "/sharing?"+r.URL.RawQuery) && time.Now().Before(sh.Expire) {
			fmt.Fprint(w, "<html><body>Remote desktop</body></html>")
			return
		}
	}
	http.NotFound(w, r)
}

// newCertificate makes a self-signed certificate for 127.0.0.1 and
// localhost, as MeshCentral makes its own.
func newCertificate(t testing.TB) tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// randomID returns n characters of MeshCentral's id alphabet: base64
// with @ for + and $ for /.
func randomID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	s := base64.StdEncoding.EncodeToString(b)[:n]
	return strings.NewReplacer("+", "@", "/", "$").Replace(s)
}
