// Package sim drives a living county through OneMap's real signed ingest
// (POST /api/ingest/events, README: Live sources): cameras' heartbeats,
// occasional status changes and occasional alarms, and the e-bike tags'
// positions. It is for demonstrations and load, never for production
// data: `onemap simulate`, and `onemap serve --simulate` (on in `make
// run`).
//
// The events are a function of the seed, the run's name and the tick:
// Generator makes them and sends nothing, so that a test holds them to a
// seed; Runner signs and sends them as a source does.
package sim

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
)

// Event is one event as the ingest's JSON takes it. Tag positions carry
// Tag, Lon and Lat (WGS-84) instead of Device.
type Event struct {
	ID          string   `json:"id"`
	Kind        string   `json:"kind"`
	Device      string   `json:"device,omitempty"`
	Tag         string   `json:"tag,omitempty"`
	At          string   `json:"at"`
	Severity    int      `json:"severity,omitempty"`
	Description string   `json:"description,omitempty"`
	Watchlist   string   `json:"watchlist,omitempty"`
	Snapshot    string   `json:"snapshot,omitempty"`
	Status      string   `json:"status,omitempty"`
	Lon         *float64 `json:"lon,omitempty"`
	Lat         *float64 `json:"lat,omitempty"`
}

// kindTagPosition is the tags' position event (the contract of the tags'
// ingest); sent only when the database has tags.
const kindTagPosition = "tag_position"

// Config sets how lively the county is. Zero fields take the defaults.
type Config struct {
	Seed uint64
	// Run names the run in event ids (a retry of a batch is a duplicate,
	// another run's events are new): by default the start's Unix seconds.
	Run string
	// Tick is the time between two steps (default 5 s).
	Tick time.Duration
	// HeartbeatEvery is how often each camera sends a heartbeat (default
	// 5 minutes: within onemap.CameraSilence).
	HeartbeatEvery time.Duration
	// AlarmChance and StatusChance are the chances per tick of an alarm
	// at a pilot camera and of a camera going offline or to fault
	// (defaults 0.15 and 0.1).
	AlarmChance, StatusChance float64
	// TagEvery is how often each tag reports its position (default 10 s).
	TagEvery time.Duration
}

func (c *Config) defaults() {
	if c.Tick <= 0 {
		c.Tick = 5 * time.Second
	}
	if c.HeartbeatEvery <= 0 {
		c.HeartbeatEvery = 5 * time.Minute
	}
	if c.AlarmChance == 0 {
		c.AlarmChance = 0.15
	}
	if c.StatusChance == 0 {
		c.StatusChance = 0.1
	}
	if c.TagEvery <= 0 {
		c.TagEvery = 10 * time.Second
	}
}

// Generator makes each tick's events. It is not safe for concurrent use.
type Generator struct {
	cfg     Config
	rng     *rand.Rand
	cams    []onemap.SimCamera
	pilots  []int // indexes of the pilot cameras
	tags    []onemap.SimTag
	pos     []orb.Point // each tag's position now
	down    map[int]int // camera index → the tick it comes back online
	tick    int
	cursor  int // the next camera to send a heartbeat
	serial  int
	tagTick int
}

// NewGenerator returns a generator of the county's events for the cameras
// and tags given (tags may be none).
func NewGenerator(cfg Config, cams []onemap.SimCamera, tags []onemap.SimTag) *Generator {
	cfg.defaults()
	g := &Generator{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 0x6f6e656d6170)), cams: cams, tags: tags, down: map[int]int{}}
	for i, c := range cams {
		if c.Pilot {
			g.pilots = append(g.pilots, i)
		}
	}
	if len(g.pilots) == 0 {
		for i := range cams {
			g.pilots = append(g.pilots, i)
		}
	}
	g.pos = make([]orb.Point, len(tags))
	for i, t := range tags {
		g.pos[i] = t.Home
	}
	g.tagTick = max(1, int(cfg.TagEvery/cfg.Tick))
	return g
}

// alarmKinds are the kinds of simulated alarms, the likelier first.
var alarmKinds = []struct {
	kind   string
	weight int
}{{onemap.EventCrowd, 30}, {onemap.EventIntrusion, 20}, {onemap.EventFace, 15}, {onemap.EventVideoLoss, 10},
	{onemap.EventSmokeFire, 8}, {onemap.EventTamper, 7}, {onemap.EventDeviceFault, 6}, {onemap.EventOtherAlarm, 4}}

