package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
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
	r.GET("/p", s.publicSlots(n, 0), func(c *gin.Context) {
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
	slots := s.publicSlots(1, 0)
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
