package main

import (
	"crypto/sha256"
	"os"
	"strings"
	"testing"
	"time"
)

// TestSampleProc reads this test's own process: the figures loadtest
// prints of a server come from the same reading.
func TestSampleProc(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc here: loadtest leaves CPU and memory out")
	}
	s, err := sampleProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.rss <= 0 || s.anon <= 0 || s.anon > s.rss || s.hwm < s.rss {
		t.Errorf("resident %d, private %d, peak %d: want 0 < private <= resident <= peak", s.rss, s.anon, s.hwm)
	}
	// The kernel counts CPU time in hundredths of a second: work until
	// one shows.
	deadline := time.Now().Add(5 * time.Second)
	for s.cpu == 0 && time.Now().Before(deadline) {
		sha256.Sum256(make([]byte, 1<<20))
		if s, err = sampleProc(os.Getpid()); err != nil {
			t.Fatal(err)
		}
	}
	if s.cpu <= 0 {
		t.Errorf("CPU time %v after 5 s of work, want some", s.cpu)
	}
}

// TestPrintServer: the server's lines give its CPU in cores and per
// command, and its memory resident and private.
func TestPrintServer(t *testing.T) {
	r := &result{requests: 50_000, elapsed: 10 * time.Second, cpu: 9 * time.Second,
		latencies: []time.Duration{time.Millisecond}, errors: map[string]int{}, peakRSS: 50 << 20, peakAnon: 25 << 20, hwm: 51 << 20}
	var out strings.Builder
	r.print(&out, loadOptions{connections: 64, duration: 10 * time.Second, urls: []string{"x"}, pids: []int{1}},
		procSample{rss: 30 << 20, anon: 8 << 20})
	for _, want := range []string{
		"requests    50000 answered with a card: 5000/s",
		"server      CPU 0.90 cores, 180 µs a command; RSS idle 30.0 MiB, peak while measuring 50.0 MiB (kernel's peak since start 51.0 MiB)",
		"of which private (heap, stacks, caches): idle 8.0 MiB, peak 25.0 MiB",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, out.String())
		}
	}
}

// TestPrintServers: with several servers, the CPU is theirs together, per
// command of them all, and the memory the largest one's.
func TestPrintServers(t *testing.T) {
	r := &result{requests: 20_000, elapsed: 10 * time.Second, cpu: 6 * time.Second,
		latencies: []time.Duration{time.Millisecond}, errors: map[string]int{}, peakRSS: 40 << 20, peakAnon: 20 << 20, hwm: 41 << 20}
	var out strings.Builder
	r.print(&out, loadOptions{connections: 64, duration: 10 * time.Second, urls: []string{"a", "b", "c"}, pids: []int{1, 2, 3}},
		procSample{rss: 30 << 20, anon: 8 << 20})
	want := "servers     CPU 0.60 cores, 300 µs a command; the largest server's RSS idle 30.0 MiB, peak while measuring 40.0 MiB"
	if !strings.Contains(out.String(), want) {
		t.Errorf("the report lacks %q:\n%s", want, out.String())
	}
}

// TestSampleProcs sums the servers' CPU and keeps the largest memory:
// this process, sampled as two servers, has twice its CPU time and its
// own resident set.
func TestSampleProcs(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc here: loadtest leaves CPU and memory out")
	}
	pid := os.Getpid()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		one, err := sampleProc(pid)
		if err != nil {
			t.Fatal(err)
		}
		two, err := sampleProcs([]int{pid, pid})
		if err != nil {
			t.Fatal(err)
		}
		if one.cpu == 0 {
			sha256.Sum256(make([]byte, 1<<20))
			continue
		}
		// The two readings are moments apart: the CPU time may have
		// ticked in between, the resident set moved a page or two.
		if two.cpu < 2*one.cpu || two.cpu > 2*one.cpu+100*time.Millisecond {
			t.Errorf("two servers' CPU = %v, want twice one's (%v)", two.cpu, one.cpu)
		}
		if d := two.rss - one.rss; d < -(1<<20) || d > 1<<20 {
			t.Errorf("two servers' largest resident set = %d, want one's (%d)", two.rss, one.rss)
		}
		return
	}
	t.Fatal("no CPU time after 5 s of work")
}
