package meshcentral_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/assistbot/assistbot/adapters/provider/meshcentral"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
)

// The integration test runs the real MeshCentral server, pinned, and its
// real Linux agent, on loopback.
const (
	envDir          = "ASSISTBOT_TEST_MESHCENTRAL_DIR"
	envCI           = "ASSISTBOT_CI"
	pinnedVersion   = "1.1.55"
	realUser        = "assistbot"
	realPassword    = "Assistbot-test-9f3c"
	linuxAgentX8664 = 6
)

func TestMain(m *testing.M) {
	code := m.Run()
	real.stop()
	os.Exit(code)
}

// real is the one MeshCentral server of this test binary, started by the
// first test that needs it and stopped by TestMain.
var real realServer

type realServer struct {
	once sync.Once
	env  *realEnv
	err  error
	skip string
}

// realEnv is a running server and the display its agents use.
type realEnv struct {
	dir     string // the installation: node_modules/meshcentral is in it
	data    string // the server's data and files, removed at the end
	url     string // https://127.0.0.1:port
	host    string
	caFile  string
	display string
	http    *http.Client
	server  *exec.Cmd
	xvfb    *exec.Cmd
	log     *os.File

	agentOnce sync.Once
	agentBin  []byte
	agentErr  error
}

// requireReal returns the running server, starting it on first use. A
// missing installation skips the test, or fails it under ASSISTBOT_CI=1.
func requireReal(t *testing.T) *realEnv {
	t.Helper()
	real.once.Do(func() { real.env, real.skip, real.err = startReal() })
	if real.skip != "" {
		if os.Getenv(envCI) == "1" {
			t.Fatal(real.skip)
		}
		t.Skip(real.skip)
	}
	if real.err != nil {
		t.Fatal(real.err)
	}
	return real.env
}

