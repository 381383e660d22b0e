package public

import (
	"cmp"
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/paulmach/orb"
)

func TestParseHours(t *testing.T) {
	at := func(s string) time.Time { // China time
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, chinaTime)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	// 2026-11-23 is a Monday.
	for _, tc := range []struct {
		hours string
		at    string
		want  bool
	}{
		{"24/7", "2026-11-29 03:00", true},
		{"Mo-Fr 08:30-12:00,14:30-18:00", "2026-11-23 08:29", false},
		{"Mo-Fr 08:30-12:00,14:30-18:00", "2026-11-23 08:30", true},
		{"Mo-Fr 08:30-12:00,14:30-18:00", "2026-11-23 12:00", false},
		{"Mo-Fr 08:30-12:00,14:30-18:00", "2026-11-27 17:59", true},
		{"Mo-Fr 08:30-12:00,14:30-18:00", "2026-11-28 10:00", false},
		{"Mo-Fr 09:00-12:00,14:30-17:30; Sa 09:00-12:00", "2026-11-28 10:00", true},
		{"Mo-Fr 09:00-12:00,14:30-17:30; Sa 09:00-12:00", "2026-11-29 10:00", false},
		{"Mo-Su 08:00-18:00; We off", "2026-11-25 10:00", false},
		{"Mo-Su 08:00-18:00; We off", "2026-11-26 10:00", true},
		{"Fr 20:00-02:00", "2026-11-28 01:30", true},  // Saturday, past Friday's midnight
		{"Fr 20:00-02:00", "2026-11-28 02:00", false}, // closed from 02:00
		{"Sa-Mo 10:00-11:00", "2026-11-23 10:30", true},
	} {
		h, ok := ParseHours(tc.hours)
		if !ok {
			t.Errorf("ParseHours(%q) not ok", tc.hours)
			continue
		}
		if got := h.OpenAt(at(tc.at)); got != tc.want {
			t.Errorf("ParseHours(%q).OpenAt(%s) = %v, want %v", tc.hours, tc.at, got, tc.want)
		}
	}
	// The moment is read in China's time whatever the zone of the value.
	h, _ := ParseHours("Mo-Fr 08:30-12:00")
	if !h.OpenAt(time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC)) { // 09:00 in China
		t.Error("OpenAt of a UTC time is not read in China's time")
	}
	for _, bad := range []string{"", "sunrise-sunset", "Mo-Fr", "Mo-Fr 8:30-12:00", "Xx 08:00-09:00", "Mo 08:00-25:00", "Jan-Mar Mo 08:00-09:00", "PH off"} {
		if _, ok := ParseHours(bad); ok {
			t.Errorf("ParseHours(%q) ok, want not understood", bad)
		}
	}
}

// fakeSource serves fixed data.
type fakeSource struct{ d Data }

func (f *fakeSource) LoadPublic(context.Context) (Data, error) { return f.d, nil }

func seed(t *testing.T) uint64 {
	s := uint64(time.Now().UnixNano())
	if v := os.Getenv("SEED"); v != "" {
		s, _ = strconv.ParseUint(v, 10, 64)
	}
	t.Logf("SEED=%d", s)
	return s
}

func randomData(rng *rand.Rand, n int) Data {
	d := Data{Kinds: []Kind{{Code: "a", Name: "甲", NameEN: "A"}, {Code: "b", Name: "乙", NameEN: "B"}, {Code: "c", Name: "丙", NameEN: "C"}}}
	for i := range n {
		d.Stations = append(d.Stations, Station{
			ID: int64(i + 1), Kind: d.Kinds[rng.IntN(3)].Code, Level: "village", Name: "站" + strconv.Itoa(i),
			OpeningHours: "Mo-Fr 08:30-18:00", Services: []string{"x"},
			Point: orb.Point{102 + rng.Float64()*0.6, 25.3 + rng.Float64()*0.9},
		})
	}
	return d
}

