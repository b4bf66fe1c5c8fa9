package console

// KeyName names the key the console's sign-in and CSRF tokens are made
// with, in the key store, and KeySize is its size; every replica reads the
// same one (web.Keyring). Each token is an HMAC of a value the browser's
// cookie stands for, so that a page from another site can neither read
// nor forge it and any replica can check what another made.
const (
	KeyName = "console.csrf"
	KeySize = 32
)
