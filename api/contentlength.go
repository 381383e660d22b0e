package api

import (
	"strconv"
	"sync/atomic"
)

// lengthValues keeps the Content-Length header values of the answers the
// server writes directly (Server.sendJSON), one for each length met
// lately, so that an answer's length is not formatted and its header
// value allocated for every answer: the point routes' answers come in a
// few hundred lengths. A value is shared by every answer of its length,
// full to its capacity (an append to it copies it), and only read:
// net/http writes it out, the gzip wrapper deletes it from an answer's
// map, and no one writes into it.
//
// Safe for concurrent use; the zero value is ready. A slot holds one
// length at a time (n modulo lengthSlots): two lengths that share a slot
// take it in turn, each making its value again when it finds the other's.
type lengthValues struct {
	slots [lengthSlots]atomic.Pointer[lengthValue]
}

// lengthSlots is how many lengths lengthValues holds at most: more than
// the lengths of the point routes' answers (tens of bytes to tens of KB).
const lengthSlots = 1 << 12

// lengthValue is the header value of answers of n bytes.
type lengthValue struct {
	n     int
	value []string
}

// get returns the Content-Length header value of an answer of n bytes.
func (l *lengthValues) get(n int) []string {
	slot := &l.slots[uint(n)%lengthSlots]
	if v := slot.Load(); v != nil && v.n == n {
		return v.value
	}
	v := &lengthValue{n: n, value: []string{strconv.Itoa(n)}[:1:1]}
	slot.Store(v)
	return v.value
}
