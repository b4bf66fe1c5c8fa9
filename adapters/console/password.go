package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Agent is someone who may sign in to the console: a name and the hash of
// their password, argon2id ("$argon2id$v=19$m=...,t=...,p=...$salt$key")
// or bcrypt ("$2a$", "$2b$", "$2y$").
type Agent struct {
	Name         string
	PasswordHash string
	// Role is technician, agent or supervisor (see role); empty is
	// supervisor.
	Role string
}

// argonParams are the cost parameters of an argon2id hash.
type argonParams struct {
	memory  uint32 // KiB
	time    uint32
	threads uint8
}

// defaultArgon returns RFC 9106's second recommended option: 64 MiB,
// three passes, four lanes. A check costs a login about a tenth of a
// second.
func defaultArgon() argonParams { return argonParams{memory: 64 * 1024, time: 3, threads: 4} }

// Limits on the parameters a configured hash may ask for: a hash copied
// with a typo ("m=6553600") must not let every login allocate gigabytes.
const (
	maxArgonMemory = 1 << 20 // KiB, 1 GiB
	maxArgonTime   = 64
	maxBcryptCost  = 16
	argonSaltLen   = 16
	argonKeyLen    = 32
	// bcryptMaxPassword is where bcrypt stops reading: longer passwords
	// would be compared on their first 72 bytes only.
	bcryptMaxPassword = 72
)

// HashPassword returns the argon2id hash of password with the default
// costs, in the PHC string format that console.agents[].password_hash
// takes.
func HashPassword(password string) (string, error) {
	return hashArgon(password, defaultArgon())
}

func hashArgon(password string, p argonParams) (string, error) {
	if password == "" {
		return "", errors.New("password: empty")
	}
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.time, p.memory, p.threads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.memory, p.time, p.threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// OneTimeAgent returns an agent named name with a fresh random password,
// and that password. The password has 100 random bits, so its hash does
// not need argon2's full memory cost to resist guessing; the light cost
// keeps every start of the program fast.
func OneTimeAgent(name string) (Agent, string, error) {
	var b [15]byte // 120 bits, of which 100 are shown
	if _, err := rand.Read(b[:]); err != nil {
		return Agent{}, "", fmt.Errorf("password: %w", err)
	}
	s := base32.StdEncoding.EncodeToString(b[:])[:20]
	password := s[:5] + "-" + s[5:10] + "-" + s[10:15] + "-" + s[15:20]
	hash, err := hashArgon(password, argonParams{memory: 8 * 1024, time: 1, threads: 1})
	if err != nil {
		return Agent{}, "", err
	}
	return Agent{Name: name, PasswordHash: hash}, password, nil
}

// checkHash reports whether hash is one the console can verify, so that a
// malformed configured hash stops the program at start rather than
// refusing its agent at every sign-in.
func checkHash(hash string) error {
	switch {
	case strings.HasPrefix(hash, "$argon2id$"):
		_, _, _, err := parseArgon(hash)
		return err
	case strings.HasPrefix(hash, "$2a$"), strings.HasPrefix(hash, "$2b$"), strings.HasPrefix(hash, "$2y$"):
		return checkBcrypt(hash)
	}
	return errors.New("must be an argon2id ($argon2id$...) or bcrypt ($2a$, $2b$, $2y$) hash")
}

// checkBcrypt checks a bcrypt hash's shape: $2x$, a cost of two digits,
// $, then 53 characters of bcrypt's base64 (the salt and the key).
// bcrypt.Cost alone reads only the prefix.
func checkBcrypt(hash string) error {
	cost, err := bcrypt.Cost([]byte(hash))
	if err != nil {
		return fmt.Errorf("not a valid bcrypt hash: %w", err)
	}
	if cost > maxBcryptCost {
		return fmt.Errorf("bcrypt cost %d is more than %d: each sign-in would take minutes", cost, maxBcryptCost)
	}
	rest := hash[7:]
	if len(hash) != 60 || hash[6] != '$' || strings.IndexFunc(rest, func(r rune) bool {
		return !(r == '.' || r == '/' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) >= 0 {
		return errors.New("not a valid bcrypt hash: want $2y$NN$ and 53 characters of salt and key")
	}
	return nil
}

// verifyPassword reports whether password matches hash. An error means
// the hash itself is unusable.
func verifyPassword(hash, password string) (bool, error) {
	if strings.HasPrefix(hash, "$argon2id$") {
		p, salt, key, err := parseArgon(hash)
		if err != nil {
			return false, err
		}
		got := argon2.IDKey([]byte(password), salt, p.time, p.memory, p.threads, uint32(len(key)))
		return subtle.ConstantTimeCompare(got, key) == 1, nil
	}
	if len(password) > bcryptMaxPassword {
		return false, nil
	}
	err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(password))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, nil
	}
	return false, err
}

// parseArgon reads an argon2id PHC string: $argon2id$v=19$m=M,t=T,p=P$salt$key
// with unpadded standard base64, as the reference implementation and
// HashPassword write it.
func parseArgon(hash string) (argonParams, []byte, []byte, error) {
	var p argonParams
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errors.New("argon2id hash: want $argon2id$v=19$m=...,t=...,p=...$salt$key")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, fmt.Errorf("argon2id hash: version %q is not v=19", parts[2])
	}
	seen := map[string]bool{}
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || seen[k] {
			return p, nil, nil, fmt.Errorf("argon2id hash: bad parameter %q", kv)
		}
		seen[k] = true
		switch k {
		case "m":
			p.memory = uint32(n)
		case "t":
			p.time = uint32(n)
		case "p":
			if n > 255 {
				return p, nil, nil, fmt.Errorf("argon2id hash: parallelism %d is more than 255", n)
			}
			p.threads = uint8(n)
		default:
			return p, nil, nil, fmt.Errorf("argon2id hash: unknown parameter %q", k)
		}
	}
	switch {
	case len(seen) != 3:
		return p, nil, nil, errors.New("argon2id hash: needs m, t and p")
	case p.time < 1 || p.time > maxArgonTime:
		return p, nil, nil, fmt.Errorf("argon2id hash: t=%d must be from 1 to %d", p.time, maxArgonTime)
	case p.threads < 1:
		return p, nil, nil, errors.New("argon2id hash: p must be at least 1")
	case p.memory < 8*uint32(p.threads) || p.memory > maxArgonMemory:
		return p, nil, nil, fmt.Errorf("argon2id hash: m=%d KiB must be from 8×p to %d", p.memory, maxArgonMemory)
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return p, nil, nil, errors.New("argon2id hash: the salt is not base64 of at least 8 bytes")
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 128 {
		return p, nil, nil, errors.New("argon2id hash: the key is not base64 of 16 to 128 bytes")
	}
	return p, salt, key, nil
}
