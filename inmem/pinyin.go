package inmem

import (
	"strings"
	"sync"
	"unicode"

	"github.com/mozillazg/go-pinyin"
	"github.com/onemapgis/onemap"
)

// Spellings holds the pinyin of the names that text search matches: per
// name, each character's readings without tones ("狮山" → [shi] [shan]; a
// character read several ways has each, 重 → [zhong chong]; a letter or
// digit reads as itself, lower case; other characters as nothing). A
// name's readings are worked out once, when the replica is loaded or when
// search first meets the name, and kept; so are each character's. It is
// safe for concurrent use; the zero value is not usable (NewSpellings).
type Spellings struct {
	mu    sync.RWMutex
	names map[string][][]string
	runes map[rune][]string
	// slab is where the names' reading lists are cut from, a few
	// thousand at a time rather than one allocation each.
	slab [][]string
}

// slabLen is how many characters' readings a slab of Spellings holds.
const slabLen = 1 << 14

// maxSpellings bounds the names kept: past it the cache starts afresh (a
// county's names are some tens of thousands; renames add a few).
const maxSpellings = 1 << 18

// NewSpellings returns an empty cache.
func NewSpellings() *Spellings {
	return &Spellings{names: map[string][][]string{}, runes: map[rune][]string{}}
}

// Of returns the readings of name, one slice per character that has any.
func (sp *Spellings) Of(name string) [][]string {
	sp.mu.RLock()
	r, ok := sp.names[name]
	sp.mu.RUnlock()
	if ok {
		return r
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.ofLocked(name)
}

// ofLocked is Of with sp.mu held for writing.
func (sp *Spellings) ofLocked(name string) [][]string {
	if r, ok := sp.names[name]; ok {
		return r
	}
	n := 0 // the characters that have readings: the slice is made to fit
	for _, c := range name {
		if len(sp.rune(c)) > 0 {
			n++
		}
	}
	if len(sp.slab) < n {
		sp.slab = make([][]string, max(slabLen, n))
	}
	out := sp.slab[:0:n]
	sp.slab = sp.slab[n:]
	for _, c := range name {
		if rs := sp.rune(c); len(rs) > 0 {
			out = append(out, rs)
		}
	}
	if len(sp.names) >= maxSpellings {
		sp.names = map[string][][]string{}
	}
	sp.names[name] = out
	return out
}

// ofAll works out the readings of each name that next gives (until it
// reports false), as Of does, until the cache is full: under one lock per
// 1,024 names, so that a search meanwhile waits for a few at most. About
// n names are to come: an empty cache is made to hold them (up to its
// bound) without growing.
func (sp *Spellings) ofAll(n int, next func() (string, bool)) {
	sp.mu.Lock()
	if len(sp.names) == 0 && n > 0 {
		sp.names = make(map[string][][]string, min(n, maxSpellings))
	}
	sp.mu.Unlock()
	for more := true; more; {
		sp.mu.Lock()
		for i := 0; i < 1024; i++ {
			if len(sp.names) >= maxSpellings {
				more = false
				break
			}
			name, ok := next()
			if !ok {
				more = false
				break
			}
			if name != "" {
				sp.ofLocked(name)
			}
		}
		sp.mu.Unlock()
	}
}

// rune returns the readings of c; sp.mu is held for writing.
func (sp *Spellings) rune(c rune) []string {
	if r, ok := sp.runes[c]; ok {
		return r
	}
	var r []string
	switch {
	case unicode.Is(unicode.Han, c):
		a := pinyin.NewArgs()
		a.Heteronym = true // 重庆 is chong, 重大 zhong: either is accepted
		r = pinyin.SinglePinyin(c, a)
	case c < unicode.MaxASCII && (unicode.IsLetter(c) || unicode.IsDigit(c)):
		r = []string{string(unicode.ToLower(c))}
	}
	sp.runes[c] = r
	return r
}

// pinyinQuery returns q as pinyin to match (lower-case ASCII letters, the
// spaces and apostrophes between syllables dropped), or "" if q is not
// pinyin: it has another character, or fewer than two letters (a single
// letter would match every name with a syllable of it).
func pinyinQuery(q string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(q) {
		switch {
		case c >= 'a' && c <= 'z':
			b.WriteRune(c)
		case c == ' ' || c == '\'' || c == '’':
		default:
			return ""
		}
	}
	if b.Len() < 2 {
		return ""
	}
	return b.String()
}

// matchPinyin reports whether q (from pinyinQuery) spells a run of the
// name's characters (readings from Spellings.Of), and where the best run
// starts and whether it runs to the name's end. Each character of the run
// is spelled by a whole reading or by its initial (its first letter, or
// zh, ch, sh), and the last one also by any start of a reading (the user
// is still typing): shishan, ss, shs and shis all spell 狮山. A run
// starting at the first character is best, then the earliest.
func matchPinyin(q string, readings [][]string) (start int, whole, ok bool) {
	n := len(readings)
	if n == 0 || q == "" {
		return 0, false, false
	}
	// seen[i*(len(q)+1)+j]: from character i with q[j:] left, no match.
	var buf [512]bool
	size := (n + 1) * (len(q) + 1)
	var seen []bool
	if size <= len(buf) {
		seen = buf[:size]
	} else {
		seen = make([]bool, size)
	}
	for i := range n {
		if !startsWith(readings[i], q[0]) {
			continue
		}
		if end, ok := spell(q, readings, seen, i, 0); ok {
			return i, i == 0 && end == n, true
		}
	}
	return 0, false, false
}

// startsWith reports whether a reading starts with the letter c.
func startsWith(readings []string, c byte) bool {
	for _, r := range readings {
		if r != "" && r[0] == c {
			return true
		}
	}
	return false
}

// spell reports whether q[j:] spells the characters from i on (see
// matchPinyin), and the character after the last one it spells.
func spell(q string, readings [][]string, seen []bool, i, j int) (end int, ok bool) {
	if j == len(q) {
		return i, true
	}
	w := len(q) + 1
	if i == len(readings) || seen[i*w+j] {
		return 0, false
	}
	rest := q[j:]
	for _, r := range readings[i] {
		// The whole reading.
		if strings.HasPrefix(rest, r) {
			if end, ok := spell(q, readings, seen, i+1, j+len(r)); ok {
				return end, true
			}
		}
		// Its initial (zh, ch, sh) or its first letter.
		for _, in := range initialsOf(r) {
			if strings.HasPrefix(rest, in) {
				if end, ok := spell(q, readings, seen, i+1, j+len(in)); ok {
					return end, true
				}
			}
		}
		// The last character: any start of its reading.
		if len(rest) < len(r) && strings.HasPrefix(r, rest) {
			return i + 1, true
		}
	}
	seen[i*w+j] = true
	return 0, false
}

// initialsOf returns the shorter spellings of a reading that stand for
// it: its first letter, and zh, ch or sh where it starts with one.
func initialsOf(r string) []string {
	switch {
	case len(r) > 2 && r[1] == 'h' && (r[0] == 'z' || r[0] == 'c' || r[0] == 's'):
		return []string{r[:1], r[:2]}
	case len(r) > 1:
		return []string{r[:1]}
	}
	return nil
}

// spellNames works out the pinyin of the names of the layer's records
// (field "name"), so that the first search does not (Replica.Load), until
// the cache holds maxSpellings names: past that each new name would start
// it afresh, and a province's two million camera names would be worked
// out to keep only the last of them (searches work out the others as they
// meet them). A layer of more records than the cache holds is not spelled
// at all: a search of it spells most of its names anyway, and the part a
// load would spell (whichever names came first) would only crowd out the
// names of the smaller layers loaded beside it (the grids' beside the
// cameras'), whose first search it is there to spare.
func (r *Replica) spellNames(layer string, recs []*onemap.Record) {
	if len(recs) > maxSpellings {
		return
	}
	for i := range r.layers {
		if r.layers[i].ID != layer {
			continue
		}
		at := r.layers[i].FieldIndex("name")
		if at < 0 {
			return
		}
		i := 0
		r.spell.ofAll(len(recs), func() (string, bool) {
			if i == len(recs) {
				return "", false
			}
			i++
			return recs[i-1].Raw(at).Text(), true // unboxed
		})
		return
	}
}
