package meshcentral_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/provider/meshcentral"
	"github.com/assistbot/assistbot/adapters/provider/meshcentral/meshcentraltest"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
)

// newClient returns a client of fake that trusts it by its pin; edit
// adjusts the options first.
func newClient(t *testing.T, fake *meshcentraltest.Server, edit func(*meshcentral.ClientOptions)) (*meshcentral.Client, *coretest.Buffer) {
	t.Helper()
	logs := &coretest.Buffer{}
	o := meshcentral.ClientOptions{
		URL:        fake.URL,
		User:       meshcentraltest.User,
		Password:   meshcentraltest.Password,
		CertSHA256: fake.CertSHA256(),
		Backoff:    10 * time.Millisecond,
		MaxBackoff: 50 * time.Millisecond,
		Logger:     slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if edit != nil {
		edit(&o)
	}
	c, err := meshcentral.NewClient(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, logs
}

func TestConcurrentCallsGetTheirOwnAnswers(t *testing.T) {
	fake := meshcentraltest.New(t)
	c, _ := newClient(t, fake, nil)
	ctx := context.Background()
	const n = 20
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			id, err := c.CreateMesh(ctx, meshcentral.Mesh{Name: fmt.Sprintf("group %d", i)})
			if err != nil {
				t.Errorf("CreateMesh %d: %v", i, err)
			}
			ids[i] = id
		})
	}
	wg.Wait()
	for i, id := range ids {
		m, ok := fake.Mesh(id)
		if !ok || m.Name != fmt.Sprintf("group %d", i) {
			t.Errorf("call %d got group %q, which is %+v", i, id, m)
		}
	}
	if fake.Logins() != 1 {
		t.Errorf("%d logins for %d calls; the connection is shared", fake.Logins(), n)
	}
}

