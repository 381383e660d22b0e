package demo

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// testKinds are the kinds the migrations install.
var testKinds = onemap.SeedKinds{
	RiskPoints: kinds("dilapidated_housing", "危房", "flood", "山洪内涝", "forest_fire", "森林火险",
		"geological_hazard", "地质灾害隐患点", "hazardous_chemicals", "危险化学品", "other", "其他", "road_traffic", "道路交通隐患"),
	Households: kinds("contract_debt", "合同债务纠纷", "expropriation", "征地拆迁纠纷", "labour", "劳资纠纷", "land_forest", "土地山林水利权属纠纷",
		"marriage_family", "婚姻家庭纠纷", "medical", "医疗纠纷", "neighbour", "邻里纠纷", "other", "其他纠纷"),
	Cameras: kinds("bullet", "枪机", "dome", "球机", "face", "人脸识别", "hemisphere", "半球", "plate", "卡口"),
}

// kinds makes kinds of code, name pairs.
func kinds(codeName ...string) []onemap.SeedKind {
	var ks []onemap.SeedKind
	for i := 0; i+1 < len(codeName); i += 2 {
		ks = append(ks, onemap.SeedKind{Code: codeName[i], Name: codeName[i+1]})
	}
	return ks
}

func mustWuding(t testing.TB) *Dataset {
	t.Helper()
	d, err := Wuding()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestWuding(t *testing.T) {
	d := mustWuding(t)
	if d.County != (Division{"532329", "武定县"}) {
		t.Errorf("county: got %v", d.County)
	}
	var names []string
	for _, tw := range d.Townships {
		names = append(names, tw.Name)
	}
	want := "狮山镇 高桥镇 猫街镇 插甸镇 白路镇 万德镇 己衣镇 田心乡 发窝乡 环州乡 东坡傣族乡"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("townships:\n got %s\nwant %s", got, want)
	}
	if n := d.Villages(); n != 136 {
		t.Errorf("villages: got %d, want 136", n)
	}
	if v := d.Townships[0].Villages[0]; v != (Village{"532329101001", "东岳社区居民委员会", "东岳社区", "community"}) {
		t.Errorf("first village: got %v", v)
	}
	if len(d.Outline) != 1 || len(d.Outline[0][0]) != 1192 {
		t.Errorf("outline: got %d polygons", len(d.Outline))
	}
	if a := planar.Area(d.Outline); a < 0.25 || a > 0.3 {
		t.Errorf("outline area: got %.3f square degrees", a)
	}
	c := d.Counts
	if c.Groups != 1580 || c.Cameras != 15128 || c.MediationCommittees != 170 || d.Seed == 0 {
		t.Errorf("counts: got %+v, seed %d", c, d.Seed)
	}
	for _, tw := range d.Townships {
		if tw.Site == nil && tw.Code != d.SeatTownship {
			t.Errorf("%s has no site", tw.Name)
		}
	}
}

func TestGridCode(t *testing.T) {
	for in, want := range map[string]string{"532329": "532329000000", "532329101": "532329101000", "532329101001": "532329101001"} {
		if got := GridCode(in); got != want {
			t.Errorf("GridCode(%s): got %s, want %s", in, got, want)
		}
	}
}

