package main

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

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

// startProcess runs the binary on a free port with db and waits until
// /healthz answers.
func startProcess(t *testing.T, bin, db string) *process {
	t.Helper()
	addr := freePort(t)
	cmd := exec.Command(bin, "serve", "--listen", addr)
	cmd.Env = append(os.Environ(), "ASSISTBOT_STORE_DSN="+db, "ASSISTBOT_API_TOKENS="+testToken, "ASSISTBOT_LOG_FORMAT=json")
	p := &process{cmd: cmd, url: "http://" + addr, stderr: &coretest.Buffer{}}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get(p.url + "/healthz"); err == nil {
			resp.Body.Close()
			return p
		}
	}
	t.Fatalf("assistbot did not come up; stderr:\n%s", p.stderr)
	return nil
}

func createSession(url string) (string, error) {
	req, _ := http.NewRequest("POST", url+"/api/v1/sessions", strings.NewReader(`{"agent":"load"}`))
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var s apiSession
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil || resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("status %d, %v", resp.StatusCode, err)
	}
	return s.ID, nil
}

// TestKillLosesNothing kills assistbot with SIGKILL while clients create
// sessions, restarts it on the same database and finds every session whose
// creation was acknowledged with a 201.
func TestKillLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	db := filepath.Join(t.TempDir(), "crash.db")
	p := startProcess(t, bin, db)

	var mu sync.Mutex
	var acked []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				id, err := createSession(p.url)
				if err != nil {
					return // the server died mid-request: not acknowledged
				}
				mu.Lock()
				acked = append(acked, id)
				mu.Unlock()
			}
		}()
	}
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 300 {
			break
		}
		time.Sleep(time.Millisecond)
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
		req, _ := http.NewRequest("GET", q.url+"/api/v1/sessions/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d acknowledged sessions were lost by kill -9", missing, len(acked))
	}
	t.Logf("%d acknowledged sessions, all present after kill -9", len(acked))
}

// TestSIGTERMDrains sends SIGTERM: assistbot stops accepting, finishes,
// logs that it stopped and exits 0.
func TestSIGTERMDrains(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	p := startProcess(t, bin, filepath.Join(t.TempDir(), "term.db"))
	if _, err := createSession(p.url); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
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
