package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
	"github.com/paulmach/orb/planar"
)

// CameraPlatform is the video platform the synthetic cameras stream to.
const CameraPlatform = "雪亮工程视频平台"

// road is a synthetic road: from the county seat to a township seat (a
// trunk road) or from a township seat to a village centre.
type road struct {
	name  string
	line  orb.LineString
	cum   []float64 // length in metres from the start to each vertex
	trunk bool
}

func (r *road) length() float64 { return r.cum[len(r.cum)-1] }

// at returns the point m metres along the road.
func (r *road) at(m float64) orb.Point {
	for i := 1; i < len(r.line); i++ {
		if m <= r.cum[i] || i == len(r.line)-1 {
			seg := r.cum[i] - r.cum[i-1]
			t := 0.0
			if seg > 0 {
				t = min(1, max(0, (m-r.cum[i-1])/seg))
			}
			a, b := r.line[i-1], r.line[i]
			return orb.Point{a.X() + t*(b.X()-a.X()), a.Y() + t*(b.Y()-a.Y())}
		}
	}
	return r.line[0]
}

// buildRoads lays a winding road from the county seat to every other
// township seat and from every township seat to its villages' centres.
func (s *synth) buildRoads() {
	rng := s.d.rng(streamRoads)
	county := shortCounty(s.d.County.Name)
	for _, tw := range s.towns {
		if tw != s.seat {
			s.addRoad(rng, county+"至"+tw.short+"公路", s.d.Seat, tw.seat, true)
		}
		for _, v := range tw.villages {
			if planar.DistanceSquared(v.centre, tw.seat) > 0.01*0.01 {
				s.addRoad(rng, tw.short+"至"+v.v.ShortName+"道路", tw.seat, v.centre, false)
			}
		}
	}
}

func (s *synth) addRoad(rng *rand.Rand, name string, a, b orb.Point, trunk bool) {
	dx, dy := b.X()-a.X(), b.Y()-a.Y()
	dist := math.Hypot(dx, dy)
	nx, ny := -dy/dist, dx/dist // unit normal
	n := max(3, int(dist/0.004))
	bend := (rng.Float64()*2 - 1) * 0.15 * dist
	line := orb.LineString{a}
	wobble := 0.0
	for i := 1; i < n; i++ {
		t := float64(i) / float64(n)
		wobble = 0.7*wobble + rng.NormFloat64()*0.0012
		off := bend*math.Sin(math.Pi*t) + wobble*math.Sin(math.Pi*t)
		line = append(line, orb.Point{a.X() + t*dx + off*nx, a.Y() + t*dy + off*ny})
	}
	line = append(line, b)
	r := &road{name: name, line: line, cum: make([]float64, len(line)), trunk: trunk}
	for i := 1; i < len(line); i++ {
		r.cum[i] = r.cum[i-1] + geo.Distance(line[i-1], line[i])
	}
	w := r.length()
	if trunk {
		w *= 2
	}
	s.roads = append(s.roads, r)
	s.roadWeights = append(s.roadWeights, w)
}

// onRoad returns a road and a point on it, a few metres to one side, drawn
// by length (trunk roads count double), and how far along it lies in
// metres. There must be roads.
func (s *synth) onRoad(rng *rand.Rand) (*road, orb.Point, float64) {
	r := s.roads[pick(rng, s.roadWeights)]
	for range 1000 {
		m := rng.Float64() * r.length()
		p := r.at(m)
		p = orb.Point{p.X() + rng.NormFloat64()*0.0001, p.Y() + rng.NormFloat64()*0.0001}
		if s.inside(p) {
			return r, p, m
		}
	}
	return r, r.line[len(r.line)-1], r.length() // the end, a village centre
}

// kindWeights returns the weight of each kind: the known weight of its
// code, or other for a kind Synthesize does not know.
func kindWeights(kinds []onemap.SeedKind, known map[string]float64, other float64) []float64 {
	w := make([]float64, len(kinds))
	for i, k := range kinds {
		if x, ok := known[k.Code]; ok {
			w[i] = x
		} else {
			w[i] = other
		}
	}
	return w
}

