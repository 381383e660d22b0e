package ratelimit

import (
	"net/netip"
	"testing"
	"time"
)

func TestClientAddr(t *testing.T) {
	proxies, err := ParsePrefixes("10.0.0.0/8, 192.168.1.1, ::1")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		remote string
		xff    []string
		real   string
		want   string
	}{
		{"no proxy, no headers", "203.0.113.5:1234", nil, "", "203.0.113.5"},
		{"untrusted peer: X-Forwarded-For ignored (spoof)", "203.0.113.5:1234", []string{"1.2.3.4"}, "", "203.0.113.5"},
		{"untrusted peer: X-Real-IP ignored (spoof)", "203.0.113.5:1234", nil, "1.2.3.4", "203.0.113.5"},
		{"trusted peer: right-most untrusted", "10.1.2.3:80", []string{"198.51.100.7"}, "", "198.51.100.7"},
		{"trusted peer: client's own forged entry on the left is skipped", "10.1.2.3:80", []string{"1.2.3.4, 198.51.100.7"}, "", "198.51.100.7"},
		{"chain of trusted proxies", "10.1.2.3:80", []string{"1.2.3.4, 198.51.100.7, 192.168.1.1", "10.9.9.9"}, "", "198.51.100.7"},
		{"trusted peer: X-Real-IP without X-Forwarded-For", "192.168.1.1:80", nil, "198.51.100.8", "198.51.100.8"},
		{"X-Forwarded-For wins over X-Real-IP", "192.168.1.1:80", []string{"198.51.100.7"}, "1.2.3.4", "198.51.100.7"},
		{"every hop trusted: the left-most proxy", "10.1.2.3:80", []string{"10.4.4.4"}, "", "10.4.4.4"},
		{"garbage from a proxy: the hop before it", "10.1.2.3:80", []string{"1.2.3.4, nonsense"}, "", "10.1.2.3"},
		{"IPv6 loopback proxy", "[::1]:80", []string{"2001:db8::1"}, "", "2001:db8::1"},
		{"IPv4-mapped peer", "[::ffff:10.1.2.3]:80", []string{"198.51.100.7"}, "", "198.51.100.7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ClientAddr(tc.remote, tc.xff, tc.real, proxies)
			if !ok || got.String() != tc.want {
				t.Errorf("ClientAddr(%q, %q, %q) = %v, %v, want %s", tc.remote, tc.xff, tc.real, got, ok, tc.want)
			}
		})
	}
	if got, _ := ClientAddr("203.0.113.5:1", []string{"1.2.3.4"}, "", nil); got.String() != "203.0.113.5" {
		t.Errorf("no trusted proxies: got %v, want the peer", got)
	}
	if _, ok := ClientAddr("nonsense", nil, "", proxies); ok {
		t.Error("ClientAddr(nonsense) is ok")
	}
}

func TestParsePrefixes(t *testing.T) {
	if _, err := ParsePrefixes("10.0.0.0/8,bogus"); err == nil {
		t.Error("ParsePrefixes(bogus) = nil error")
	}
	got, err := ParsePrefixes("")
	if err != nil || len(got) != 0 {
		t.Errorf(`ParsePrefixes("") = %v, %v`, got, err)
	}
}

func TestLimiter_Allow(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	l := New(2, 3, 1000).WithClock(func() time.Time { return now })
	a := netip.MustParseAddr("198.51.100.7")
	b := netip.MustParseAddr("198.51.100.8")
	for i := range 3 {
		if ok, _ := l.Allow(a); !ok {
			t.Fatalf("request %d of a burst of 3 refused", i+1)
		}
	}
	ok, wait := l.Allow(a)
	if ok || wait != 500*time.Millisecond {
		t.Errorf("4th request: ok %v, retry after %v; want false, 500ms", ok, wait)
	}
	if ok, _ := l.Allow(b); !ok {
		t.Error("another client is refused")
	}
	now = now.Add(500 * time.Millisecond)
	if ok, _ := l.Allow(a); !ok {
		t.Error("after 0.5 s at 2/s a token is back, but the request is refused")
	}
	if ok, _ := l.Allow(a); ok {
		t.Error("a second request within the same 0.5 s is allowed")
	}
	now = now.Add(time.Hour)
	for i := range 3 {
		if ok, _ := l.Allow(a); !ok {
			t.Fatalf("after an hour, request %d refused: the bucket holds more than the burst?", i+1)
		}
	}
	if ok, _ := l.Allow(a); ok {
		t.Error("the bucket refilled past its burst")
	}
}

func TestLimiter_Blocked(t *testing.T) {
	l := New(1, 2, 1000)
	now := time.Unix(1_000_000, 0)
	l.now = func() time.Time { return now }
	a := netip.MustParseAddr("198.51.100.9")
	for range 5 {
		if blocked, _ := l.Blocked(a); blocked {
			t.Fatal("asking takes tokens: a client that was only asked about is blocked")
		}
	}
	l.Allow(a)
	l.Allow(a)
	blocked, wait := l.Blocked(a)
	if !blocked || wait != time.Second {
		t.Errorf("after its burst: blocked %v, retry after %v; want true, 1s", blocked, wait)
	}
	now = now.Add(time.Second)
	if blocked, _ := l.Blocked(a); blocked {
		t.Error("a second later at 1/s the client is still blocked")
	}
}

func TestLimiter_ipv6PerNetwork(t *testing.T) {
	l := New(1, 1, 1000)
	now := time.Unix(1_000_000, 0)
	l.now = func() time.Time { return now }
	if ok, _ := l.Allow(netip.MustParseAddr("2001:db8:1:2::1")); !ok {
		t.Fatal("first request refused")
	}
	if ok, _ := l.Allow(netip.MustParseAddr("2001:db8:1:2::ffff")); ok {
		t.Error("another address of the same /64 got a bucket of its own")
	}
	if ok, _ := l.Allow(netip.MustParseAddr("2001:db8:1:3::1")); !ok {
		t.Error("another /64 is refused")
	}
}

func TestLimiter_boundedMemory(t *testing.T) {
	l := New(1, 1, 640)
	now := time.Unix(1_000_000, 0)
	l.now = func() time.Time { return now }
	for i := range 100_000 {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		l.Allow(a)
	}
	if n := l.Len(); n > 640 {
		t.Errorf("the limiter holds %d clients, more than its 640", n)
	}
	// A client that stays busy keeps being limited while others come and
	// go, as long as the others have refilled buckets.
	busy := netip.MustParseAddr("203.0.113.9")
	l.Allow(busy)
	now = now.Add(2 * time.Second)
	for i := range 10_000 {
		l.Allow(netip.AddrFrom4([4]byte{10, 9, byte(i >> 8), byte(i)}))
	}
	if n := l.Len(); n > 640 {
		t.Errorf("the limiter holds %d clients, more than its 640", n)
	}
}

func TestLimiter_nilAllowsAll(t *testing.T) {
	var l *Limiter = New(0, 10, 10)
	if l != nil {
		t.Fatal("New(0, …) is a limiter; want nil (no limit)")
	}
	if ok, _ := l.Allow(netip.MustParseAddr("1.2.3.4")); !ok {
		t.Error("a nil limiter refuses")
	}
	if l.WithClock(time.Now) != nil {
		t.Error("a nil limiter with a clock is a limiter")
	}
}

func BenchmarkLimiter_Allow(b *testing.B) {
	l := New(1e9, 1e9, 1<<16)
	a := netip.MustParseAddr("198.51.100.7")
	b.ReportAllocs()
	for b.Loop() {
		l.Allow(a)
	}
}
