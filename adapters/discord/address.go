package discord

import (
	"fmt"
	"strings"
)

// ParseUserID reads a Discord user as the API and agents write it — a
// snowflake ("80351110224678912") or a mention ("<@80351110224678912>",
// "<@!80351110224678912>") — and returns the snowflake. It is the address
// of a Discord customer.
func ParseUserID(s string) (string, error) {
	id := strings.TrimSpace(s)
	if strings.HasPrefix(id, "<@") && strings.HasSuffix(id, ">") {
		id = strings.TrimPrefix(strings.TrimSuffix(id[2:], ">"), "!")
	}
	if len(id) < 15 || len(id) > 21 || strings.Trim(id, "0123456789") != "" {
		return "", fmt.Errorf("%q is not a Discord user id (a number of 17 to 20 digits; copy it with Developer Mode on)", s)
	}
	return id, nil
}
