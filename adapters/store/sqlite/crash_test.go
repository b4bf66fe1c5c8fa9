package sqlite

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assistbot/assistbot/core"
)

// crashEnv names the database TestCrashChild writes to; without it the
// test is skipped.
const crashEnv = "ASSISTBOT_SQLITE_CRASH_DB"

// TestCrashChild is the process that TestCrashRecovery kills. It creates
// sessions from several goroutines until killed, printing each session's
// id only once CreateSession has returned: every id printed was
// acknowledged as durable.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("run by TestCrashRecovery")
	}
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	for w := range 8 {
		go func() {
			r := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			for {
				// Few enough PINs that some collide.
				ch := newChange(fmt.Sprintf("%06d", r.IntN(5000)))
				err := s.CreateSession(ctx, ch)
				if err != nil && core.ErrorCode(err) != core.CodeConflict {
					fmt.Println("error", err)
					os.Exit(2)
				}
				if err == nil {
					mu.Lock()
					fmt.Fprintln(out, "ack", ch.Session.ID)
					out.Flush()
					mu.Unlock()
				}
			}
		}()
	}
	// The parent kills the process long before; this only keeps an
	// orphan from running forever.
	time.Sleep(time.Minute)
	os.Exit(3)
}

// TestCrashRecovery kills a process that is writing with SIGKILL and
// checks that everything it acknowledged survived, intact.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })

	killAt := 200 + rand.IntN(300)
	var acked []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		if id, ok := strings.CutPrefix(line, "ack "); ok {
			acked = append(acked, id)
			if len(acked) == killAt {
				if err := cmd.Process.Kill(); err != nil {
					t.Fatal(err)
				}
			}
		} else if strings.HasPrefix(line, "error") {
			t.Fatalf("child: %s", line)
		}
	}
	// Acknowledgements still in the pipe when the child died count too.
	cmd.Wait()
	if len(acked) < killAt {
		t.Fatalf("the child acknowledged %d sessions and exited before it was killed", len(acked))
	}

	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("reopening after the crash: %v", err)
	}
	defer s.Close()
	for _, id := range acked {
		if _, err := s.FindSession(ctx, id); err != nil {
			t.Errorf("acknowledged session %s: %v", id, err)
			continue
		}
		if evs, err := s.FindEvents(ctx, id); err != nil || len(evs) != 1 {
			t.Errorf("events of acknowledged session %s: %v, %v", id, evs, err)
		}
	}
	db := rawDB(t, path)
	var check string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check = %q, %v", check, err)
	}
	var shared int
	err = db.QueryRow(`SELECT count(*) FROM (SELECT pin FROM sessions
		WHERE state IN ('issued', 'sent') GROUP BY pin HAVING count(*) > 1)`).Scan(&shared)
	if err != nil || shared != 0 {
		t.Errorf("%d live PINs held by more than one session (err %v)", shared, err)
	}
	t.Logf("%d sessions acknowledged before the kill", len(acked))
}