// wudingFS returns the Wuding files, dataset.json changed by edit.
func wudingFS(t *testing.T, edit func(m map[string]any)) fs.FS {
	t.Helper()
	sub, err := fs.Sub(files, "wuding")
	if err != nil {
		t.Fatal(err)
	}
	out := fstest.MapFS{}
	for _, name := range []string{"dataset.json", "wuding-divisions.json", "wuding-county.geojson"} {
		b, err := fs.ReadFile(sub, name)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = &fstest.MapFile{Data: b}
	}
	var m map[string]any
	if err := json.Unmarshal(out["dataset.json"].Data, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	out["dataset.json"] = &fstest.MapFile{Data: b}
	return out
}

func TestLoad(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		d, err := Load(wudingFS(t, func(map[string]any) {}))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(d, mustWuding(t)) {
			t.Errorf("Load of the same files differs from Wuding")
		}
	})
	bad := map[string]struct {
		edit func(m map[string]any)
		want string
	}{
		"SiteOutside":     {func(m map[string]any) { m["township_sites"].(map[string]any)["532329102"] = []float64{100, 25} }, "outside the outline"},
		"SiteUnknown":     {func(m map[string]any) { m["township_sites"].(map[string]any)["532329999"] = []float64{102.2, 25.7} }, "no township"},
		"SeatOutside":     {func(m map[string]any) { m["seat"] = []float64{103, 25} }, "outside the outline"},
		"SeatTownship":    {func(m map[string]any) { m["seat_township"] = "532329999" }, "not one of the townships"},
		"TooFewGroups":    {func(m map[string]any) { m["counts"].(map[string]any)["groups"] = 200 }, "cannot be spread"},
		"TooFewMediation": {func(m map[string]any) { m["counts"].(map[string]any)["mediation_committees"] = 100 }, "mediation committees"},
		"AsOf":            {func(m map[string]any) { m["as_of"] = "30/06/2025" }, "as_of"},
		"Phone":           {func(m map[string]any) { m["phone_digits"] = 12 }, "telephone numbers"},
		"MissingFile":     {func(m map[string]any) { m["outline"] = "nowhere.geojson" }, "nowhere.geojson"},
	}
	for name, c := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := Load(wudingFS(t, c.edit))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want an error saying %q", err, c.want)
			}
		})
	}
}

