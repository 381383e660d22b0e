package sim

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
)

func testCounty(cams, tags int) ([]onemap.SimCamera, []onemap.SimTag) {
	var c []onemap.SimCamera
	for i := range cams {
		c = append(c, onemap.SimCamera{DeviceCode: fmt.Sprintf("532329%014d", i+1), Pilot: i%3 == 0})
	}
	var g []onemap.SimTag
	for i := range tags {
		g = append(g, onemap.SimTag{Code: fmt.Sprintf("TAG-%06d", i+1), Home: orb.Point{102.4 + float64(i)*0.001, 25.5}})
	}
	return c, g
}

func run(seed uint64, ticks int) [][2][]Event {
	cams, tags := testCounty(600, 20)
	g := NewGenerator(Config{Seed: seed, Run: "t"}, cams, tags)
	at := time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC)
	var out [][2][]Event
	for range ticks {
		c, t := g.Step(at)
		out = append(out, [2][]Event{c, t})
		at = at.Add(5 * time.Second)
	}
	return out
}

// TestGenerator_seed: the same seed makes the same events, another seed
// other events.
func TestGenerator_seed(t *testing.T) {
	a, b, c := run(7, 200), run(7, 200), run(8, 200)
	if !reflect.DeepEqual(a, b) {
		t.Error("the same seed made different events")
	}
	if reflect.DeepEqual(a, c) {
		t.Error("another seed made the same events")
	}
}

// TestGenerator_county: over five minutes every camera that is not down
// sends a heartbeat (within the silence after which the server marks it
// offline); cameras go down and come back with status events; alarms are
// raised at pilot cameras only, of alarm kinds, face alarms with a
// watch-list category and a snapshot reference; every tag reports every
// 10 s in the form of the tags' contract; ids never repeat.
func TestGenerator_county(t *testing.T) {
	cams, _ := testCounty(600, 20)
	pilot := map[string]bool{}
	for _, c := range cams {
		pilot[c.DeviceCode] = c.Pilot
	}
	out := run(1, 720) // an hour of 5 s ticks
	ids := map[string]bool{}
	beats := map[string]int{}
	var alarms, down, up, tagBatches int
	kinds := map[string]int{}
	for i, step := range out {
		for _, e := range append(step[0], step[1]...) {
			if ids[e.ID] {
				t.Fatalf("id %s twice", e.ID)
			}
			ids[e.ID] = true
		}
		for _, e := range step[0] {
			switch {
			case e.Kind == onemap.EventHeartbeat:
				if i < 60 {
					beats[e.Device]++
				}
			case e.Kind == onemap.EventStatus && e.Status == onemap.CameraOnline:
				up++
			case e.Kind == onemap.EventStatus:
				down++
			case onemap.IsAlarmKind(e.Kind):
				alarms++
				kinds[e.Kind]++
				if !pilot[e.Device] {
					t.Errorf("alarm at %s, not a pilot camera", e.Device)
				}
				if e.Kind == onemap.EventFace && (e.Watchlist == "" || !strings.HasPrefix(e.Snapshot, "sim://")) {
					t.Errorf("face alarm %+v", e)
				}
				ev := onemap.IngestEvent{ID: e.ID, Kind: e.Kind, Device: e.Device, At: time.Now(), Description: e.Description, Watchlist: e.Watchlist, Snapshot: e.Snapshot}
				if err := onemap.CheckIngestEvent(&ev, time.Now()); err != nil {
					t.Errorf("alarm %+v: %v", e, err)
				}
			default:
				t.Errorf("unexpected event %+v", e)
			}
		}
		if len(step[1]) > 0 {
			tagBatches++
			if len(step[1]) != 20 {
				t.Errorf("tick %d: %d tag positions, want 20", i, len(step[1]))
			}
		}
	}
	if len(beats) < 590 {
		t.Errorf("%d of 600 cameras sent a heartbeat in the first five minutes", len(beats))
	}
	if alarms < 50 || alarms > 170 || len(kinds) < 5 || down < 30 || up < 20 {
		t.Errorf("an hour: %d alarms of %d kinds, %d cameras down, %d back", alarms, len(kinds), down, up)
	}
	if tagBatches != 360 {
		t.Errorf("%d tag reports in an hour, want every 10 s (360)", tagBatches)
	}
	// The tags' contract: {"id","kind":"tag_position","tag","at","lon","lat"}.
	b, _ := json.Marshal(out[1][1][0])
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	if len(m) != 6 || m["kind"] != "tag_position" || m["tag"] != "TAG-000001" || m["lon"] == nil || m["lat"] == nil || m["device"] != nil {
		t.Errorf("a tag position: %s", b)
	}
}

// TestGenerator_tagsStayNear: a tag wanders, but within some 2 km of home.
func TestGenerator_tagsStayNear(t *testing.T) {
	cams, tags := testCounty(3, 5)
	g := NewGenerator(Config{Seed: 3, Run: "t", TagEvery: 5 * time.Second}, cams, tags)
	moved := false
	for range 5000 {
		_, ts := g.Step(time.Now())
		for i, e := range ts {
			d := orb.Point{*e.Lon - tags[i].Home[0], *e.Lat - tags[i].Home[1]}
			if d[0]*d[0]+d[1]*d[1] > 0.02*0.02 {
				t.Fatalf("tag %s strayed to %v from %v", e.Tag, orb.Point{*e.Lon, *e.Lat}, tags[i].Home)
			}
			moved = moved || d != orb.Point{}
		}
	}
	if !moved {
		t.Error("no tag moved")
	}
}
