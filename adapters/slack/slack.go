// Package slack is assistbot's Slack platform: agents type /remote (or
// press "Remote support" on a conversation's desk thread, or use the
// "Start remote support" message shortcut) and get the remote-support
// card as an ephemeral message; the card's buttons send the customer the
// link, make another PIN or close the session, and the card follows the
// session as it changes. Customers who are Slack users get their link by
// DM, and the desk channel gets a thread per conversation with the
// alerts ("Customer is waiting") and the relayed messages; agents' replies
// in those threads go back to the customer.
//
// Requests arrive over HTTP (POST /slack/commands, /slack/interactions,
// /slack/events, each verified against the signing secret before it is
// read) or, when an app-level token is configured, over Socket Mode; both
// end in the same handlers. Outbound calls go through slack-go's Web API
// client, whose base URL is configurable so that tests (and proxies) can
// stand in for Slack.
package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/assistbot/assistbot/adapters/slack/signature"
	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
)

// Routes of the HTTP request URLs, part of the external contract.
const (
	RouteCommands     = "POST /slack/commands"
	RouteInteractions = "POST /slack/interactions"
	RouteEvents       = "POST /slack/events"
)

// ShortcutID is the callback_id of the "Start remote support" message
// shortcut, as the app manifest declares it.
const ShortcutID = "remote.shortcut"

// Body limits. A slash command's text is at most 4,000 characters; an
// interaction carries the clicked message, and an event the message
// written, so they get more room.
const (
	maxCommandBody = 64 << 10
	maxPayloadBody = 1 << 20
)

// ackBudget is how long a request may wait for its work before Slack is
// answered: Slack gives up after 3 seconds, so anything slower (a PIN
// from LogMeIn) is acknowledged first and completed through response_url.
const ackBudget = 2 * time.Second

// workTimeout bounds work that continues after Slack was answered.
const workTimeout = 30 * time.Second

// Engine is what the adapter asks of core.Engine besides what its Bot
// does (remote.DeskEngine).
type Engine = remote.DeskEngine

// Options configure an Adapter.
type Options struct {
	// Engine, Bot and BotToken are required.
	Engine   Engine
	Bot      *remote.Bot
	BotToken string
	// SigningSecret verifies requests over HTTP; without it the HTTP
	// routes are not mounted and only Socket Mode (AppToken) works.
	SigningSecret string
	// AppToken (xapp-) turns Socket Mode on.
	AppToken string
	// Command is the slash command's name ("/remote").
	Command string
	// DeskChannel is the channel ID where conversations are followed and
	// whose members are agents.
	DeskChannel string
	// AgentGroup is a user group ID whose members are agents too.
	AgentGroup string
	// EscalationGroup is the user group ID the last escalation of a
	// waiting customer mentions; without it, the channel (@here).
	EscalationGroup string
	// AllowedTeams lists the workspace IDs that may use the app; empty
	// allows every workspace it is installed in.
	AllowedTeams []string
	// APIURL is the Web API base URL ("https://slack.com/api/").
	APIURL string
	// SMS says whether SMS delivery is enabled, so that "/remote +1..."
	// can be refused up front when it is not.
	SMS bool
	// Locale is the agents' language; default the catalog's default.
	Locale     string
	HTTPClient *http.Client // default: a client with a 10-second timeout
	Logger     *slog.Logger // default discards
}

// Adapter is the Slack platform. It is safe for concurrent use.
type Adapter struct {
	engine Engine
	// escalationGroup is Options.EscalationGroup.
	escalationGroup string
	bot             *remote.Bot
	api             *slackapi.Client
	apiURL          *url.URL
	log             *slog.Logger
	render          renderer
	locale          string
	cmdName         string
	desk            string
	sms             bool
	verify          *signature.Verifier // nil without a signing secret
	appToken        string
	botToken        string
	client          *http.Client
	agents          *agents
	seen            *seen
	cards           *remote.Cards[cardRef]
	people          *people
	rooms           *rooms
	dms             *dms
	bodies          signature.BufferPool // request bodies
	answers         signature.BufferPool // slash commands' answers
	jsonType        []string             // the Content-Type header of JSON answers, shared
	budget          time.Duration
	threads         sync.Map // conversation ID -> root ts of a desk thread being started
	bg              sync.WaitGroup
	// watching is closed once Run follows the engine's updates: an
	// update published before that is not seen (tests wait for it).
	watching     chan struct{}
	watchingOnce sync.Once
}

