package api

import (
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
)

// tallyCodes numbers the texts of the fields an around answer counts one
// layer's records by (aroundCounted: kind, level and status, those the
// layer has), so that counting a record reads a number kept inside it
// (onemap.Record.Tally) rather than its values: reading each hit's values
// (two pointers to follow, two cache misses) was most of what counting
// cost. A record is numbered the first time it is counted, and keeps its
// numbers as long as it lives (a change replaces the record).
//
// A record's tally is this numbering's tag (its upper 16 bits) and, for
// each counted field i, the number of the record's text in bits 5i to
// 5i+4: 1 to maxTallyCode, a text's place in the field's list, or 0 for a
// text the list had no room for (counted by its text, as before). A record
// whose tag is not this numbering's (none yet, or another server's
// numbering over the same replica, which then numbers it again) is
// numbered anew.
//
// Numbers are only ever added: a text keeps its number, so that records
// numbered earlier stay right. Safe for concurrent use.
type tallyCodes struct {
	tag uint32                  // 1 to 65535
	at  [len(aroundCounted)]int // of each counted field in the layer's fields; -1 if it has none
	// texts holds, by field, each number's text (number n at n-1): only
	// appended to, and replaced whole when a text is added, so that a
	// reader's copy stays right for every number it can have met.
	texts atomic.Pointer[[len(aroundCounted)][]string]
	mu    sync.Mutex                            // serialises numbering
	index [len(aroundCounted)]map[string]uint32 // the number of each text, under mu
}

const (
	// tallyBits is how wide a field's number is in a record's tally.
	tallyBits = 5
	// maxTallyCode is the most texts a field's list numbers; more are
	// counted by their text.
	maxTallyCode = 1<<tallyBits - 1
	// tallyTagShift is where a tally's tag starts.
	tallyTagShift = 16
)

// newTallyCodes returns an empty numbering of the layer's counted fields,
// tagged at random.
func newTallyCodes(l *onemap.Layer) *tallyCodes {
	tc := &tallyCodes{tag: 1 + rand.Uint32N(1<<(32-tallyTagShift)-1)}
	for i, field := range aroundCounted {
		tc.at[i] = l.FieldIndex(field)
		tc.index[i] = map[string]uint32{}
	}
	tc.texts.Store(new([len(aroundCounted)][]string))
	return tc
}

// codes returns the record's tally in this numbering, numbering its texts
// if it holds none of it.
func (tc *tallyCodes) codes(r *onemap.Record) uint32 {
	if c := r.Tally(); c>>tallyTagShift == tc.tag {
		return c
	}
	c := tc.tag << tallyTagShift
	tc.mu.Lock()
	texts := *tc.texts.Load()
	grown := false
	for i, at := range tc.at {
		if at < 0 {
			continue
		}
		t := r.Raw(at).Text()
		n, ok := tc.index[i][t]
		if !ok && len(texts[i]) < maxTallyCode {
			t = strings.Clone(t)
			texts[i] = append(texts[i][:len(texts[i]):len(texts[i])], t) // a new array: readers keep theirs
			n = uint32(len(texts[i]))
			tc.index[i][t] = n
			grown = true
		}
		c |= n << (tallyBits * i)
	}
	if grown {
		tc.texts.Store(&texts)
	}
	tc.mu.Unlock()
	r.SetTally(c)
	return c
}

// count sets the layer entry's counts by each counted field that want
// names and the layer has, in one pass over the hits: as countBy gives
// each (the values by their text, sorted by it), held in keys, which it
// returns extended.
func (tc *tallyCodes) count(entry *aroundLayer, hits []inmem.Hit, want [len(aroundCounted)]bool, keys []keyCount) []keyCount {
	var fields [len(aroundCounted)]int // the fields counted, by their index in aroundCounted
	k := 0
	for i, at := range tc.at {
		entry.has[i] = want[i] && at >= 0
		if entry.has[i] {
			fields[k] = i
			k++
		}
	}
	if k == 0 {
		return keys
	}
	var n [len(aroundCounted)][maxTallyCode + 1]int32 // by field, by number; [0]: texts counted in more
	var more [len(aroundCounted)]map[string]int       // texts without a number
	for _, h := range hits {
		c := h.Record.Tally()
		if c>>tallyTagShift != tc.tag {
			c = tc.codes(h.Record)
		}
		for _, i := range fields[:k] {
			code := c >> (tallyBits * i) & maxTallyCode
			n[i][code]++
			if code == 0 {
				if more[i] == nil {
					more[i] = map[string]int{}
				}
				more[i][h.Record.Raw(tc.at[i]).Text()]++
			}
		}
	}
	texts := tc.texts.Load() // after the tallies read: it numbers every text they name
	for _, i := range fields[:k] {
		start := len(keys)
		for code, m := range n[i][1:] {
			if m > 0 {
				keys = append(keys, keyCount{texts[i][code], int(m)})
			}
		}
		if more[i] != nil { // rare: ranging over a nil map still costs a call
			for key, m := range more[i] {
				keys = append(keys, keyCount{key, m})
			}
		}
		c := counts(keys[start:len(keys):len(keys)])
		slices.SortFunc(c, func(a, b keyCount) int { return strings.Compare(a.key, b.key) })
		if c == nil {
			c = counts{}
		}
		entry.by[i] = c
	}
	return keys
}
