package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// bareCard is the fixed answer of the bare server: an ephemeral card of
// the size assistbot's is.
const bareCard = `{"response_type":"ephemeral","text":"Remote support: PIN 123456","blocks":[` +
	`{"type":"header","text":{"type":"plain_text","text":"Remote support"}},` +
	`{"type":"section","text":{"type":"mrkdwn","text":"*PIN* 123456\nCustomer: <@U0PAT>"}},` +
	`{"type":"section","fields":[{"type":"mrkdwn","text":"*Desktop link*\n<https://support.example.com/?code=123456>"},` +
	`{"type":"mrkdwn","text":"*Mobile link*\n<https://support.example.com/m/123456>"}]},` +
	`{"type":"context","elements":[{"type":"mrkdwn","text":"Or enter the PIN at https://support.example.com/"}]},` +
	`{"type":"actions","block_id":"card","elements":[` +
	`{"type":"button","action_id":"remote.send_desktop","text":{"type":"plain_text","text":"Send desktop link"},"value":"x","style":"primary"},` +
	`{"type":"button","action_id":"remote.send_mobile","text":{"type":"plain_text","text":"Send mobile link"},"value":"x"},` +
	`{"type":"button","action_id":"remote.regenerate","text":{"type":"plain_text","text":"Generate another code"},"value":"x"},` +
	`{"type":"button","action_id":"remote.close","text":{"type":"plain_text","text":"Revoke code"},"value":"x","style":"danger"}]}]}`

// serveBare serves POST /slack/commands with nothing but the signature
// check and the fixed card: the bound of any Go server on this machine.
func serveBare(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("bare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:9090", "address to listen on")
	secret := fs.String("secret", "load-test-signing-secret", "Slack signing secret the requests are signed with")
	if err := fs.Parse(args); err != nil {
		return err
	}
	key := []byte(*secret)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /slack/commands", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
		if err != nil || !verify(key, r.Header, body) {
			http.Error(w, "unverified", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = io.WriteString(w, bareCard)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	fmt.Fprintf(stderr, "bare server on %s\n", ln.Addr())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
