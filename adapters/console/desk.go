package console

import (
	"context"
	"strconv"

	"github.com/assistbot/assistbot/core"
)

// deskChannel is the "console" channel: the desk of conversations
// followed in the console (web chats, and SMS when twilio.desk is
// console). The console reads transcripts and sessions from the store and
// learns of changes from the hub, so a notice for it needs no sending:
// by the time the outbox hands it over, it is already on every open
// console page. Delivering only records that.
type deskChannel struct{}

var _ core.Channel = (*deskChannel)(nil)

// Name implements core.Channel.
func (*deskChannel) Name() string { return core.ChannelConsole }

// Deliver implements core.Channel: the notice is delivered.
func (*deskChannel) Deliver(ctx context.Context, d *core.Delivery) (core.Receipt, error) {
	return core.Receipt{Status: core.DeliveryDelivered, ExternalID: "console-" + strconv.FormatInt(d.ID, 10)}, nil
}
