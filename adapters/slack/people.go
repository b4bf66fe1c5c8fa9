package slack

import (
	"context"
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
	seen *cache[person]
}

func newPeople(api userInfo) *people {
	return &people{api: api, seen: newCache[person](peopleTTL)}
}

// get returns what Slack says of user; a failure returns the zero person,
// and callers fall back to the user ID and the default language.
func (p *people) get(ctx context.Context, user string) person {
	if v, ok := p.seen.get(user); ok {
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
	p.seen.put(user, v)
	return v
}