func TestDataset_Synthesize(t *testing.T) {
	d := mustWuding(t)
	p, err := d.Synthesize(testKinds)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("Deterministic", func(t *testing.T) {
		again, err := mustWuding(t).Synthesize(testKinds)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(p, again) {
			t.Errorf("two syntheses of the same dataset differ")
		}
		other := mustWuding(t)
		other.Seed++
		q, err := other.Synthesize(testKinds)
		if err != nil {
			t.Fatal(err)
		}
		if reflect.DeepEqual(p.Grids, q.Grids) || reflect.DeepEqual(p.Cameras, q.Cameras) {
			t.Errorf("another seed gave the same plan")
		}
	})

	t.Run("Assessments", func(t *testing.T) {
		// Most assessments are recent and a few overdue on the day the data
		// describe, whatever day that is.
		for _, asOf := range []time.Time{d.AsOf, time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)} {
			dd := mustWuding(t)
			dd.AsOf = asOf
			q, err := dd.Synthesize(testKinds)
			if err != nil {
				t.Fatal(err)
			}
			var total, overdue int
			// The cycles of migration 0019's assessment_cycles: a quarter,
			// a month for hazardous chemicals, half a year for roads.
			check := func(last, next time.Time, months int) {
				total++
				if last.After(asOf) || asOf.Sub(last) > time.Duration(months*45+5)*24*time.Hour {
					t.Errorf("as of %s: last assessed %s", asOf.Format(time.DateOnly), last.Format(time.DateOnly))
				}
				if !next.Equal(last.AddDate(0, months, 0)) {
					t.Errorf("next %s is not %d months after %s", next.Format(time.DateOnly), months, last.Format(time.DateOnly))
				}
				if next.Before(asOf) {
					overdue++
				}
			}
			cycles := map[string]int{"hazardous_chemicals": 1, "road_traffic": 6}
			for _, r := range q.RiskPoints {
				months := cycles[r.Kind]
				if months == 0 {
					months = 3
				}
				check(r.LastAssessedOn, r.NextAssessmentDue, months)
			}
			for _, h := range q.Households {
				check(h.LastAssessedOn, h.NextAssessmentDue, 3)
			}
			if share := float64(overdue) / float64(total); share < 0.02 || share > 0.07 {
				t.Errorf("as of %s: %d of %d assessments overdue (%.1f %%), want a few per cent",
					asOf.Format(time.DateOnly), overdue, total, 100*share)
			}
		}
		// The same draws as before dates were drawn this way: what is drawn
		// after an assessment does not depend on AsOf.
		dd := mustWuding(t)
		dd.AsOf = dd.AsOf.AddDate(1, 0, 0)
		q, err := dd.Synthesize(testKinds)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(p.Cameras, q.Cameras) || len(p.Households) != len(q.Households) ||
			p.Households[len(p.Households)-1].HeadName != q.Households[len(q.Households)-1].HeadName {
			t.Errorf("another AsOf changed more than the dates")
		}
	})

	t.Run("Grids", func(t *testing.T) {
		levels := map[string]int{}
		byCode := map[string]Grid{}
		for _, g := range p.Grids {
			levels[g.Level]++
			if _, dup := byCode[g.Code]; dup {
				t.Errorf("code %s appears twice", g.Code)
			}
			byCode[g.Code] = g
			if g.Level != LevelCounty {
				parent, ok := byCode[g.ParentCode]
				if !ok {
					t.Errorf("%v: parent %s missing or after it", g, g.ParentCode)
				} else if !strings.HasPrefix(g.Code, strings.TrimRight(parent.Code, "0")) {
					t.Errorf("%v: code not under %v", g, parent)
				}
			}
			if g.Level == LevelGroup && !regexp.MustCompile(`^\d{15}$`).MatchString(g.Code) {
				t.Errorf("%v: group code not 15 digits", g)
			}
			if g.WorkerName == "" || !regexp.MustCompile(`^1[3-9]\d{9}$`).MatchString(g.WorkerPhone) {
				t.Errorf("%v: worker %q %q", g, g.WorkerName, g.WorkerPhone)
			}
		}
		want := map[string]int{LevelCounty: 1, LevelTownship: 11, LevelVillage: 136, LevelGroup: 1580}
		if !maps.Equal(levels, want) {
			t.Errorf("levels: got %v, want %v", levels, want)
		}
		// Roll-ups.
		sumHH, sumPop := map[string]int{}, map[string]int{}
		for _, g := range p.Grids {
			sumHH[g.ParentCode] += g.Households
			sumPop[g.ParentCode] += g.Population
		}
		for _, g := range p.Grids {
			if g.Level != LevelGroup && (g.Households != sumHH[g.Code] || g.Population != sumPop[g.Code]) {
				t.Errorf("%v: %d households, %d people; children sum to %d, %d", g, g.Households, g.Population, sumHH[g.Code], sumPop[g.Code])
			}
		}
		if p.Grids[0].Population != d.Counts.Population {
			t.Errorf("population: got %d, want %d", p.Grids[0].Population, d.Counts.Population)
		}
		// Every centre lies in its own grid.
		locate := p.Locator(d)
		for _, g := range p.Grids[1:] {
			tw, v, gr, ok := locate(g.Centre)
			got := map[string]string{LevelTownship: tw, LevelVillage: v, LevelGroup: gr}[g.Level]
			if !ok || got != g.Code {
				t.Errorf("%v: centre %v lies in %s", g, g.Centre, got)
			}
		}
	})

	t.Run("Points", func(t *testing.T) {
		names := map[string]string{}
		for _, g := range p.Grids {
			names[g.Code] = g.Name
		}
		locator := p.Locator(d)
		locate := func(what string, pt orb.Point) (string, string, string) {
			tw, v, g, ok := locator(pt)
			if !ok {
				t.Errorf("%s at %v lies outside the county", what, pt)
			}
			return tw, v, g
		}
		codes := map[string]bool{}
		for _, c := range p.Cameras {
			tw, _, _ := locate(c.Name, c.Point)
			if codes[c.DeviceCode] {
				t.Errorf("device code %s appears twice", c.DeviceCode)
			}
			codes[c.DeviceCode] = true
			no := 0
			for i, x := range d.Townships {
				if GridCode(x.Code) == tw {
					no = i + 1
				}
			}
			prefix := fmt.Sprintf("%s%02d", d.County.Code, no)
			if !regexp.MustCompile(`^\d{20}$`).MatchString(c.DeviceCode) || !strings.HasPrefix(c.DeviceCode, prefix) {
				t.Errorf("camera %s in %s: device code %s, want 20 digits starting %s", c.Name, names[tw], c.DeviceCode, prefix)
			}
		}
		if len(p.Cameras) != 15128 {
			t.Errorf("cameras: got %d", len(p.Cameras))
		}
		for _, r := range p.RiskPoints {
			tw, v, _ := locate(r.Name, r.Point)
			if !strings.HasPrefix(r.Name, names[tw]+names[v]) {
				t.Errorf("risk point %s lies in %s%s", r.Name, names[tw], names[v])
			}
		}
		for _, h := range p.Households {
			_, _, g := locate(h.Address, h.Point)
			if !strings.Contains(h.Address, names[g]) {
				t.Errorf("household at %s lies in %s", h.Address, names[g])
			}
		}
		for _, s := range p.Stations {
			tw, v, _ := locate(s.Name, s.Point)
			if s.Level == LevelVillage && !strings.HasPrefix(s.Name, names[tw]+names[v]) ||
				s.Level == LevelTownship && !strings.HasPrefix(s.Name, names[tw]) {
				t.Errorf("%s station %s lies in %s%s", s.Level, s.Name, names[tw], names[v])
			}
		}
		stations := map[string]int{}
		for _, s := range p.Stations {
			stations[s.Kind+"/"+s.Level]++
		}
		if want := d.StationCounts(); !maps.Equal(stations, want) {
			t.Errorf("stations: got %v, want %v", stations, want)
		}
	})

	t.Run("Levels", func(t *testing.T) {
		// A graded risk point's level is its grade's (a D-grade dilapidated
		// house is 重大, never 低); the others keep the mix.
		lv, graded := map[string]int{}, 0
		gradeLevel := map[string]string{"A": "blue", "B": "yellow", "C": "orange", "D": "red"}
		for _, r := range p.RiskPoints {
			if r.Kind == "dilapidated_housing" {
				graded++
				if r.Grade == "" || r.Level != gradeLevel[r.Grade] || !strings.HasPrefix(r.Description, r.Grade+"级") {
					t.Errorf("%s: grade %q, level %s, %s", r.Name, r.Grade, r.Level, r.Description)
				}
				continue
			}
			if r.Grade != "" {
				t.Errorf("%s (%s) has grade %q", r.Name, r.Kind, r.Grade)
			}
			lv[r.Level]++
		}
		if graded == 0 || lv["blue"] < lv["yellow"] || lv["yellow"] < lv["orange"] || lv["orange"] < lv["red"] || lv["red"] == 0 {
			t.Errorf("risk point levels of the ungraded: %v (and %d graded)", lv, graded)
		}
	})
}

