package i18n

import (
	"io/fs"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf16"
)

// placeholderRE matches a well-formed placeholder such as {pin}. It is only
// read after initialisation.
var placeholderRE = regexp.MustCompile(`\{[a-z][a-z_]*\}`)

// placeholders returns the sorted, de-duplicated placeholders of msg.
func placeholders(msg string) []string {
	found := placeholderRE.FindAllString(msg, -1)
	sort.Strings(found)
	return slices.Compact(found)
}

// smsKeys are the messages sent to customers by SMS.
func smsKeys() []string {
	return []string{"customer.link", "customer.help", "customer.opted_out",
		"customer.opted_in", "customer.waiting"}
}

// smsSample is the worst-case substitution the SMS rules are checked with.
func smsSample() []string {
	return []string{"pin", "1234567890", "link", "https://support.example.com/m/1234567890"}
}

func TestCatalogFilesMatchSupported(t *testing.T) {
	files, err := fs.Glob(localeFiles, "locales/*.json")
	if err != nil {
		t.Fatal(err)
	}
	// Every file is <code>.json or <area>.<code>.json, and every area
	// has a file for every supported language.
	want := supportedLocales()
	sort.Strings(want)
	byArea := map[string][]string{}
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(f, "locales/"), ".json")
		area, code := "", name
		if i := strings.LastIndexByte(name, '.'); i >= 0 {
			area, code = name[:i], name[i+1:]
		}
		byArea[area] = append(byArea[area], code)
	}
	for area, codes := range byArea {
		sort.Strings(codes)
		if !slices.Equal(codes, want) {
			t.Errorf("catalog area %q has languages %v, supported locales %v", area, codes, want)
		}
	}
}

func TestAreaCatalogsMerge(t *testing.T) {
	fsys := fstest.MapFS{}
	for _, code := range supportedLocales() {
		fsys["locales/"+code+".json"] = &fstest.MapFile{Data: []byte(`{"a": "A-` + code + `"}`)}
		fsys["locales/slack."+code+".json"] = &fstest.MapFile{Data: []byte(`{"slack.b": "B-` + code + `"}`)}
	}
	c, err := newCatalog(fsys, "en")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.T("ko", "slack.b"); got != "B-ko" {
		t.Errorf("area key = %q", got)
	}
	fsys["locales/other.ko.json"] = &fstest.MapFile{Data: []byte(`{"a": "again"}`)}
	if _, err := newCatalog(fsys, "en"); err == nil || !strings.Contains(err.Error(), `"a"`) {
		t.Errorf("a key defined twice: %v", err)
	}
}

func TestCatalogsComplete(t *testing.T) {
	c := mustNew(t, "en")
	en := c.messages[sourceLocale]
	for _, code := range c.Supported() {
		msgs := c.messages[code]
		var missing, extra []string
		for key := range en {
			if _, ok := msgs[key]; !ok {
				missing = append(missing, key)
			}
		}
		for key := range msgs {
			if _, ok := en[key]; !ok {
				extra = append(extra, key)
			}
		}
		sort.Strings(missing)
		sort.Strings(extra)
		if len(missing) > 0 {
			t.Errorf("%s: missing keys: %s", code, strings.Join(missing, ", "))
		}
		if len(extra) > 0 {
			t.Errorf("%s: keys not in en: %s", code, strings.Join(extra, ", "))
		}
	}
}

func TestMessagesWellFormed(t *testing.T) {
	c := mustNew(t, "en")
	en := c.messages[sourceLocale]
	for _, code := range c.Supported() {
		for key, msg := range c.messages[code] {
			if strings.TrimSpace(msg) == "" {
				t.Errorf("%s %s: empty message", code, key)
				continue
			}
			if msg != strings.TrimSpace(msg) {
				t.Errorf("%s %s: leading or trailing space in %q", code, key, msg)
			}
			if strings.ContainsAny(msg, "\n\r\t") {
				t.Errorf("%s %s: control character in %q", code, key, msg)
			}
			stripped := placeholderRE.ReplaceAllString(msg, "")
			if strings.ContainsAny(stripped, "{}") {
				t.Errorf("%s %s: malformed placeholder in %q", code, key, msg)
			}
			enMsg, ok := en[key]
			if !ok {
				continue
			}
			if got, want := placeholders(msg), placeholders(enMsg); !slices.Equal(got, want) {
				t.Errorf("%s %s: placeholders %v, English has %v", code, key, got, want)
			}
			if (code == "ko" || code == "ja") && msg == enMsg && stripped != "" {
				t.Errorf("%s %s: not translated: %q", code, key, msg)
			}
		}
	}
}

// TestSMSKeywords checks that the carrier keywords STOP and START, which the
// inbound SMS handler recognises, appear untranslated wherever the English
// text mentions them.
func TestSMSKeywords(t *testing.T) {
	c := mustNew(t, "en")
	for key, enMsg := range c.messages[sourceLocale] {
		for _, word := range []string{"STOP", "START"} {
			if !strings.Contains(enMsg, word) {
				continue
			}
			for _, code := range c.Supported() {
				if msg := c.messages[code][key]; !strings.Contains(msg, word) {
					t.Errorf("%s %s: keyword %s missing from %q", code, key, word, msg)
				}
			}
		}
	}
}

// TestSMSSingleSegment checks that every SMS message fits one segment with
// a worst-case PIN and link: GSM-7 basic characters only and at most 160
// septets for Latin-script languages, at most 70 UTF-16 code units (UCS-2)
// for Korean and Japanese.
func TestSMSSingleSegment(t *testing.T) {
	c := mustNew(t, "en")
	for _, code := range c.Supported() {
		for _, key := range smsKeys() {
			if _, ok := c.messages[code][key]; !ok {
				t.Errorf("%s %s: missing", code, key)
				continue
			}
			msg := c.T(code, key, smsSample()...)
			if strings.ContainsAny(msg, "{}") {
				t.Errorf("%s %s: unsubstituted placeholder in %q", code, key, msg)
			}
			switch code {
			case "ko", "ja":
				if n := len(utf16.Encode([]rune(msg))); n > ucs2SegmentUnits {
					t.Errorf("%s %s: %d UTF-16 units > %d: %q", code, key, n, ucs2SegmentUnits, msg)
				}
			default:
				n, ok := GSM7Septets(msg)
				if !ok || !gsm7BasicOnly(msg) {
					t.Errorf("%s %s: not GSM-7 basic: %q (offending: %q)", code, key, msg, nonGSM7Basic(msg))
				} else if n > gsm7SegmentSeptets {
					t.Errorf("%s %s: %d septets > %d: %q", code, key, n, gsm7SegmentSeptets, msg)
				}
			}
		}
	}
}

// nonGSM7Basic returns the characters of s outside the GSM-7 basic table.
func nonGSM7Basic(s string) string {
	var b strings.Builder
	for _, r := range s {
		if !gsm7BasicOnly(string(r)) {
			b.WriteRune(r)
		}
	}
	return b.String()
}
