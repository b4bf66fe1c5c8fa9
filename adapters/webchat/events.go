package webchat

import (
	"net/http"
	"sync"
	"time"

	"github.com/assistbot/assistbot/adapters/web"
	"github.com/assistbot/assistbot/core"
)

// chatBuffer is the hub buffer of a chat page's stream: it follows only
// its own conversation.
const chatBuffer = 16

// maxStreams caps the chat pages listening at once. Every stream is a
// hub subscriber that each update visits, and the chat is open to anyone;
// past the cap pages fall back to reloading when the customer writes.
const maxStreams = 2000

// handleEvents tells a chat page when to reload its transcript: a
// message in its conversation, a link delivered to it, a change of its
// session. The events carry nothing but their name, so the stream never
// holds anything the page could not read anyway.
func (c *Chat) handleEvents(w http.ResponseWriter, r *http.Request) {
	id, ok := chatID(r)
	if !ok {
		c.fail(w, r, http.StatusForbidden, "console.chat.no_cookie")
		return
	}
	if !c.streams.acquire() {
		c.fail(w, r, http.StatusServiceUnavailable, "error.unavailable")
		return
	}
	defer c.streams.release()
	ep := core.Endpoint{Channel: core.ChannelWeb, Address: id}
	convs := map[string]bool{}
	if conv, err := c.chatConversation(r, id); err == nil && conv != nil {
		convs[conv.ID] = true
	}
	leave := c.channel.open(id)
	defer leave()
	updates, cancel := c.subscribe(chatBuffer)
	defer func() { cancel() }()
	out := web.StartEvents(w)
	ping := time.NewTicker(c.keepalive)
	defer ping.Stop()
	for {
		var err error
		select {
		case <-r.Context().Done():
			return
		case <-c.done:
			return
		case <-ping.C:
			err = out.Ping()
		case u, ok := <-updates:
			if !ok {
				updates, cancel = c.subscribe(chatBuffer)
				err = out.Send("refresh", struct{}{})
				break
			}
			if chatConcerns(u, ep, convs) {
				err = out.Send("refresh", struct{}{})
			}
		}
		if err != nil {
			return
		}
	}
}

// chatConcerns reports whether update u changes what the chat of ep
// shows, learning the chat's conversations as they appear.
func chatConcerns(u core.Update, ep core.Endpoint, convs map[string]bool) bool {
	switch {
	case u.Conversation != nil && u.Conversation.Customer == ep:
		convs[u.Conversation.ID] = true
		return true
	case u.Delivery != nil && u.Delivery.To == ep:
		convs[u.Delivery.ConversationID] = true
		return true
	case u.Session != nil && convs[u.Session.ConversationID]:
		return true
	}
	return false
}

// streamCount counts the open chat streams against their cap.
type streamCount struct {
	mu  sync.Mutex
	n   int
	max int
}

func (s *streamCount) acquire() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n >= s.max {
		return false
	}
	s.n++
	return true
}

func (s *streamCount) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n--
}
