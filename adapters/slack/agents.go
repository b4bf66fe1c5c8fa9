package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	slackapi "github.com/slack-go/slack"
)

// How often the list of agents is read again, besides the membership
// events that keep it current in between.
const (
	agentsRefresh = 5 * time.Minute
	agentsRetry   = 30 * time.Second
	// agentsColdWait bounds the one synchronous load a request may wait
	// for, when the list has never been read (right after start-up).
	agentsColdWait = 2 * time.Second
)

// errAgentsUnknown means the list of agents could not be read from Slack.
var errAgentsUnknown = errors.New("slack: the list of agents is not available")

// members is the part of the Web API the agent list needs.
type members interface {
	GetUsersInConversationContext(ctx context.Context, params *slackapi.GetUsersInConversationParameters) ([]string, string, error)
	GetUserGroupMembersContext(ctx context.Context, group string, options ...slackapi.GetUserGroupMembersOption) ([]string, error)
}

// agents decides who may act: members of an allowed workspace who are in
// the desk channel or the agent user group. The members are read from
// Slack in the background and kept in memory, so that checking a slash
// command costs a map lookup and no Web API call; with neither a desk
// channel nor a group configured, everyone in an allowed workspace is an
// agent.
type agents struct {
	api   members
	teams map[string]bool // empty: every workspace
	desk  string
	group string
	log   *slog.Logger

	mu      sync.RWMutex
	set     map[string]struct{}
	loaded  bool
	loading chan struct{} // closed when the load under way ends
	lastErr error
	// during are the membership events applied while a load was under
	// way, which its list, read before them, may lack.
	during []membership
	// again asks for a fresh load once the one under way ends: a refresh
	// asked for meanwhile needs a list read after it was asked for.
	again bool

	kick chan struct{}
}

// membership is a user joining (in) or leaving the desk channel.
type membership struct {
	user string
	in   bool
}

func newAgents(api members, teams []string, desk, group string, log *slog.Logger) *agents {
	g := &agents{api: api, teams: map[string]bool{}, desk: desk, group: group, log: log, kick: make(chan struct{}, 1)}
	for _, t := range teams {
		g.teams[t] = true
	}
	return g
}

// open reports whether anyone may act without being listed.
func (g *agents) open() bool { return g.desk == "" && g.group == "" }

// team reports whether workspace id may use the app.
func (g *agents) team(id string) bool { return len(g.teams) == 0 || g.teams[id] }

// allowed reports whether user of workspace team may act. Before the
// first load it waits for one, briefly.
func (g *agents) allowed(ctx context.Context, team, user string) (bool, error) {
	if !g.team(team) || user == "" {
		return false, nil
	}
	if g.open() {
		return true, nil
	}
	g.mu.RLock()
	_, ok := g.set[user]
	loaded := g.loaded
	g.mu.RUnlock()
	if loaded {
		return ok, nil
	}
	ctx, cancel := context.WithTimeout(ctx, agentsColdWait)
	defer cancel()
	if err := g.load(ctx); err != nil {
		g.mu.RLock()
		loaded := g.loaded
		g.mu.RUnlock()
		if !loaded {
			return false, errAgentsUnknown
		}
	}
	g.mu.RLock()
	_, ok = g.set[user]
	g.mu.RUnlock()
	return ok, nil
}

// load reads the members from Slack, one load at a time: callers that
// arrive while one is under way wait for it, each only as long as its ctx
// allows, while the load itself goes on to fill the list for later ones.
func (g *agents) load(ctx context.Context) error {
	g.mu.Lock()
	wait := g.loading
	if wait == nil {
		wait = make(chan struct{})
		g.loading = wait
		go func() {
			set, err := g.fetch(context.Background())
			g.mu.Lock()
			if err == nil {
				for _, m := range g.during {
					g.apply(set, m)
				}
				g.set, g.loaded = set, true
			}
			g.lastErr, g.loading, g.during = err, nil, nil
			again := g.again
			g.again = false
			close(wait)
			g.mu.Unlock()
			if again {
				g.refreshSoon()
			}
		}()
	}
	g.mu.Unlock()
	select {
	case <-wait:
	case <-ctx.Done():
		return errAgentsUnknown
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.lastErr
}

// fetch reads the desk channel's members and the group's.
func (g *agents) fetch(ctx context.Context) (map[string]struct{}, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	set := map[string]struct{}{}
	if g.desk != "" {
		p := &slackapi.GetUsersInConversationParameters{ChannelID: g.desk, Limit: 1000}
		for {
			ids, next, err := g.api.GetUsersInConversationContext(ctx, p)
			if err != nil {
				return nil, fmt.Errorf("slack: members of the desk channel %s: %w", g.desk, err)
			}
			for _, id := range ids {
				set[id] = struct{}{}
			}
			if next == "" {
				break
			}
			p.Cursor = next
		}
	}
	if g.group != "" {
		ids, err := g.api.GetUserGroupMembersContext(ctx, g.group)
		if err != nil {
			return nil, fmt.Errorf("slack: members of the agent group %s: %w", g.group, err)
		}
		for _, id := range ids {
			set[id] = struct{}{}
		}
	}
	return set, nil
}

// joined and left apply a desk channel membership event at once; the
// next full load confirms it.
func (g *agents) joined(channel, user string) { g.member(channel, user, true) }
func (g *agents) left(channel, user string)   { g.member(channel, user, false) }

func (g *agents) member(channel, user string, in bool) {
	if channel != g.desk || g.desk == "" {
		return
	}
	m := membership{user: user, in: in}
	g.mu.Lock()
	if g.loaded {
		g.apply(g.set, m)
	}
	if g.loading != nil {
		g.during = append(g.during, m)
	}
	g.mu.Unlock()
	if !in && g.group != "" {
		g.refreshSoon() // the user may still be in the group
	}
}

// apply applies m to set. Leaving the channel keeps a user who may still
// be in the group; the next full load settles it.
func (g *agents) apply(set map[string]struct{}, m membership) {
	if m.in {
		set[m.user] = struct{}{}
	} else if g.group == "" {
		delete(set, m.user)
	}
}

// refreshSoon asks the background loop for a full load now (a group's
// membership changed).
func (g *agents) refreshSoon() {
	g.mu.Lock()
	if g.loading != nil {
		g.again = true
		g.mu.Unlock()
		return
	}
	g.mu.Unlock()
	select {
	case g.kick <- struct{}{}:
	default:
	}
}

// run loads the members at start and then every agentsRefresh (sooner
// after a failure, or when asked), until ctx ends.
func (g *agents) run(ctx context.Context) {
	if g.open() {
		g.log.Warn("no slack.desk_channel or slack.agent_group is set: every member of an allowed workspace counts as an agent")
		return
	}
	for {
		wait := agentsRefresh
		if err := g.load(ctx); err != nil && ctx.Err() == nil {
			g.log.Error("read the list of agents", "err", err)
			wait = agentsRetry
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-g.kick:
			t.Stop()
		case <-t.C:
		}
	}
}
