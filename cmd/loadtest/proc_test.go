package main

import (
	"crypto/sha256"
	"os"
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
