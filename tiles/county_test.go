package tiles_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/tiles"
	"github.com/paulmach/orb/maptile"
)

// countyWeights is how many of cmd/onemap-bench's 3,000 county requests
// fall at each zoom.
var countyWeights = map[maptile.Zoom]int{8: 26, 9: 94, 10: 201, 11: 390, 12: 578, 13: 584, 14: 537, 15: 391, 16: 199}

// countyMix is the demo county (demoCounty) with its tiles by zoom, and
// mix: drawn from them in the proportions of countyWeights and shuffled,
// the same tiles in the same order on every run.
type countyMix struct {
	demoCounty
	byZoom map[maptile.Zoom][]maptile.Tile
	mix    []maptile.Tile
}

// loadCountyMix loads the demo county (loadDemoCounty) and draws its mix
// (see countyMix). It needs PostGIS.
func loadCountyMix(tb testing.TB) countyMix {
	tb.Helper()
	c := countyMix{demoCounty: loadDemoCounty(tb), byZoom: map[maptile.Zoom][]maptile.Tile{}}
	for _, t := range c.tiles {
		c.byZoom[t.Z] = append(c.byZoom[t.Z], t)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for z := maptile.Zoom(8); z <= 16; z++ {
		for range countyWeights[z] {
			c.mix = append(c.mix, c.byZoom[z][rng.IntN(len(c.byZoom[z]))])
		}
	}
	rng.Shuffle(len(c.mix), func(i, j int) { c.mix[i], c.mix[j] = c.mix[j], c.mix[i] })
	return c
}

// BenchmarkEncodeCounty encodes the demo county's tiles from the replica,
// every layer with every field and the levels drawn at the zoom, as the
// "all" tileset of a commander: per zoom, every tile over the county at
// zooms 8 to 12 and a sample under its points at 13 to 16 (see diffTiles);
// "mix" draws from them in the proportions of cmd/onemap-bench's county
// requests; "mix-hashing" is "mix" without the Encoder's dictionaries of
// values (each tile reads and hashes its records' values), alternating with
// it when run with -count. Besides the wall time a tile it reports the
// process's CPU time a tile (the garbage collector's included). It needs
// PostGIS.
func BenchmarkEncodeCounty(b *testing.B) {
	county := loadCountyMix(b)
	snap, byZoom, mix := county.snap, county.byZoom, county.mix
	specs := specsFor(county.catalog)
	run := func(b *testing.B, list []maptile.Tile, hashing ...bool) {
		e := tiles.NewEncoder(64 << 20) // as a server keeps shapes
		encode := e.Encode
		if len(hashing) > 0 && hashing[0] {
			encode = func(src tiles.Source, t maptile.Tile, specs []onemap.TileLayer) ([]byte, error) {
				return tiles.EncodeHashingValues(e, src, t, specs)
			}
		}
		b.ReportAllocs()
		bytes := 0
		cpu0 := processCPU(b)
		for b.Loop() {
			bytes = 0
			for _, t := range list {
				mvt, err := encode(snap, t, atZoom(specs, t.Z))
				if err != nil {
					b.Fatal(err)
				}
				bytes += len(mvt)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(list))/1e6, "ms/tile")
		b.ReportMetric(float64((processCPU(b)-cpu0).Nanoseconds())/float64(b.N*len(list))/1e6, "cpu-ms/tile")
		b.ReportMetric(float64(bytes)/float64(len(list)), "bytes/tile")
	}
	b.Run("mix", func(b *testing.B) { run(b, mix) })
	b.Run("mix-hashing", func(b *testing.B) { run(b, mix, true) })
	for z := maptile.Zoom(8); z <= 16; z++ {
		b.Run(fmt.Sprintf("z%d", z), func(b *testing.B) { run(b, byZoom[z]) })
	}
}

// processCPU returns the CPU time (user and system) the process has used:
// on a shared machine a tile's CPU time varies less than its wall time.
func processCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// atZoom returns the specs as tiles at zoom z carry them: only the levels
// drawn at that zoom (as the server cuts them).
func atZoom(specs []onemap.TileLayer, z maptile.Zoom) []onemap.TileLayer {
	out := slices.Clone(specs)
	for i := range out {
		out[i].Levels = out[i].Layer.LevelsAt(z, out[i].Levels)
	}
	return out
}
