package meshcentral_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/provider/meshcentral"
	"github.com/assistbot/assistbot/adapters/provider/meshcentral/meshcentraltest"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
)

const publicURL = "https://support.example.com"

// newProvider returns a provider on fake that trusts it by its pin, with
// fast reconnection; edit adjusts its options first.
func newProvider(t *testing.T, fake *meshcentraltest.Server, edit func(*meshcentral.Options)) (*meshcentral.Provider, *coretest.Buffer) {
	t.Helper()
	logs := &coretest.Buffer{}
	o := meshcentral.Options{
		URL:        fake.URL,
		User:       meshcentraltest.User,
		Password:   meshcentraltest.Password,
		CertSHA256: fake.CertSHA256(),
		PublicURL:  publicURL,
		Backoff:    10 * time.Millisecond,
		MaxBackoff: 50 * time.Millisecond,
		StopWait:   2 * time.Second,
		Logger:     slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if edit != nil {
		edit(&o)
	}
	p, err := meshcentral.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p, logs
}

func request() core.IssueRequest {
	return core.IssueRequest{SessionID: core.NewID(), CustomerName: "Pat Doe +1 555 0100", Agent: "alice", Locale: "en"}
}

// session is the engine's view of an issued ticket.
func session(req core.IssueRequest, tk core.Ticket, state core.State) *core.Session {
	return &core.Session{ID: req.SessionID, Provider: meshcentral.Name, ProviderRef: tk.Ref, PIN: tk.PIN, State: state}
}

func TestContract(t *testing.T) {
	coretest.RunProviderTests(t, func(t *testing.T) core.Provider {
		p, _ := newProvider(t, meshcentraltest.New(t), nil)
		return p
	})
}

func TestNewMakesNoRequest(t *testing.T) {
	fake := meshcentraltest.New(t)
	newProvider(t, fake, nil)
	if n := len(fake.Commands()); n != 0 || fake.Logins() != 0 {
		t.Errorf("New sent %d commands and logged in %d times", n, fake.Logins())
	}
}

func TestNewChecksOptions(t *testing.T) {
	good := meshcentral.Options{URL: "https://mesh.example.com", User: "u", Password: "p", PublicURL: publicURL}
	for name, edit := range map[string]func(*meshcentral.Options){
		"no public url":   func(o *meshcentral.Options) { o.PublicURL = "" },
		"relative public": func(o *meshcentral.Options) { o.PublicURL = "/support" },
		"5 digits":        func(o *meshcentral.Options) { o.Digits = 5 },
		"11 digits":       func(o *meshcentral.Options) { o.Digits = 11 },
		"consent":         func(o *meshcentral.Options) { o.Consent = "sometimes" },
		"no login":        func(o *meshcentral.Options) { o.User, o.Password = "", "" },
		"negative share":  func(o *meshcentral.Options) { o.ShareMinutes = -1 },
	} {
		o := good
		edit(&o)
		if _, err := meshcentral.New(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := meshcentral.New(good); err != nil {
		t.Errorf("good options: %v", err)
	}
}

func TestIssue(t *testing.T) {
	fake := meshcentraltest.New(t)
	p, logs := newProvider(t, fake, func(o *meshcentral.Options) {
		o.PINs = coretest.NewPINs("0123456")
		o.Digits = 7
	})
	req := request()
	before := time.Now()
	tk, err := p.Issue(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	want := core.Ticket{
		PIN:         "0123456",
		DesktopURL:  publicURL + "/?code=0123456",
		MobileURL:   publicURL + "/m/0123456",
		ManualURL:   publicURL + "/",
		Ref:         tk.Ref,
		ExpiresAt:   tk.ExpiresAt,
		CustomerURL: fake.URL + "/invite?c=0123456",
	}
	if tk != want {
		t.Errorf("ticket =\n%+v, want\n%+v", tk, want)
	}
	if d := tk.ExpiresAt.Sub(before); d < 20*time.Minute || d > 21*time.Minute {
		t.Errorf("the ticket expires %v after issue, want the default 20 minutes", d)
	}
	m, ok := fake.Mesh(tk.Ref)
	if !ok {
		t.Fatalf("Ref %q is not a group of the server", tk.Ref)
	}
	if !strings.Contains(m.Name, req.SessionID) {
		t.Errorf("group name %q does not name the session", m.Name)
	}
	// The session's random id may hold any digits: look past it.
	text := strings.ReplaceAll(m.Name+" "+m.Desc, req.SessionID, "<id>")
	for _, pii := range []string{"Pat", "555"} {
		if strings.Contains(text, pii) {
			t.Errorf("group %q (%q) carries the customer's %q", m.Name, m.Desc, pii)
		}
	}
	if m.Consent != 73 || m.Flags != meshcentral.MeshFlagRemoveOnDisconnect {
		t.Errorf("group consent %d flags %d, want 73 (notify, prompt, toolbar) and remove-on-disconnect", m.Consent, m.Flags)
	}
	if len(m.InviteCodes) != 1 || m.InviteCodes[0] != tk.PIN || m.InviteFlags != meshcentral.InviteFlagConnectOnly {
		t.Errorf("invite codes %v flags %d, want the PIN, connect only", m.InviteCodes, m.InviteFlags)
	}
	if strings.Contains(logs.String(), tk.PIN) {
		t.Errorf("the log holds the PIN:\n%s", logs)
	}

	// The customer's page holds the code and leads to the agents.
	res, err := fake.Client().Get(tk.CustomerURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `value="0123456"`) {
		t.Errorf("customer page: %d %s", res.StatusCode, body)
	}
	if to := postInviteCode(t, fake, tk.PIN); !strings.Contains(to, "/agentinvite?") {
		t.Errorf("the code leads to %q, not the agent page", to)
	}
}

// postInviteCode submits the /invite form as the customer's browser does
// and returns where it leads ("" when the code is refused).
func postInviteCode(t *testing.T, fake *meshcentraltest.Server, code string) string {
	t.Helper()
	res, err := fake.Client().PostForm(fake.URL+"/invite", url.Values{"inviteCode": {code}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.Header.Get("Location")
}

func TestIssueRetriesATakenCode(t *testing.T) {
	fake := meshcentraltest.New(t)
	p, _ := newProvider(t, fake, func(o *meshcentral.Options) { o.PINs = coretest.NewPINs("111111", "111111", "222222") })
	ctx := context.Background()
	first, err := p.Issue(ctx, request())
	if err != nil {
		t.Fatal(err)
	}
	second, err := p.Issue(ctx, request())
	if err != nil {
		t.Fatalf("second issue: %v", err)
	}
	if first.PIN != "111111" || second.PIN != "222222" {
		t.Errorf("pins %s and %s, want 111111 then 222222", first.PIN, second.PIN)
	}
	if fake.MeshCount() != 2 {
		t.Errorf("%d groups, want 2", fake.MeshCount())
	}
}

func TestIssueGivesUpOnTakenCodes(t *testing.T) {
	fake := meshcentraltest.New(t)
	p, _ := newProvider(t, fake, func(o *meshcentral.Options) { o.PINs = coretest.NewPINs("111111") })
	ctx := context.Background()
	if _, err := p.Issue(ctx, request()); err != nil {
		t.Fatal(err)
	}
	_, err := p.Issue(ctx, request())
	if core.ErrorCode(err) != core.CodeUnavailable || !strings.Contains(core.ErrorMessage(err), "try again") {
		t.Fatalf("got %v, want unavailable, try again", err)
	}
	if fake.MeshCount() != 1 {
		t.Errorf("%d groups: the failed issue's group was left behind", fake.MeshCount())
	}
}

func TestIssueErrors(t *testing.T) {
	fake := meshcentraltest.New(t)
	host := strings.TrimPrefix(fake.URL, "https://")
	for _, tc := range []struct {
		name    string
		edit    func(*meshcentral.Options)
		code    core.Code
		message string
	}{
		{"unreachable", func(o *meshcentral.Options) { o.URL = "https://127.0.0.1:1" },
			core.CodeUnavailable, "MeshCentral at 127.0.0.1:1 cannot be reached"},
		{"login refused", func(o *meshcentral.Options) { o.Password = "not-the-password" },
			core.CodeUnauthorized, "MeshCentral refused the service account (meshcentral.user / meshcentral.password)"},
		{"wrong pin", func(o *meshcentral.Options) { o.CertSHA256 = strings.Repeat("AB:", 31) + "AB" },
			core.CodeUnavailable, "MeshCentral at " + host + " presented a certificate whose SHA-256 fingerprint is not meshcentral.cert_sha256"},
		{"untrusted", func(o *meshcentral.Options) { o.CertSHA256 = "" },
			core.CodeUnavailable, "MeshCentral at " + host + " presented a certificate this system does not trust; set meshcentral.ca_file or meshcentral.cert_sha256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, logs := newProvider(t, fake, tc.edit)
			_, err := p.Issue(context.Background(), request())
			if core.ErrorCode(err) != tc.code || core.ErrorMessage(err) != tc.message {
				t.Fatalf("got %v (%s), want %s %q", err, core.ErrorCode(err), tc.code, tc.message)
			}
			if strings.Contains(err.Error()+logs.String(), "not-the-password") {
				t.Errorf("the password shows in the error or the log")
			}
		})
	}
	t.Run("no answer", func(t *testing.T) {
		fake := meshcentraltest.New(t)
		fake.Silence("createmesh")
		p, _ := newProvider(t, fake, func(o *meshcentral.Options) { o.RequestTimeout = 100 * time.Millisecond })
		_, err := p.Issue(context.Background(), request())
		if core.ErrorCode(err) != core.CodeUnavailable || core.ErrorMessage(err) != "MeshCentral at "+strings.TrimPrefix(fake.URL, "https://")+" did not answer in time" {
			t.Fatalf("got %v", err)
		}
	})
}

func TestConsent(t *testing.T) {
	for _, tc := range []struct {
		setting string
		bits    int
	}{{"", 73}, {"prompt", 73}, {"notify", 65}, {"none", 64}} {
		t.Run(tc.setting, func(t *testing.T) {
			fake := meshcentraltest.New(t)
			p, _ := newProvider(t, fake, func(o *meshcentral.Options) { o.Consent = tc.setting })
			ctx := context.Background()
			req := request()
			tk, err := p.Issue(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			node, err := fake.JoinWithCode(tk.PIN, meshcentraltest.Agent{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.Start(ctx, session(req, tk, core.StateWaiting), core.ModeControl, "tom"); err != nil {
				t.Fatal(err)
			}
			m, _ := fake.Mesh(tk.Ref)
			shares := fake.Shares(node)
			if m.Consent != tc.bits || len(shares) != 1 || shares[0].Consent != tc.bits {
				t.Errorf("group consent %d, shares %+v; want %d", m.Consent, shares, tc.bits)
			}
		})
	}
}

func TestStart(t *testing.T) {
	fake := meshcentraltest.New(t)
	p, _ := newProvider(t, fake, func(o *meshcentral.Options) { o.ShareMinutes = 30 })
	ctx := context.Background()
	req := request()
	tk, err := p.Issue(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	s := session(req, tk, core.StateWaiting)

	_, err = p.Start(ctx, s, core.ModeControl, "tom")
	if core.ErrorCode(err) != core.CodeInvalid || core.ErrorMessage(err) != "the customer's device is not connected" {
		t.Fatalf("before the customer joins: %v", err)
	}

	node, err := fake.JoinWithCode(tk.PIN, meshcentraltest.Agent{})
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	control, err := p.Start(ctx, s, core.ModeControl, "Tom\nTech")
	if err != nil {
		t.Fatal(err)
	}
	view, err := p.Start(ctx, s, core.ModeView, "tom")
	if err != nil {
		t.Fatal(err)
	}
	byURL := map[string]meshcentraltest.ShareInfo{}
	for _, sh := range fake.Shares(node) {
		byURL[sh.URL] = sh
	}
	c, v := byURL[control], byURL[view]
	if c.PublicID == "" || c.ViewOnly || c.Guest != "Tom Tech" || c.Protocol != meshcentral.ShareDesktop {
		t.Errorf("control share = %+v", c)
	}
	if v.PublicID == "" || !v.ViewOnly {
		t.Errorf("view share = %+v, want view only", v)
	}
	if d := c.Expire.Sub(before); d < 29*time.Minute || d > 31*time.Minute {
		t.Errorf("the share lasts %v, want ShareMinutes", d)
	}
	res, err := fake.Client().Get(control)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("the technician's link answers %d", res.StatusCode)
	}
}

func TestStartRefusesWhatTheDeviceCannotDo(t *testing.T) {
	fake := meshcentraltest.New(t)
	p, _ := newProvider(t, fake, func(o *meshcentral.Options) { o.ReadyWait = 200 * time.Millisecond })
	ctx := context.Background()
	start := func(a meshcentraltest.Agent, mode core.Mode) error {
		req := request()
		tk, err := p.Issue(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		node, err := fake.JoinWithCode(tk.PIN, a)
		if err != nil {
			t.Fatal(err)
		}
		// The agent has said what it can do, however late its timer ran.
		waitFor(t, func() bool { return fake.CoreRunning(node) })
		_, err = p.Start(ctx, session(req, tk, core.StateWaiting), mode, "tom")
		return err
	}
	android := meshcentraltest.Agent{Type: meshcentraltest.AgentAndroid}
	if err := start(android, core.ModeControl); core.ErrorCode(err) != core.CodeInvalid || !strings.Contains(core.ErrorMessage(err), "can be viewed, not controlled") {
		t.Errorf("controlling an Android device: %v", err)
	}
	if err := start(android, core.ModeView); err != nil {
		t.Errorf("viewing an Android device: %v", err)
	}
	if err := start(meshcentraltest.Agent{NoDesktop: true}, core.ModeView); core.ErrorCode(err) != core.CodeInvalid || core.ErrorMessage(err) != "the customer's device has no screen to share" {
		t.Errorf("a device without a desktop: %v", err)
	}
	if _, err := p.Start(ctx, &core.Session{ID: "x"}, core.ModeView, "tom"); core.ErrorCode(err) != core.CodeInvalid {
		t.Errorf("a session without a group: %v", err)
	}
}

func TestReleaseRemovesEverything(t *testing.T) {
	fake := meshcentraltest.New(t)
	p, _ := newProvider(t, fake, nil)
	ctx := context.Background()
	req := request()
	tk, err := p.Issue(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	node, err := fake.JoinWithCode(tk.PIN, meshcentraltest.Agent{})
	if err != nil {
		t.Fatal(err)
	}
	s := session(req, tk, core.StateActive)
	link, err := p.Start(ctx, s, core.ModeControl, "tom")
	if err != nil {
		t.Fatal(err)
	}
	s.State = core.StateEnded

	for i := range 2 {
		if err := p.Release(ctx, s); err != nil {
			t.Fatalf("Release #%d: %v", i+1, err)
		}
	}
	if fake.AgentRunning(node) {
		t.Error("the customer's agent still runs")
	}
	if m, _ := fake.Mesh(tk.Ref); !m.Deleted || len(m.Nodes) != 0 || len(m.InviteCodes) != 0 {
		t.Errorf("group after release: %+v", m)
	}
	if len(fake.Shares(node)) != 0 {
		t.Error("the technician's share is still there")
	}
	if res, err := fake.Client().Get(link); err != nil || res.StatusCode == http.StatusOK {
		t.Errorf("the technician's link still works: %v", err)
	}
	if to := postInviteCode(t, fake, tk.PIN); to != "" {
		t.Errorf("the PIN still leads to %q", to)
	}
	if _, err := fake.JoinWithCode(tk.PIN, meshcentraltest.Agent{}); err == nil {
		t.Error("a customer can still join with the PIN")
	}
	if err := p.Release(ctx, &core.Session{ID: "x", ProviderRef: "mesh//unknown"}); err != nil {
		t.Errorf("releasing an unknown group: %v", err)
	}
}

// TestReleaseWithAStubbornAgent is an agent that does not end when asked:
// MeshCentral then restores the deleted group as the agent reconnects,
// which Release cannot prevent but reports.
func TestReleaseWithAStubbornAgent(t *testing.T) {
	fake := meshcentraltest.New(t)
	p, logs := newProvider(t, fake, func(o *meshcentral.Options) { o.StopWait = 100 * time.Millisecond })
	ctx := context.Background()
	req := request()
	tk, err := p.Issue(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fake.JoinWithCode(tk.PIN, meshcentraltest.Agent{Stubborn: true}); err != nil {
		t.Fatal(err)
	}
	if err := p.Release(ctx, session(req, tk, core.StateEnded)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "did not end when asked") {
		t.Errorf("not logged:\n%s", logs)
	}
	if to := postInviteCode(t, fake, tk.PIN); to != "" {
		t.Errorf("the PIN still leads to %q", to)
	}
}

func TestRevoke(t *testing.T) {
	fake := meshcentraltest.New(t)
	p, _ := newProvider(t, fake, nil)
	ctx := context.Background()
	req := request()
	tk, err := p.Issue(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	s := session(req, tk, core.StateIssued)
	for i := range 2 {
		if err := p.Revoke(ctx, s); err != nil {
			t.Fatalf("Revoke #%d: %v", i+1, err)
		}
	}
	if _, err := fake.JoinWithCode(tk.PIN, meshcentraltest.Agent{}); err == nil {
		t.Error("the revoked PIN still lets a customer join")
	}
	if m, _ := fake.Mesh(tk.Ref); !m.Deleted {
		t.Error("the group is not deleted")
	}
}

// liveSessions is the engine's list of live sessions, as Watch asks for it.
type liveSessions struct {
	mu   sync.Mutex
	list []*core.Session
}

func (l *liveSessions) set(list ...*core.Session) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.list = list
}

func (l *liveSessions) live(context.Context) ([]*core.Session, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*core.Session
	for _, s := range l.list {
		c := *s
		out = append(out, &c)
	}
	return out, nil
}

// watch runs p.Watch until the test ends and returns its reports.
func watch(t *testing.T, p *meshcentral.Provider, l *liveSessions) <-chan core.StatusReport {
	t.Helper()
	return watchWith(t, p, l.live, nil)
}

// watchWith is watch with the engine's list of live sessions in live;
// refuse, when set, is asked first about each report, and an error it
// returns is the engine's refusal of that report.
func watchWith(t *testing.T, p *meshcentral.Provider, live func(context.Context) ([]*core.Session, error), refuse func(core.StatusReport) error) <-chan core.StatusReport {
	t.Helper()
	ch := make(chan core.StatusReport, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	report := func(_ context.Context, r core.StatusReport) error {
		if refuse != nil {
			if err := refuse(r); err != nil {
				return err
			}
		}
		ch <- r
		return nil
	}
	go func() {
		defer close(done)
		if err := p.Watch(ctx, live, report); err != nil {
			t.Errorf("Watch: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return ch
}

// watched is a session issued on the fake server, sent, with the
// provider's watch running and connected.
type watched struct {
	p       *meshcentral.Provider
	logs    *coretest.Buffer
	req     core.IssueRequest
	tk      core.Ticket
	live    *liveSessions
	reports <-chan core.StatusReport
}

func watchIssued(t *testing.T, fake *meshcentraltest.Server, edit func(*meshcentral.Options)) *watched {
	t.Helper()
	w := &watched{req: request(), live: &liveSessions{}}
	w.p, w.logs = newProvider(t, fake, edit)
	var err error
	if w.tk, err = w.p.Issue(context.Background(), w.req); err != nil {
		t.Fatal(err)
	}
	w.set(core.StateSent)
	w.reports = watch(t, w.p, w.live)
	waitFor(t, func() bool { return fake.Connections() == 1 })
	return w
}

// set gives the session state in the engine's list of live sessions.
func (w *watched) set(state core.State) { w.live.set(session(w.req, w.tk, state)) }

func next(t *testing.T, ch <-chan core.StatusReport) core.StatusReport {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no report")
		return core.StatusReport{}
	}
}

func TestWatchReportsJoinAndEnd(t *testing.T) {
	fake := meshcentraltest.New(t)
	p, _ := newProvider(t, fake, nil)
	ctx := context.Background()
	var l liveSessions
	issue := func(state core.State) (*core.Session, core.Ticket) {
		req := request()
		tk, err := p.Issue(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return session(req, tk, state), tk
	}
	desk, deskTk := issue(core.StateSent)
	phone, phoneTk := issue(core.StateIssued)
	other, otherTk := issue(core.StateSent)
	l.set(desk, phone)
	reports := watch(t, p, &l)

	// An agent in a group that is no live session's is not reported; the
	// report that comes is the next one.
	if _, err := fake.JoinWithCode(otherTk.PIN, meshcentraltest.Agent{}); err != nil {
		t.Fatal(err)
	}
	_ = other
	deskNode, err := fake.JoinWithCode(deskTk.PIN, meshcentraltest.Agent{})
	if err != nil {
		t.Fatal(err)
	}
	if r := next(t, reports); r != (core.StatusReport{SessionID: desk.ID, Action: core.ActionJoin, Device: core.DeviceDesktop}) {
		t.Fatalf("report = %+v, want the desktop join of %s", r, desk.ID)
	}
	if _, err := fake.JoinWithCode(phoneTk.PIN, meshcentraltest.Agent{Type: meshcentraltest.AgentAndroid}); err != nil {
		t.Fatal(err)
	}
	if r := next(t, reports); r != (core.StatusReport{SessionID: phone.ID, Action: core.ActionJoin, Device: core.DeviceMobile}) {
		t.Fatalf("report = %+v, want the mobile join of %s", r, phone.ID)
	}

	// The technician started; the customer closes the agent.
	active := *desk
	active.State = core.StateActive
	l.set(&active, phone)
	fake.DisconnectAgent(deskNode)
	if r := next(t, reports); r != (core.StatusReport{SessionID: desk.ID, Action: core.ActionEnd}) {
		t.Fatalf("report = %+v, want the end of %s", r, desk.ID)
	}
}

func TestWatchCatchesUpAfterReconnecting(t *testing.T) {
	fake := meshcentraltest.New(t)
	w := watchIssued(t, fake, nil)

	fake.Down()
	waitFor(t, func() bool { return strings.Contains(w.logs.String(), "cannot open the control connection") })
	// The customer arrives while the watch cannot see it.
	if _, err := fake.JoinWithCode(w.tk.PIN, meshcentraltest.Agent{}); err != nil {
		t.Fatal(err)
	}
	fake.Up()
	if r := next(t, w.reports); r.SessionID != w.req.SessionID || r.Action != core.ActionJoin {
		t.Fatalf("report = %+v, want the join missed while disconnected", r)
	}
	if strings.Contains(w.logs.String(), meshcentraltest.Password) {
		t.Error("the log holds the password")
	}
}

func TestWatchSeesWhatHappenedBeforeIt(t *testing.T) {
	fake := meshcentraltest.New(t)
	p, _ := newProvider(t, fake, func(o *meshcentral.Options) { o.EndGrace = 50 * time.Millisecond })
	ctx := context.Background()
	joined, gone := request(), request()
	tkJoined, _ := p.Issue(ctx, joined)
	tkGone, _ := p.Issue(ctx, gone)
	if _, err := fake.JoinWithCode(tkJoined.PIN, meshcentraltest.Agent{}); err != nil {
		t.Fatal(err)
	}
	var l liveSessions
	l.set(session(joined, tkJoined, core.StateSent), session(gone, tkGone, core.StateActive))
	reports := watch(t, p, &l)
	got := map[string]core.Action{}
	for range 2 {
		r := next(t, reports)
		got[r.SessionID] = r.Action
	}
	if got[joined.SessionID] != core.ActionJoin || got[gone.SessionID] != core.ActionEnd {
		t.Errorf("reports %v, want a join for the agent already there and an end for the active session without one", got)
	}
}

// TestJoinClosesTheInvite: once the engine takes the customer's join,
// the PIN lets no one else fetch the program, and Start opens the
// customer's computer even when another agent of the group (a copy of the
// program run again) connected after it.
func TestJoinClosesTheInvite(t *testing.T) {
	fake := meshcentraltest.New(t)
	w := watchIssued(t, fake, nil)
	tk := w.tk
	customer, err := fake.JoinWithCode(tk.PIN, meshcentraltest.Agent{Name: "customer"})
	if err != nil {
		t.Fatal(err)
	}
	if r := next(t, w.reports); r.Action != core.ActionJoin {
		t.Fatalf("report = %+v, want the join", r)
	}
	w.set(core.StateWaiting)
	waitFor(t, func() bool { m, _ := fake.Mesh(tk.Ref); return len(m.InviteCodes) == 0 })
	if _, err := fake.JoinWithCode(tk.PIN, meshcentraltest.Agent{Name: "someone else"}); err == nil {
		t.Error("the PIN still lets an agent in after the customer joined")
	}
	time.Sleep(2 * time.Millisecond) // a later connection time
	if _, err := fake.ConnectAgent(tk.Ref, meshcentraltest.Agent{Name: "second copy"}); err != nil {
		t.Fatal(err)
	}
	link, err := w.p.Start(context.Background(), session(w.req, tk, core.StateWaiting), core.ModeControl, "tom")
	if err != nil {
		t.Fatal(err)
	}
	if sh := fake.Shares(customer); len(sh) != 1 || sh[0].URL != link {
		t.Errorf("Start shared %q, not the customer's computer (its shares: %+v)", link, sh)
	}
}

// TestJoinRefusedKeepsTheInvite: a join the engine does not take (the
// session expired meanwhile, say) leaves the invite as it was.
func TestJoinRefusedKeepsTheInvite(t *testing.T) {
	fake := meshcentraltest.New(t)
	p, _ := newProvider(t, fake, func(o *meshcentral.Options) { o.ReportRetry = time.Hour })
	ctx := context.Background()
	req := request()
	tk, err := p.Issue(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	var l liveSessions
	l.set(session(req, tk, core.StateSent))
	refused := make(chan core.StatusReport, 4)
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.Watch(wctx, l.live, func(_ context.Context, r core.StatusReport) error {
			refused <- r
			return core.Errorf(core.CodeInvalidTransition, "the session expired")
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
	waitFor(t, func() bool { return fake.Connections() == 1 })
	if _, err := fake.JoinWithCode(tk.PIN, meshcentraltest.Agent{}); err != nil {
		t.Fatal(err)
	}
	if r := next(t, refused); r.Action != core.ActionJoin {
		t.Fatalf("report = %+v, want the join", r)
	}
	// The watch takes the next push only once it is done with this one:
	// by the report of a second agent's arrival, it has done all it does
	// for the first.
	if _, err := fake.JoinWithCode(tk.PIN, meshcentraltest.Agent{}); err != nil {
		t.Fatalf("the invite was removed though the engine refused the join: %v", err)
	}
	if r := next(t, refused); r.Action != core.ActionJoin {
		t.Fatalf("report = %+v, want the join again", r)
	}
	if m, _ := fake.Mesh(tk.Ref); len(m.InviteCodes) != 1 || m.InviteCodes[0] != tk.PIN {
		t.Errorf("invite codes %v after a refused join, want the PIN", m.InviteCodes)
	}
}

// TestWatchEndsAWaitingSessionWhoseAgentLeft: the customer closes the
// program before the technician starts: the session ends, and the desk
// stops waiting for it.
func TestWatchEndsAWaitingSessionWhoseAgentLeft(t *testing.T) {
	fake := meshcentraltest.New(t)
	w := watchIssued(t, fake, nil)
	node, err := fake.JoinWithCode(w.tk.PIN, meshcentraltest.Agent{})
	if err != nil {
		t.Fatal(err)
	}
	if r := next(t, w.reports); r.Action != core.ActionJoin {
		t.Fatalf("report = %+v, want the join", r)
	}
	w.set(core.StateWaiting)
	fake.DisconnectAgent(node)
	if r := next(t, w.reports); r != (core.StatusReport{SessionID: w.req.SessionID, Action: core.ActionEnd}) {
		t.Fatalf("report = %+v, want the end of the waiting session", r)
	}
}

// TestWatchWaitsForAgentsAfterAServerRestart: MeshCentral restarts, and
// the customer's agent reconnects a moment after assistbot does: the
// active session goes on. Once the agent leaves for good, it ends.
func TestWatchWaitsForAgentsAfterAServerRestart(t *testing.T) {
	fake := meshcentraltest.New(t)
	// The grace outlasts how late the test may reconnect the agent on a
	// loaded machine.
	const grace = 3 * time.Second
	p, logs := newProvider(t, fake, func(o *meshcentral.Options) { o.EndGrace = grace })
	ctx := context.Background()
	req := request()
	tk, err := p.Issue(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	node, err := fake.JoinWithCode(tk.PIN, meshcentraltest.Agent{})
	if err != nil {
		t.Fatal(err)
	}
	var l liveSessions
	l.set(session(req, tk, core.StateActive))
	reports := watch(t, p, &l)
	waitFor(t, func() bool { return fake.Connections() == 1 })

	fake.Down()
	fake.DisconnectAgent(node)
	waitFor(t, func() bool { return strings.Contains(logs.String(), "cannot open the control connection") })
	fake.Up()
	waitFor(t, func() bool { return fake.Connections() == 1 })
	node, err = fake.ConnectAgent(tk.Ref, meshcentraltest.Agent{})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-reports:
		t.Fatalf("reported %+v while the agent was reconnecting", r)
	case <-time.After(grace + 500*time.Millisecond): // past the recheck
	}
	fake.DisconnectAgent(node)
	if r := next(t, reports); r != (core.StatusReport{SessionID: req.SessionID, Action: core.ActionEnd}) {
		t.Fatalf("report = %+v, want the end once the agent left", r)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestStartWaitsForAnAgentThatJustConnected: an agent reports its desktop
// only once the core the server sends it runs, about a second after it
// connects. A technician quicker than that waits a moment, or is asked to
// try again.
func TestStartWaitsForAnAgentThatJustConnected(t *testing.T) {
	fake := meshcentraltest.New(t)
	p, _ := newProvider(t, fake, func(o *meshcentral.Options) { o.ReadyWait = time.Second })
	ctx := context.Background()
	start := func(a meshcentraltest.Agent) error {
		req := request()
		tk, err := p.Issue(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fake.JoinWithCode(tk.PIN, a); err != nil {
			t.Fatal(err)
		}
		_, err = p.Start(ctx, session(req, tk, core.StateWaiting), core.ModeControl, "tom")
		return err
	}
	if err := start(meshcentraltest.Agent{CoreDelay: 200 * time.Millisecond}); err != nil {
		t.Errorf("an agent ready within the wait: %v", err)
	}
	if err := start(meshcentraltest.Agent{CoreDelay: 100 * time.Millisecond, DesktopDelay: 200 * time.Millisecond}); err != nil {
		t.Errorf("an agent that finds its display within the wait: %v", err)
	}
	err := start(meshcentraltest.Agent{CoreDelay: -1})
	if core.ErrorCode(err) != core.CodeUnavailable || core.ErrorMessage(err) != "the customer's device is still connecting; try again in a moment" {
		t.Errorf("an agent that is not ready: %v", err)
	}
}

// TestReleaseRightAfterJoin stops an agent whose console does not work
// yet: it is asked again once it does, and the group stays deleted.
func TestReleaseRightAfterJoin(t *testing.T) {
	fake := meshcentraltest.New(t)
	p, logs := newProvider(t, fake, nil)
	ctx := context.Background()
	req := request()
	tk, err := p.Issue(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	node, err := fake.JoinWithCode(tk.PIN, meshcentraltest.Agent{CoreDelay: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Release(ctx, session(req, tk, core.StateClosed)); err != nil {
		t.Fatal(err)
	}
	if fake.AgentRunning(node) {
		t.Errorf("the agent still runs:\n%s", logs)
	}
	if m, _ := fake.Mesh(tk.Ref); !m.Deleted {
		t.Error("the group came back")
	}
}

// TestWatchReportsAgainWhatTheEngineRefused: a report that fails (the
// store was briefly down) is made again without waiting for another event.
func TestWatchReportsAgainWhatTheEngineRefused(t *testing.T) {
	fake := meshcentraltest.New(t)
	p, logs := newProvider(t, fake, func(o *meshcentral.Options) { o.ReportRetry = 50 * time.Millisecond })
	ctx := context.Background()
	req := request()
	tk, err := p.Issue(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	var l liveSessions
	l.set(session(req, tk, core.StateSent))
	ch := make(chan core.StatusReport, 4)
	var calls int
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.Watch(wctx, l.live, func(_ context.Context, r core.StatusReport) error {
			calls++
			if calls == 1 {
				return core.Errorf(core.CodeUnavailable, "database is down")
			}
			ch <- r
			return nil
		})
	}()
	defer func() { cancel(); <-done }()
	waitFor(t, func() bool { return fake.Connections() == 1 })
	if _, err := fake.JoinWithCode(tk.PIN, meshcentraltest.Agent{}); err != nil {
		t.Fatal(err)
	}
	if r := next(t, ch); r.SessionID != req.SessionID || r.Action != core.ActionJoin {
		t.Fatalf("report = %+v", r)
	}
	if !strings.Contains(logs.String(), "database is down") {
		t.Errorf("the failed report was not logged:\n%s", logs)
	}
}
