package tiles

import "hash/maphash"

// valueIndex numbers the distinct values of a tile's layer in the order
// they are first added. It is an open-addressing hash table (linear
// probing) over the values it holds, kept from layer to layer and emptied
// in constant time by starting a new generation: a Go map of strings costs
// a layer of a few values as much to clear as the most it ever held.
type valueIndex struct {
	values []string    // by number
	slots  []valueSlot // a power of two long, at most half full
	gen    uint32      // slots of other generations are empty
	seed   maphash.Seed
}

type valueSlot struct {
	hash uint64
	gen  uint32
	n    uint32 // the value's number
}

// reset empties the index.
func (x *valueIndex) reset() {
	clear(x.values) // let the records they point into go
	x.values = x.values[:0]
	x.gen++
	if x.gen == 0 { // wrapped: slots of generation 0 would seem full
		clear(x.slots)
		x.gen = 1
	}
}

// add returns the number of v, and whether it is new.
func (x *valueIndex) add(v string) (uint32, bool) {
	if 2*(len(x.values)+1) > len(x.slots) {
		x.grow()
	}
	h := maphash.String(x.seed, v)
	mask := uint64(len(x.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := &x.slots[i]
		if s.gen != x.gen {
			n := uint32(len(x.values))
			*s = valueSlot{hash: h, gen: x.gen, n: n}
			x.values = append(x.values, v)
			return n, true
		}
		if s.hash == h && x.values[s.n] == v {
			return s.n, false
		}
	}
}

// grow doubles the table (or makes the first), keeping what it holds.
func (x *valueIndex) grow() {
	if x.slots == nil {
		x.seed = maphash.MakeSeed()
		x.gen = 1
	}
	old := x.slots
	x.slots = make([]valueSlot, max(64, 2*len(old)))
	mask := uint64(len(x.slots) - 1)
	for _, s := range old {
		if s.gen != x.gen {
			continue
		}
		i := s.hash & mask
		for x.slots[i].gen == x.gen {
			i = (i + 1) & mask
		}
		x.slots[i] = s
	}
}
