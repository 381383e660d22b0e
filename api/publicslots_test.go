package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap/internal/testfix"
)

// BenchmarkPublicSlots measures what a public lookup costs the slots that
// admit it when more lookups come at once than there are slots: 16 at a
// time through 2 slots, each holding its slot for a few microseconds of
// work, so most wait. It reports the allocations and the process's CPU
// (getrusage) a lookup, beside the same with slots enough for every
// lookup (free).
func BenchmarkPublicSlots(b *testing.B) {
	b.Run("waiting", func(b *testing.B) { benchmarkSlots(b, 2) })
	b.Run("free", func(b *testing.B) { benchmarkSlots(b, 64) }) // none waits: the reference
}

func benchmarkSlots(b *testing.B, n int) {
	gin.SetMode(gin.ReleaseMode)
	s := &Server{}
	r := gin.New()
	var sink int
	r.GET("/p", s.publicSlots(n, 0, time.Now, nil), func(c *gin.Context) {
		x := 1
		for i := range 2000 { // a few microseconds
			x = x*31 + i
		}
		sink += x & 1
		c.Status(http.StatusNoContent)
	})
	b.ReportAllocs()
	b.SetParallelism(8) // 16 goroutines on 2 CPUs
	cpu0 := rusageCPU()
	b.RunParallel(func(pb *testing.PB) {
		req := httptest.NewRequest("GET", "/p", nil)
		w := httptest.NewRecorder()
		for pb.Next() {
			r.ServeHTTP(w, req)
			if w.Code != http.StatusNoContent {
				b.Errorf("status %d", w.Code)
				return
			}
		}
	})
	b.ReportMetric(float64(rusageCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}

func rusageCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestPublicSlots_waitAllocatesNothing: a public lookup that finds every
// slot taken waits without allocating (the timer of its wait is one used
// before), here one whose client has gone, which the slots turn away.
func TestPublicSlots_waitAllocatesNothing(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	s := &Server{}
	slots := s.publicSlots(1, 0, time.Now, nil)
	r := gin.New()
	hold, held := make(chan struct{}), make(chan struct{})
	r.GET("/p", slots, func(c *gin.Context) {
		close(held)
		<-hold
	})
	go r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/p", nil))
	<-held // the one slot is taken
	defer close(hold)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequestWithContext(ctx, "GET", "/p", nil)
	slots(c) // once before: the pool of timers is filled
	if !c.IsAborted() {
		t.Fatal("a lookup whose client has gone is not turned away")
	}
	allocs := testing.AllocsPerRun(100, func() { slots(c) })
	if allocs != 0 {
		t.Errorf("a waiting lookup allocates %v times, want 0", allocs)
	}
}

// TestTakeSlot: a slot is taken when one is free or comes free; a
// request waits at most its time, or until its context ends; a timer used
// before (fired or stopped) never ends a later wait early. The waits are
// none (expired at once) or an hour (never), so no clock is read.
func TestTakeSlot(t *testing.T) {
	slots := make(chan struct{}, 1)
	var timers timerPool
	ctx := t.Context()
	if got := takeSlot(ctx, slots, time.Hour, &timers); got != slotTaken {
		t.Fatalf("a free slot: %d, want taken", got)
	}
	for range 3 { // the pool now holds timers that fired
		if got := takeSlot(ctx, slots, time.Nanosecond, &timers); got != slotBusy {
			t.Fatalf("no free slot: %d, want busy", got)
		}
	}
	for range 3 {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if got := takeSlot(cctx, slots, time.Hour, &timers); got != slotGone {
			t.Fatalf("a context ended: %d, want gone", got)
		}
	}
	got := make(chan int)
	go func() { got <- takeSlot(ctx, slots, time.Hour, &timers) }()
	<-slots // the slot comes free
	if g := <-got; g != slotTaken {
		t.Fatalf("a slot came free: %d, want taken", g)
	}
	if len(slots) != 1 {
		t.Fatalf("%d slots taken, want 1", len(slots))
	}
}

// TestPublicSlots_maxRate: at most maxRate lookups a second start, evenly
// spaced: of lookups that come at once, each waits its turn on the
// schedule (10 at 20 a second: the last starts 9/20 s after the first),
// a lookup whose turn is more than publicQueueWait away is turned away
// with 503 at once, and once the clock has passed the schedule a lookup
// starts without waiting. The clock moves only when the test moves it,
// and the waits are recorded, not slept.
func TestPublicSlots_maxRate(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	clk := testfix.NewClock(time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC))
	var waits []time.Duration
	sleep := func(ctx context.Context, d time.Duration) bool {
		waits = append(waits, d)
		return true
	}
	s := &Server{log: slog.New(slog.DiscardHandler)}
	r := gin.New()
	r.GET("/p", s.publicSlots(4, 20, clk.Now, sleep), func(c *gin.Context) { c.Status(http.StatusNoContent) })
	lookup := func() int {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest("GET", "/p", nil))
		return w.Code
	}
	for i := range 10 {
		if code := lookup(); code != http.StatusNoContent {
			t.Fatalf("lookup %d: status %d", i, code)
		}
	}
	var want []time.Duration
	for i := 1; i < 10; i++ {
		want = append(want, time.Duration(i)*50*time.Millisecond)
	}
	if !slices.Equal(waits, want) {
		t.Fatalf("10 lookups at once at 20 a second waited %v, want %v", waits, want)
	}
	// The schedule now reaches 500 ms ahead: lookups are admitted until
	// a turn would be more than publicQueueWait away (2 s: the 41st
	// from the first), then turned away without waiting.
	waits = nil
	for i := 10; i <= 40; i++ {
		if code := lookup(); code != http.StatusNoContent {
			t.Fatalf("lookup %d (turn %v ahead): status %d", i, time.Duration(i)*50*time.Millisecond, code)
		}
	}
	if code := lookup(); code != http.StatusServiceUnavailable {
		t.Fatalf("a lookup whose turn is %v ahead: status %d, want 503", 41*50*time.Millisecond, code)
	}
	if len(waits) != 31 || waits[30] != 2*time.Second {
		t.Fatalf("lookups 10 to 40 waited %v, want 31 waits, the last 2s", waits)
	}
	// Past the schedule, a lookup starts at once.
	clk.Add(3 * time.Second)
	waits = nil
	if code := lookup(); code != http.StatusNoContent || len(waits) != 0 {
		t.Fatalf("a lookup after the schedule: status %d, waits %v; want 204 without waiting", code, waits)
	}
	// A lookup whose client goes while it waits is turned away.
	sleepGone, answered := false, 0
	s2 := &Server{log: slog.New(slog.DiscardHandler)}
	r2 := gin.New()
	r2.GET("/p", s2.publicSlots(4, 1, clk.Now, func(context.Context, time.Duration) bool { sleepGone = true; return false }),
		func(c *gin.Context) { answered++ })
	r2.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/p", nil)) // the first: no wait
	r2.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/p", nil))
	if !sleepGone || answered != 1 {
		t.Fatalf("two lookups at 1 a second, the second's client gone while it waits: waited %v, answered %d; want the second to wait and 1 answered", sleepGone, answered)
	}
}
