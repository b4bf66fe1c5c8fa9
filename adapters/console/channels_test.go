package console

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/web/webtest"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
)

// TestRemoteDialogAnyChannel opens the remote-session dialog from the
// console for conversations that came in through Slack and Discord and
// are followed on those desks: the console lists them, says where they
// are followed, and issues a PIN for the right customer from there too.
func TestRemoteDialogAnyChannel(t *testing.T) {
	for _, tc := range []struct {
		channel, address, desk, label string
	}{
		{core.ChannelSlack, "U0PAT", "C0DESK", "followed in Slack"},
		{core.ChannelDiscord, "300000000000000030", "310000000000000031", "followed in Discord"},
	} {
		t.Run(tc.channel, func(t *testing.T) {
			platform := &coretest.Channel{ChannelName: tc.channel}
			r := newRigWith(t, []core.Channel{platform})
			c := r.Visitor()
			signInAs(c, "alice", alicePW)
			customer := core.Endpoint{Channel: tc.channel, Address: tc.address}
			conv, _, err := r.Engine.CustomerMessage(ctx, core.Inbound{Customer: customer, Name: "Pat", Text: "help",
				Desk: core.Endpoint{Channel: tc.channel, Address: tc.desk}})
			if err != nil {
				t.Fatal(err)
			}
			_, list := c.Get("/console/conversations", csrfHeader, c.CSRF)
			webtest.WantContains(t, list, `data-conversation="`+conv.ID+`"`, "Pat", tc.label)

			s, card := r.openDialog(c, conv.ID, "alice")
			id := s.ID
			webtest.WantContains(t, card, s.PIN, `value="remote.send_desktop"`, `value="remote.send_mobile"`, `value="remote.regenerate"`, `value="remote.close"`)

			// Sending from the console queues the link for the customer
			// on their own platform.
			resp, _ := c.Fetch("/console/sessions/"+id+"/act", url.Values{"action": {"remote.send_desktop"}})
			webtest.WantStatus(t, resp, "", http.StatusOK)
			links := func() (out []core.Delivery) {
				for _, d := range platform.Delivered() {
					if d.Notice.Kind == core.NoticeLink {
						out = append(out, d)
					}
				}
				return out
			}
			for deadline := time.Now().Add(5 * time.Second); len(links()) == 0 && time.Now().Before(deadline); {
				select {
				case <-platform.Attempted():
				case <-time.After(50 * time.Millisecond):
				}
			}
			if ds := links(); len(ds) != 1 || ds[0].To != customer || ds[0].Notice.Link != s.DesktopURL {
				t.Errorf("%s delivered the links %+v: want the desktop link for %v", tc.channel, ds, customer)
			}
		})
	}
}
