package main

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/provider/logmein/logmeintest"
	"github.com/assistbot/assistbot/core/coretest"
)

// binDir holds the binary the process tests share; TestMain removes it.
var (
	binDir   string
	binOnce  sync.Once
	binPath  string
	binError error
)

func TestMain(m *testing.M) {
	var err error
	if binDir, err = os.MkdirTemp("", "assistbot-bin-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(binDir)
	os.Exit(code)
}

// buildBinary builds assistbot the way the Dockerfile does, once per test
// run, and returns its path. The build line is read from the Dockerfile
// itself, so the tests fail if the file's build stops producing a working
// static binary.
func buildBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		df, err := os.ReadFile("../../Dockerfile")
		if err != nil {
			binError = err
			return
		}
		m := regexp.MustCompile(`(?m)^RUN (CGO_ENABLED=0 go build .*) -o /out/assistbot (\./cmd/assistbot)$`).FindSubmatch(df)
		if m == nil {
			binError = fmt.Errorf("the Dockerfile has no 'RUN CGO_ENABLED=0 go build ... -o /out/assistbot ./cmd/assistbot' line")
			return
		}
		bin := filepath.Join(binDir, "assistbot")
		line := strings.ReplaceAll(string(m[1]), "${VERSION}", "test-build")
		cmd := exec.Command("sh", "-c", line+" -o "+bin+" "+string(m[2]))
		cmd.Dir = "../.."
		if out, err := cmd.CombinedOutput(); err != nil {
			binError = fmt.Errorf("%s: %v\n%s", line, err, out)
			return
		}
		binPath = bin
	})
	if binError != nil {
		t.Fatal(binError)
	}
	return binPath
}

// TestDockerfileBuild checks the container's binary: static (it must run
// on a base image with no C library) and stamped with its version.
func TestDockerfileBuild(t *testing.T) {
	bin := buildBinary(t)
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary needs a dynamic loader; the distroless static image has none")
		}
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "assistbot test-build") {
		t.Errorf("version: %q, %v", out, err)
	}
	df, _ := os.ReadFile("../../Dockerfile")
	for _, want := range []string{"USER 65532:65532", `HEALTHCHECK`, `"assistbot", "healthcheck"`, "CGO_ENABLED=0"} {
		if !bytes.Contains(df, []byte(want)) && !bytes.Contains(df, []byte(strings.ReplaceAll(want, `"assistbot"`, `"/usr/local/bin/assistbot"`))) {
			t.Errorf("the Dockerfile lacks %s", want)
		}
	}
	// An ASSISTBOT_* variable in the image would silently beat the same
	// key of a configuration file mounted by the operator.
	if bytes.Contains(df, []byte("ENV ASSISTBOT_")) || bytes.Contains(df, []byte("\n    ASSISTBOT_")) {
		t.Error("the Dockerfile sets ASSISTBOT_* variables, which override a mounted configuration file")
	}
}

