package slack

import (
	"context"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
	slackapi "github.com/slack-go/slack"
)

// roomsTTL is how long a customer's channel is remembered as one: a
// channel is seldom unshared, and /remote typed alone in it should not
// cost a Web API call each time. Any other answer is asked again, so that
// inviting the app, or sharing the channel, counts at once.
const roomsTTL = 10 * time.Minute

// roomLookupTimeout bounds the one lookup a slash command may wait for.
const roomLookupTimeout = 5 * time.Second

// room is what assistbot uses of conversations.info.
type room struct {
	// external: the channel is shared with another organisation (Slack
	// Connect), so the customer can be in it.
	external bool
	// member: the app is in the channel, and can post in it.
	member bool
}

// conversationInfo is the part of the Web API rooms need.
type conversationInfo interface {
	GetConversationInfoContext(ctx context.Context, input *slackapi.GetConversationInfoInput) (*slackapi.Channel, error)
}

// rooms caches conversations.info answers for /remote typed alone.
type rooms struct {
	api   conversationInfo
	known *expirable.LRU[string, room]
}

func newRooms(api conversationInfo) *rooms {
	return &rooms{api: api, known: expirable.NewLRU[string, room](maxCached, nil, roomsTTL)}
}

// get returns what Slack says of channel, or the error of the lookup.
func (r *rooms) get(ctx context.Context, channel string) (room, error) {
	if v, ok := r.known.Get(channel); ok {
		return v, nil
	}
	ctx, cancel := context.WithTimeout(ctx, roomLookupTimeout)
	defer cancel()
	c, err := r.api.GetConversationInfoContext(ctx, &slackapi.GetConversationInfoInput{ChannelID: channel})
	if err != nil {
		return room{}, err
	}
	// is_ext_shared says it; is_shared without is_org_shared is a channel
	// shared with a workspace outside the organisation too. A channel
	// shared only within an Enterprise Grid organisation is internal, and
	// one whose invitation is still pending has no customer in it yet.
	v := room{external: c.IsExtShared || (c.IsShared && !c.IsOrgShared), member: c.IsMember}
	if v.external && v.member {
		r.known.Add(channel, v)
	}
	return v, nil
}

// dmOpener is the part of the Web API dms need.
type dmOpener interface {
	OpenConversationContext(ctx context.Context, params *slackapi.OpenConversationParameters) (*slackapi.Channel, bool, bool, error)
}

// dms knows the ID of the app's DM with each agent whose desk it is.
// Alerts are posted to the agent's user ID, which chat.postMessage takes
// for that DM, but chat.update takes only the DM's own ID, which
// conversations.open gives. It never changes, so it is asked once.
type dms struct {
	api   dmOpener
	known *expirable.LRU[string, string]
}

func newDMs(api dmOpener) *dms {
	return &dms{api: api, known: expirable.NewLRU[string, string](maxCached, nil, 0)}
}

// channel returns the conversation to edit desk's messages in: the DM's
// ID when desk is a user, else desk itself.
func (d *dms) channel(ctx context.Context, desk string) (string, error) {
	if !validID(desk, "UW") {
		return desk, nil
	}
	if id, ok := d.known.Get(desk); ok {
		return id, nil
	}
	c, _, _, err := d.api.OpenConversationContext(ctx, &slackapi.OpenConversationParameters{Users: []string{desk}})
	if err != nil {
		return "", err
	}
	d.known.Add(desk, c.ID)
	return c.ID, nil
}
