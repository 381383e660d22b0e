package postgis

import (
	"testing"
	"time"
)

// Every store's clock reads the injected time in UTC, to the microsecond.
func TestStoreClockTruncatesToMicroseconds(t *testing.T) {
	at := time.Date(2026, 12, 6, 12, 0, 0, 123456789, time.FixedZone("CST", 8*3600))
	now := func() time.Time { return at }
	want := time.Date(2026, 12, 6, 4, 0, 0, 123456000, time.UTC)
	for name, got := range map[string]time.Time{
		"cases": NewCases(nil, now).Now(), "visits": NewVisits(nil, now).Now(),
		"disputes": NewDisputes(nil, now).Now(), "live": NewLive(nil, now, 0).Now(),
	} {
		if !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("%s: Now() = %v, want %v in UTC", name, got, want)
		}
	}
	if d := time.Since(NewCases(nil, nil).Now()); d < 0 || d > time.Minute {
		t.Errorf("a store without a clock is %v off time.Now", d)
	}
}
