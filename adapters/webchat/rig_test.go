package webchat

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/web"
	"github.com/assistbot/assistbot/adapters/web/webtest"
	"github.com/assistbot/assistbot/core"
)

var (
	ctx       = context.Background()
	pat       = webtest.Pat
	uaDesktop = webtest.UADesktop
	esc       = webtest.Esc
)

const csrfHeader = web.CSRFHeader

const eventWait = 5 * time.Second

// The engine is what the chat needs.
var _ Engine = (*core.Engine)(nil)

// rig is a webtest rig with the chat mounted, the engine's outbox
// running and the chat's Run running.
type rig struct {
	*webtest.Rig
	chat *Chat
}

// newRig mounts the chat on a new rig; edit adjusts its options.
func newRig(t testing.TB, edit ...func(*Options)) *rig {
	t.Helper()
	r := &rig{Rig: webtest.New(t, webtest.Options{})}
	o := Options{Engine: r.Engine, Catalog: r.Catalog, PublicURL: r.URL(), Clock: r.Clock, Logger: r.Logger}
	for _, e := range edit {
		e(&o)
	}
	var err error
	if r.chat, err = New(o); err != nil {
		t.Fatal(err)
	}
	r.chat.Mount(r.Server)
	r.AddChannels(r.chat.Channels()...)
	r.Run(r.chat.Run)
	return r
}

// openChat opens /chat as a new customer's browser.
func (r *rig) openChat(lang string) *webtest.Visitor {
	r.T.Helper()
	c := r.Visitor()
	c.Lang = lang
	resp, body := c.Get("/chat")
	if resp.StatusCode != http.StatusOK {
		r.T.Fatalf("GET /chat: %d %s", resp.StatusCode, body)
	}
	return c
}

// say writes text in the chat as the page's script does.
func say(c *webtest.Visitor, text string, extra ...string) (*http.Response, map[string]any) {
	c.T.Helper()
	form := url.Values{"text": {text}}
	for i := 0; i+1 < len(extra); i += 2 {
		form.Set(extra[i], extra[i+1])
	}
	return c.Fetch("/chat/messages", form)
}

// chatConv returns the open conversation of chat visitor c.
func (r *rig) chatConv(c *webtest.Visitor) *core.Conversation {
	r.T.Helper()
	id := c.Cookie("/chat", chatConvCookie)
	if id == "" {
		r.T.Fatal("no conversation cookie")
	}
	return r.Conversation(id)
}

// messagesOf selects a conversation's transcript.
func messagesOf(convID string) core.MessageFilter { return core.MessageFilter{ConversationID: convID} }
