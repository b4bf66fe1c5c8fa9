package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// spawnOptions are run's flags for starting the servers itself.
type spawnOptions struct {
	binary   string
	replicas int
	driver   string
	dsn      string
	seed     int
	cpus     string
	settle   time.Duration
	logLevel string
}

func (s *spawnOptions) flags(fs *flag.FlagSet) {
	fs.StringVar(&s.binary, "spawn", "", "start this assistbot binary with a generated configuration, and stop it afterwards")
	fs.IntVar(&s.replicas, "replicas", 1, "with --spawn: how many servers to start on the one store (several need --store postgres)")
	fs.StringVar(&s.driver, "store", "sqlite", "with --spawn: sqlite (a new file in a temporary directory) or postgres")
	fs.StringVar(&s.dsn, "dsn", "", "with --spawn --store postgres: the database (it should be empty)")
	fs.IntVar(&s.seed, "seed", 0, "with --spawn: store this many finished sessions, with their events, before starting")
	fs.StringVar(&s.cpus, "server-cpus", "0", "with --spawn: the CPUs the servers may use (taskset -c), empty for any")
	fs.DurationVar(&s.settle, "settle", 3*time.Second, "with --spawn: how long to wait after start before reading idle memory")
	fs.StringVar(&s.logLevel, "log-level", "warn", "with --spawn: the servers' log.level")
}

// servers are the processes start started.
type servers struct {
	cmds []*exec.Cmd
	pids []int
	urls []string
	dir  string
}

func (s *spawnOptions) start(ctx context.Context, secret string, stderr io.Writer) (*servers, error) {
	if s.replicas > 1 && s.driver != "postgres" {
		return nil, errors.New("--replicas above 1 needs --store postgres: SQLite belongs to one process")
	}
	dir, err := os.MkdirTemp("", "assistbot-load-")
	if err != nil {
		return nil, err
	}
	srv := &servers{dir: dir}
	dsn := s.dsn
	if s.driver == "sqlite" {
		dsn = filepath.Join(dir, "load.db")
	}
	if s.seed > 0 {
		fmt.Fprintf(stderr, "seeding %d sessions into the %s store…\n", s.seed, s.driver)
		start := time.Now()
		if err := seed(ctx, s.driver, dsn, s.seed, stderr); err != nil {
			srv.stop()
			return nil, err
		}
		fmt.Fprintf(stderr, "seeded in %s\n", time.Since(start).Round(time.Second))
	}
	for i := range s.replicas {
		port, err := freePort()
		if err != nil {
			srv.stop()
			return nil, err
		}
		base := "http://127.0.0.1:" + strconv.Itoa(port)
		cfg := filepath.Join(dir, fmt.Sprintf("assistbot-%d.yaml", i))
		if err := os.WriteFile(cfg, []byte(configYAML(port, base, s.driver, dsn, secret, s.logLevel)), 0o600); err != nil {
			srv.stop()
			return nil, err
		}
		args := []string{s.binary, "--config", cfg, "serve"}
		if _, err := exec.LookPath("taskset"); err == nil && s.cpus != "" {
			args = append([]string{"taskset", "-c", s.cpus}, args...)
		}
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Dir, cmd.Stderr = dir, stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			srv.stop()
			return nil, fmt.Errorf("start %s: %w", s.binary, err)
		}
		srv.cmds = append(srv.cmds, cmd)
		srv.pids = append(srv.pids, cmd.Process.Pid)
		srv.urls = append(srv.urls, base)
		if err := waitHealthy(ctx, base); err != nil {
			srv.stop()
			return nil, err
		}
	}
	time.Sleep(s.settle)
	return srv, nil
}

// stop ends the servers and removes their files.
func (s *servers) stop() {
	for _, c := range s.cmds {
		_ = c.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = c.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = c.Process.Kill()
		}
	}
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
}

// configYAML is the configuration of a spawned server: the defaults, with
// Slack on (its Web API pointed at a closed port: the command's answer
// needs none) and every agent allowed, as in a workspace without a desk
// channel.
func configYAML(port int, base, driver, dsn, secret, level string) string {
	return fmt.Sprintf(`server: { listen: "127.0.0.1:%d", public_url: %q }
store: { driver: %s, dsn: %q }
slack:
  enabled: true
  bot_token: xoxb-load-test
  signing_secret: %q
  api_url: "http://127.0.0.1:9/api/"
log: { level: %s }
`, port, base, driver, dsn, secret, level)
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitHealthy waits up to a minute for base/healthz to answer 200.
func waitHealthy(ctx context.Context, base string) error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s did not answer /healthz within a minute", strings.TrimPrefix(base, "http://"))
}
