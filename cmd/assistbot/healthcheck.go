package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"
)

// healthcheck asks the running server's /healthz, on the configured listen
// address, and exits 0 when it answers 200: for container health checks.
func (c *cli) healthcheck(ctx context.Context, args []string) int {
	fs := c.flags("healthcheck")
	if err := fs.Parse(args); err != nil {
		return c.usageError(err)
	}
	cfg, err := c.loadConfig()
	if err != nil {
		printProblems(c.stderr, err)
		return exitFailed
	}
	url := "http://" + dialAddr(cfg.Server.Listen) + "/healthz"
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		fmt.Fprintf(c.stderr, "healthcheck: %v\n", err)
		return exitFailed
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(c.stderr, "healthcheck: %v\n", err)
		return exitFailed
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(c.stderr, "healthcheck: %s answered %s\n", url, resp.Status)
		return exitFailed
	}
	fmt.Fprintln(c.stdout, "ok")
	return exitOK
}

// dialAddr turns a listen address into one to connect to: an empty or
// wildcard host means this machine.
func dialAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
