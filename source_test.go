package onemap

import (
	"encoding/hex"
	"testing"
	"time"
)

// TestSign_vector holds the signing scheme to a signature made apart from
// Go, with openssl, as the README's Live sources section shows:
//
//	sk=$(printf 'onemap ingest v1' | openssl dgst -sha256 -hmac "$KEY" -hex | sed 's/.*= //')
//	printf 'ONEMAP-HMAC-SHA256\nvideo\nPOST\n/api/ingest/events\n1796522400\n%s' "$(printf '%s' "$BODY" | sha256sum | cut -d' ' -f1)" |
//	  openssl dgst -sha256 -mac HMAC -macopt hexkey:$sk -hex
func TestSign_vector(t *testing.T) {
	sk := SigningKey("omk_example")
	if got := hex.EncodeToString(sk); got != "b5f748939f98e16f970a6626cf09128525017fb400d7e06b666071052c1eee67" {
		t.Errorf("signing key %s", got)
	}
	canonical := CanonicalRequest("video", "post", "/api/ingest/events", "1796522400", []byte(`{"events":[]}`))
	const want = "3d20afdc868b4e4c2a58a7ad91986446846053ad62ead1f0e8d1e7d34e5d4394"
	if got := Sign(sk, canonical); got != want {
		t.Errorf("signature %s, want %s (canonical %q)", got, want, canonical)
	}
	if !CheckSignature(sk, canonical, "3D20AFDC868B4E4C2A58A7AD91986446846053AD62EAD1F0E8D1E7D34E5D4394") {
		t.Error("an upper-case signature is refused")
	}
	for _, bad := range []string{"", "zz", want[:62], want + "00"} {
		if CheckSignature(sk, canonical, bad) {
			t.Errorf("signature %q taken", bad)
		}
	}
}

func TestNewSourceKey(t *testing.T) {
	k1, v1 := NewSourceKey()
	k2, _ := NewSourceKey()
	if k1 == k2 || len(k1) != 4+43 || len(v1) != 32 || hex.EncodeToString(v1) != hex.EncodeToString(SigningKey(k1)) {
		t.Errorf("keys %q %q, verifier %x", k1, k2, v1)
	}
}

func TestCheckTimestamp(t *testing.T) {
	now := time.Unix(1796522400, 0)
	for ts, ok := range map[string]bool{"1796522400": true, "1796522100": true, "1796522700": true, "1796522099": false,
		"1796522701": false, "": false, "1.5": false, "-1": false, "99999999999999": false} {
		if _, err := CheckTimestamp(ts, now); (err == nil) != ok || err != nil && ErrorCode(err) != EUNAUTHORIZED {
			t.Errorf("timestamp %q: %v", ts, err)
		}
	}
}

func TestCheckIngestEvent(t *testing.T) {
	now := time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC)
	ok := IngestEvent{ID: "1", Kind: EventFace, Device: "53232901001320000001", At: now}
	for name, c := range map[string]struct {
		mod   func(e *IngestEvent)
		field string
	}{
		"ok":              {func(e *IngestEvent) {}, ""},
		"no id":           {func(e *IngestEvent) { e.ID = "" }, "id"},
		"kind":            {func(e *IngestEvent) { e.Kind = "fire" }, "kind"},
		"device":          {func(e *IngestEvent) { e.Device = "0123" }, "device"},
		"no time":         {func(e *IngestEvent) { e.At = time.Time{} }, "at"},
		"future":          {func(e *IngestEvent) { e.At = now.Add(time.Hour) }, "at"},
		"severity":        {func(e *IngestEvent) { e.Severity = 5 }, "severity"},
		"status severity": {func(e *IngestEvent) { e.Kind, e.Status, e.Severity = EventStatus, "online", 2 }, "severity"},
		"status":          {func(e *IngestEvent) { e.Kind, e.Status = EventStatus, "broken" }, "status"},
		"watchlist":       {func(e *IngestEvent) { e.Kind, e.Watchlist = EventCrowd, "x" }, "watchlist"},
		"heartbeat snap":  {func(e *IngestEvent) { e.Kind, e.Snapshot = EventHeartbeat, "x" }, "snapshot"},
	} {
		e := ok
		c.mod(&e)
		err := CheckIngestEvent(&e, now)
		if ErrorField(err) != c.field || (err == nil) != (c.field == "") {
			t.Errorf("%s: %v, want field %q", name, err, c.field)
		}
	}
	e := ok
	if err := CheckIngestEvent(&e, now); err != nil || e.Severity != DefaultSeverity(EventFace) {
		t.Errorf("default severity %d, %v", e.Severity, err)
	}
}
