package onemap

import (
	"context"
	"time"
)

// Idempotent writes. A client that may send a write more than once — a
// phone that keeps a report, a step or a visit made without network and
// sends it when the network returns, and again if it never heard the
// answer — names the write with a key of its own (the Idempotency-Key
// header). The store records the key with the write, in the same
// transaction, unique per account: a write under a key the account has
// used already is refused by the database, whichever server it reaches,
// before or after a restart; the first answer is kept beside the key and
// given again to a repeat. A key reused for another request (another
// route or body) is refused.

// IdempotentRequest is a write named by the caller's key: the key and a
// hash of the request (method, route, path parameters, version, body).
type IdempotentRequest struct {
	Key  string
	Hash string
}

// IdempotentAnswer is what a key holds: the request it named, what the
// write made (Target, as the audit trail names it: "cases/12") and, once
// kept, the first answer (Status 0 until then).
type IdempotentAnswer struct {
	Account     string
	Key         string
	Hash        string
	Target      string
	CreatedAt   time.Time
	Status      int
	ContentType string
	ETag        string
	Body        []byte
}

// IdempotencyKeep is how long a key is kept at least: longer than a phone
// keeps a write without network (VisitMaxAge).
const IdempotencyKeep = 35 * 24 * time.Hour

// IdempotencyKeyMax is the longest key, in bytes.
const IdempotencyKeyMax = 100

// CheckIdempotencyKey refuses a key that is empty, too long, or holds
// anything but letters, digits and - _ . : (a UUID is the usual key).
func CheckIdempotencyKey(k string) error {
	if k == "" || len(k) > IdempotencyKeyMax {
		return FieldErrorf("idempotency_key", EINVALID, "Idempotency-Key: want 1 to %d characters (a UUID), got %d", IdempotencyKeyMax, len(k))
	}
	for _, c := range k {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':'
		if !ok {
			return FieldErrorf("idempotency_key", EINVALID, "Idempotency-Key %.40q: want letters, digits and - _ . : only", k)
		}
	}
	return nil
}

type idempotencyKey struct{}

// WithIdempotentRequest returns ctx carrying r: the store records r's key
// with the write it makes under ctx.
func WithIdempotentRequest(ctx context.Context, r IdempotentRequest) context.Context {
	return context.WithValue(ctx, idempotencyKey{}, r)
}

// IdempotentRequestFrom returns the keyed request ctx carries, if any.
func IdempotentRequestFrom(ctx context.Context) (IdempotentRequest, bool) {
	r, ok := ctx.Value(idempotencyKey{}).(IdempotentRequest)
	return r, ok
}