// TestIndex_Nearest checks the R-tree walk against every station's
// distance, sorted.
func TestIndex_Nearest(t *testing.T) {
	rng := rand.New(rand.NewPCG(seed(t), 7))
	d := randomData(rng, 900)
	ix := New(&fakeSource{d}, nil)
	if err := ix.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	for range 300 {
		q := Query{Point: orb.Point{101.9 + rng.Float64()*0.8, 25.2 + rng.Float64()*1.1}, Limit: 1 + rng.IntN(MaxLimit)}
		if rng.IntN(2) == 0 {
			q.Kinds = []string{d.Kinds[rng.IntN(3)].Code}
		}
		if rng.IntN(3) == 0 {
			q.Radius = 1000 + rng.Float64()*20000
		}
		p, got, err := ix.Nearest(q)
		if err != nil {
			t.Fatal(err)
		}
		type cand struct {
			id int64
			d  float64
		}
		var want []cand
		for _, s := range d.Stations {
			if len(q.Kinds) > 0 && !slices.Contains(q.Kinds, s.Kind) {
				continue
			}
			dist := inmem.Distance(p, s.Point)
			if q.Radius > 0 && dist > q.Radius {
				continue
			}
			// The index ranks by the distance it keeps, a float32
			// (ties by id): two stations less than its precision apart
			// (a millimetre at 12 km) are a tie, as it ranks them.
			want = append(want, cand{s.ID, float64(float32(dist))})
		}
		slices.SortFunc(want, func(a, b cand) int { return cmp.Or(cmp.Compare(a.d, b.d), cmp.Compare(a.id, b.id)) })
		want = want[:min(len(want), q.Limit)]
		if len(got) != len(want) {
			t.Fatalf("Nearest(%+v): %d stations, want %d", q, len(got), len(want))
		}
		for i := range got {
			if got[i].Station.ID != want[i].id || abs(got[i].Distance-want[i].d) > 0.01 {
				t.Fatalf("Nearest(%+v)[%d] = station %d at %.2f m, want %d at %.2f m", q, i, got[i].Station.ID, got[i].Distance, want[i].id, want[i].d)
			}
		}
	}
}

func abs(v float64) float64 { return max(v, -v) }

