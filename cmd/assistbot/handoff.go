package main

import (
	"context"

	"github.com/assistbot/assistbot/adapters/api"
	"github.com/assistbot/assistbot/adapters/console"
)

// colleague is a surface that knows colleagues sessions are handed to:
// the console (its agents, by name), Slack and Discord (the desk's
// agents, by user id).
type colleague interface {
	Colleague(ctx context.Context, to string) (known, allowed bool)
}

// colleagues is the directory of the API's hand-offs: the console's
// agents, then the agents of each enabled platform that can tell (read
// at request time: the platforms open after the web surfaces). con is
// nil without the console.
func (m *Main) colleagues(con *console.Console) api.Directory {
	return api.Directory{
		Colleague: func(ctx context.Context, to string) (bool, bool) {
			if con != nil {
				if known, allowed := con.Colleague(ctx, to); known {
					return known, allowed
				}
			}
			for _, p := range m.platforms {
				if ap, ok := p.(*adapterPlatform); ok {
					if c, ok := ap.a.(colleague); ok {
						if known, allowed := c.Colleague(ctx, to); known {
							return known, allowed
						}
					}
				}
			}
			return false, false
		},
		Role: func(name string) string {
			if con == nil {
				return ""
			}
			return con.Role(name)
		},
	}
}