// startReal checks the prerequisites and starts Xvfb and the server with
// a fresh data directory on free ports, with the service account made.
func startReal() (env *realEnv, skip string, err error) {
	const how = "run .ci/meshcentral (it installs Xvfb, Node.js and MeshCentral " + pinnedVersion + ") and set " + envDir + " to the directory it prints last"
	dir := os.Getenv(envDir)
	if dir == "" {
		return nil, envDir + " is not set, so the real MeshCentral server is not tested: " + how, nil
	}
	pkg, err := os.ReadFile(filepath.Join(dir, "node_modules", "meshcentral", "package.json"))
	if err != nil {
		return nil, fmt.Sprintf("%s=%s holds no node_modules/meshcentral: %s", envDir, dir, how), nil
	}
	var meta struct{ Version string }
	if json.Unmarshal(pkg, &meta); meta.Version != pinnedVersion {
		return nil, fmt.Sprintf("%s holds MeshCentral %q, not the pinned %s: %s", dir, meta.Version, pinnedVersion, how), nil
	}
	for _, tool := range []string{"node", "Xvfb"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, tool + " is not on PATH: " + how, nil
		}
	}

	// started is what this start made, stopped if the start fails: env
	// itself is nil by then.
	started := &realEnv{dir: dir}
	env = started
	defer func() {
		if err != nil {
			started.stop()
		}
	}()
	if env.data, err = os.MkdirTemp("", "assistbot-meshcentral-"); err != nil {
		return nil, "", err
	}
	port, err := freePort()
	if err != nil {
		return nil, "", err
	}
	env.host = "127.0.0.1:" + strconv.Itoa(port)
	env.url = "https://" + env.host
	config := map[string]any{
		"settings": map[string]any{
			"cert": "127.0.0.1", "port": port, "portBind": "127.0.0.1", "redirPort": 0,
			"mpsPort": 0, "exactPorts": true, "WANonly": true,
			"selfUpdate": false, "agentTimeStampServer": false, "autoBackup": false,
			"filesPath": filepath.Join(env.data, "files"),
		},
		"domains": map[string]any{"": map[string]any{"newAccounts": false, "agentInviteCodes": true}},
	}
	b, _ := json.MarshalIndent(config, "", "  ")
	if err := os.WriteFile(filepath.Join(env.data, "config.json"), b, 0o600); err != nil {
		return nil, "", err
	}
	if env.log, err = os.Create(filepath.Join(env.data, "server.log")); err != nil {
		return nil, "", err
	}
	for _, args := range [][]string{
		{"--createaccount", realUser, "--pass", realPassword, "--email", realUser + "@example.com"},
		{"--adminaccount", realUser},
	} {
		cmd := env.node(args...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, "", fmt.Errorf("meshcentral %s: %v\n%s", args[0], err, out)
		}
	}

	if env.display, env.xvfb, err = startXvfb(); err != nil {
		return nil, "", err
	}
	env.server = env.node()
	env.server.Stdout, env.server.Stderr = env.log, env.log
	env.server.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := env.server.Start(); err != nil {
		return nil, "", fmt.Errorf("start meshcentral: %w", err)
	}
	exited := make(chan struct{})
	server := env.server
	go func() { server.Wait(); close(exited) }()

	// The server makes its certificates on first start; its root signs
	// the web certificate, so it is the CA file.
	env.caFile = filepath.Join(env.data, "root-cert-public.crt")
	// Its first start makes keys and certificates, which takes long on a
	// machine busy with the rest of the test suite.
	deadline := time.Now().Add(3 * time.Minute)
	for {
		select {
		case <-exited:
			return nil, "", fmt.Errorf("meshcentral exited while starting:\n%s", env.logTail())
		default:
		}
		if env.ready() {
			return env, "", nil
		}
		if time.Now().After(deadline) {
			return nil, "", fmt.Errorf("meshcentral did not answer on %s within 3 minutes:\n%s", env.host, env.logTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// node runs MeshCentral with args. The server gets a "false" for npm, so
// that nothing it does during a test can install from the network, and no
// proxy settings, which would make it want a module for them.
func (env *realEnv) node(args ...string) *exec.Cmd {
	npm, err := exec.LookPath("false")
	if err != nil {
		npm = "/bin/false"
	}
	all := append([]string{filepath.Join("node_modules", "meshcentral"), "--datapath", env.data, "--npmpath", npm}, args...)
	cmd := exec.Command("node", all...)
	cmd.Dir = env.dir
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !strings.Contains(strings.ToLower(k), "proxy") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	return cmd
}

// ready reports whether the server answers HTTPS with a certificate its
// own root signed.
func (env *realEnv) ready() bool {
	pem, err := os.ReadFile(env.caFile)
	if err != nil {
		return false
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return false
	}
	// A first answer can be slow on a machine busy with the rest of the
	// suite; a probe that gave up after a moment and asked again would
	// only queue more work on a server already behind (one run saw every
	// probe time out for three minutes after the server said it ran).
	c := &http.Client{
		Timeout:       30 * time.Second,
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, Proxy: nil},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	res, err := c.Get(env.url + "/")
	if err != nil {
		return false
	}
	res.Body.Close()
	env.http = c
	return true
}

func (env *realEnv) logTail() string {
	b, _ := os.ReadFile(filepath.Join(env.data, "server.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

func (r *realServer) stop() {
	if r.env != nil {
		r.env.stop()
	}
}

func (env *realEnv) stop() {
	for _, cmd := range []*exec.Cmd{env.server, env.xvfb} {
		if cmd != nil && cmd.Process != nil {
			// The server runs a child of its own: end the process group
			// this test started.
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	}
	if env.log != nil {
		env.log.Close()
	}
	if env.data != "" {
		os.RemoveAll(env.data)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startXvfb starts a virtual display and returns its name (":N").
func startXvfb() (string, *exec.Cmd, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return "", nil, err
	}
	defer r.Close()
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1024x768x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return "", nil, fmt.Errorf("start Xvfb: %w", err)
	}
	w.Close()
	go cmd.Wait()
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(r).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case n := <-line:
		if n == "" {
			return "", cmd, errors.New("Xvfb did not say which display it took")
		}
		return ":" + n, cmd, nil
	case <-time.After(30 * time.Second):
		return "", cmd, errors.New("Xvfb did not start within 30s")
	}
}

// agentBinary downloads the Linux x86-64 agent from the server, once.
func (env *realEnv) agentBinary(t *testing.T) []byte {
	t.Helper()
	env.agentOnce.Do(func() {
		env.agentBin, env.agentErr = env.get(fmt.Sprintf("/meshagents?id=%d", linuxAgentX8664))
	})
	if env.agentErr != nil {
		t.Fatal(env.agentErr)
	}
	return env.agentBin
}

func (env *realEnv) get(path string) ([]byte, error) {
	res, err := env.http.Get(env.url + path)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", path, res.Status)
	}
	return b, nil
}

// runningAgent is a customer's agent process.
type runningAgent struct {
	cmd    *exec.Cmd
	exited chan struct{}
	out    *coretest.Buffer
}

// runAgent runs "./meshagent connect" with the settings msh in a directory
// of its own, as an unprivileged user when the test runs as root, on the
// test's display. It is killed when the test ends, if it still runs.
func (env *realEnv) runAgent(t *testing.T, msh []byte) *runningAgent {
	t.Helper()
	dir, err := os.MkdirTemp("", "assistbot-agent-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.WriteFile(filepath.Join(dir, "meshagent"), env.agentBinary(t), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "meshagent.msh"), msh, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("./meshagent", "connect")
	cmd.Dir = dir
	cmd.Env = []string{"DISPLAY=" + env.display, "HOME=" + dir, "PATH=/usr/bin:/bin"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if os.Geteuid() == 0 {
		// The customer is no administrator.
		u, err := user.Lookup("nobody")
		if err != nil {
			t.Fatalf("running the agent unprivileged: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		for _, p := range []string{dir, filepath.Join(dir, "meshagent"), filepath.Join(dir, "meshagent.msh")} {
			if err := os.Chown(p, uid, gid); err != nil {
				t.Fatal(err)
			}
		}
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	a := &runningAgent{cmd: cmd, exited: make(chan struct{}), out: &coretest.Buffer{}}
	cmd.Stdout, cmd.Stderr = a.out, a.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the agent: %v", err)
	}
	go func() { cmd.Wait(); close(a.exited) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-a.exited
	})
	return a
}

func (a *runningAgent) waitExit(d time.Duration) bool {
	select {
	case <-a.exited:
		return true
	case <-time.After(d):
		return false
	}
}

var (
	meshIDInPage      = regexp.MustCompile(`var meshid = '([^']+)'`)
	installFlagsInPag = regexp.MustCompile(`var installFlags = '(\d+)'`)
)

// customerDownloads is what a customer does with the ticket's page: open
// it, submit the code it holds, and take the Linux agent and its settings
// from the page that follows. It returns the settings (.msh).
func (env *realEnv) customerDownloads(t *testing.T, tk core.Ticket) []byte {
	t.Helper()
	res, err := env.http.Get(tk.CustomerURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(page), `name="inviteCode"`) {
		t.Fatalf("customer page %s: %d, no code form", tk.CustomerURL, res.StatusCode)
	}
	to := postCode(t, env, tk.PIN)
	if !strings.Contains(to, "agentinvite?c=") {
		t.Fatalf("the code leads to %q, not the agent page", to)
	}
	u, _ := url.Parse(env.url)
	next, _ := u.Parse(to)
	invite, err := env.get(next.RequestURI())
	if err != nil {
		t.Fatal(err)
	}
	m := meshIDInPage.FindSubmatch(invite)
	f := installFlagsInPag.FindSubmatch(invite)
	if m == nil || f == nil {
		t.Fatalf("the agent page has no group or install flags")
	}
	if string(f[1]) != "1" {
		t.Errorf("the agent page offers install flags %s, want 1 (connect only)", f[1])
	}
	msh, err := env.get("/meshsettings?" + url.Values{"id": {string(m[1])}, "installflags": {"1"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(msh, []byte("InstallFlags=1")) {
		t.Errorf("the agent settings are not connect-only")
	}
	return msh
}

// postCode submits the /invite form and returns where it leads ("" when
// the code is refused).
func postCode(t *testing.T, env *realEnv, code string) string {
	t.Helper()
	res, err := env.http.PostForm(env.url+"/invite", url.Values{"inviteCode": {code}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.Header.Get("Location")
}

// TestRealCustomerToTechnician is a whole session on the real server: a
// PIN, the customer's agent joining, the technician's links, and the
// release that leaves nothing behind.
func TestRealCustomerToTechnician(t *testing.T) {
	env := requireReal(t)
	logs := &coretest.Buffer{}
	p, err := meshcentral.New(meshcentral.Options{
		URL: env.url, User: realUser, Password: realPassword, CAFile: env.caFile,
		PublicURL: "https://support.example.com", Digits: 8,
		// The first agent of a fresh server can take seconds to run its
		// core; Start waits for it, ending as soon as it reports.
		ReadyWait: 30 * time.Second,
		Logger:    slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	defer func() {
		if t.Failed() {
			t.Logf("provider log:\n%s\nserver log:\n%s", logs, env.logTail())
		}
	}()
	ctx := context.Background()

	req := request()
	tk, err := p.Issue(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if tk.CustomerURL != env.url+"/invite?c="+tk.PIN {
		t.Errorf("customer url %q", tk.CustomerURL)
	}
	s := session(req, tk, core.StateSent)
	var l liveSessions
	l.set(s)
	reports := watch(t, p, &l)
	msh := env.customerDownloads(t, tk)

	started := time.Now()
	agent := env.runAgent(t, msh)
	var r core.StatusReport
	select {
	case r = <-reports:
	case <-agent.exited:
		t.Fatalf("the agent exited:\n%s", agent.out)
	case <-time.After(30 * time.Second):
		t.Fatalf("no join within 30s of starting the agent; agent output:\n%s", agent.out)
	}
	t.Logf("agent process start to join report: %v", time.Since(started).Round(time.Millisecond))
	if r != (core.StatusReport{SessionID: req.SessionID, Action: core.ActionJoin, Device: core.DeviceDesktop}) {
		t.Fatalf("report = %+v, want the desktop join", r)
	}

	s.State = core.StateWaiting
	joined := time.Now()
	control, err := p.Start(ctx, s, core.ModeControl, "Tom Technician")
	if err != nil {
		t.Fatalf("%v; agent output:\n%s", err, agent.out)
	}
	t.Logf("join report to the technician's link: %v", time.Since(joined).Round(time.Millisecond))
	res, err := env.http.Get(control)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("the technician's link answers %s", res.Status)
	}
	view, err := p.Start(ctx, s, core.ModeView, "Tom Technician")
	if err != nil {
		t.Fatal(err)
	}
	// The join closed the invite: the PIN leads nowhere any more, while
	// the customer's agent, already in, stays (Start found it).
	waitFor(t, func() bool { return postCode(t, env, tk.PIN) == "" })

	// What the server holds: one device, two shares, the view-only one
	// marked so.
	c := p.Client()
	nodes, err := c.Nodes(ctx, tk.Ref)
	if err != nil || len(nodes) != 1 {
		t.Fatalf("nodes of the group: %+v, %v", nodes, err)
	}
	node := nodes[0]
	if !node.HasDesktop() || node.Mobile() {
		t.Errorf("the agent under Xvfb reports %+v, want a desktop", node.Agent)
	}
	shares, err := c.DeviceShares(ctx, node.ID)
	if err != nil {
		t.Fatal(err)
	}
	byURL := map[string]meshcentral.Share{}
	for _, sh := range shares {
		byURL[sh.URL] = sh
	}
	if sh, ok := byURL[view]; !ok || !sh.ViewOnly || sh.Guest != "Tom Technician" || sh.Consent != 73 {
		t.Errorf("the view share on the server: %+v (found %v), want view only", sh, ok)
	}
	if sh, ok := byURL[control]; !ok || sh.ViewOnly {
		t.Errorf("the control share on the server: %+v (found %v), want control", sh, ok)
	}

	s.State = core.StateEnded
	l.set()
	if err := p.Release(ctx, s); err != nil {
		t.Fatal(err)
	}
	if !agent.waitExit(10 * time.Second) {
		t.Error("the customer's agent still runs after the release")
	}
	if _, err := c.Nodes(ctx, tk.Ref); !meshcentral.IsResult(err, "Invalid group id") {
		t.Errorf("the group after the release: %v, want it gone", err)
	}
	if _, err := c.DeviceShares(ctx, node.ID); !meshcentral.IsResult(err, "Invalid node id") {
		t.Errorf("the device after the release: %v, want it gone", err)
	}
	if to := postCode(t, env, tk.PIN); to != "" {
		t.Errorf("the PIN still leads to %q", to)
	}
	if err := p.Release(ctx, s); err != nil {
		t.Errorf("a second release: %v", err)
	}
	if strings.Contains(logs.String(), tk.PIN) || strings.Contains(logs.String(), realPassword) {
		t.Errorf("the log holds the PIN or the password:\n%s", logs)
	}
}

// TestFakeMatchesRealServer runs the conformance sequence against the
// real server and the fake and compares what the client read.
func TestFakeMatchesRealServer(t *testing.T) {
	env := requireReal(t)
	client := func(edit func(*meshcentral.ClientOptions)) *meshcentral.Client {
		o := meshcentral.ClientOptions{URL: env.url, User: realUser, Password: realPassword, CAFile: env.caFile}
		if edit != nil {
			edit(&o)
		}
		c, err := meshcentral.NewClient(o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	var agent *runningAgent
	c := client(nil)
	tg := target{
		client:   c,
		quick:    client(func(o *meshcentral.ClientOptions) { o.RequestTimeout = 300 * time.Millisecond }),
		refusing: client(func(o *meshcentral.ClientOptions) { o.Password = "wrong" }),
		host:     env.host,
		connect: func(t *testing.T, meshID string) {
			id := meshID[strings.LastIndexByte(meshID, '/')+1:]
			msh, err := env.get("/meshsettings?" + url.Values{"id": {id}, "installflags": {"1"}}.Encode())
			if err != nil {
				t.Fatal(err)
			}
			agent = env.runAgent(t, msh)
			deadline := time.Now().Add(30 * time.Second)
			for {
				nodes, err := c.Nodes(context.Background(), meshID)
				if err == nil && len(nodes) == 1 && nodes[0].Connected() {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("the agent did not connect within 30s: %v; agent output:\n%s", err, agent.out)
				}
				time.Sleep(50 * time.Millisecond)
			}
		},
	}
	realLines := conformance(t, tg)
	if agent != nil && !agent.waitExit(10*time.Second) {
		t.Error("the agent still runs after it was asked to end")
	}
	fakeLines := conformance(t, fakeTarget(t))
	if diff := cmp.Diff(realLines, fakeLines); diff != "" {
		t.Errorf("the fake answers unlike MeshCentral %s (-real +fake):\n%s", pinnedVersion, diff)
	}

	// The real server's certificate is accepted by its pin as well.
	pinned := client(func(o *meshcentral.ClientOptions) { o.CAFile, o.CertSHA256 = "", env.fingerprint(t) })
	if _, err := pinned.Nodes(context.Background(), "mesh//x"); !meshcentral.IsResult(err, "Invalid group id") {
		t.Errorf("pinned connection: %v", err)
	}
}

// fingerprint is the SHA-256 of the server's web certificate, as openssl
// prints it.
func (env *realEnv) fingerprint(t *testing.T) string {
	conn, err := tls.Dial("tcp", env.host, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	raw := sha256.Sum256(conn.ConnectionState().PeerCertificates[0].Raw)
	sum := strings.ToUpper(hex.EncodeToString(raw[:]))
	var parts []string
	for i := 0; i < len(sum); i += 2 {
		parts = append(parts, sum[i:i+2])
	}
	return "sha256 Fingerprint=" + strings.Join(parts, ":")
}