func TestIndex_AppendNearestJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	d := randomData(rng, 50)
	d.Stations[0].OpeningHours = "whenever"
	ix := New(&fakeSource{d}, nil)
	ix.now = func() time.Time { return time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC) } // Monday 11:00 in China
	if err := ix.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	q := Query{Point: orb.Point{102.30004, 25.60004}, Limit: 50}
	b, err := ix.AppendNearestJSON(nil, q)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Point    [2]float64 `json:"point"`
		Count    int        `json:"count"`
		Stations []struct {
			ID        int64    `json:"id"`
			KindName  string   `json:"kind_name"`
			Distance  float64  `json:"distance_m"`
			OpenNow   *bool    `json:"open_now"`
			Services  []string `json:"services"`
			Lon, Lat  float64
			Synthetic bool `json:"synthetic"`
		} `json:"stations"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	if got.Point != [2]float64{102.3, 25.6} || got.Count != 50 || len(got.Stations) != 50 {
		t.Fatalf("point %v count %d stations %d; want [102.3 25.6] 50 50", got.Point, got.Count, len(got.Stations))
	}
	for i, s := range got.Stations {
		if i > 0 && s.Distance < got.Stations[i-1].Distance {
			t.Errorf("stations not sorted by distance at %d", i)
		}
		if s.ID == 1 && s.OpenNow != nil {
			t.Errorf("station with unreadable hours: open_now %v, want null", *s.OpenNow)
		}
		if s.ID != 1 && (s.OpenNow == nil || !*s.OpenNow) {
			t.Errorf("station %d open Mo-Fr 08:30-18:00 at Monday 11:00: open_now %v", s.ID, s.OpenNow)
		}
		if s.KindName == "" || len(s.Services) != 1 {
			t.Errorf("station %d: kind_name %q services %v", s.ID, s.KindName, s.Services)
		}
	}
	// Cached answers allocate nothing.
	buf := make([]byte, 0, 64<<10)
	allocs := testing.AllocsPerRun(100, func() { buf, _ = ix.AppendNearestJSON(buf[:0], q) })
	if allocs > 0 {
		t.Errorf("a cached answer allocates %.1f times", allocs)
	}
	for _, bad := range []Query{
		{Point: q.Point, Limit: 0}, {Point: q.Point, Limit: MaxLimit + 1},
		{Point: q.Point, Limit: 1, Kinds: []string{"zz"}}, {Point: q.Point, Limit: 1, Radius: -1},
		{Point: orb.Point{200, 0}, Limit: 1},
	} {
		if _, err := ix.AppendNearestJSON(nil, bad); onemap.ErrorCode(err) != onemap.EINVALID {
			t.Errorf("AppendNearestJSON(%+v) = %v, want invalid", bad, err)
		}
	}
}

func TestIndex_OnApply(t *testing.T) {
	src := &fakeSource{randomData(rand.New(rand.NewPCG(1, 2)), 10)}
	ix := New(src, nil)
	if _, _, err := ix.KindsJSON(); onemap.ErrorCode(err) != onemap.EUNAVAILABLE {
		t.Errorf("before Load: %v, want unavailable", err)
	}
	if err := ix.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); ix.Run(ctx, time.Millisecond) }()
	defer func() { cancel(); <-done }()

	src.d = randomData(rand.New(rand.NewPCG(3, 4)), 20) // (Run reads it after the signal)
	ix.OnApply([]onemap.Change{{Layer: onemap.LayerCameras}})
	time.Sleep(50 * time.Millisecond)
	if n, _ := ix.Len(); n != 10 {
		t.Fatalf("a camera's change reloaded the index: %d stations", n)
	}
	ix.OnApply([]onemap.Change{{Layer: onemap.LayerStations}})
	for start := time.Now(); ; time.Sleep(5 * time.Millisecond) {
		if n, _ := ix.Len(); n == 20 {
			break
		}
		if time.Since(start) > 30*time.Second { // only for a test that fails: a loaded machine is slow
			t.Fatal("a station's change did not reload the index")
		}
	}
}

func BenchmarkIndex_AppendNearestJSON(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	ix := New(&fakeSource{randomData(rng, 900)}, nil)
	if err := ix.Load(context.Background()); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 64<<10)
	for _, cached := range []bool{false, true} {
		b.Run("cached="+strconv.FormatBool(cached), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			cpu0 := processCPU()
			for b.Loop() {
				i++
				if !cached {
					i = rng.IntN(1 << 30)
				}
				q := Query{Point: orb.Point{102 + float64(i%6000)*1e-4, 25.3 + float64(i/6000%9000)*1e-4}, Limit: 10}
				buf, _ = ix.AppendNearestJSON(buf[:0], q)
			}
			b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// processCPU returns the process's user and system CPU time so far: on a
// shared machine, a steadier figure than the wall time of ns/op.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestAnswerCache holds the answer cache to its keys: a lookup finds the
// answer put under the same key or nothing, never another key's, among keys
// that differ in one member only (the point, the kinds, the limit, the
// radius), and most of a few thousand stay.
func TestAnswerCache(t *testing.T) {
	var c answerCache
	rng := rand.New(rand.NewPCG(seed(t), 11))
	keys := make([]cacheKey, 0, 4000)
	for len(keys) < cap(keys) {
		k := cacheKey{lon: 1020000 + rng.Int32N(5000), lat: 253000 + rng.Int32N(8000), limit: 10}
		keys = append(keys, k)
		k2 := k
		switch rng.IntN(3) {
		case 0:
			k2.kinds = 1 << rng.IntN(8)
		case 1:
			k2.limit = 1 + rng.Int32N(MaxLimit)
		default:
			k2.radius = float32(rng.IntN(5000))
		}
		keys = append(keys, k2)
	}
	for i, k := range keys {
		c.put(k, []hitRef{{at: int32(i)}})
	}
	kept := 0
	for i, k := range keys {
		v, ok := c.get(k)
		if !ok {
			continue
		}
		if len(v) != 1 || v[0].at != int32(i) && keys[v[0].at] != k {
			t.Fatalf("key %+v: got the answer of %+v", k, keys[v[0].at])
		}
		kept++
	}
	if kept < len(keys)*9/10 {
		t.Errorf("%d of %d answers kept in %d slots", kept, len(keys), cacheSlots)
	}
}
