package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is the kernel's USER_HZ, the unit of /proc/PID/stat's CPU
// times; 100 on every Linux the Go runtime supports.
const clockTicks = 100

// procSample is what /proc says of a process at one moment.
type procSample struct {
	cpu  time.Duration // user + system time so far
	rss  int64         // resident set, bytes
	anon int64         // of which private memory (heap, stacks, caches), bytes
	hwm  int64         // peak resident set since start, bytes
}

// sampleProc reads /proc/PID/stat and /proc/PID/status. It fails where
// there is no /proc (then the report leaves CPU and memory out).
func sampleProc(pid int) (procSample, error) {
	var s procSample
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	// The command name, field 2, is in parentheses and may hold spaces:
	// count fields from after its closing one.
	rest := string(stat)
	if i := strings.LastIndexByte(rest, ')'); i >= 0 {
		rest = rest[i+1:]
	}
	f := strings.Fields(rest)
	if len(f) < 13 {
		return s, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, _ := strconv.ParseInt(f[12], 10, 64) // field 15
	s.cpu = time.Duration(utime+stime) * time.Second / clockTicks
	st, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	defer st.Close()
	sc := bufio.NewScanner(st)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "VmRSS":
			s.rss = kb << 10
		case "RssAnon":
			s.anon = kb << 10
		case "VmHWM":
			s.hwm = kb << 10
		}
	}
	return s, sc.Err()
}

// sampleProcs samples several servers as one: their CPU times summed,
// and the largest one's memory, each figure on its own (the resident set
// of one, the private memory of another).
func sampleProcs(pids []int) (procSample, error) {
	var all procSample
	for _, pid := range pids {
		s, err := sampleProc(pid)
		if err != nil {
			return all, err
		}
		all.cpu += s.cpu
		all.rss, all.anon, all.hwm = max(all.rss, s.rss), max(all.anon, s.anon), max(all.hwm, s.hwm)
	}
	return all, nil
}

// mib formats bytes as MiB with one decimal.
func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
