package discord

import (
	"context"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/assistbot/assistbot/bots/i18n"
)

// TestSyncCommands registers /remote by bulk overwrite, in one guild or
// globally, with the bot token.
func TestSyncCommands(t *testing.T) {
	cat, err := i18n.New("en")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, guild, path string }{
		{"guild", guildID, "applications/" + appID + "/guilds/" + guildID + "/commands"},
		{"global", "", "applications/" + appID + "/commands"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			got, err := SyncCommands(context.Background(), SyncOptions{Token: token, ApplicationID: appID, GuildID: tc.guild, APIURL: r.fake.APIURL(), Catalog: cat})
			if err != nil {
				t.Fatal(err)
			}
			reqs := r.fake.Requests()
			if len(reqs) != 1 || reqs[0].Method != "PUT" || reqs[0].Path != tc.path || reqs[0].Auth != "Bot "+token {
				t.Fatalf("requests %+v", reqs)
			}
			if len(got) != 1 || got[0].Name != "remote" || got[0].ID == "" {
				t.Errorf("registered %+v", got)
			}
			golden(t, "commands", reqs[0].Body)
		})
	}
	t.Run("token refused", func(t *testing.T) {
		r := newRig(t)
		_, err := SyncCommands(context.Background(), SyncOptions{Token: "wrong", ApplicationID: appID, APIURL: r.fake.APIURL(), Catalog: cat})
		if !errors.Is(err, ErrTokenRefused) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("adapter", func(t *testing.T) {
		r := newRig(t)
		if _, err := r.a.SyncCommands(context.Background()); err != nil {
			t.Fatal(err)
		}
		if reqs := r.fake.Requests(); len(reqs) != 1 || reqs[0].Path != "applications/"+appID+"/guilds/"+guildID+"/commands" {
			t.Errorf("requests %+v", reqs)
		}
	})
}

// TestCommandTexts keeps every description and choice name within
// Discord's 100 characters in every language, so a translation can never
// make registration fail.
func TestCommandTexts(t *testing.T) {
	for _, def := range []string{"en", "ko", "ja", "es", "de", "fr"} {
		cat, err := i18n.New(def)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range Commands(cat) {
			check := func(what, s string) {
				if n := utf8.RuneCountInString(s); n == 0 || n > maxDescription || s != truncate(s, maxDescription) {
					t.Errorf("%s %s: %d characters: %q", def, what, n, s)
				}
			}
			check("description", c.Description)
			for l, s := range *c.DescriptionLocalizations {
				check("description "+string(l), s)
			}
			for _, o := range c.Options {
				check(o.Name, o.Description)
				for l, s := range o.DescriptionLocalizations {
					check(o.Name+" "+string(l), s)
				}
				for _, ch := range o.Choices {
					check("choice", ch.Name)
				}
			}
		}
	}
}
