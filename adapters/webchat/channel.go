package webchat

import (
	"context"
	"strconv"
	"sync"

	"github.com/assistbot/assistbot/core"
)

// channel is the "web" channel: it delivers links and agent replies
// to web chat customers. Both are in the store already (the reply in the
// transcript, the link as its outbox entry), and the chat page reads them
// from there, live through the hub while it is open and at its next load
// otherwise. So delivering says only where the notice stands: delivered
// when a page of the customer's chat is open to show it at once, sent
// otherwise, until the page loads and shows it (see markSeen).
type channel struct {
	mu   sync.Mutex
	live map[string]int // chat id → open chat pages
}

var _ core.Channel = (*channel)(nil)

func newChannel() *channel { return &channel{live: make(map[string]int)} }

// Name implements core.Channel.
func (*channel) Name() string { return core.ChannelWeb }

// Deliver implements core.Channel.
func (c *channel) Deliver(ctx context.Context, d *core.Delivery) (core.Receipt, error) {
	status := core.DeliverySent
	if c.isLive(d.To.Address) {
		status = core.DeliveryDelivered
	}
	return core.Receipt{Status: status, ExternalID: chatExternalID(d.ID)}, nil
}

// open records that a page of chat id is listening; the returned func
// records that it stopped.
func (c *channel) open(id string) func() {
	c.mu.Lock()
	c.live[id]++
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.live[id]--; c.live[id] <= 0 {
			delete(c.live, id)
		}
	}
}

func (c *channel) isLive(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.live[id] > 0
}

// chatExternalID is the id a web chat delivery is known by, so that the
// page's later reading can report it delivered.
func chatExternalID(id int64) string { return "web-" + strconv.FormatInt(id, 10) }
