// Package twilio connects assistbot to SMS through Twilio: customer texts
// in, links and replies out, delivery status and opt-out.
package twilio

import (
	"fmt"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// ParseNumber reads a phone number as a person typed it ("(201) 555-0123",
// "+82 10-1234-5678") and returns it in E.164 form ("+12015550123").
// Numbers without a country code are read in region, an ISO 3166 code such
// as "US". A number that cannot exist (wrong length, an unassigned range
// such as 555-xxxx outside 555-01xx) is refused with a message that says so.
func ParseNumber(s, region string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", fmt.Errorf("the phone number is empty")
	}
	n, err := phonenumbers.Parse(s, strings.ToUpper(region))
	if err != nil {
		return "", fmt.Errorf("%q is not a phone number: %s", s, describe(err))
	}
	if !phonenumbers.IsValidNumber(n) {
		return "", fmt.Errorf("%q is not a valid phone number (include the country code, e.g. +1 201 555 0123)", s)
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// NumberParser returns ParseNumber bound to region, in the form
// core.Options.Addresses takes.
func NumberParser(region string) func(string) (string, error) {
	return func(s string) (string, error) { return ParseNumber(s, region) }
}

func describe(err error) string {
	switch err {
	case phonenumbers.ErrInvalidCountryCode:
		return "unknown country code"
	case phonenumbers.ErrNotANumber:
		return "it has no digits"
	case phonenumbers.ErrTooShortNSN, phonenumbers.ErrTooShortAfterIDD:
		return "too short"
	case phonenumbers.ErrNumTooLong:
		return "too long"
	}
	return err.Error()
}
