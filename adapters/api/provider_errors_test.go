package api

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/assistbot/assistbot/adapters/web/webtest"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
	"github.com/assistbot/assistbot/core/outbox"
)

// goneAfterCommit is the engine as a client sees it when its request
// times out (or it hangs up) just after the action committed: the
// request's context ends right after the engine's call returns.
type goneAfterCommit struct {
	*core.Engine
	cancel func()
}

func (g *goneAfterCommit) Send(ctx context.Context, id string, actor core.Actor, kind core.LinkKind) (*core.Session, *core.Delivery, error) {
	s, d, err := g.Engine.Send(ctx, id, actor, kind)
	g.cancel()
	return s, d, err
}

// ctxStore reads nothing once the context of the read has ended, as the
// real stores do.
type ctxStore struct{ *coretest.MemStore }

func (s ctxStore) FindSession(ctx context.Context, id string) (*core.Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.MemStore.FindSession(ctx, id)
}

func (s ctxStore) FindConversation(ctx context.Context, id string) (*core.Conversation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.MemStore.FindConversation(ctx, id)
}

// TestKeyKeptWhenTheClientLeavesAfterTheCommit: a keyed send whose client
// goes away just after the link was queued still records its answer, and
// the client's retry with the same Idempotency-Key gets it, rather than
// sending the text a second time.
func TestKeyKeptWhenTheClientLeavesAfterTheCommit(t *testing.T) {
	st := ctxStore{coretest.NewMemStore()}
	w := webtest.New(t, webtest.Options{})
	eng := core.NewEngine(core.Options{Courier: outbox.New(outbox.Options{}), Store: st, Provider: w.Provider, Clock: w.Clock,
		Channels: []core.Channel{&coretest.Channel{ChannelName: core.ChannelSMS}}, Logger: w.Logger})
	g := &goneAfterCommit{Engine: eng, cancel: func() {}}
	a, err := New(Options{Engine: g, Catalog: w.Catalog, Tokens: []string{token}, Idempotency: st, Clock: w.Clock, Logger: w.Logger})
	if err != nil {
		t.Fatal(err)
	}
	a.Mount(w.Server)
	s, _, err := eng.Issue(context.Background(), core.Request{Customer: webtest.Pat, Agent: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	send := func(hangUp bool) int {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		g.cancel = func() {}
		if hangUp {
			g.cancel = cancel
		}
		req := httptest.NewRequest(http.MethodPost, "/api/v1/sessions/"+s.ID+"/send", strings.NewReader(`{"link":"desktop"}`)).WithContext(ctx)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Idempotency-Key", "send-once-1")
		rec := httptest.NewRecorder()
		w.Server.ServeHTTP(rec, req)
		return rec.Code
	}
	first := send(true)  // the client times out as the link is queued
	retry := send(false) // and retries with the same key
	ds, err := eng.Deliveries(context.Background(), s.ID)
	if err != nil {
		t.Fatal(err)
	}
	links := 0
	for _, d := range ds {
		if d.Notice.Kind == core.NoticeLink {
			links++
		}
	}
	if links != 1 {
		t.Errorf("first answer %d, retry %d: the customer was sent %d links for one Idempotency-Key, want 1", first, retry, links)
	}
}

// TestProviderRefusingItsAccountIsNot401: when the provider refuses
// assistbot's own service account (MeshCentral's "Access denied", a
// refused login) as a session is started or closed, the API answers 503,
// as Issue does, not 401, which would tell the client its own, valid,
// token is wrong.
func TestProviderRefusingItsAccountIsNot401(t *testing.T) {
	refused := func(what string) error {
		return core.Wrap(core.CodeUnauthorized, errors.New("meshcentral: Access denied"), "MeshCentral refused the service account the right to "+what)
	}
	r := newRig(t)
	r.Provider.StartFunc = func(context.Context, *core.Session, core.Mode, string) (string, error) {
		return "", refused("share the customer's screen")
	}
	r.Provider.RevokeFunc = func(context.Context, *core.Session) error { return refused("remove the invite code") }
	joined := r.Issue("en")
	r.Join(joined, core.DeviceDesktop)
	for _, c := range []struct{ path, body string }{
		{"/api/v1/sessions/" + joined.ID + "/start", `{"mode":"view"}`},
		{"/api/v1/sessions/" + r.Issue("en").ID + "/close", ``},
	} {
		resp, got := r.call(http.MethodPost, c.path, c.body)
		code, msg := apiError(t, got)
		if resp.StatusCode == http.StatusUnauthorized || code == "unauthorized" {
			t.Errorf("POST %s with a valid token: %d %s %q, WWW-Authenticate %q; want 503 unavailable",
				c.path, resp.StatusCode, code, msg, resp.Header.Get("WWW-Authenticate"))
		}
	}
}