func TestDataset_Synthesize_kinds(t *testing.T) {
	d := mustWuding(t)
	d.Counts.Cameras, d.Counts.RiskPoints, d.Counts.Households = 300, 200, 200
	k := testKinds
	k.Cameras = kinds("thermal", "热成像", "bullet", "枪机")
	p, err := d.Synthesize(k)
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]int{}
	for _, c := range p.Cameras {
		used[c.Kind]++
	}
	if used["thermal"] == 0 || used["bullet"] == 0 || len(used) != 2 {
		t.Errorf("camera kinds: got %v, want both of the kinds given", used)
	}
	k.Cameras = nil
	if _, err := d.Synthesize(k); err == nil {
		t.Errorf("no camera kinds: got no error")
	}
}

// TestDataset_Synthesize_otherCounty synthesises a made-up county: a
// square with two townships, to show that nothing depends on Wuding.
func TestDataset_Synthesize_otherCounty(t *testing.T) {
	d := squareCounty()
	p, err := d.Synthesize(testKinds)
	if err != nil {
		t.Fatal(err)
	}
	levels := map[string]int{}
	for _, g := range p.Grids {
		levels[g.Level]++
	}
	if want := map[string]int{LevelCounty: 1, LevelTownship: 2, LevelVillage: 5, LevelGroup: 40}; !maps.Equal(levels, want) {
		t.Errorf("levels: got %v, want %v", levels, want)
	}
	if len(p.Cameras) != 500 || p.Cameras[0].DeviceCode[:6] != "530199" {
		t.Errorf("cameras: got %d, first %s", len(p.Cameras), p.Cameras[0].DeviceCode)
	}
}

// TestDataset_Synthesize_tiny synthesises a county of one township with one
// village, a few hundred metres across: no roads, no other township seats.
func TestDataset_Synthesize_tiny(t *testing.T) {
	d := squareCounty()
	d.Townships = d.Townships[1:]
	d.Townships[0].Villages = d.Townships[0].Villages[:1]
	d.SeatTownship = d.Townships[0].Code
	d.Outline = orb.MultiPolygon{{{{100, 30}, {100.005, 30}, {100.005, 30.005}, {100, 30.005}, {100, 30}}}}
	d.Seat = orb.Point{100.002, 30.002}
	d.Counts = Counts{Groups: 3, Cameras: 50, RiskPoints: 20, Households: 20, Population: 300, MediationCommittees: 3}
	p, err := d.Synthesize(testKinds)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Grids) != 6 || len(p.Cameras) != 50 || len(p.RiskPoints) != 20 {
		t.Errorf("got %d grids, %d cameras, %d risk points", len(p.Grids), len(p.Cameras), len(p.RiskPoints))
	}
}

