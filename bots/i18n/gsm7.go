package i18n

import "strings"

// gsm7Basic lists the characters of the GSM 03.38 (3GPP TS 23.038) 7-bit
// default alphabet in table order, without the escape code 0x1B. Each costs
// one septet.
const gsm7Basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ" +
	" !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§" +
	"¿abcdefghijklmnopqrstuvwxyzäöñüà"

// gsm7Extension lists the characters of the default alphabet extension
// table. Each is sent as the escape code followed by one septet, so it costs
// two.
const gsm7Extension = "\f^{}\\[~]|€"

// Capacity of a single-part SMS.
const (
	// gsm7SegmentSeptets is the capacity of one GSM-7 SMS in septets.
	gsm7SegmentSeptets = 160
	// ucs2SegmentUnits is the capacity of one UCS-2 SMS in UTF-16 code units.
	ucs2SegmentUnits = 70
)

// GSM7Septets reports how many septets s occupies when encoded with the
// GSM 03.38 7-bit default alphabet: one for each character of the basic
// table and two for each character of the extension table (^ { } \ [ ~ ] |
// € and form feed). If s contains any other character (for example á, ç,
// ’, … or an emoji) it cannot be sent as GSM-7, and GSM7Septets returns
// 0, false; the sender must then use UCS-2. The empty string gives 0, true.
func GSM7Septets(s string) (n int, ok bool) {
	for _, r := range s {
		switch {
		case r == 0x1B:
			// The escape code is not a character of its own.
			return 0, false
		case strings.ContainsRune(gsm7Basic, r):
			n++
		case strings.ContainsRune(gsm7Extension, r):
			n += 2
		default:
			return 0, false
		}
	}
	return n, true
}

// gsm7BasicOnly reports whether every character of s is in the basic table of
// the GSM 03.38 7-bit default alphabet, so that each costs exactly one
// septet and no escape sequences are needed.
func gsm7BasicOnly(s string) bool {
	for _, r := range s {
		if r == 0x1B || !strings.ContainsRune(gsm7Basic, r) {
			return false
		}
	}
	return true
}