// process is assistbot running as a child process.
type process struct {
	cmd    *exec.Cmd
	addr   string
	url    string
	stderr *coretest.Buffer
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startProcess runs the binary on a free port with db, and env added to
// its environment, and waits until /healthz answers. The console and its
// web chat are on (the defaults), so "web" customers can be sent links
// with no platform configured. The port is chosen here and bound by the
// child a moment later: should another process take it in between, the
// child stops, and another port is tried.
func startProcess(t *testing.T, bin, db string, env ...string) *process {
	t.Helper()
	for range 5 {
		if p := tryProcess(t, bin, db, env...); p != nil {
			return p
		}
	}
	t.Fatal("assistbot found no free port in 5 tries")
	return nil
}

// tryProcess is one try of startProcess: nil when the port was taken.
func tryProcess(t *testing.T, bin, db string, env ...string) *process {
	t.Helper()
	addr := freePort(t)
	cmd := exec.Command(bin, "serve", "--listen", addr)
	cmd.Env = append(os.Environ(), "ASSISTBOT_STORE_DSN="+db, "ASSISTBOT_API_TOKENS="+testToken, "ASSISTBOT_LOG_FORMAT=json")
	cmd.Env = append(cmd.Env, env...)
	p := &process{cmd: cmd, addr: addr, url: "http://" + addr, stderr: &coretest.Buffer{}}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if strings.Contains(p.stderr.String(), "address already in use") {
			cmd.Process.Kill()
			cmd.Wait()
			return nil
		}
		if resp, err := http.Get(p.url + "/healthz"); err == nil {
			resp.Body.Close()
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			return p
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	t.Fatalf("assistbot did not come up; stderr:\n%s", p.stderr)
	return nil
}

// call makes an API request and decodes the answer into out when the
// status is want. An error means the request was not acknowledged: the
// server died, or answered something else.
func call(method, u, body string, want int, out any) error {
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: status %d: %s", method, u, resp.StatusCode, data)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// sentLink is a send the server acknowledged: the session and the
// outbox entry it answered with.
type sentLink struct {
	session  string
	delivery int64
}

// sendToWebCustomer creates a session for a web chat customer and sends
// them its desktop link. It returns the session's id once the creation
// was acknowledged, and the send once that was.
func sendToWebCustomer(url string, n int64) (string, *sentLink, error) {
	var s apiSession
	body := fmt.Sprintf(`{"customer":{"channel":"web","address":"kill-%d"},"agent":"load"}`, n)
	if err := call("POST", url+"/api/v1/sessions", body, http.StatusCreated, &s); err != nil {
		return "", nil, err
	}
	var sent struct {
		Delivery struct {
			ID   int64  `json:"id"`
			Kind string `json:"kind"`
		} `json:"delivery"`
	}
	if err := call("POST", url+"/api/v1/sessions/"+s.ID+"/send", `{"link":"desktop"}`, http.StatusOK, &sent); err != nil {
		return s.ID, nil, err
	}
	if sent.Delivery.ID == 0 || sent.Delivery.Kind != "link" {
		return s.ID, nil, fmt.Errorf("send answered delivery %+v", sent.Delivery)
	}
	return s.ID, &sentLink{session: s.ID, delivery: sent.Delivery.ID}, nil
}

// TestKillLosesNothing kills assistbot with SIGKILL while clients create
// sessions for web chat customers and send them their links, restarts it
// on the same database, and finds every session whose creation was
// acknowledged with a 201, and for every send acknowledged with a 200 the
// session marked sent and its link in the outbox: queued, or already
// handed to the chat, never lost and never failed.
func TestKillLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	db := filepath.Join(t.TempDir(), "crash.db")
	p := startProcess(t, bin, db)

	var mu sync.Mutex
	var acked []string
	var sends []sentLink
	var customers atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				id, sent, err := sendToWebCustomer(p.url, customers.Add(1))
				mu.Lock()
				if id != "" {
					acked = append(acked, id)
				}
				if sent != nil {
					sends = append(sends, *sent)
				}
				mu.Unlock()
				if err != nil {
					return // the server died mid-request: not acknowledged
				}
			}
		})
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
		mu.Lock()
		n := len(sends)
		mu.Unlock()
		if n >= 300 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d sends acknowledged in a minute; stderr:\n%s", n, p.stderr)
		}
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()
	close(stop)
	wg.Wait()

	q := startProcess(t, bin, db)
	missing := 0
	for _, id := range acked {
		if err := call("GET", q.url+"/api/v1/sessions/"+id, "", http.StatusOK, nil); err != nil {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d acknowledged sessions were lost by kill -9", missing, len(acked))
	}
	lost, statuses := 0, map[string]int{}
	for _, sent := range sends {
		var got struct {
			State      string `json:"state"`
			Deliveries []struct {
				ID      int64  `json:"id"`
				Kind    string `json:"kind"`
				Channel string `json:"channel"`
				Status  string `json:"status"`
				Reason  string `json:"reason"`
			} `json:"deliveries"`
		}
		if err := call("GET", q.url+"/api/v1/sessions/"+sent.session, "", http.StatusOK, &got); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, d := range got.Deliveries {
			if d.ID != sent.delivery {
				continue
			}
			found = true
			statuses[d.Status]++
			if d.Kind != "link" || d.Channel != "web" || (d.Status != "queued" && d.Status != "sent" && d.Status != "delivered") {
				t.Errorf("session %s: acknowledged link %d is %+v after kill -9", sent.session, sent.delivery, d)
			}
		}
		if !found || got.State != "sent" {
			lost++
			if lost <= 5 {
				t.Errorf("session %s is %s with deliveries %+v; the send of link %d was acknowledged", sent.session, got.State, got.Deliveries, sent.delivery)
			}
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d acknowledged sends were lost by kill -9", lost, len(sends))
	}
	t.Logf("%d acknowledged sessions and %d acknowledged sends; their links after the restart, by status: %v", len(acked), len(sends), statuses)
}

// TestSIGTERMDrains sends SIGTERM while a request is in flight: a PIN
// request that the LogMeIn Rescue API (a fake behind a proxy the test
// holds) has not answered yet. assistbot stops accepting connections,
// lets the request finish with its 201, logs that it stopped and exits 0.
func TestSIGTERMDrains(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	fake := logmeintest.New(t)
	fake.SetPINs("012345")
	rescue, err := url.Parse(fake.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: rescue.Scheme, Host: rescue.Host})
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "requestPINCode") {
			select {
			case arrived <- struct{}{}:
			default:
			}
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(slow.Close)
	var once sync.Once
	letGo := func() { once.Do(func() { close(release) }) }
	t.Cleanup(letGo)

	p := startProcess(t, bin, filepath.Join(t.TempDir(), "term.db"),
		"ASSISTBOT_PROVIDER_KIND=logmein", "ASSISTBOT_LOGMEIN_API_URL="+slow.URL+rescue.Path,
		"ASSISTBOT_LOGMEIN_AUTHCODE="+fake.AuthCode())
	type result struct {
		s   apiSession
		err error
	}
	answered := make(chan result, 1)
	go func() {
		var r result
		r.err = call("POST", p.url+"/api/v1/sessions", `{"agent":"alice"}`, http.StatusCreated, &r.s)
		answered <- r
	}()
	select {
	case <-arrived:
	case r := <-answered:
		t.Fatalf("the PIN request was answered before it reached the provider: %+v\n%s", r, p.stderr)
	case <-time.After(15 * time.Second):
		t.Fatalf("no PIN request reached the provider; stderr:\n%s", p.stderr)
	}

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Shutting down closes the listener first: once new connections are
	// refused, the held request is the one in flight.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", p.addr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("assistbot still accepts connections 10s after SIGTERM; stderr:\n%s", p.stderr)
		}
	}
	select {
	case r := <-answered:
		t.Fatalf("the request in flight ended before the provider answered: %+v, %v", r.s, r.err)
	case <-time.After(100 * time.Millisecond):
	}
	letGo()
	select {
	case r := <-answered:
		if r.err != nil || r.s.PIN != "012345" || r.s.State != "issued" {
			t.Errorf("the request in flight at SIGTERM: %+v, %v", r.s, r.err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the request in flight at SIGTERM got no answer")
	}

	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", err, p.stderr)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("assistbot did not exit after SIGTERM")
	}
	var sawStopped bool
	sc := bufio.NewScanner(strings.NewReader(p.stderr.String()))
	for sc.Scan() {
		var rec struct{ Msg string }
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "stopped" {
			sawStopped = true
		}
	}
	if !sawStopped {
		t.Errorf("no 'stopped' log line:\n%s", p.stderr)
	}
}