// TestAnswersWithoutResponseID covers the commands MeshCentral answers
// without the responseid: the answer is still the call's.
func TestAnswersWithoutResponseID(t *testing.T) {
	fake := meshcentraltest.New(t)
	c, _ := newClient(t, fake, nil)
	ctx := context.Background()
	mesh, err := c.CreateMesh(ctx, meshcentral.Mesh{Name: "g"})
	if err != nil {
		t.Fatal(err)
	}
	node, err := fake.ConnectAgent(mesh, meshcentraltest.Agent{})
	if err != nil {
		t.Fatal(err)
	}
	share, err := c.CreateDeviceShare(ctx, meshcentral.ShareRequest{NodeID: node, Guest: "tom", Protocol: meshcentral.ShareDesktop, Minutes: 5, ViewOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	shares, err := c.DeviceShares(ctx, node)
	if err != nil {
		t.Fatal(err)
	}
	if len(shares) != 1 || shares[0].PublicID != share.PublicID || !shares[0].ViewOnly || shares[0].Guest != "tom" {
		t.Errorf("DeviceShares = %+v, want the view-only share %s", shares, share.PublicID)
	}

	// The second answer removeDeviceShare sends is not mistaken for the
	// answer of the next call.
	removed, err := c.RemoveDeviceShare(ctx, node, share.PublicID)
	if err != nil || !removed {
		t.Fatalf("RemoveDeviceShare = %v, %v", removed, err)
	}
	if shares, err := c.DeviceShares(ctx, node); err != nil || len(shares) != 0 {
		t.Errorf("after removal DeviceShares = %+v, %v", shares, err)
	}
	removed, err = c.RemoveDeviceShare(ctx, node, share.PublicID)
	if err != nil || removed {
		t.Errorf("removing it again = %v, %v; want false, nil", removed, err)
	}
}

func TestTakenInviteCode(t *testing.T) {
	fake := meshcentraltest.New(t)
	c, _ := newClient(t, fake, nil)
	ctx := context.Background()
	a, _ := c.CreateMesh(ctx, meshcentral.Mesh{Name: "a"})
	b, _ := c.CreateMesh(ctx, meshcentral.Mesh{Name: "b"})
	if err := c.SetInviteCodes(ctx, a, []string{"123456"}, 1); err != nil {
		t.Fatal(err)
	}
	if err := c.SetInviteCodes(ctx, b, []string{"123456"}, 1); err != meshcentral.ErrInviteCodeInUse {
		t.Fatalf("second group's code: %v, want ErrInviteCodeInUse", err)
	}
	if err := c.SetInviteCodes(ctx, b, []string{"654321"}, 1); err != nil {
		t.Fatalf("another code: %v", err)
	}
	if m, _ := fake.Mesh(b); len(m.InviteCodes) != 1 || m.InviteCodes[0] != "654321" {
		t.Errorf("group b has codes %v", m.InviteCodes)
	}
}

func TestRefusalIsAServerError(t *testing.T) {
	fake := meshcentraltest.New(t)
	c, _ := newClient(t, fake, nil)
	_, err := c.Nodes(context.Background(), "mesh//nope")
	if !meshcentral.IsResult(err, "Invalid group id") {
		t.Fatalf("Nodes of an unknown group: %v", err)
	}
}

func TestUnansweredCommandTimesOut(t *testing.T) {
	fake := meshcentraltest.New(t)
	fake.Silence("nodes")
	c, _ := newClient(t, fake, func(o *meshcentral.ClientOptions) { o.RequestTimeout = 100 * time.Millisecond })
	ctx := context.Background()
	_, err := c.Nodes(ctx, "mesh//x")
	if core.ErrorCode(err) != core.CodeUnavailable || !strings.Contains(core.ErrorMessage(err), "did not answer in time") {
		t.Fatalf("unanswered command: %v", err)
	}
	// The connection still serves the next command.
	if _, err := c.CreateMesh(ctx, meshcentral.Mesh{Name: "g"}); err != nil {
		t.Errorf("next command: %v", err)
	}
	if fake.Logins() != 1 {
		t.Errorf("%d logins: a timeout should not drop the connection", fake.Logins())
	}
}

// TestCallWaitingForAConnection: a command sent while the watch is still
// opening the connection, slowly, answers once RequestTimeout is up (the
// agent hears back within it), and leaves that connection alone: the
// next command uses it, on the one login.
func TestCallWaitingForAConnection(t *testing.T) {
	fake := meshcentraltest.New(t)
	var dials atomic.Int32
	c, _ := newClient(t, fake, func(o *meshcentral.ClientOptions) {
		o.RequestTimeout = 300 * time.Millisecond
		o.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			if dials.Add(1) == 1 {
				time.Sleep(time.Second)
			}
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	connected := make(chan struct{}, 1)
	go c.Listen(ctx, func(context.Context) { connected <- struct{}{} }, func(context.Context, meshcentral.Push) {})
	for dials.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	_, err := c.Nodes(ctx, "mesh//x")
	if core.ErrorCode(err) != core.CodeUnavailable || !strings.Contains(core.ErrorMessage(err), "did not answer in time") {
		t.Errorf("a command behind a slow connection: %v", err)
	}
	select {
	case <-connected:
		t.Error("the command waited for the connection beyond its RequestTimeout")
	default:
	}
	<-connected
	if _, err := c.CreateMesh(ctx, meshcentral.Mesh{Name: "g"}); err != nil {
		t.Errorf("the next command: %v", err)
	}
	if n := fake.Logins(); n != 1 {
		t.Errorf("%d logins: the late command closed the connection it found", n)
	}
}

func TestEventsReachListeners(t *testing.T) {
	fake := meshcentraltest.New(t)
	c, _ := newClient(t, fake, nil)
	mesh, err := c.CreateMesh(context.Background(), meshcentral.Mesh{Name: "g"})
	if err != nil {
		t.Fatal(err)
	}
	connected := make(chan struct{}, 4)
	events := make(chan meshcentral.Event, 64)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Listen(ctx, func(context.Context) { connected <- struct{}{} }, func(_ context.Context, p meshcentral.Push) {
			if p.Action == "event" {
				events <- p.Event
			}
		})
	}()
	defer func() { cancel(); <-done }()
	<-connected // the connection CreateMesh opened counts
	node, _ := fake.ConnectAgent(mesh, meshcentraltest.Agent{})
	for e := range events {
		if e.Action == "nodeconnect" {
			if e.MeshID != mesh || e.NodeID != node || e.Conn&1 == 0 {
				t.Errorf("nodeconnect = %+v, want the agent of %s connected", e, mesh)
			}
			break
		}
	}
}

func TestListenReconnects(t *testing.T) {
	fake := meshcentraltest.New(t)
	c, logs := newClient(t, fake, nil)
	connected := make(chan struct{}, 8)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Listen(ctx, func(context.Context) { connected <- struct{}{} }, nil)
	}()
	defer func() { cancel(); <-done }()
	<-connected
	fake.Down()
	// While down, commands fail at once with a message for the user.
	_, err := c.Nodes(context.Background(), "mesh//x")
	if core.ErrorCode(err) != core.CodeUnavailable {
		t.Errorf("while down: %v", err)
	}
	fake.Up()
	<-connected
	if _, err := c.CreateMesh(context.Background(), meshcentral.Mesh{Name: "after"}); err != nil {
		t.Errorf("after reconnecting: %v", err)
	}
	if !strings.Contains(logs.String(), "control connection lost") {
		t.Errorf("the loss was not logged:\n%s", logs)
	}
	if strings.Contains(logs.String(), meshcentraltest.Password) {
		t.Errorf("the log holds the password:\n%s", logs)
	}
}

func TestLoginRefused(t *testing.T) {
	fake := meshcentraltest.New(t)
	for _, tc := range []struct {
		name    string
		edit    func(*meshcentral.ClientOptions)
		message string
		secret  string
	}{
		{"password", func(o *meshcentral.ClientOptions) { o.Password = "hunter2-wrong" },
			"MeshCentral refused the service account (meshcentral.user / meshcentral.password)", "hunter2-wrong"},
		{"token", func(o *meshcentral.ClientOptions) { o.User, o.Password, o.LoginToken = "", "", "~t:nope:s3cr3t-token" },
			"MeshCentral refused the login token (meshcentral.login_token)", "s3cr3t-token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newClient(t, fake, tc.edit)
			_, err := c.CreateMesh(context.Background(), meshcentral.Mesh{Name: "g"})
			if core.ErrorCode(err) != core.CodeUnauthorized || core.ErrorMessage(err) != tc.message {
				t.Fatalf("got %v (%s), want %q", err, core.ErrorCode(err), tc.message)
			}
			if strings.Contains(err.Error(), tc.secret) {
				t.Errorf("the error carries the secret: %v", err)
			}
		})
	}
	t.Run("good token", func(t *testing.T) {
		c, _ := newClient(t, fake, func(o *meshcentral.ClientOptions) { o.User, o.Password, o.LoginToken = "", "", fake.LoginToken() })
		if _, err := c.CreateMesh(context.Background(), meshcentral.Mesh{Name: "g"}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c, err := meshcentral.NewClient(meshcentral.ClientOptions{URL: "https://" + addr, User: "u", Password: "p"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.CreateMesh(context.Background(), meshcentral.Mesh{Name: "g"})
	want := "MeshCentral at " + addr + " cannot be reached"
	if core.ErrorCode(err) != core.CodeUnavailable || core.ErrorMessage(err) != want {
		t.Fatalf("got %v, want %q", err, want)
	}
	if _, ok := core.RetryAfter(err); !ok {
		t.Errorf("no retry hint on %v", err)
	}
}

// TestServerThatNeverAnswers is a server that takes the connection and
// says nothing: the connect budget ends the wait.
func TestServerThatNeverAnswers(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	c, err := meshcentral.NewClient(meshcentral.ClientOptions{URL: "https://" + l.Addr().String(), User: "u", Password: "p",
		ConnectTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.CreateMesh(context.Background(), meshcentral.Mesh{Name: "g"})
	if core.ErrorCode(err) != core.CodeUnavailable {
		t.Fatalf("got %v, want unavailable", err)
	}
}

func TestCertificateTrust(t *testing.T) {
	fake := meshcentraltest.New(t)
	other := meshcentraltest.New(t)
	host := strings.TrimPrefix(fake.URL, "https://")
	for _, tc := range []struct {
		name    string
		edit    func(*meshcentral.ClientOptions)
		message string // "" when the connection is accepted
	}{
		{"pin", nil, ""},
		{"pin as openssl prints it", func(o *meshcentral.ClientOptions) { o.CertSHA256 = "sha256 Fingerprint=" + fake.CertSHA256() }, ""},
		{"pin without colons, lower case", func(o *meshcentral.ClientOptions) {
			o.CertSHA256 = strings.ToLower(strings.ReplaceAll(fake.CertSHA256(), ":", ""))
		}, ""},
		{"ca file", func(o *meshcentral.ClientOptions) { o.CertSHA256, o.CAFile = "", fake.WriteCAFile(t) }, ""},
		{"pin and ca file", func(o *meshcentral.ClientOptions) { o.CAFile = fake.WriteCAFile(t) }, ""},
		{"wrong pin", func(o *meshcentral.ClientOptions) { o.CertSHA256 = other.CertSHA256() },
			"MeshCentral at " + host + " presented a certificate whose SHA-256 fingerprint is not meshcentral.cert_sha256"},
		{"right pin, wrong ca file", func(o *meshcentral.ClientOptions) { o.CAFile = other.WriteCAFile(t) },
			"MeshCentral at " + host + " presented a certificate that meshcentral.ca_file does not trust"},
		{"wrong ca file", func(o *meshcentral.ClientOptions) { o.CertSHA256, o.CAFile = "", other.WriteCAFile(t) },
			"MeshCentral at " + host + " presented a certificate that meshcentral.ca_file does not trust"},
		{"neither", func(o *meshcentral.ClientOptions) { o.CertSHA256 = "" },
			"MeshCentral at " + host + " presented a certificate this system does not trust; set meshcentral.ca_file or meshcentral.cert_sha256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newClient(t, fake, tc.edit)
			_, err := c.CreateMesh(context.Background(), meshcentral.Mesh{Name: "g"})
			if tc.message == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if core.ErrorCode(err) != core.CodeUnavailable || core.ErrorMessage(err) != tc.message {
				t.Fatalf("got %v, want %q", err, tc.message)
			}
		})
	}
}

func TestDomain(t *testing.T) {
	fake := meshcentraltest.NewWithConfig(t, meshcentraltest.Config{Domain: "support"})
	c, _ := newClient(t, fake, func(o *meshcentral.ClientOptions) { o.Domain = "support" })
	id, err := c.CreateMesh(context.Background(), meshcentral.Mesh{Name: "g"})
	if err != nil || !strings.HasPrefix(id, "mesh/support/") {
		t.Fatalf("CreateMesh in the domain = %q, %v", id, err)
	}
	if c.Base() != fake.URL+"/support" {
		t.Errorf("Base() = %q, want the domain's path", c.Base())
	}
	wrong, _ := newClient(t, fake, nil)
	_, err = wrong.CreateMesh(context.Background(), meshcentral.Mesh{Name: "g"})
	if !strings.Contains(core.ErrorMessage(err), "check meshcentral.url and meshcentral.domain") {
		t.Errorf("without the domain: %v", err)
	}
}

func TestNewClientChecksOptions(t *testing.T) {
	for name, o := range map[string]meshcentral.ClientOptions{
		"no url":            {User: "u", Password: "p"},
		"ftp url":           {URL: "ftp://mesh.example.com", User: "u", Password: "p"},
		"url with password": {URL: "https://u:p@mesh.example.com", User: "u", Password: "p"},
		"no login":          {URL: "https://mesh.example.com"},
		"token and user":    {URL: "https://mesh.example.com", User: "u", Password: "p", LoginToken: "~t:a:b"},
		"token without ~t":  {URL: "https://mesh.example.com", LoginToken: "user:pass"},
		"short pin":         {URL: "https://mesh.example.com", User: "u", Password: "p", CertSHA256: "AB:CD"},
		"missing ca file":   {URL: "https://mesh.example.com", User: "u", Password: "p", CAFile: "/nonexistent/ca.pem"},
	} {
		if _, err := meshcentral.NewClient(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