// squareCounty returns a small made-up county, half a degree square.
func squareCounty() *Dataset {
	return &Dataset{
		Name:   "square",
		County: Division{"530199", "方县"},
		Townships: []Township{
			{Code: "530199001", Name: "东镇", Kind: "town", Villages: []Village{
				{"530199001001", "一社区居民委员会", "一社区", "community"},
				{"530199001201", "二村民委员会", "二村", "village"},
				{"530199001202", "三村民委员会", "三村", "village"},
			}},
			{Code: "530199002", Name: "西乡", Kind: "township", Villages: []Village{
				{"530199002201", "四村民委员会", "四村", "village"},
				{"530199002202", "五村民委员会", "五村", "village"},
			}},
		},
		Outline:       orb.MultiPolygon{{{{100, 30}, {100.5, 30}, {100.5, 30.5}, {100, 30.5}, {100, 30}}}},
		Seat:          orb.Point{100.4, 30.2},
		SeatTownship:  "530199001",
		Seed:          7,
		PhoneAreaCode: "0999", PhonePrefix: "6", PhoneDigits: 8,
		Counts: Counts{Groups: 40, Cameras: 500, RiskPoints: 50, Households: 80, Population: 20000, MediationCommittees: 12},
	}
}

func TestChineseNumber(t *testing.T) {
	for n, want := range map[int]string{1: "一", 9: "九", 10: "十", 11: "十一", 19: "十九", 20: "二十", 23: "二十三", 40: "四十"} {
		if got := chineseNumber(n); got != want {
			t.Errorf("chineseNumber(%d): got %s, want %s", n, got, want)
		}
	}
}

func TestShortNames(t *testing.T) {
	for in, want := range map[string]string{"狮山镇": "狮山", "田心乡": "田心", "东坡傣族乡": "东坡", "某某街道": "某某", "傈僳族乡": "傈僳族"} {
		if got := shortTownship(in); got != want {
			t.Errorf("shortTownship(%s): got %s, want %s", in, got, want)
		}
	}
	for in, want := range map[string]string{"武定县": "武定", "峨山彝族自治县": "峨山彝族", "禄丰市": "禄丰", "区": "区"} {
		if got := shortCounty(in); got != want {
			t.Errorf("shortCounty(%s): got %s, want %s", in, got, want)
		}
	}
}

func TestApportion(t *testing.T) {
	got := apportion(10, []float64{1, 1, 1})
	if got[0]+got[1]+got[2] != 10 || got[0] < 3 || got[0] > 4 {
		t.Errorf("apportion(10, 1:1:1): got %v", got)
	}
	if got := apportion(1580-272, []float64{0.7, 1.3, 1}); got[0]+got[1]+got[2] != 1308 {
		t.Errorf("apportion: got %v, sum not 1308", got)
	}
}

func BenchmarkDataset_Synthesize(b *testing.B) {
	d := mustWuding(b)
	for b.Loop() {
		if _, err := d.Synthesize(testKinds); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDataset_Synthesize_workerGroup: the demo grid worker's group
// (DemoWorkerGroup) holds households of its own, whatever the draw, so that
// the demo account has someone to visit.
func TestDataset_Synthesize_workerGroup(t *testing.T) {
	p, err := mustWuding(t).Synthesize(testKinds)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]Grid{}
	for _, g := range p.Grids {
		names[g.Code] = g
	}
	g, ok := names[DemoWorkerGroup]
	if !ok {
		t.Fatalf("no group %s in the plan", DemoWorkerGroup)
	}
	town := names[names[g.ParentCode].ParentCode]
	n := 0
	for _, h := range p.Households {
		if strings.Contains(h.Address, town.Name+g.Name) {
			n++
		}
	}
	if n < 3 {
		t.Errorf("the demo grid worker's group %s (%s%s) holds %d households, want at least 3", g.Code, town.Name, g.Name, n)
	}
}
