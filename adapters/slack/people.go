package slack

import (
	"context"
	"sync"
	"time"

	slackapi "github.com/slack-go/slack"
)

// peopleTTL is how long a user's name and language are remembered.
const peopleTTL = time.Hour

// person is what assistbot uses of a Slack user's profile.
type person struct {
	name   string // display name, else real name, else user name
	locale string // "en-US"; empty when Slack did not say
	bot    bool
	at     time.Time
}

// userInfo is the part of the Web API people need.
type userInfo interface {
	GetUserInfoContext(ctx context.Context, user string, options ...slackapi.GetUserInfoOption) (*slackapi.User, error)
}

// people caches users.info answers. It is only used off the slash
// command's path: for the author of a relayed message and for the
// language of a customer's DM.
type people struct {
	api userInfo
	mu  sync.Mutex
	m   map[string]person
	now func() time.Time
}

func newPeople(api userInfo) *people {
	return &people{api: api, m: map[string]person{}, now: time.Now}
}

// get returns what Slack says of user; a failure returns the zero person,
// and callers fall back to the user ID and the default language.
func (p *people) get(ctx context.Context, user string) person {
	now := p.now()
	p.mu.Lock()
	v, ok := p.m[user]
	p.mu.Unlock()
	if ok && now.Sub(v.at) < peopleTTL {
		return v
	}
	u, err := p.api.GetUserInfoContext(ctx, user, slackapi.GetUserInfoOptionIncludeLocale(true))
	if err != nil || u == nil {
		return person{}
	}
	v = person{name: u.Profile.DisplayName, locale: u.Locale, bot: u.IsBot, at: now}
	if v.name == "" {
		v.name = u.RealName
	}
	if v.name == "" {
		v.name = u.Name
	}
	p.mu.Lock()
	if len(p.m) > 10000 {
		clear(p.m)
	}
	p.m[user] = v
	p.mu.Unlock()
	return v
}
