package twilio_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/assistbot/assistbot/bots/i18n"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestLinkTextFitsOneSMS sends the link SMS in every language with a
// 10-digit PIN (the longest pin.digits allows) and a realistic mobile
// link, and checks what reached Twilio: GSM-7 and at most 160 characters
// for the Latin-script languages (one curly quote would switch the whole
// text to UCS-2 and halve the limit), at most 70 UTF-16 units for Korean
// and Japanese. The texts are kept in testdata/link_sms.golden; run with
// -update after changing the catalog.
func TestLinkTextFitsOneSMS(t *testing.T) {
	const pin = "0123456789"
	var golden strings.Builder
	for _, lang := range []string{"en", "ko", "ja", "es", "de", "fr"} {
		h := newHarness(t, nil)
		d := linkDelivery(h, customer, pin, h.clock.Now().Add(20*time.Minute))
		d.Notice.Locale = lang
		if _, err := h.ch.Deliver(context.Background(), d); err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		body := h.fake.Sent()[0].Form.Get("Body")
		if !strings.Contains(body, "https://support.example.com/m/"+pin) || strings.Count(body, pin) < 2 {
			t.Errorf("%s: the text lacks the link or the PIN: %q", lang, body)
		}
		switch lang {
		case "ko", "ja":
			if n := len(utf16.Encode([]rune(body))); n > 70 {
				t.Errorf("%s: %d UCS-2 units > 70: %q", lang, n, body)
			}
		default:
			if n, ok := i18n.GSM7Septets(body); !ok || n > 160 {
				t.Errorf("%s: GSM-7 %v, %d septets (max 160): %q", lang, ok, n, body)
			}
		}
		fmt.Fprintf(&golden, "%s: %s\n", lang, body)
	}
	path := filepath.Join("testdata", "link_sms.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(golden.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got := golden.String(); got != string(want) {
		t.Errorf("link texts changed; run go test -update if that is intended\ngot:\n%s\nwant:\n%s", got, want)
	}
}
