package tiles

import (
	"bytes"
	"sync"
	"testing"

	"github.com/paulmach/orb/maptile"
)

// TestEncoder_dictionary checks that an Encoder, which writes properties
// through its dictionaries of values and the numbers records keep, gives
// Encode's bytes: from several goroutines at once, with dictionaries so
// small that they are replaced again and again within a pass (records then
// hold numbers of a dictionary that is gone), and with two Encoders taking
// turns over the same records (each finding the other's numbers there).
func TestEncoder_dictionary(t *testing.T) {
	src, specs := syntheticCounty(t, 3000, 400)
	list := tilesAround(8, 16, 2)
	want := encodedAll(t, src, specs, list)
	withValues := 0
	for _, b := range want {
		if len(b) > 0 {
			withValues++
		}
	}
	if withValues < len(list)/2 {
		t.Fatalf("only %d of %d tiles have features", withValues, len(list))
	}
	check := func(name string, e *Encoder, tile maptile.Tile) {
		got, err := e.Encode(src, tile, specs)
		if err != nil {
			t.Errorf("%s: Encode(%v): %v", name, tile, err)
			return
		}
		if !bytes.Equal(got, want[tile]) {
			t.Errorf("%s: tile %v: %d bytes, Encode's %d", name, tile, len(got), len(want[tile]))
		}
	}

	e := NewEncoder(64 << 20)
	for range 2 { // the second pass finds the numbers the first kept
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				for i := g; i < len(list); i += 4 {
					check("shared", e, list[i])
				}
			})
		}
		wg.Wait()
	}

	small := NewEncoder(64 << 20)
	small.dicts.max = 50
	ids := map[string][2]uint32{}
	for pass := range 2 {
		for _, tile := range list {
			check("small dictionaries", small, tile)
		}
		if pass == 0 {
			for layer, d := range small.dicts.byLayer {
				ids[layer] = d.id
			}
		}
	}
	replaced := 0
	for layer, d := range small.dicts.byLayer {
		if ids[layer] != d.id {
			replaced++
		}
	}
	if replaced == 0 {
		t.Errorf("no dictionary of %d was replaced in the second pass", len(ids))
	}

	other := NewEncoder(64 << 20)
	for i, tile := range list {
		if i%2 == 0 {
			check("taking turns", e, tile)
		} else {
			check("taking turns", other, tile)
		}
		check("taking turns", other, tile)
		check("taking turns", e, tile)
	}
}
