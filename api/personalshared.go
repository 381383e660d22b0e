package api

import (
	"context"
	"time"
)

// personalLimits keeps each account's bucket of reads of personal data in
// the database (Deps.PersonalLimits), so that the limit holds for the whole
// deployment, whichever server answers: postgis.DB's TakePersonalRead.
type personalLimits interface {
	TakePersonalRead(ctx context.Context, key string, now time.Time, every, ahead time.Duration) (bool, time.Duration, error)
}

// personalSharedWait bounds the database's answer; past it, or when the
// database does not answer, the server's own bucket decides (the read itself
// needs the database, so it fails anyway).
const personalSharedWait = 2 * time.Second

// takeShared takes one read from key's bucket in the database; ok is false
// when the database did not answer.
func (p *personalReads) takeShared(key string, now time.Time, every, ahead time.Duration) (allowed bool, wait time.Duration, ok bool) {
	ctx, cancel := context.WithTimeout(context.Background(), personalSharedWait)
	defer cancel()
	allowed, wait, err := p.shared.TakePersonalRead(ctx, key, now, every, ahead)
	return allowed, wait, err == nil
}
