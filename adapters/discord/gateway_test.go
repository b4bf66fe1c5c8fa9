package discord

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
)

// gateway is a fake Discord gateway: it says Hello, reads Identify, then
// either closes with closeCode or sends READY and hands the connection
// to the test, which dispatches events on it.
type gateway struct {
	srv       *httptest.Server
	closeCode int
	identify  chan json.RawMessage
	conns     chan *websocket.Conn
}

func newGateway(t *testing.T, closeCode int) *gateway {
	g := &gateway{closeCode: closeCode, identify: make(chan json.RawMessage, 4), conns: make(chan *websocket.Conn, 4)}
	up := websocket.Upgrader{}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		c.WriteJSON(map[string]any{"op": 10, "d": map[string]any{"heartbeat_interval": 45000}})
		var id struct {
			Op int             `json:"op"`
			D  json.RawMessage `json:"d"`
		}
		if c.ReadJSON(&id) != nil || id.Op != 2 {
			return
		}
		g.identify <- id.D
		if g.closeCode != 0 {
			c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(g.closeCode, "refused"), time.Now().Add(time.Second))
			return
		}
		c.WriteJSON(map[string]any{"op": 0, "s": 1, "t": "READY", "d": map[string]any{"v": 10, "session_id": "gw-session",
			"user": map[string]any{"id": "1000000000000000001", "username": "assistbot", "bot": true}, "guilds": []any{}}})
		g.conns <- c
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *gateway) url() string { return "ws" + strings.TrimPrefix(g.srv.URL, "http") }

// TestGatewayConnection connects over a websocket as Discord's gateway
// speaks it: the Identify asks for the intents the relay needs, and a
// dispatched INTERACTION_CREATE and MESSAGE_CREATE reach the handlers.
func TestGatewayConnection(t *testing.T) {
	g := newGateway(t, 0)
	r := newRig(t, func(o *Options) { o.Gateway = true })
	r.fake.GatewayURL = g.url()
	r.run()
	var id struct {
		Token   string `json:"token"`
		Intents int    `json:"intents"`
	}
	select {
	case raw := <-g.identify:
		json.Unmarshal(raw, &id)
	case <-time.After(5 * time.Second):
		t.Fatal("no Identify")
	}
	if id.Token != "Bot "+token || id.Intents != int(intents) || id.Intents&(1<<15) == 0 {
		t.Errorf("identify token %q intents %d", id.Token, id.Intents)
	}
	c := <-g.conns
	in := r.remoteCommand(agent(), supportC, customerOption(patID))
	c.WriteJSON(map[string]any{"op": 0, "s": 2, "t": "INTERACTION_CREATE", "d": in})
	eventually(t, "the card through the interaction callback", func() bool {
		for _, q := range r.fake.Requests() {
			if q.Path == "interactions/"+in["id"].(string)+"/"+in["token"].(string)+"/callback" && strings.Contains(string(q.Body), "012345") {
				return true
			}
		}
		return false
	})
	c.WriteJSON(map[string]any{"op": 0, "s": 3, "t": "MESSAGE_CREATE", "d": map[string]any{"id": "395000000000000001", "channel_id": r.fake.DMChannel(patID),
		"content": "hello from the gateway", "type": 0, "author": map[string]any{"id": patID, "username": "pat"}}})
	eventually(t, "the DM relayed to a desk thread", func() bool {
		th := r.fake.Threads()
		return len(th) == 1 && len(r.fake.Messages(th[0].ID)) == 1
	})
}

// TestGatewayRefusals: a gateway that refuses the intents or the token
// stops Run with an error that says what to fix, instead of reconnecting
// for ever.
func TestGatewayRefusals(t *testing.T) {
	for _, tc := range []struct {
		name string
		code int
		want string
	}{
		{"message content intent not enabled", closeDisallowedIntents, "enable it on the Bot page"},
		{"token refused", closeAuthenticationFailed, ErrTokenRefused.Error()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGateway(t, tc.code)
			r := newRig(t, func(o *Options) { o.Gateway = true })
			r.fake.GatewayURL = g.url()
			done := make(chan error, 1)
			go func() { done <- r.a.Run(context.Background()) }()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("Run = %v, want %q", err, tc.want)
				}
				if tc.code == closeAuthenticationFailed && !errors.Is(err, ErrTokenRefused) {
					t.Errorf("Run = %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Run kept reconnecting")
			}
		})
	}
}

// TestGatewayDeferred: over the gateway too, a /remote whose provider is
// slow is answered at once through the callback with a deferred
// ephemeral response, and the card follows as an edit of it.
func TestGatewayDeferred(t *testing.T) {
	release := make(chan struct{})
	r := newRig(t, func(o *Options) { o.DeferAfter = 20 * time.Millisecond })
	stop := testOver(t)
	r.provider.IssueFunc = func(ctx context.Context, req core.IssueRequest) (core.Ticket, error) {
		select {
		case <-release:
		case <-stop:
			return core.Ticket{}, core.Errorf(core.CodeUnavailable, "the test is over")
		}
		return core.Ticket{PIN: "012345", DesktopURL: "https://support.example.com/?code=012345", MobileURL: "https://support.example.com/m/012345", ManualURL: "https://support.example.com/"}, nil
	}
	in := r.remoteCommand(agent(), supportC, customerOption(patID))
	tok := in["token"].(string)
	r.a.onInteractionCreate(r.a.session, &discordgo.InteractionCreate{Interaction: in.decode(t)})
	reqs := r.fake.Requests()
	if len(reqs) != 1 || reqs[0].Method != "POST" || reqs[0].Path != "interactions/"+in["id"].(string)+"/"+tok+"/callback" {
		t.Fatalf("requests before the card %+v", reqs)
	}
	golden(t, "deferred_command", reqs[0].Body)
	close(release)
	var got []byte
	eventually(t, "the card as an edit of the deferred response", func() bool {
		m, ok := r.fake.Webhook(tok)
		if ok {
			got = mustJSON(m)
		}
		return ok
	})
	golden(t, "deferred_card", got, r.sessions()[0].ID, "SESSION")
	reqs = r.fake.Requests()
	if len(reqs) != 2 || reqs[1].Method != "PATCH" || reqs[1].Path != "webhooks/"+appID+"/"+tok+"/messages/@original" {
		t.Errorf("requests %+v, want the callback then one edit of @original", reqs)
	}
}

// Discord sends each event to every gateway connection of a bot: with
// several replicas, exactly one holds the gateway, and when it goes
// another takes over.
func TestGatewayHeldByOneReplica(t *testing.T) {
	g := newGateway(t, 0)
	r := newRig(t, func(o *Options) { o.Gateway, o.LockRetry = true, 20*time.Millisecond })
	r.fake.GatewayURL = g.url()
	r.opts.Locker = coretest.NewMemStore() // the store every replica shares
	first, second := r.replica(), r.replica()
	run := func(a *Adapter) context.CancelFunc {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { a.Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		return func() { cancel(); <-done }
	}
	stopFirst := run(first)
	select {
	case <-g.identify:
	case <-time.After(5 * time.Second):
		t.Fatal("no replica connected to the gateway")
	}
	run(second)
	select {
	case <-g.identify:
		t.Fatal("a second replica connected while the first holds the gateway")
	case <-time.After(300 * time.Millisecond):
	}
	stopFirst()
	select {
	case <-g.identify:
	case <-time.After(5 * time.Second):
		t.Fatal("the second replica did not take the gateway over when the first stopped")
	}
}