// Step returns the events of the next tick, at time at: the cameras'
// events (heartbeats, status changes, alarms) and the tags' positions
// (none on most ticks, every tag's every TagEvery).
func (g *Generator) Step(at time.Time) (cameras, tags []Event) {
	g.tick++
	when := at.UTC().Format(time.RFC3339)
	id := func() string {
		g.serial++
		return fmt.Sprintf("sim-%s-%d", g.cfg.Run, g.serial)
	}
	n := len(g.cams)
	if n > 0 {
		// Heartbeats: every camera once per HeartbeatEvery, a slice a tick;
		// a camera that is down sends none.
		per := int(math.Ceil(float64(n) * float64(g.cfg.Tick) / float64(g.cfg.HeartbeatEvery)))
		for range min(per, n) {
			i := g.cursor
			g.cursor = (g.cursor + 1) % n
			if _, isDown := g.down[i]; isDown {
				continue
			}
			cameras = append(cameras, Event{ID: id(), Kind: onemap.EventHeartbeat, Device: g.cams[i].DeviceCode, At: when})
		}
		// Cameras coming back.
		for _, i := range slices.Sorted(maps.Keys(g.down)) { // in order: the events are the seed's
			if back := g.down[i]; back <= g.tick {
				delete(g.down, i)
				cameras = append(cameras, Event{ID: id(), Kind: onemap.EventStatus, Device: g.cams[i].DeviceCode, At: when, Status: onemap.CameraOnline})
			}
		}
		if g.rng.Float64() < g.cfg.StatusChance {
			i := g.rng.IntN(n)
			if _, isDown := g.down[i]; !isDown {
				st := onemap.CameraOffline
				if g.rng.IntN(3) == 0 {
					st = onemap.CameraFault
				}
				g.down[i] = g.tick + 6 + g.rng.IntN(55)
				cameras = append(cameras, Event{ID: id(), Kind: onemap.EventStatus, Device: g.cams[i].DeviceCode, At: when, Status: st})
			}
		}
		if g.rng.Float64() < g.cfg.AlarmChance {
			cameras = append(cameras, g.alarm(id(), g.cams[g.pilots[g.rng.IntN(len(g.pilots))]].DeviceCode, when))
		}
	}
	if len(g.tags) > 0 && g.tick%g.tagTick == 0 {
		for i, t := range g.tags {
			g.pos[i] = g.move(g.pos[i], t.Home)
			lon, lat := round6(g.pos[i][0]), round6(g.pos[i][1])
			tags = append(tags, Event{ID: id(), Kind: kindTagPosition, Tag: t.Code, At: when, Lon: &lon, Lat: &lat})
		}
	}
	return cameras, tags
}

// alarm returns an alarm event of a kind drawn by weight.
func (g *Generator) alarm(id, device, when string) Event {
	total := 0
	for _, k := range alarmKinds {
		total += k.weight
	}
	r := g.rng.IntN(total)
	kind := alarmKinds[0].kind
	for _, k := range alarmKinds {
		if r < k.weight {
			kind = k.kind
			break
		}
		r -= k.weight
	}
	e := Event{ID: id, Kind: kind, Device: device, At: when, Description: "模拟预警（演示数据）"}
	if kind == onemap.EventFace {
		e.Watchlist = []string{"重点关注人员", "走失人员", "在逃人员"}[g.rng.IntN(3)]
		e.Snapshot = "sim://snapshots/" + id
	}
	return e
}

// move walks a tag up to some 40 m from p, drawn back towards home when it
// strays more than 1.5 km (degrees at the county's latitude, roughly).
func (g *Generator) move(p, home orb.Point) orb.Point {
	const step = 0.0004
	dx, dy := (g.rng.Float64()*2-1)*step, (g.rng.Float64()*2-1)*step
	if math.Hypot(p[0]-home[0], p[1]-home[1]) > 0.015 {
		dx, dy = (home[0]-p[0])*0.1, (home[1]-p[1])*0.1
	}
	return orb.Point{p[0] + dx, p[1] + dy}
}

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }
