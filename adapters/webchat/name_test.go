package webchat

import (
	"strings"
	"testing"

	"github.com/assistbot/assistbot/core"
)

// TestNameKeptAfterClose: a customer who gave their name writes again
// after the agent closed the conversation; the page does not ask for the
// name again, and the new conversation has it (it had none: the console
// showed the masked chat id instead of "Pat").
func TestNameKeptAfterClose(t *testing.T) {
	r := newRig(t)
	c := r.openChat("en")
	if resp, out := say(c, "hello", "name", "Pat"); resp.StatusCode != 200 {
		t.Fatalf("say: %d %v", resp.StatusCode, out)
	}
	first := r.chatConv(c)
	if _, err := r.Engine.CloseConversation(ctx, first.ID, core.Actor{Kind: core.ActorAgent, Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	_, page := c.Get("/chat")
	asks := strings.Contains(page, `id="chat-name"`)
	form := []string{}
	if asks {
		form = []string{"name", "Pat"}
	}
	if resp, out := say(c, "me again", form...); resp.StatusCode != 200 {
		t.Fatalf("say: %d %v", resp.StatusCode, out)
	}
	second := r.chatConv(c)
	if second.ID == first.ID {
		t.Fatal("no new conversation")
	}
	if second.CustomerName != "Pat" {
		t.Errorf("returning customer's new conversation is named %q (page asks for the name: %v); want %q", second.CustomerName, asks, "Pat")
	}
}
