package discord

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/assistbot/assistbot/bots/remote"
)

// maxKey bounds the opaque key after the ":" of a custom_id. Discord
// allows 100 characters in all; assistbot's ids are 26.
const maxKey = 64

// errMalformed is the class of interactions that cannot be understood.
var errMalformed = errors.New("malformed interaction")

// parseInteraction decodes an interaction webhook body, already
// authenticated, and checks what the handlers rely on: a known type, an
// id and a token, data of the right shape, and this application's id
// (when known). Its errors say what is wrong, for a 400.
func parseInteraction(body []byte, appID string) (*discordgo.Interaction, error) {
	var i discordgo.Interaction
	if err := json.Unmarshal(body, &i); err != nil {
		return nil, fmt.Errorf("%w: %v", errMalformed, err)
	}
	if err := checkInteraction(&i, appID); err != nil {
		return nil, err
	}
	return &i, nil
}

// checkInteraction validates an interaction however it arrived.
func checkInteraction(i *discordgo.Interaction, appID string) error {
	switch {
	case i.ID == "":
		return fmt.Errorf("%w: no id", errMalformed)
	case appID != "" && i.AppID != "" && i.AppID != appID:
		return fmt.Errorf("%w: application_id %q is not this application's", errMalformed, i.AppID)
	case i.Type == discordgo.InteractionPing:
		return nil
	case i.Token == "":
		return fmt.Errorf("%w: no token", errMalformed)
	}
	switch i.Type {
	case discordgo.InteractionApplicationCommand:
		if _, ok := i.Data.(discordgo.ApplicationCommandInteractionData); !ok {
			return fmt.Errorf("%w: no command data", errMalformed)
		}
	case discordgo.InteractionMessageComponent:
		if _, ok := i.Data.(discordgo.MessageComponentInteractionData); !ok {
			return fmt.Errorf("%w: no component data", errMalformed)
		}
	case discordgo.InteractionApplicationCommandAutocomplete, discordgo.InteractionModalSubmit:
		return fmt.Errorf("%w: assistbot registers no autocomplete or modal (type %d)", errMalformed, i.Type)
	default:
		return fmt.Errorf("%w: unknown type %d", errMalformed, i.Type)
	}
	return nil
}

// isSessionAction reports whether id is a card or alert button that acts
// on a session.
func isSessionAction(id string) bool {
	switch id {
	case remote.ActionSendDesktop, remote.ActionSendMobile, remote.ActionRegenerate, remote.ActionClose,
		remote.ActionStartControl, remote.ActionStartView, remote.ActionEnd:
		return true
	}
	return false
}

// customID returns the custom_id of a button: the contract's action id,
// ":", and the opaque key of what it acts on.
func customID(actionID, key string) string { return actionID + ":" + key }

// parseCustomID splits a custom_id into a known action id and a key made
// of letters and digits.
func parseCustomID(id string) (actionID, key string, ok bool) {
	actionID, key, ok = strings.Cut(id, ":")
	if !ok || (!isSessionAction(actionID) && actionID != remote.ActionIssue && actionID != remote.ActionCloseConversation) || key == "" || len(key) > maxKey {
		return "", "", false
	}
	for _, c := range key {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return "", "", false
		}
	}
	return actionID, key, true
}

// commandOptions are the options of /remote.
type commandOptions struct {
	customer string // a user id
	device   string // "desktop", "mobile" or ""
}

// parseOptions reads /remote's options; ok is false for an option of an
// unexpected type or value (a stale command registration).
func parseOptions(d discordgo.ApplicationCommandInteractionData) (o commandOptions, ok bool) {
	for _, opt := range d.Options {
		if opt == nil {
			return o, false
		}
		v, isString := opt.Value.(string)
		switch {
		case opt.Name == "customer" && opt.Type == discordgo.ApplicationCommandOptionUser && isString && v != "":
			o.customer = v
		case opt.Name == "device" && opt.Type == discordgo.ApplicationCommandOptionString && (v == "desktop" || v == "mobile"):
			o.device = v
		default:
			return o, false
		}
	}
	return o, true
}
