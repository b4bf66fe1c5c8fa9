package slack

import (
	"context"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
	slackapi "github.com/slack-go/slack"
)

// peopleTTL is how long a user's name and language are remembered.
const peopleTTL = time.Hour

// maxCached bounds a cache of Web API answers: past it, the least
// recently used answer goes first, rather than the cache growing with
// every user or channel ever seen.
const maxCached = 10000

// person is what assistbot uses of a Slack user's profile.
type person struct {
	name   string // display name, else real name, else user name
	locale string // "en-US"; empty when Slack did not say
	bot    bool
}

// userInfo is the part of the Web API people need.
type userInfo interface {
	GetUserInfoContext(ctx context.Context, user string, options ...slackapi.GetUserInfoOption) (*slackapi.User, error)
}

// people caches users.info answers. It is only used off the slash
// command's path: for the author of a relayed message and for the
// language of a customer's DM.
type people struct {
	api  userInfo
	seen *expirable.LRU[string, person]
}

func newPeople(api userInfo) *people {
	return &people{api: api, seen: expirable.NewLRU[string, person](maxCached, nil, peopleTTL)}
}

// get returns what Slack says of user; a failure returns the zero person,
// and callers fall back to the user ID and the default language.
func (p *people) get(ctx context.Context, user string) person {
	if v, ok := p.seen.Get(user); ok {
		return v
	}
	u, err := p.api.GetUserInfoContext(ctx, user, slackapi.GetUserInfoOptionIncludeLocale(true))
	if err != nil || u == nil {
		return person{}
	}
	v := person{name: u.Profile.DisplayName, locale: u.Locale, bot: u.IsBot}
	if v.name == "" {
		v.name = u.RealName
	}
	if v.name == "" {
		v.name = u.Name
	}
	p.seen.Add(user, v)
	return v
}
