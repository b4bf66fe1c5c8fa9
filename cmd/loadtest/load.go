package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// loadOptions are the flags of run.
type loadOptions struct {
	urls        []string
	secret      string
	connections int
	duration    time.Duration
	warmup      time.Duration
	pids        []int // the servers', to report their CPU and memory
	text        string
	team, user  string
	spawn       spawnOptions
}

// runLoad is "loadtest run".
func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o loadOptions
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "http://127.0.0.1:8080", "assistbot's base URL; several, comma-separated, are used round-robin")
	fs.StringVar(&o.secret, "secret", "load-test-signing-secret", "Slack signing secret the requests are signed with (slack.signing_secret)")
	fs.IntVar(&o.connections, "connections", 64, "connections, each with one request at a time")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long to measure")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "load before measuring, not counted")
	pid := fs.Int("pid", 0, "the server's process id, to report its CPU and memory (set by --spawn)")
	fs.StringVar(&o.text, "text", "<@U0CUSTOMER|pat>", "the command's text: who the customer is")
	fs.StringVar(&o.team, "team", "T0LOAD", "the team id of the requests")
	fs.StringVar(&o.user, "user", "U0AGENT", "the user id of the requests")
	o.spawn.flags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.urls = strings.Split(*url, ",")
	if *pid != 0 {
		o.pids = []int{*pid}
	}
	if o.spawn.binary != "" {
		procs, err := o.spawn.start(ctx, o.secret, stderr)
		if err != nil {
			return err
		}
		defer procs.stop()
		o.urls, o.pids = procs.urls, procs.pids
	}
	var idle procSample
	if len(o.pids) > 0 {
		var err error
		if idle, err = sampleProcs(o.pids); err != nil {
			fmt.Fprintf(stderr, "loadtest: no CPU or memory figures: %v\n", err)
			o.pids = nil
		}
	}
	r, err := load(ctx, o)
	if err != nil {
		return err
	}
	r.print(stdout, o, idle)
	return nil
}

// result is what a run measured.
type result struct {
	requests  int
	errors    map[string]int
	elapsed   time.Duration
	latencies []time.Duration
	cpu       time.Duration // server CPU time while measuring
	ownCPU    time.Duration // this process's CPU time while measuring
	peakRSS   int64         // the highest resident set seen while measuring
	peakAnon  int64         // the most private memory seen while measuring
	hwm       int64         // the kernel's peak resident set since start
}

// load sends commands on o.connections connections: for o.warmup without
// counting, then for o.duration.
func load(ctx context.Context, o loadOptions) (*result, error) {
	cmd := &command{secret: []byte(o.secret), team: o.team, user: o.user, text: o.text}
	var measuring atomic.Bool
	stop := time.Now().Add(o.warmup + o.duration)
	lat := make([][]time.Duration, o.connections)
	errs := make([]map[string]int, o.connections)
	var wg sync.WaitGroup
	for i := range o.connections {
		errs[i] = map[string]int{}
		c, err := newConn(o.urls[i%len(o.urls)])
		if err != nil {
			return nil, err
		}
		wg.Go(func() {
			defer c.close()
			for ctx.Err() == nil && time.Now().Before(stop) {
				start := time.Now()
				status := send(c, cmd, start)
				if !measuring.Load() {
					continue
				}
				if status != "" {
					errs[i][status]++
					continue
				}
				lat[i] = append(lat[i], time.Since(start))
			}
		})
	}
	select {
	case <-ctx.Done():
	case <-time.After(o.warmup):
	}
	measuring.Store(true)
	begin := time.Now()
	ownBefore := ownCPU()
	var before procSample
	var peak, peakAnon atomic.Int64
	sampled := make(chan struct{})
	if len(o.pids) > 0 {
		before, _ = sampleProcs(o.pids)
		go func() {
			defer close(sampled)
			t := time.NewTicker(100 * time.Millisecond)
			defer t.Stop()
			for time.Now().Before(stop) && ctx.Err() == nil {
				if s, err := sampleProcs(o.pids); err == nil {
					peak.Store(max(peak.Load(), s.rss))
					peakAnon.Store(max(peakAnon.Load(), s.anon))
				}
				<-t.C
			}
		}()
	} else {
		close(sampled)
	}
	wg.Wait()
	<-sampled
	r := &result{elapsed: time.Since(begin), errors: map[string]int{}, peakRSS: peak.Load(), peakAnon: peakAnon.Load(), ownCPU: ownCPU() - ownBefore}
	if len(o.pids) > 0 {
		if after, err := sampleProcs(o.pids); err == nil {
			r.cpu, r.hwm = after.cpu-before.cpu, after.hwm
		}
	}
	for i := range lat {
		r.latencies = append(r.latencies, lat[i]...)
		for k, n := range errs[i] {
			r.errors[k] += n
		}
	}
	r.requests = len(r.latencies)
	if r.requests == 0 && len(r.errors) == 0 {
		return nil, errors.New("no request completed")
	}
	slices.Sort(r.latencies)
	return r, ctx.Err()
}

// send makes one request and returns "" when it was answered with a card,
// or what went wrong.
func send(c *conn, cmd *command, now time.Time) string {
	body, ts, sig := cmd.next(now)
	code, card, err := c.post(body, ts, sig, 10*time.Second)
	switch {
	case err != nil:
		return "transport error"
	case code != http.StatusOK:
		return strconv.Itoa(code) + " " + http.StatusText(code)
	case !card:
		return "200 without a card"
	}
	return ""
}

// quantile returns the q-th quantile of sorted latencies.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q * float64(len(sorted)-1))
	return sorted[i]
}

func (r *result) print(w io.Writer, o loadOptions, idle procSample) {
	rate := float64(r.requests) / r.elapsed.Seconds()
	fmt.Fprintf(w, "connections %d, %s measured after %s of warm-up, %d server(s)\n", o.connections, o.duration, o.warmup, len(o.urls))
	fmt.Fprintf(w, "requests    %d answered with a card: %.0f/s\n", r.requests, rate)
	if len(r.errors) > 0 {
		keys := make([]string, 0, len(r.errors))
		for k := range r.errors {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "errors      %d × %s\n", r.errors[k], k)
		}
	}
	l := r.latencies
	fmt.Fprintf(w, "latency     p50 %s  p90 %s  p99 %s  max %s\n",
		ms(quantile(l, 0.50)), ms(quantile(l, 0.90)), ms(quantile(l, 0.99)), ms(quantile(l, 1)))
	fmt.Fprintf(w, "loadtest    CPU %.2f cores (if it nears the cores it may use, the load generator is the limit)\n", r.ownCPU.Seconds()/r.elapsed.Seconds())
	if len(o.pids) > 0 {
		perCommand := ""
		if r.requests > 0 {
			perCommand = fmt.Sprintf(", %.0f µs a command", float64(r.cpu.Microseconds())/float64(r.requests))
		}
		label, memory := "server     ", ""
		if len(o.pids) > 1 {
			label, memory = "servers    ", " the largest server's"
		}
		fmt.Fprintf(w, "%s CPU %.2f cores%s;%s RSS idle %s, peak while measuring %s (kernel's peak since start %s)\n",
			label, r.cpu.Seconds()/r.elapsed.Seconds(), perCommand, memory, mib(idle.rss), mib(r.peakRSS), mib(r.hwm))
		fmt.Fprintf(w, "            of which private (heap, stacks, caches): idle %s, peak %s; the rest is the program's own file, mapped\n",
			mib(idle.anon), mib(r.peakAnon))
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }

// ownCPU is this process's user and system CPU time so far.
func ownCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
