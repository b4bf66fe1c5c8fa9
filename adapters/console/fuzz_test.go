package console

import (
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// FuzzPasswordHash feeds arbitrary configured hashes and passwords to
// the verifier: a hash it accepts at start must verify without panicking,
// and nothing may panic.
func FuzzPasswordHash(f *testing.F) {
	for _, h := range []string{
		"$argon2id$v=19$m=16,t=1,p=1$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo",
		"$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$",
		"$argon2id$v=19$m=1,t=1,p=0$$",
		"$argon2id$v=19$m=16,t=1,p=1,p=2$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA",
		"$2a$04$" + strings.Repeat("a", 53),
		"$2y$31$" + strings.Repeat(".", 53),
		"$2a$04000000000000 0000000000000000000000000000000000000000", // bcrypt.Cost accepts it
		"$2b$", "", "$", "$$$$$",
	} {
		f.Add(h, "password")
	}
	f.Fuzz(func(t *testing.T, hash, password string) {
		if p, _, _, err := parseArgon(hash); err == nil && (p.memory > 1<<12 || p.time > 4) {
			return // a valid but costly hash: checking it says nothing more
		}
		if strings.HasPrefix(hash, "$2") {
			if cost, err := bcrypt.Cost([]byte(hash)); err == nil && cost > 6 {
				return
			}
		}
		if checkHash(hash) != nil {
			return
		}
		if _, err := verifyPassword(hash, password); err != nil {
			t.Errorf("checkHash accepted %q, but verifying fails: %v", hash, err)
		}
	})
}
