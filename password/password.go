// Package password hashes and checks account passwords with argon2id
// (RFC 9106), stored as PHC strings ($argon2id$v=19$m=…,t=…,p=…$salt$hash)
// so that the cost can rise later without invalidating stored hashes.
package password

import (
	"unicode/utf8"

	"github.com/alexedwards/argon2id"
	"github.com/onemapgis/onemap"
)

// Params are OWASP's recommended argon2id cost (19 MiB, two passes, one
// lane): about 30 ms on one core here.
var params = argon2id.Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// Length limits of a password, in characters and bytes.
const (
	MinChars = 10
	MaxBytes = 256
)

// Check says whether pw is acceptable as a new password.
func Check(pw string) error {
	if !utf8.ValidString(pw) {
		return onemap.Errorf(onemap.EINVALID, "password: not valid UTF-8")
	}
	if n := utf8.RuneCountInString(pw); n < MinChars {
		return onemap.Errorf(onemap.EINVALID, "password: %d characters, at least %d needed", n, MinChars)
	}
	if len(pw) > MaxBytes {
		return onemap.Errorf(onemap.EINVALID, "password: longer than %d bytes", MaxBytes)
	}
	return nil
}

// Hash checks pw and returns its argon2id hash.
func Hash(pw string) (string, error) {
	if err := Check(pw); err != nil {
		return "", err
	}
	return argon2id.CreateHash(pw, &params)
}

// Matches reports whether pw matches hash, in time that does not depend on
// where they differ. A malformed hash matches nothing.
func Matches(pw, hash string) bool {
	if len(pw) > MaxBytes {
		return false
	}
	ok, err := argon2id.ComparePasswordAndHash(pw, hash)
	return err == nil && ok
}

// Dummy is a hash of no one's password, checked when an account does not
// exist so that a sign-in takes as long for a wrong name as for a wrong
// password.
func Dummy() string {
	return "$argon2id$v=19$m=19456,t=2,p=1$lK+Vgas8rhSWwep921Auvw$mnoZOOYPIoD7qtLDFqGY78PUBF8Y+umDAIXU0M9Vwng"
}
