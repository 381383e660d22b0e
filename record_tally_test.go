package onemap_test

import (
	"testing"
	"unsafe"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
)

// TestRecordTally holds a record's tally: 0 until set, then the last
// number stored, whatever the record's values; and kept inline, in what
// would be padding, so that a record is no larger than before (96 bytes,
// one size class of the allocator).
func TestRecordTally(t *testing.T) {
	r, err := onemap.NewRecord(1, 1, orb.Point{102, 25}, []any{"a", int64(2)})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Tally(); got != 0 {
		t.Fatalf("Tally() = %d before SetTally, want 0", got)
	}
	for _, n := range []uint32{1, 0xffff_ffff, 0x1234_5678} {
		r.SetTally(n)
		if got := r.Tally(); got != n {
			t.Errorf("Tally() = %#x after SetTally(%#x)", got, n)
		}
	}
	if got := r.Raw(0).Text(); got != "a" {
		t.Errorf("Raw(0).Text() = %q after SetTally, want %q", got, "a")
	}
	if got := unsafe.Sizeof(onemap.Record{}); got != 96 {
		t.Errorf("a Record is %d bytes, want 96", got)
	}
}
