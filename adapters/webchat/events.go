package webchat

import (
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/assistbot/assistbot/adapters/web"
	"github.com/assistbot/assistbot/core"
)

// chatBuffer is the hub buffer of a chat page's stream: it follows only
// its own conversation.
const chatBuffer = 16

const (
	// maxStreams caps the chat pages listening at once. Every stream is a
	// hub subscriber that each update visits, and the chat is open to
	// anyone; past the cap pages fall back to asking for their
	// transcript every little while.
	maxStreams = 2000
	// maxClientStreams caps the streams of one client address, so that no
	// one fills the server's; past it the client's oldest stream closes
	// (a customer's newest tab always listens).
	maxClientStreams = 8
	// streamsFullRetry is when a page refused for the server's cap is
	// asked to try again.
	streamsFullRetry = 30 * time.Second
)

// handleEvents tells a chat page when to reload its transcript: a
// message in its conversation, a link delivered to it, a change of its
// session. The events carry nothing but their name, so the stream never
// holds anything the page could not read anyway. Only a chat id that
// assistbot signed gets a stream.
func (c *Chat) handleEvents(w http.ResponseWriter, r *http.Request) {
	id, ok := c.chatID(r)
	if !ok {
		c.fail(w, r, http.StatusForbidden, "console.chat.no_cookie")
		return
	}
	client, _ := web.Client(r, c.proxies)
	st, ok := c.streams.open(client)
	if !ok {
		// Not an error of the server's: the page reloads its transcript
		// now and then instead, and tries again later.
		w.Header().Set("Retry-After", web.RetryAfter(streamsFullRetry))
		c.fail(w, r, http.StatusTooManyRequests, "error.unavailable")
		return
	}
	defer c.streams.close(st)
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
		case <-st.superseded:
			// A newer page of the same client took this one's place: it
			// is told not to reconnect, and reloads now and then instead.
			_ = out.Send("superseded", struct{}{})
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

// streams counts the open chat streams, in all and per client address,
// against their caps.
type streams struct {
	max, perClient int

	mu      sync.Mutex
	n       int
	clients map[string][]*stream // oldest first
}

// stream is one open chat stream; superseded closes when a newer stream
// of its client takes its place.
type stream struct {
	client     string
	superseded chan struct{}
}

func newStreams(max, perClient int) *streams {
	return &streams{max: max, perClient: perClient, clients: make(map[string][]*stream)}
}

// open admits a stream of client. A client at its cap has its oldest
// stream superseded first; then, when the server's cap is reached, the
// stream is refused (false).
func (s *streams) open(client string) (*stream, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if list := s.clients[client]; len(list) >= s.perClient {
		oldest := list[0]
		s.clients[client] = slices.Delete(list, 0, 1)
		s.n--
		close(oldest.superseded)
	}
	if s.n >= s.max {
		return nil, false
	}
	st := &stream{client: client, superseded: make(chan struct{})}
	s.clients[client] = append(s.clients[client], st)
	s.n++
	return st, true
}

// close forgets st, unless it was superseded already.
func (s *streams) close(st *stream) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.clients[st.client]
	i := slices.Index(list, st)
	if i < 0 {
		return
	}
	s.n--
	if list = slices.Delete(list, i, i+1); len(list) == 0 {
		delete(s.clients, st.client)
	} else {
		s.clients[st.client] = list
	}
}

// count returns how many streams are open, in all and of client.
func (s *streams) count(client string) (all, ofClient int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n, len(s.clients[client])
}
