package twilio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	twclient "github.com/twilio/twilio-go/client"

	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
)

// The routes Twilio calls. They are part of the external contract: the
// admin enters them in the Twilio Console.
const (
	PathSMS    = "/twilio/sms"
	PathStatus = "/twilio/status"
)

// defaultStatusWait is how long a status callback waits for the outbox to
// record the message it reports on. Twilio can report "sent" before the
// create call that made the message has returned to us.
const defaultStatusWait = 5 * time.Second

// Engine is what the adapter asks of core.Engine: the relay of texts,
// opt-outs, and delivery reports.
type Engine interface {
	CustomerMessage(ctx context.Context, in core.Inbound) (*core.Conversation, *core.Message, error)
	OptedOut(ctx context.Context, ep core.Endpoint) (bool, error)
	SetOptOut(ctx context.Context, ep core.Endpoint, optedOut bool) error
	ReportDelivery(ctx context.Context, channel, externalID string, status core.DeliveryStatus, reason string) (*core.Delivery, error)
}

var _ Engine = (*core.Engine)(nil)

// Options configure an Adapter. Engine, Bot, AccountSID, AuthToken,
// PublicURL and From or MessagingServiceSID are required.
type Options struct {
	// Engine records the conversations, opt-outs and delivery reports.
	Engine Engine
	// Bot renders the texts customers receive; its catalog supplies every
	// other sentence (reasons, refusals, keyword answers).
	Bot *remote.Bot
	// AccountSID and AuthToken are the account's credentials; the token
	// also signs every request Twilio makes to assistbot.
	AccountSID string
	AuthToken  string
	// From is the sending number (E.164); MessagingServiceSID the
	// messaging service (MG…). With both, Twilio sends from From through
	// the service.
	From                string
	MessagingServiceSID string
	// PublicURL is server.public_url: the webhook URLs Twilio signs are
	// built from it, never from a request's Host header.
	PublicURL string
	// APIURL is the REST base URL (default https://api.twilio.com).
	APIURL string
	// Region reads numbers typed without a country code (ISO 3166, "US").
	Region string
	// MPS is how many messages per second each sender may send (default 1).
	MPS float64
	// Desk is where conversations opened by a customer's text are followed.
	Desk core.Endpoint
	// KeywordReplies makes assistbot answer STOP, START and HELP itself.
	// Leave it off when Twilio answers them (its default on long codes and
	// toll-free numbers, and Advanced Opt-Out on messaging services).
	KeywordReplies bool
	// Transport carries the REST calls; nil means http.DefaultTransport.
	Transport http.RoundTripper
	// StatusWait bounds how long a status callback waits for its message
	// to be recorded (default 5 seconds).
	StatusWait time.Duration
	// Clock tells the time for message validity and Retry-After; it is
	// the engine's clock (default core.SystemClock).
	Clock  core.Clock
	Logger *slog.Logger
}

// Adapter is SMS through Twilio: the "sms" channel, which texts customers
// through Twilio's Messages API, and the webhooks Twilio calls for
// incoming texts and delivery reports.
type Adapter struct {
	engine    Engine
	clock     core.Clock
	bot       *remote.Bot
	sender    sender
	validator twclient.RequestValidator
	pace      *pacer
	from      string
	service   string
	publicURL string
	region    string
	desk      core.Endpoint
	replies   bool
	wait      time.Duration
	log       *slog.Logger
}

// New returns the adapter for o. It makes no request: wrong credentials
// show on the first message, with a reason for the agent.
func New(o Options) (*Adapter, error) {
	var missing []string
	for _, f := range []struct{ name, v string }{
		{"account sid", o.AccountSID}, {"auth token", o.AuthToken}, {"public url", o.PublicURL},
	} {
		if strings.TrimSpace(f.v) == "" {
			missing = append(missing, f.name)
		}
	}
	if o.From == "" && o.MessagingServiceSID == "" {
		missing = append(missing, "from number or messaging service")
	}
	if o.Engine == nil || o.Bot == nil {
		missing = append(missing, "engine and bot")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("twilio: missing %s", strings.Join(missing, ", "))
	}
	if o.APIURL == "" {
		o.APIURL = "https://api.twilio.com"
	}
	snd, err := newRestSender(o.AccountSID, o.AuthToken, o.APIURL, o.Transport)
	if err != nil {
		return nil, fmt.Errorf("twilio: %w", err)
	}
	if o.MPS <= 0 {
		o.MPS = 1
	}
	if o.StatusWait <= 0 {
		o.StatusWait = defaultStatusWait
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = core.SystemClock{}
	}
	return &Adapter{
		engine:    o.Engine,
		clock:     o.Clock,
		bot:       o.Bot,
		sender:    snd,
		validator: twclient.NewRequestValidator(o.AuthToken),
		pace:      newPacer(o.MPS),
		from:      o.From,
		service:   o.MessagingServiceSID,
		publicURL: strings.TrimRight(o.PublicURL, "/"),
		region:    o.Region,
		desk:      o.Desk,
		replies:   o.KeywordReplies,
		wait:      o.StatusWait,
		log:       o.Logger.With("platform", "twilio"),
	}, nil
}

// Channels returns the adapter's outbound channel, named "sms", for the
// engine's outbox.
func (a *Adapter) Channels() []core.Channel { return []core.Channel{(*channel)(a)} }

// Mount adds the webhooks Twilio calls to mux.
func (a *Adapter) Mount(mux interface{ Handle(string, http.Handler) }) {
	mux.Handle("POST "+PathSMS, http.HandlerFunc(a.serveSMS))
	mux.Handle("POST "+PathStatus, http.HandlerFunc(a.serveStatus))
}

// Run returns at once: the adapter has no background work.
func (a *Adapter) Run(context.Context) error { return nil }

// t returns a catalog text in the server's language: delivery reasons and
// refusals are read by agents, whose language is the configured one.
func (a *Adapter) t(key string, kv ...string) string {
	c := a.bot.Catalog()
	return c.T(c.Default(), key, kv...)
}

// number checks that ep is an SMS endpoint with a valid number and
// returns the number in E.164 form.
func (a *Adapter) number(ep core.Endpoint) (string, error) {
	if ep.Channel != core.ChannelSMS {
		return "", core.Errorf(core.CodeInvalid, "the sms channel cannot deliver to %s", ep.Channel)
	}
	n, err := ParseNumber(ep.Address, a.region)
	if err != nil {
		// ParseNumber's error quotes the number, and errors end up in logs.
		return "", core.Wrap(core.CodeInvalid, errBadNumber, a.t("error.bad_number", "number", core.Mask(ep.Address)))
	}
	return n, nil
}

// The details of refusals, for operators.
var (
	errOptOut    = errors.New("twilio: the number opted out")
	errBadNumber = errors.New("twilio: not a valid phone number")
)