// New returns an Adapter for o.
func New(o Options) (*Adapter, error) {
	switch {
	case o.Engine == nil || o.Bot == nil:
		return nil, errors.New("slack: the engine and the bot are required")
	case o.BotToken == "":
		return nil, errors.New("slack: a bot token is required")
	case o.SigningSecret == "" && o.AppToken == "":
		return nil, errors.New("slack: a signing secret (HTTP) or an app token (Socket Mode) is required")
	}
	if o.APIURL == "" {
		o.APIURL = slackapi.APIURL
	}
	if !strings.HasSuffix(o.APIURL, "/") {
		o.APIURL += "/"
	}
	apiURL, err := url.Parse(o.APIURL)
	if err != nil || apiURL.Host == "" {
		return nil, fmt.Errorf("slack: api url %q is not an absolute URL", o.APIURL)
	}
	if o.Command == "" {
		o.Command = "/remote"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	catalog := o.Bot.Catalog()
	a := &Adapter{
		engine:   o.Engine,
		bot:      o.Bot,
		apiURL:   apiURL,
		log:      o.Logger.With("platform", "slack"),
		render:   renderer{catalog: catalog, keys: newKeyring(o.BotToken)},
		locale:   catalog.Match(o.Locale),
		cmdName:  o.Command,
		desk:     o.DeskChannel,
		sms:      o.SMS,
		appToken: o.AppToken,
		botToken: o.BotToken,
		client:   o.HTTPClient,
		seen:     newSeen(10000, time.Hour),
		budget:   ackBudget,
		jsonType: []string{"application/json; charset=utf-8"},
		watching: make(chan struct{}),
	}
	if o.Locale == "" {
		a.locale = catalog.Default()
	}
	a.api = slackapi.New(o.BotToken, slackapi.OptionAPIURL(o.APIURL), slackapi.OptionHTTPClient(o.HTTPClient))
	if o.SigningSecret != "" {
		a.verify = signature.NewVerifier(o.SigningSecret)
	}
	a.agents = newAgents(a.api, o.AllowedTeams, o.DeskChannel, o.AgentGroup, a.log)
	a.escalationGroup = o.EscalationGroup
	a.cards = remote.NewCards(o.Bot, remote.CardsOptions[cardRef]{Draw: a.drawCard, Life: responseURLLife, Logger: a.log})
	a.people = newPeople(a.api)
	a.rooms = newRooms(a.api)
	a.dms = newDMs(a.api)
	return a, nil
}

// Mount adds the HTTP routes to mux; without a signing secret there are
// none, since nothing could be verified.
func (a *Adapter) Mount(mux interface{ Handle(string, http.Handler) }) {
	if a.verify == nil {
		return
	}
	mux.Handle(RouteCommands, http.HandlerFunc(a.serveCommand))
	mux.Handle(RouteInteractions, http.HandlerFunc(a.serveInteraction))
	mux.Handle(RouteEvents, http.HandlerFunc(a.serveEvent))
}

// Channels returns the adapter's outbound channel, named "slack", for the
// engine's outbox.
func (a *Adapter) Channels() []core.Channel { return []core.Channel{(*channel)(a)} }

// Run keeps the list of agents fresh, follows the engine's updates to
// keep the cards agents see and the desk threads' headers current and,
// with an app token, runs Socket Mode, until ctx ends; then it waits for
// work still under way.
func (a *Adapter) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { a.agents.run(ctx) })
	wg.Go(func() {
		remote.Follower{Update: a.update, CatchUp: a.catchUp,
			Subscribed: func() { a.watchingOnce.Do(func() { close(a.watching) }) }}.Run(ctx, a.engine)
	})
	var err error
	if a.appToken != "" {
		err = a.runSocket(ctx)
	}
	wg.Wait()
	a.bg.Wait()
	a.cards.Wait()
	return err
}

// later runs fn in the background, beyond the request that started it,
// with its own deadline; Run waits for it when the program stops.
func (a *Adapter) later(ctx context.Context, fn func(ctx context.Context)) {
	a.bg.Add(1)
	go func() {
		defer a.bg.Done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), workTimeout)
		defer cancel()
		fn(ctx)
	}()
}

// ackBy runs work on the calling goroutine, and makes sure Slack is
// answered in time: if the request, received at since, is not done by
// the end of the ack budget, interim is called, once, from a timer's
// goroutine, to answer Slack while work goes on; ackBy then reports that
// Slack has had its answer. The caller does
// not touch what interim writes to until ackBy returns, and the mutex
// orders the two. Work stays on the request's goroutine, whose stack has
// already grown: a goroutine per request cost a tenth of the command's
// CPU in stack copying.
func (a *Adapter) ackBy(since time.Time, interim func(), work func()) (answered bool) {
	var mu sync.Mutex
	done := false
	t := time.AfterFunc(a.budget-time.Since(since), func() {
		mu.Lock()
		defer mu.Unlock()
		if !done {
			answered = true
			interim()
		}
	})
	work()
	if t.Stop() {
		return false
	}
	mu.Lock()
	defer mu.Unlock()
	done = true
	return answered
}

// t returns a sentence in the agents' language.
func (a *Adapter) t(key string, kv ...string) string { return a.render.t(a.locale, key, kv...) }
