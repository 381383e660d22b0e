package inmem

import (
	"cmp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/onemapgis/onemap"
)

// Match is a feature found by text, and how well it matched.
type Match struct {
	Layer  string
	Record *onemap.Record
	Field  string // the field that matched
	Rank   int    // 0 the whole value, 1 its start, 2 within it
	Pinyin bool   // matched by the value's pinyin
}

// TextQuery says where to look for a text.
type TextQuery struct {
	Layer onemap.Layer
	// Names are the fields matched anywhere (partial Chinese names:
	// 狮山 finds 狮山镇); Codes the fields matched from their start (codes
	// and their prefixes).
	Names, Codes []string
	// Keep, if set, keeps only the records it accepts.
	Keep func(*onemap.Record) bool
}

// MatchText returns up to limit features whose names contain q or whose
// codes start with it (case-insensitive), best first: whole matches, then
// prefixes, then the rest; then in the order of the queries, the shorter
// value and the lower id. Pinyin in q (letters only) also matches Chinese
// names, by whole syllables or initials: shishan and ss find 狮山镇
// (matchPinyin; such a match has Pinyin set).
func (s *Snapshot) MatchText(q string, queries []TextQuery, limit int) []Match {
	q = strings.ToLower(strings.TrimSpace(q))
	if q == "" || limit <= 0 {
		return nil
	}
	pq := pinyinQuery(q)
	spell := s.spell
	if pq != "" && spell == nil {
		spell = NewSpellings()
	}
	type scored struct {
		Match
		order, length int
	}
	var found []scored
	for order, tq := range queries {
		type field struct {
			name string
			at   int
			code bool
		}
		var fields []field
		for _, n := range tq.Names {
			if at := tq.Layer.FieldIndex(n); at >= 0 {
				fields = append(fields, field{n, at, false})
			}
		}
		for _, n := range tq.Codes {
			if at := tq.Layer.FieldIndex(n); at >= 0 {
				fields = append(fields, field{n, at, true})
			}
		}
		s.Ascend(tq.Layer.ID, 0, func(r *onemap.Record) bool {
			if tq.Keep != nil && !tq.Keep(r) {
				return true
			}
			best := scored{Match: Match{Rank: 3}}
			for _, f := range fields {
				v, _ := r.Value(f.at).(string)
				lv := strings.ToLower(v)
				rank := 3
				switch {
				case lv == q:
					rank = 0
				case strings.HasPrefix(lv, q):
					rank = 1
				case !f.code && strings.Contains(lv, q):
					rank = 2
				}
				py := false
				if rank == 3 && pq != "" && !f.code && v != "" {
					if start, whole, ok := matchPinyin(pq, spell.Of(v)); ok {
						py = true
						switch {
						case whole:
							rank = 0
						case start == 0:
							rank = 1
						default:
							rank = 2
						}
					}
				}
				if rank < best.Rank {
					best = scored{Match: Match{Layer: tq.Layer.ID, Record: r, Field: f.name, Rank: rank, Pinyin: py}, order: order, length: utf8.RuneCountInString(v)}
				}
			}
			if best.Rank < 3 {
				found = append(found, best)
			}
			return true
		})
	}
	// Keep the best limit: sort all, since the matches of one text are few.
	cmpScored := func(a, b scored) int {
		return cmp.Or(cmp.Compare(a.Rank, b.Rank), cmp.Compare(a.order, b.order), cmp.Compare(a.length, b.length), cmp.Compare(a.Record.ID, b.Record.ID))
	}
	slices.SortFunc(found, cmpScored)
	out := make([]Match, 0, min(limit, len(found)))
	for _, f := range found[:min(limit, len(found))] {
		out = append(out, f.Match)
	}
	return out
}
