package tiles

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// gateSource is a Source that counts the renders reading it at once (a
// render's searches run one after the other) and holds each search until
// its gate opens.
type gateSource struct {
	Source
	gate chan struct{} // closed: searches pass
	mu   sync.Mutex
	now  int           // searches under way
	most int           // the most renders seen at once
	in   chan struct{} // a search has begun
}

func (g *gateSource) Search(layer string, b orb.Bound, fn func(*onemap.Record) bool) {
	g.mu.Lock()
	g.now++
	g.most = max(g.most, g.now)
	g.mu.Unlock()
	select {
	case g.in <- struct{}{}:
	default:
	}
	<-g.gate
	g.Source.Search(layer, b, fn)
	g.mu.Lock()
	g.now--
	g.mu.Unlock()
}

// TestServiceAdmitsAsManyAsCPUs checks that no more tiles are rendered at
// once than the process has CPUs, with the tile cache on and off, however
// many are asked together, that every one is still answered, and that a
// request whose context ends while it waits for its turn is refused.
func TestServiceAdmitsAsManyAsCPUs(t *testing.T) {
	src, _ := syntheticCounty(t, 3000, 50)
	cpus := runtime.GOMAXPROCS(0)
	commander := onemap.DefaultPolicy().View(onemap.NewCatalog(), onemap.Caller{Name: "c", Role: onemap.RoleCommander})
	for _, cacheBytes := range []int64{0, 64 << 20} {
		asked := max(16, 2*cpus) // more than the CPUs
		g := &gateSource{Source: src, gate: make(chan struct{}), in: make(chan struct{}, asked)}
		svc := NewService(ServiceConfig{Catalog: onemap.NewCatalog(), Policy: onemap.DefaultPolicy(), CacheBytes: cacheBytes,
			View: func(onemap.Caller) Source { return g }})
		center := maptile.At(orb.Point{102.35, 25.7}, 12)
		var wg sync.WaitGroup
		errs := make(chan error, asked)
		for i := range asked {
			wg.Go(func() {
				tile := maptile.New(center.X+uint32(i%8), center.Y+uint32(i/8), center.Z) // all different
				e, err := svc.Tile(t.Context(), commander, SetAll, tile)
				if err == nil {
					e.Release()
				}
				errs <- err
			})
		}
		// Wait until the first renders are held at the gate, then ask one
		// more with a context that has ended: it cannot get a turn.
		for range cpus {
			<-g.in
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		refused := make(chan error, 1)
		go func() {
			_, err := svc.Tile(ctx, commander, SetAll, maptile.New(center.X+9, center.Y+1, center.Z))
			refused <- err
		}()
		select {
		case err := <-refused:
			if onemap.ErrorCode(err) != onemap.EUNAVAILABLE {
				t.Errorf("cache %d: a tile asked with an ended context while %d renders are under way: %v, want %s",
					cacheBytes, cpus, err, onemap.EUNAVAILABLE)
			}
		case <-time.After(time.Minute):
			t.Errorf("cache %d: a tile asked with an ended context while %d renders are under way was not refused", cacheBytes, cpus)
		}
		close(g.gate)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("cache %d: %v", cacheBytes, err)
			}
		}
		if g.most > cpus {
			t.Errorf("cache %d: %d tiles rendered at once, want at most %d (the CPUs)", cacheBytes, g.most, cpus)
		}
	}
}
