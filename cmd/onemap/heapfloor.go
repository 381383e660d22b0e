package main

import "runtime"

// heapFloor keeps the collector from running every few megabytes when the
// live heap is small. The collector starts a cycle when the heap has grown
// by GOGC percent (100 by default) of what the last cycle left live: a
// county's replica leaves about 25 MiB live, so a server answering 20,000
// requests a second (some 2.5 KiB allocated each) collects every second or
// two, and each cycle marks for 10–100 ms on two cores (gctrace), with
// stop-the-world phases of 0.1–10 ms on a loaded machine, during which
// every request in flight waits. That is about 1% of the requests: the
// tail a p99 sees.
//
// The floor is a block of floor bytes that holds no pointers and that
// nothing writes: the collector counts it as live (the next goal is (live
// + floor) × (1 + GOGC/100)) but never scans it. The runtime zeroes it
// only when its pages held an earlier allocation; pages fresh from the
// system are not written, and the system backs them with no memory (a
// county's server with a 64 MiB floor: 73 MB resident, 81 MB without).
// With 64 MiB a county's server collects about 4× less often (gctrace);
// a province's (2 GiB live) raises its goal by 128 MiB, some 3%. GOMEMLIMIT cannot do this: it only makes
// collections more frequent as the heap nears it, and with GOGC=off it
// would drop the proportional goal a large replica needs.
type heapFloor struct {
	block []byte
}

// newHeapFloor holds a floor of mib MiB (none for 0) until release.
func newHeapFloor(mib int) *heapFloor {
	if mib <= 0 {
		return &heapFloor{}
	}
	return &heapFloor{block: make([]byte, mib<<20)}
}

// release lets the floor go; the collector reclaims it at its next cycle.
// Until then the floor stays reachable through h.
func (h *heapFloor) release() {
	runtime.KeepAlive(h.block)
	h.block = nil
}
