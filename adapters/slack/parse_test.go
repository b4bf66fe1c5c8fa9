package slack

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	slackapi "github.com/slack-go/slack"
)

// TestParseCommand reads a slash command as Slack sends it, as slack-go
// reads it.
func TestParseCommand(t *testing.T) {
	form := commandForm("<@U0123|pat> +mobile 100% & more", "https://hooks.slack.com/commands/T1/2/3")
	form.Add("text", "second value is ignored")
	body := []byte(form.Encode())
	got, err := parseCommand(body)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	want, err := slackapi.SlashCommandParse(req)
	if err != nil {
		t.Fatal(err)
	}
	want.Token, want.IsEnterpriseInstall = "", false // not read
	if got != want {
		t.Errorf("parseCommand:\n%+v\nslack-go:\n%+v", got, want)
	}
	for _, bad := range []string{"", "text=hi", "team_id=T&user_id=U&channel_id=C&command=%2", "team_id=T&user_id=U&channel_id=C"} {
		if _, err := parseCommand([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestSSLCheckOnlyExact(t *testing.T) {
	for body, want := range map[string]bool{
		"ssl_check=1&token=x": true, "token=x&ssl_check=1": true, "ssl_check=0": false,
		"ssl_check=true": false, "ssl_check=1%00": false, "xssl_check=1": false, "": false,
	} {
		if got := isSSLCheck([]byte(body)); got != want {
			t.Errorf("isSSLCheck(%q) = %v", body, got)
		}
	}
}

func TestPlainText(t *testing.T) {
	for in, want := range map[string]string{
		"plain":               "plain",
		"a &amp; b &lt;c&gt;": "a & b <c>",
		"see <https://x.example/a?b=1&amp;c=2|the docs>": "see the docs (https://x.example/a?b=1&c=2)",
		"<https://x.example>":                            "https://x.example",
		"ask <@U123|pat> in <#C1|support>":               "ask @pat in #support",
		"<@U123> hi":                                     "@U123 hi",
		"<!here> now":                                    "@here now",
		"<!date^1392734382^{date}|Feb 18>":               "Feb 18",
		"<mailto:a@b.example|a@b.example>":               "a@b.example",
		"unclosed <https://x":                            "unclosed <https://x",
	} {
		if got := plainText(in); got != want {
			t.Errorf("plainText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMention(t *testing.T) {
	for in, want := range map[string][2]string{
		"<@U0123ABC>":        {"U0123ABC", ""},
		"<@W0123|pat smith>": {"W0123", "pat smith"},
		"<@u0123>":           {"", ""},
		"<#C0123|general>":   {"", ""},
		"@pat":               {"", ""},
		"<@U01 23>":          {"", ""},
	} {
		id, name, ok := mention(in)
		if id != want[0] || name != want[1] || ok != (want[0] != "") {
			t.Errorf("mention(%q) = %q %q %v", in, id, name, ok)
		}
	}
}

// TestKeyring: a sealed value opens only in the channel it was sealed
// for, and only unaltered.
func TestKeyring(t *testing.T) {
	k := newKeyring("xoxb-1")
	v := k.seal("06h15kcard0000000000000000", "C1")
	if id, ok := k.open(v, "C1"); !ok || id != "06h15kcard0000000000000000" {
		t.Errorf("open = %q %v", id, ok)
	}
	for name, tc := range map[string][2]string{
		"other channel":   {v, "C2"},
		"other token":     {newKeyring("xoxb-2").seal("06h15kcard0000000000000000", "C1"), "C1"},
		"other id":        {"06h15kcard0000000000000001" + v[strings.IndexByte(v, '.'):], "C1"},
		"no tag":          {"06h15kcard0000000000000000", "C1"},
		"empty":           {"", "C1"},
		"truncated tag":   {v[:len(v)-1], "C1"},
		"id with newline": {"a\nb.xxxx", "C1"},
	} {
		if _, ok := k.open(tc[0], tc[1]); ok {
			t.Errorf("%s: opened", name)
		}
	}
}

func TestSeen(t *testing.T) {
	s := newSeen(2, time.Hour)
	if !s.first("a") || s.first("a") || !s.first("b") {
		t.Fatal("a, a, b")
	}
	s.first("c") // evicts a
	if !s.first("a") {
		t.Error("a still remembered past the size")
	}
	s.forget("c")
	if !s.first("c") {
		t.Error("forgotten c not new")
	}
}

func TestSlackURL(t *testing.T) {
	a := &Adapter{}
	a.apiURL, _ = url.Parse("http://127.0.0.1:9000/api/")
	for u, want := range map[string]bool{
		"https://hooks.slack.com/actions/T1/2/3": true,
		"https://hooks.slack-gov.com/x":          true,
		"http://127.0.0.1:9000/hooks/x":          true,
		"http://hooks.slack.com/actions":         false,
		"https://hooks.slack.com.evil.example/x": false,
		"https://evilslack.com/x":                false,
		"http://127.0.0.1:9001/hooks/x":          false,
		"":                                       false,
	} {
		if got := a.slackURL(u); got != want {
			t.Errorf("slackURL(%q) = %v", u, got)
		}
	}
}