// levels returns n risk levels in random order: 3% red, 12% orange, 30%
// yellow and the rest (55%) blue.
func levels(rng *rand.Rand, n int) []string {
	red := int(math.Round(0.03 * float64(n)))
	orange := int(math.Round(0.12 * float64(n)))
	yellow := int(math.Round(0.30 * float64(n)))
	out := make([]string, 0, n)
	for i := range n {
		switch {
		case i < red:
			out = append(out, "red")
		case i < red+orange:
			out = append(out, "orange")
		case i < red+orange+yellow:
			out = append(out, "yellow")
		default:
			out = append(out, "blue")
		}
	}
	rng.Shuffle(n, func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// assessedEvery returns the day of the last assessment on a cycle of
// months and the day the next is due, a cycle later. Most (96 %) fall
// within the cycle up to the dataset's AsOf, so the next is still ahead;
// the rest up to half a cycle more before it (for a quarter, 95 to 139
// days old: 3 to 48 days overdue), as in a county's register where a few
// reassessments slip. It takes one draw of rng, whatever the answer, so
// that what is drawn after it stays the same.
func (s *synth) assessedEvery(rng *rand.Rand, months int) (last, next time.Time) {
	span := 30 * months
	days := 0
	if v := rng.IntN(10_000); v < 9_600 {
		days = v * span / 9_600
	} else {
		days = span + 5 + (v-9_600)*span/2/400
	}
	last = s.d.AsOf.AddDate(0, 0, -days)
	return last, last.AddDate(0, months, 0)
}

// riskCycles are the months between assessments of each kind of risk
// point, as migration 0019's assessment_cycles has them (3 for a kind not
// listed).
var riskCycles = map[string]int{"hazardous_chemicals": 1, "road_traffic": 6}

// gradeLevels are the levels of the grades of dilapidated houses
// (migration 0019's assessment_grades): a D-grade house is 重大, never 低.
var gradeLevels = map[string]string{"A": "blue", "B": "yellow", "C": "orange", "D": "red"}

// counter numbers repeated names: the first is bare, the next get 2, 3…
type counter map[string]int

func (c counter) next(stem string) int {
	c[stem]++
	return c[stem]
}

// cameras places the county's cameras: about a fifth around the county
// seat, a fifth around the other township seats, a quarter along the
// roads, and the rest around the villages' centres and groups.
func (s *synth) cameras() error {
	total := s.d.Counts.Cameras
	if total == 0 {
		return nil
	}
	if len(s.kinds.Cameras) == 0 {
		return fmt.Errorf("demo: no camera kinds to spread %d cameras over", total)
	}
	if len(s.towns) > 99 {
		return fmt.Errorf("demo: %d townships do not fit the 2-digit township number of a device code", len(s.towns))
	}
	rng := s.d.rng(streamCameras)
	townMix := kindWeights(s.kinds.Cameras, map[string]float64{"bullet": 35, "dome": 20, "hemisphere": 20, "face": 20, "plate": 5}, 5)
	roadMix := kindWeights(s.kinds.Cameras, map[string]float64{"bullet": 40, "dome": 20, "plate": 40}, 3)
	villageMix := kindWeights(s.kinds.Cameras, map[string]float64{"bullet": 55, "dome": 15, "hemisphere": 25, "face": 5}, 5)
	townPlaces := strings.Fields("政府门口 农贸市场 汽车客运站 中学门口 小学门口 卫生院门口 十字路口 文化广场 商业街 加油站 银行网点 幼儿园门口 派出所门口 集贸街 停车场")
	villagePlaces := strings.Fields("村委会 村口 小学门口 卫生室 活动广场 文化室 水源地 桥头 岔路口 小卖部 集中安置点 河道")
	serial := make([]int, len(s.towns)+1)
	names := counter{}

	add := func(p orb.Point, name, industry, network string, mix []float64) {
		tw, _, _ := s.locate(p)
		serial[tw.no]++
		typ := "132"
		if rng.IntN(5) == 0 {
			typ = "131"
		}
		code := fmt.Sprintf("%s%02d%s%s%s%06d", s.d.County.Code, tw.no, industry, typ, network, serial[tw.no])
		kind := s.kinds.Cameras[pick(rng, mix)]
		c := onemap.SeedCamera{
			DeviceCode: code, Name: name, Kind: kind.Code, Point: p,
			Platform: CameraPlatform, StreamURL: "rtsp://video.invalid/live/" + code, Channel: code,
		}
		switch x := rng.Float64(); {
		case x < 0.92:
			c.Status = "online"
		case x < 0.98:
			c.Status = "offline"
		default:
			c.Status = "fault"
		}
		if kind.Code != "dome" { // PTZ domes turn: no fixed heading
			lo, hi := 60.0, 90.0
			switch kind.Code {
			case "hemisphere":
				lo, hi = 90, 120
			case "face":
				lo, hi = 40, 60
			case "plate":
				lo, hi = 30, 45
			}
			h := float32(rng.IntN(360))
			f := float32(math.Round(lo + rng.Float64()*(hi-lo)))
			c.Heading, c.FOV = &h, &f
		}
		s.plan.Cameras = append(s.plan.Cameras, c)
	}

	nSeat := total * 22 / 100
	nTowns := total * 18 / 100
	nRoads := total * 25 / 100
	if len(s.roads) == 0 {
		nRoads = 0
	}
	nVillages := total - nSeat - nTowns - nRoads
	townCentre := func(centre orb.Point, sigma float64) {
		p := s.near(rng, centre, sigma, nil)
		tw, _, _ := s.locate(p)
		stem := tw.t.Name + townPlaces[rng.IntN(len(townPlaces))]
		add(p, fmt.Sprintf("%s%d号", stem, names.next(stem)), "00", "0", townMix)
	}
	for range nSeat {
		townCentre(s.d.Seat, 0.012)
	}
	others := make([]*town, 0, len(s.towns))
	for _, tw := range s.towns {
		if tw != s.seat {
			others = append(others, tw)
		}
	}
	for i := range nTowns {
		if len(others) == 0 {
			townCentre(s.d.Seat, 0.012)
			continue
		}
		townCentre(others[i%len(others)].seat, 0.006)
	}
	for range nRoads {
		r, p, m := s.onRoad(rng)
		km := int(m) / 1000
		add(p, fmt.Sprintf("%sK%d+%03d", r.name, km, int(m)%1000), "00", "0", roadMix)
	}
	var villages []*village
	for _, tw := range s.towns {
		villages = append(villages, tw.villages...)
	}
	for i := range nVillages {
		v := villages[i%len(villages)]
		var p orb.Point
		if rng.IntN(2) == 0 {
			p = s.near(rng, v.centre, 0.004, nil)
		} else {
			p = s.near(rng, v.groups[rng.IntN(len(v.groups))].centre, 0.0015, nil)
		}
		tw, at, _ := s.locate(p)
		place := villagePlaces[rng.IntN(len(villagePlaces))]
		if at.v.Kind == "community" {
			place = strings.NewReplacer("村委会", "居委会", "村口", "小区门口").Replace(place)
		}
		stem := tw.t.Name + at.v.ShortName + place
		add(p, fmt.Sprintf("%s%d号", stem, names.next(stem)), "01", "8", villageMix)
	}
	return nil
}

// riskPoints places the hazard sites: geological hazards and forest fire
// risks anywhere, floods and others near villages, dilapidated houses in
// the groups, hazardous chemicals near the township seats, road hazards on
// the roads.
func (s *synth) riskPoints() error {
	total := s.d.Counts.RiskPoints
	if total == 0 {
		return nil
	}
	if len(s.kinds.RiskPoints) == 0 {
		return fmt.Errorf("demo: no risk point kinds to spread %d risk points over", total)
	}
	rng := s.d.rng(streamRiskPoints)
	mix := kindWeights(s.kinds.RiskPoints, map[string]float64{
		"geological_hazard": 30, "flood": 14, "forest_fire": 16, "dilapidated_housing": 20,
		"hazardous_chemicals": 5, "road_traffic": 12, "other": 3,
	}, 3)
	suffixes := map[string][]string{
		"geological_hazard":   strings.Fields("滑坡隐患点 崩塌隐患点 泥石流隐患点 不稳定斜坡隐患点"),
		"flood":               strings.Fields("山洪灾害危险区 河道行洪隐患点 易涝点"),
		"forest_fire":         strings.Fields("森林火险重点区 林区防火隐患点"),
		"hazardous_chemicals": strings.Fields("加油站 液化气供应站 危化品仓储点"),
		"road_traffic":        strings.Fields("急弯陡坡路段 临水临崖路段 事故多发路口"),
	}
	var groups []*group
	for _, tw := range s.towns {
		for _, v := range tw.villages {
			groups = append(groups, v.groups...)
		}
	}
	names := counter{}
	lv := levels(rng, total)
	for i := range total {
		kind := s.kinds.RiskPoints[pick(rng, mix)]
		var p orb.Point
		switch kind.Code {
		case "geological_hazard", "forest_fire":
			p = s.uniform(rng)
		case "dilapidated_housing":
			p = s.near(rng, groups[rng.IntN(len(groups))].centre, 0.0015, nil)
		case "hazardous_chemicals":
			p = s.near(rng, s.towns[rng.IntN(len(s.towns))].seat, 0.006, nil)
		case "road_traffic":
			if len(s.roads) > 0 {
				_, p, _ = s.onRoad(rng)
				break
			}
			fallthrough
		default:
			tw := s.towns[rng.IntN(len(s.towns))]
			p = s.near(rng, tw.villages[rng.IntN(len(tw.villages))].centre, 0.008, nil)
		}
		tw, v, g := s.locate(p)
		var stem string
		switch kind.Code {
		case "dilapidated_housing":
			stem = tw.t.Name + g.name + "危房"
		default:
			suffix := kind.Name + "隐患点"
			if list := suffixes[kind.Code]; len(list) > 0 {
				suffix = list[rng.IntN(len(list))]
			}
			stem = tw.t.Name + v.v.ShortName + suffix
		}
		name := stem
		if n := names.next(stem); n > 1 {
			name = fmt.Sprintf("%s（%d）", stem, n)
		}
		last, next := s.assessedEvery(rng, cycle(s.kinds.Rules, onemap.AssessRiskPoint, kind.Code, riskCycles))
		descr, grade := riskDescription(rng, kind)
		level := lv[i]
		if r := s.kinds.Rules; r != nil {
			if l, graded := r.GradeLevel(kind.Code, grade); graded && l != "" {
				level = l // the level agrees with the grade, as the rules have it
			}
		} else if grade != "" {
			level = gradeLevels[grade]
		}
		s.plan.RiskPoints = append(s.plan.RiskPoints, onemap.SeedRiskPoint{
			Kind: kind.Code, Name: name, Level: level, Point: p,
			ResponsibleName: s.person(rng), ResponsiblePhone: s.mobile(rng),
			Description:    descr,
			LastAssessedOn: last, NextAssessmentDue: next, Grade: grade,
			AssessNote: riskAssessNote(kind.Code, level),
		})
	}
	return nil
}

// riskDescription describes a risk point of kind k, and gives its grade
// where the kind has grades.
func riskDescription(rng *rand.Rand, k onemap.SeedKind) (string, string) {
	hh := 2 + rng.IntN(30)
	people := hh * (3 + rng.IntN(2))
	switch k.Code {
	case "geological_hazard":
		return fmt.Sprintf("威胁%d户%d人，已设警示牌，汛期专人监测、雨前巡查", hh, people), ""
	case "flood":
		return fmt.Sprintf("汛期易受山洪威胁，涉及%d户%d人，已明确转移路线和安置点", hh, people), ""
	case "forest_fire":
		return fmt.Sprintf("林区面积约%d亩，防火期设卡检查，护林员每日巡山", 500+rng.IntN(8000)), ""
	case "dilapidated_housing":
		grade := []string{"C", "D"}[rng.IntN(2)]
		return fmt.Sprintf("%s级危房，住户%d人，已纳入改造计划，雨季前劝离", grade, 1+rng.IntN(6)), grade
	case "hazardous_chemicals":
		return fmt.Sprintf("储存量约%d吨，已纳入重点监管，每月安全检查", 5+rng.IntN(60)), ""
	case "road_traffic":
		return "急弯陡坡、临水临崖，已设减速带、警示标志和防护栏", ""
	default:
		return k.Name + "，已登记，定期排查", ""
	}
}

// households places the risk households in the groups, more where more
// people live, each with its responsible cadre (挂包) and personal details.
// ownHouseholds is how many households the demo grid worker's group holds
// at least.
const ownHouseholds = 3

func (s *synth) households() error {
	total := s.d.Counts.Households
	if total == 0 {
		return nil
	}
	if len(s.kinds.Households) == 0 {
		return fmt.Errorf("demo: no household kinds to spread %d households over", total)
	}
	rng := s.d.rng(streamHouseholds)
	mix := kindWeights(s.kinds.Households, map[string]float64{
		"marriage_family": 26, "neighbour": 22, "land_forest": 20, "expropriation": 6, "labour": 6,
		"contract_debt": 10, "medical": 3, "other": 7,
	}, 5)
	notes := map[string][]string{
		"marriage_family": {"夫妻矛盾，已多次调解", "赡养老人纠纷，子女间有分歧", "家庭财产分割纠纷"},
		"neighbour":       {"宅基地边界纠纷", "排水、通行纠纷", "邻里口角，曾有肢体冲突"},
		"land_forest":     {"承包地界纠纷", "林地权属纠纷", "灌溉用水纠纷"},
		"expropriation":   {"征地补偿分配纠纷", "拆迁安置纠纷"},
		"labour":          {"拖欠务工工资", "工伤赔偿纠纷"},
		"contract_debt":   {"民间借贷纠纷", "合伙经营债务纠纷"},
		"medical":         {"医疗费用纠纷"},
		"other":           {"精神障碍患者家庭，需定期走访", "信访重点户", "社区矫正对象家庭"},
	}
	var groups []*group
	var w []float64
	for _, tw := range s.towns {
		for _, v := range tw.villages {
			for _, g := range v.groups {
				groups = append(groups, g)
				w = append(w, float64(g.pop))
			}
		}
	}
	// The demo grid worker's group (DemoWorkerGroup) holds the first few
	// households, so that the demo account has households to visit
	// whatever the draw.
	var own *group
	for _, g := range groups {
		if g.code == DemoWorkerGroup {
			own = g
		}
	}
	inOwn := func(p orb.Point) bool { _, _, g := s.locate(p); return g == own }
	county := s.d.County.Name
	lv := levels(rng, total)
	arng, grids := s.d.rng(streamAssessments), s.gridsByCode()
	for i := range total {
		kind := s.kinds.Households[pick(rng, mix)]
		at := groups[pick(rng, w)]
		var p orb.Point
		if own != nil && i < ownHouseholds {
			p = s.near(rng, own.centre, 0.0015, inOwn)
		} else {
			p = s.near(rng, at.centre, 0.0015, nil)
		}
		tw, v, g := s.locate(p)
		note := kind.Name
		if list := notes[kind.Code]; len(list) > 0 {
			note = list[rng.IntN(len(list))]
		}
		level, months := lv[i], 3
		var sit, cat []onemap.Tick
		var assessNote string
		if r := s.kinds.Rules; r != nil {
			sit, cat, assessNote = s.assessTicks(arng, r, kind.Code, note, level)
			level = r.HouseholdLevel(sit, cat)
			months = cycle(r, onemap.AssessHousehold, level, nil)
		}
		last, next := s.assessedEvery(rng, months)
		rname, rphone := s.person(rng), s.mobile(rng)
		if r := s.kinds.Rules; r != nil {
			// The responsible cadre follows from the level (挂包): the
			// person of the grid of the level the rules name.
			if w := s.worker(grids, r.Responsible[level], tw, v, g); w != nil {
				rname, rphone = w.WorkerName, w.WorkerPhone
			}
		}
		s.plan.Households = append(s.plan.Households, onemap.SeedHousehold{
			Kind: kind.Code, Level: level, Point: p,
			Situations: sit, Categories: cat, AssessNote: assessNote,
			ResponsibleName: rname, ResponsiblePhone: rphone,
			LastAssessedOn: last, NextAssessmentDue: next,
			HeadName: s.person(rng), HeadPhone: s.mobile(rng),
			Members: 1 + pick(rng, []float64{5, 12, 20, 25, 20, 12, 6}),
			Address: fmt.Sprintf("%s%s%s%d号", county, tw.t.Name, g.name, 1+rng.IntN(120)),
			Notes:   note,
		})
	}
	return nil
}

// Opening hours, OpenStreetMap syntax.
const (
	hoursOffice = "Mo-Fr 08:30-12:00,14:30-18:00"
	hoursHall   = "Mo-Fr 09:00-12:00,14:30-17:30; Sa 09:00-12:00"
	hoursClinic = "Mo-Su 08:00-18:00"
	hoursAlways = "24/7"
)

// stations places the service stations: at the county seat, near every
// township seat and near every village centre, each inside the grid it
// serves.
func (s *synth) stations() error {
	rng := s.d.rng(streamStations)
	county := s.d.County.Name
	services := map[string][]string{
		StationGovernance: strings.Fields("矛盾纠纷调处 网格化服务管理 社会治安防控 信访接待 心理服务"),
		StationHall:       strings.Fields("社保医保 户籍业务 不动产登记 企业开办 税务 公积金"),
		StationService:    strings.Fields("社保代办 医保代办 民政代办 证明开具 农村电商"),
		StationMediation:  strings.Fields("人民调解 法律咨询 矛盾纠纷排查"),
		StationPolice:     strings.Fields("治安巡逻 户籍咨询 报警求助 矛盾纠纷化解"),
		StationClinic:     strings.Fields("基本医疗 慢病随访 预防接种 家庭医生签约"),
		StationHospital:   strings.Fields("门诊 住院 急诊 预防接种 妇幼保健 公共卫生"),
		StationLegalAid:   strings.Fields("法律咨询 法律援助申请 人民调解 公证咨询"),
	}
	add := func(kind, level, name, address, hours string, p orb.Point) {
		s.plan.Stations = append(s.plan.Stations, onemap.SeedStation{
			Kind: kind, Level: level, Name: name, Address: address, Phone: s.landline(rng),
			OpeningHours: hours, Services: services[kind], Point: p,
		})
	}
	street := func(tw *town) string {
		return fmt.Sprintf("%s%s%s%d号", county, tw.t.Name, s.words.streets[rng.IntN(len(s.words.streets))], 1+rng.IntN(200))
	}
	inTown := func(tw *town) func(orb.Point) bool {
		return func(p orb.Point) bool { t, _, _ := s.locate(p); return t == tw }
	}
	inVillage := func(v *village) func(orb.Point) bool {
		return func(p orb.Point) bool { _, at, _ := s.locate(p); return at == v }
	}

	// County.
	seat := func() orb.Point { return s.near(rng, s.d.Seat, 0.004, inTown(s.seat)) }
	add(StationGovernance, LevelCounty, county+"综治中心", street(s.seat), hoursAlways, seat())
	add(StationHall, LevelCounty, county+"政务服务中心", street(s.seat), hoursHall, seat())
	add(StationMediation, LevelCounty, county+"人民调解委员会", street(s.seat), hoursOffice, seat())
	nCounty, nTown := s.d.professionalMediation()
	countyTopics := strings.Fields(countyMediationTopics)
	for i := range nCounty {
		add(StationMediation, LevelCounty, county+countyTopics[i]+"人民调解委员会", street(s.seat), hoursOffice, seat())
	}
	add(StationLegalAid, LevelCounty, county+"公共法律服务中心", street(s.seat), hoursHall, seat())

	// Townships, then their professional mediation committees round-robin
	// from the seat township.
	for _, tw := range s.towns {
		at := func() orb.Point { return s.near(rng, tw.seat, 0.003, inTown(tw)) }
		add(StationGovernance, LevelTownship, tw.t.Name+"综治中心", street(tw), hoursOffice, at())
		add(StationHall, LevelTownship, tw.t.Name+"便民服务中心", street(tw), hoursHall, at())
		add(StationMediation, LevelTownship, tw.t.Name+"人民调解委员会", street(tw), hoursOffice, at())
		add(StationHospital, LevelTownship, tw.t.Name+"卫生院", street(tw), hoursAlways, at())
		add(StationLegalAid, LevelTownship, tw.t.Name+"公共法律服务工作站", street(tw), hoursOffice, at())
	}
	order := []*town{s.seat}
	for _, tw := range s.towns {
		if tw != s.seat {
			order = append(order, tw)
		}
	}
	townTopics := strings.Fields(townshipMediationTopics)
	for j := range nTown {
		tw := order[j%len(order)]
		topic := townTopics[(j/len(order))%len(townTopics)]
		p := s.near(rng, tw.seat, 0.003, inTown(tw))
		add(StationMediation, LevelTownship, tw.t.Name+topic+"人民调解委员会", street(tw), hoursOffice, p)
	}

	// Villages.
	for _, tw := range s.towns {
		for _, v := range tw.villages {
			// Village names repeat across townships: the township comes first.
			name := tw.t.Name + v.v.ShortName
			office := county + tw.t.Name + v.v.Name + "院内"
			at := func() orb.Point { return s.near(rng, v.centre, 0.0012, inVillage(v)) }
			add(StationGovernance, LevelVillage, name+"综治中心", office, hoursOffice, at())
			add(StationService, LevelVillage, name+"政务服务站", office, hoursOffice, at())
			add(StationMediation, LevelVillage, name+"人民调解委员会", office, hoursOffice, at())
			add(StationLegalAid, LevelVillage, name+"公共法律服务室", office, hoursOffice, at())
			inGroup := func(kind, title, hours string) {
				p := at()
				_, _, g := s.locate(p)
				add(kind, LevelVillage, title, county+tw.t.Name+g.name, hours, p)
			}
			inGroup(StationPolice, name+"警务室", hoursOffice)
			inGroup(StationClinic, name+"卫生室", hoursClinic)
		}
	}
	return nil
}
