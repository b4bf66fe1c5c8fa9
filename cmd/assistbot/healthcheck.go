package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"
)

// healthcheckCommand is "healthcheck": it asks the running server's
// /healthz, on the configured listen address, and exits 0 when it answers
// 200, for container health checks.
func (c *cli) healthcheckCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "Exit 0 when the running server answers /healthz (for container health checks)",
		Long: `healthcheck asks http://<server.listen>/healthz of the server this
configuration describes (an empty or wildcard host means this machine) and
exits 0 when it answers 200 within 3 seconds, 1 otherwise. A server
started with "serve --listen" is asked at the address given with
"healthcheck --listen".`,
		Example: `  assistbot healthcheck
  assistbot healthcheck --listen :9090              # for "assistbot serve --listen :9090"
  HEALTHCHECK CMD ["/assistbot", "healthcheck"]     # in a Dockerfile`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return c.healthcheck(c.ctx) },
	}
	cmd.Flags().StringVar(&c.listen, "listen", "", "the address the server was told to serve on with serve --listen, overriding server.listen")
	return cmd
}

func (c *cli) healthcheck(ctx context.Context) error {
	cfg, err := c.loadConfig()
	if err != nil {
		printProblems(c.stderr, err)
		return failed()
	}
	listen := cfg.Server.Listen
	if c.listen != "" {
		listen = c.listen
	}
	url := "http://" + dialAddr(listen) + "/healthz"
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		fmt.Fprintf(c.stderr, "healthcheck: %v\n", err)
		return failed()
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(c.stderr, "healthcheck: %v\n", err)
		return failed()
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(c.stderr, "healthcheck: %s answered %s\n", url, resp.Status)
		return failed()
	}
	fmt.Fprintln(c.stdout, "ok")
	return nil
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
