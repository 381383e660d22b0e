package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
)

// day is a day's duration, for the history's times.
const day = 24 * time.Hour

// streamHistory is the random stream of the case history (beside the
// plan's streams in synth.go, so that the plan stays as it was).
const streamHistory uint64 = 101

// streamWorkerTasks is the random stream of the demo grid worker's tasks
// (historytasks.go).
const streamWorkerTasks uint64 = 102

// HistoryRates are the figures a case history is made to. The defaults
// are Wuding's published figures (issue 16): the citizens' phone app took
// in 53,500 matters in about two years, the grid workers collected 776
// reports of public opinion a year, and dispute screening found some 290
// disputes a year, 93.9 % of them settled.
type HistoryRates struct {
	Days            int // how many days before the seed day the history covers
	PublicPerYear   int // reports through the phone app, disputes among them
	OpinionPerYear  int // grid workers' reports of public opinion (社情民意)
	DisputesPerYear int // disputes found (矛盾纠纷), from every source
}

// DefaultHistoryRates returns the demo county's rates over two years.
func DefaultHistoryRates() HistoryRates {
	return HistoryRates{Days: 730, PublicPerYear: 26000, OpinionPerYear: 776, DisputesPerYear: 290}
}

// HistoryBatch is how many days of cases CaseHistory hands over at once.
const HistoryBatch = 30

// CaseHistory makes the county's past of cases at rates r over the days
// before asOf (the seed day), oldest first, and hands them to fn HistoryBatch
// days at a time (fn may keep the slice). The cases are spread over the
// group grids by their households; each is played through the lifecycle of
// the root package (onemap.Transition) at believable times — most within
// their limits, some late — and stands as it would on asOf: the older ones
// closed, the last few weeks' partly open, some of those overdue, some
// escalated. Disputes carry a mediation record that climbs from the group
// to the level that settles them. Among them are the demo grid worker's
// open tasks (historytasks.go). People and texts are synthetic. The same
// dataset, plan, day and rates give the same history.
func (d *Dataset) CaseHistory(p *Plan, asOf time.Time, r HistoryRates, fn func([]onemap.SeedCase) error) error {
	h, err := newHistory(d, p, asOf, r)
	if err != nil {
		return err
	}
	start := asOf.AddDate(0, 0, -r.Days)
	// The demo grid worker's open tasks (historytasks.go), from a stream of
	// their own, placed among the others by their time.
	mainRNG := h.rng
	h.rng = d.rng(streamWorkerTasks)
	tasks := h.workerTasks()
	h.rng = mainRNG
	sort.SliceStable(tasks, func(i, j int) bool { return tasks[i].Case.CreatedAt.Before(tasks[j].Case.CreatedAt) })
	perDay := func(perYear int) float64 { return float64(perYear) / 365 }
	var batch []onemap.SeedCase
	for i := 0; i < r.Days; i++ {
		d0 := start.AddDate(0, 0, i)
		var arrivals []arrival
		add := func(n int, kind int) {
			for range n {
				// Reports come in the day's waking hours, most by day.
				hour := 7 + 14*h.rng.Float64()*h.rng.Float64()*1.2
				arrivals = append(arrivals, arrival{at: d0.Add(time.Duration(hour * float64(time.Hour))), kind: kind})
			}
		}
		publicDisputes := perDay(r.DisputesPerYear) * 0.4
		add(h.poisson(perDay(r.PublicPerYear)-publicDisputes), arrivePublic)
		add(h.poisson(perDay(r.OpinionPerYear)), arriveOpinion)
		add(h.poisson(perDay(r.DisputesPerYear)), arriveDispute)
		sort.SliceStable(arrivals, func(i, j int) bool { return arrivals[i].at.Before(arrivals[j].at) })
		for _, a := range arrivals {
			if !a.at.Before(asOf) {
				continue
			}
			for len(tasks) > 0 && !tasks[0].Case.CreatedAt.After(a.at) {
				batch, tasks = append(batch, tasks[0]), tasks[1:]
			}
			batch = append(batch, h.play(a))
		}
		for len(tasks) > 0 && (tasks[0].Case.CreatedAt.Before(d0.AddDate(0, 0, 1)) || i == r.Days-1) {
			batch, tasks = append(batch, tasks[0]), tasks[1:]
		}
		if (i+1)%HistoryBatch == 0 || i == r.Days-1 {
			if err := fn(batch); err != nil {
				return err
			}
			batch = nil
		}
	}
	return nil
}

// HistoryRows returns the history of the county SeedRows last seeded, as
// of d.AsOf at rates r, in the form postgis.DB.SeedCaseHistory takes it.
// It is an error to call it before SeedRows.
func (d *Dataset) HistoryRows(r HistoryRates) func(func([]onemap.SeedCase) error) error {
	return func(fn func([]onemap.SeedCase) error) error {
		if d.plan == nil {
			return fmt.Errorf("demo dataset %s: the history follows the seed of its grids (SeedRows)", d.Name)
		}
		return d.CaseHistory(d.plan, d.AsOf, r, fn)
	}
}

// Kinds of arrival.
const (
	arrivePublic = iota
	arriveOpinion
	arriveDispute
)

type arrival struct {
	at   time.Time
	kind int
}

// history is the state of one history's making.
type history struct {
	d       *Dataset
	rng     *rand.Rand
	asOf    time.Time
	groups  []Grid
	cum     []float64 // cumulative households of groups
	grids   map[string]Grid
	locate  func(orb.Point) (string, string, string, bool)
	codes   map[string]bool
	words   words
	limits  onemap.CaseLimits
	county  string
	parents map[string]string
}

func newHistory(d *Dataset, p *Plan, asOf time.Time, r HistoryRates) (*history, error) {
	if r.Days < 1 || r.PublicPerYear < 0 || r.OpinionPerYear < 0 || r.DisputesPerYear < 0 {
		return nil, fmt.Errorf("demo history: rates %+v: want a day or more and no negative rate", r)
	}
	h := &history{d: d, rng: d.rng(streamHistory), asOf: asOf, grids: map[string]Grid{}, locate: p.Locator(d),
		codes: map[string]bool{}, words: newWords(), limits: onemap.DefaultCaseLimits(), parents: map[string]string{}}
	total := 0.0
	for _, g := range p.Grids {
		h.grids[g.Code] = g
		h.parents[g.Code] = g.ParentCode
		if g.Level == LevelCounty {
			h.county = g.Code
		}
		if g.Level == LevelGroup {
			total += float64(max(g.Households, 1))
			h.groups = append(h.groups, g)
			h.cum = append(h.cum, total)
		}
	}
	if len(h.groups) == 0 {
		return nil, fmt.Errorf("demo history: the plan has no group grids")
	}
	return h, nil
}

// poisson draws a count of mean m.
func (h *history) poisson(m float64) int {
	if m <= 0 {
		return 0
	}
	if m > 30 { // normal approximation
		return max(0, int(math.Round(m+math.Sqrt(m)*h.rng.NormFloat64())))
	}
	l, k, p := math.Exp(-m), 0, 1.0
	for {
		p *= h.rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// between draws a duration between lo and hi, log-uniformly (short ones
// commoner).
func (h *history) between(lo, hi time.Duration) time.Duration {
	a, b := math.Log(float64(lo)), math.Log(float64(hi))
	return time.Duration(math.Exp(a + (b-a)*h.rng.Float64())).Round(time.Second)
}

func (h *history) chance(p float64) bool { return h.rng.Float64() < p }

func (h *history) person() string {
	w := &h.words
	i := int(float64(len(w.surnames)) * h.rng.Float64() * h.rng.Float64())
	name := string(w.surnames[i]) + string(w.given[h.rng.IntN(len(w.given))])
	if h.rng.IntN(10) < 7 {
		name += string(w.given[h.rng.IntN(len(w.given))])
	}
	return name
}

func (h *history) mobile() string {
	return fmt.Sprintf("%s%08d", h.words.mobiles[h.rng.IntN(len(h.words.mobiles))], h.rng.IntN(100000000))
}

// idNumber is a synthetic resident id number of the county: its code, a
// birthday, a sequence and a check character (GB 11643).
func (h *history) idNumber() string {
	birth := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, h.rng.IntN(365*55))
	s := fmt.Sprintf("%s%s%03d", h.d.County.Code, birth.Format("20060102"), h.rng.IntN(1000))
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, c := range s {
		sum += int(c-'0') * weights[i]
	}
	return s + string("10X98765432"[sum%11])
}

func (h *history) trackingCode() string {
	for {
		c := onemap.SeedTrackingCode(h.rng.Uint64)
		if !h.codes[c] {
			h.codes[c] = true
			return c
		}
	}
}

// place picks a group by its households and a point in it.
func (h *history) place() (Grid, orb.Point) {
	i := sort.SearchFloat64s(h.cum, h.rng.Float64()*h.cum[len(h.cum)-1])
	g := h.groups[min(i, len(h.groups)-1)]
	for range 4 {
		p := orb.Point{g.Centre[0] + (h.rng.Float64()-0.5)*0.004, g.Centre[1] + (h.rng.Float64()-0.5)*0.004}
		if _, _, code, ok := h.locate(p); ok && code == g.Code {
			return g, p
		}
	}
	return g, g.Centre
}

// Texts of the cases, by category: what was reported, and what was done.
var (
	historyTexts = map[string][]string{
		"sanitation":   {"路边垃圾堆放多日未清运", "村内排水沟堵塞，污水外溢", "集市散场后垃圾遍地", "河道漂浮物较多", "公厕无人打扫，气味较大"},
		"public_order": {"夜间有人聚集喧哗", "村口有车辆乱停乱放", "发现有人在河边电鱼", "小卖部向未成年人售酒", "有陌生人挨家推销保健品"},
		"safety":       {"桥梁护栏损坏", "路边电线杆倾斜", "山体有落石隐患", "自建房墙体开裂", "学校门口缺少减速带", "燃气瓶露天堆放"},
		"livelihood":   {"路灯不亮", "自来水停水两天", "低保申请进度咨询", "村道坑洼不平", "医保缴费问题咨询", "农村公交班次太少"},
		"other":        {"咨询办事流程", "反映网络信号差", "建议增设健身器材", "流浪犬较多"},
		"dispute":      {"两户因宅基地界址发生争执", "邻居因排水问题争吵", "夫妻因家庭琐事闹离婚", "工程款拖欠引发纠纷", "承包地边界不清引发争执", "借款到期未还引发纠纷", "就医后对治疗结果有异议"},
	}
	historyOpinions = []string{"群众希望村里修建文化活动室", "村民反映农产品收购价偏低", "群众对人居环境整治满意度较高",
		"部分老人希望增设助餐点", "村民关心新农合报销比例", "群众希望增加农业技术培训"}
	historyHandled     = []string{"已到现场核实并处理", "已通知责任单位处置", "已协调相关部门解决", "已组织人员清理完毕", "已当面向群众解释说明"}
	disputeKindsByText = []string{"neighbour", "neighbour", "marriage_family", "labour", "land_forest", "contract_debt", "medical"}
	historyCategories  = []struct {
		code   string
		weight float64
	}{{"sanitation", 0.32}, {"livelihood", 0.33}, {"safety", 0.15}, {"public_order", 0.12}, {"other", 0.08}}
	peopleCategoryCodes = []string{"released_prisoner", "community_correction", "drug_user", "mental_disorder", "hiv_risk", "youth",
		"petitioner", "left_behind", "elderly_alone", "disabled", "hardship", "extreme_risk"}
)

func (h *history) pickCategory() string {
	x := h.rng.Float64()
	for _, c := range historyCategories {
		if x < c.weight {
			return c.code
		}
		x -= c.weight
	}
	return "other"
}

func pickText(rng *rand.Rand, list []string) (string, int) {
	i := rng.IntN(len(list))
	return list[i], i
}

// player plays one case through its steps, stopping at the seed day.
type player struct {
	h       *history
	sc      onemap.SeedCase
	stopped bool
}

// step takes action a at time at, naming grid code; it does nothing once a
// step would fall after the seed day.
func (p *player) step(at time.Time, a onemap.CaseAction, code string) {
	if p.stopped || !at.Before(p.h.asOf) {
		p.stopped = true
		return
	}
	if a.GridID == 0 && code != "" {
		a.GridID = 1 // a placeholder: the store names grids by code
		a.GridLevel = p.h.grids[code].Level
	}
	next, st, err := onemap.Transition(p.sc.Case, a, at, p.h.limits)
	if err != nil {
		panic(fmt.Sprintf("demo history: %s on a %s case: %v", a.Action, p.sc.Case.Status, err)) // a bug of this file
	}
	switch a.Action {
	case onemap.ActAssign:
		p.sc.AssignedCode = code
	case onemap.ActEscalate, onemap.ActHandDown:
		p.sc.HolderCode, p.sc.AssignedCode = code, ""
	}
	p.sc.Case = next
	p.sc.Steps = append(p.sc.Steps, onemap.SeedCaseStep{Step: st, GridCode: code})
}

// play makes the case of an arrival.
func (h *history) play(a arrival) onemap.SeedCase {
	g, pt := h.place()
	village := h.grids[g.ParentCode]
	township := h.grids[village.ParentCode]
	r := onemap.CaseReport{Category: "livelihood", Point: pt}
	switch a.kind {
	case arrivePublic:
		r.Source, r.Category = onemap.SourcePublic, h.pickCategory()
	case arriveOpinion:
		r.Source = onemap.SourceGridWorker
	case arriveDispute:
		r.Category = onemap.CaseCategoryDispute
		switch x := h.rng.Float64(); {
		case x < 0.4:
			r.Source = onemap.SourcePublic
		case x < 0.8:
			r.Source = onemap.SourceGridWorker
		default:
			r.Source = onemap.SourceOperator
		}
	}
	text, textIndex := pickText(h.rng, historyTexts[r.Category])
	if a.kind == arriveOpinion {
		text, _ = pickText(h.rng, historyOpinions)
		text = "社情民意：" + text
	}
	r.Description = village.Name + g.Name + "：" + text
	if r.Source == onemap.SourcePublic && h.chance(0.6) {
		r.ReporterPhone = h.mobile()
	}
	c := onemap.NewCase(r, 0, LevelVillage, a.at, h.limits)
	c.TrackingCode = h.trackingCode()
	reporter, role := "anonymous", onemap.RolePublic
	switch r.Source {
	case onemap.SourceGridWorker:
		reporter, role = g.WorkerName, onemap.RoleGridWorker
	case onemap.SourceOperator:
		reporter, role = village.Name+"综治中心", onemap.RoleOperator
	}
	c.ReportedBy = reporter
	p := &player{h: h, sc: onemap.SeedCase{Case: c, GridCode: g.Code, HolderCode: village.Code}}
	p.sc.Steps = []onemap.SeedCaseStep{{Step: onemap.CaseStep{Seq: 1, At: a.at, Actor: reporter, Role: role, Action: onemap.ActReport,
		To: onemap.CaseReported, Level: LevelVillage, Due: c.NextDue()}, GridCode: village.Code}}
	centre := village.Name + "综治中心"
	op := onemap.CaseAction{Actor: centre, Role: onemap.RoleOperator}
	with := func(action, note string) onemap.CaseAction {
		x := op
		x.Action, x.Note = action, note
		return x
	}
	// Accepting: most within the 2 hours, some late.
	t := a.at.Add(h.between(3*time.Minute, 100*time.Minute))
	if h.chance(0.04) {
		t = a.at.Add(h.between(2*time.Hour, 10*time.Hour))
	}
	if r.Category != onemap.CaseCategoryDispute && h.chance(0.015) {
		p.step(t, with(onemap.ActRefuse, "经核实不属于受理范围"), "")
		return p.sc
	}
	p.step(t, with(onemap.ActAccept, ""), "")
	if r.Category == onemap.CaseCategoryDispute {
		h.mediate(p, t, g, village, township, textIndex)
		return p.sc
	}
	// Some cases the village cannot solve go to the township.
	holder, holderName := village, centre
	if h.chance(0.03) {
		t = t.Add(h.between(time.Hour, 2*24*time.Hour))
		p.step(t, with(onemap.ActEscalate, "涉及多个部门，提请乡镇协调"), township.Code)
		holder, holderName = township, township.Name+"综治中心"
		op.Actor = holderName
	}
	t = t.Add(h.between(5*time.Minute, 3*time.Hour))
	assign := with(onemap.ActAssign, "")
	target := g
	if holder.Level == LevelTownship {
		target = village
		assign.Department = "乡镇" + []string{"派出所", "司法所", "农业农村办", "规划建设办"}[h.rng.IntN(4)]
	}
	assign.Assignee = target.WorkerName
	p.step(t, assign, target.Code)
	h.work(p, t, target, r.Source == onemap.SourcePublic, holderName)
	return p.sc
}

// work plays handling, feedback and the check of an assigned case.
func (h *history) work(p *player, t time.Time, target Grid, public bool, checker string) {
	worker := onemap.CaseAction{Actor: target.WorkerName, Role: onemap.RoleGridWorker}
	// The first response: mostly within the 24 hours.
	t = t.Add(h.between(20*time.Minute, 20*time.Hour))
	if h.chance(0.06) {
		t = t.Add(h.between(20*time.Hour, 4*24*time.Hour))
	}
	for try := 0; try < 2; try++ {
		note, _ := pickText(h.rng, historyHandled)
		handle := worker
		handle.Action, handle.Note = onemap.ActHandle, note
		p.step(t, handle, "")
		// Reporting back: mostly within days, some slow (and late).
		t = t.Add(h.between(6*time.Hour, 6*24*time.Hour))
		if h.chance(0.08) {
			t = t.Add(h.between(8*24*time.Hour, 25*24*time.Hour))
		}
		fb := worker
		fb.Action, fb.Note, fb.Public = onemap.ActFeedback, "您反映的问题"+note+"，感谢您的监督。", public
		p.step(t, fb, "")
		t = t.Add(h.between(time.Hour, 36*time.Hour))
		pass := try == 1 || !h.chance(0.03)
		check := onemap.CaseAction{Action: onemap.ActCheck, Pass: pass, Actor: checker, Role: onemap.RoleOperator}
		if !pass {
			check.Note = "核查未通过，请重新处置"
		}
		p.step(t, check, "")
		if pass {
			return
		}
		t = t.Add(h.between(time.Hour, 24*time.Hour))
	}
}

// mediate plays a dispute: sessions from the group up to the level that
// settles it (most at the group or the village), the case escalating with
// it above the village, and the case closed when the mediation ends.
func (h *history) mediate(p *player, t time.Time, g, village, township Grid, textIndex int) {
	final := 0 // the level that ends it: 0 group … 3 county
	switch x := h.rng.Float64(); {
	case x < 0.45:
	case x < 0.80:
		final = 1
	case x < 0.95:
		final = 2
	default:
		final = 3
	}
	result := onemap.SessionSettled
	switch x := h.rng.Float64(); {
	case x < 0.035:
		result = onemap.SessionCourt
	case x < 0.055:
		result = onemap.SessionArbitration
	case x < 0.06:
		result = "" // still mediating, long after
	}
	levelGrids := []Grid{g, village, township, h.grids[h.county]}
	d := onemap.NewDispute(0, t, onemap.GridRef{Level: LevelGroup}, 0)
	d.Kind = disputeKindsByText[textIndex%len(disputeKindsByText)]
	d.Summary = historyTexts[onemap.CaseCategoryDispute][textIndex]
	for i, side := range []string{onemap.SideApplicant, onemap.SideRespondent} {
		party := onemap.DisputeParty{Name: h.person(), Phone: h.mobile(), Side: side}
		if i == 0 && h.chance(0.5) {
			party.IDNumber = h.idNumber()
		}
		if h.chance(0.12) {
			party.Category = peopleCategoryCodes[h.rng.IntN(len(peopleCategoryCodes))]
		}
		d.Parties = append(d.Parties, party)
	}
	sd := &onemap.SeedDispute{GridCode: g.Code, TownshipCode: township.Code}
	mediators := []string{g.WorkerName}
	ended := false
	session := func(at time.Time, level int, res, note string) bool {
		if !at.Before(h.asOf) {
			return false
		}
		d.Sessions = append(d.Sessions, onemap.MediationSession{Seq: len(d.Sessions) + 1, At: at, Actor: mediators[0],
			Level: onemap.CaseLevels()[level], Mediators: append([]string{}, mediators...), Note: note, Result: res})
		sd.SessionGrids = append(sd.SessionGrids, levelGrids[level].Code)
		d.UpdatedAt, d.Version = at, d.Version+1
		return true
	}
	d.Version = 0
	caseHeld := 1 // the case's holder: the village
	for level := 0; level <= final; level++ {
		if level > 0 {
			mediators = append(mediators, h.person()+"（调解员）")
		}
		t = t.Add(h.between(4*time.Hour, 3*24*time.Hour))
		if h.chance(0.3) {
			if !session(t, level, onemap.SessionNotSettled, "双方分歧较大，约定再次调解") {
				break
			}
			t = t.Add(h.between(day, 5*day))
		}
		if level < final {
			if !session(t, level, onemap.SessionEscalated, "调解不成，提交上一级") {
				break
			}
			d.Escalations++
			d.Level, sd.GridCode = onemap.CaseLevels()[level+1], levelGrids[level+1].Code
			if level+1 > caseHeld {
				esc := onemap.CaseAction{Action: onemap.ActEscalate, Note: "矛盾纠纷提级调处", Actor: levelGrids[caseHeld].Name + "综治中心",
					Role: onemap.RoleOperator, GridLevel: onemap.CaseLevels()[level+1]}
				p.step(t.Add(time.Minute), esc, levelGrids[level+1].Code)
				caseHeld = level + 1
			}
			continue
		}
		if result == "" {
			break
		}
		// The level that ends it has the case assigned to its grid and
		// handled there.
		target := levelGrids[max(level, 1)-1]
		if caseHeld == 1 {
			target = g
		}
		assign := onemap.CaseAction{Action: onemap.ActAssign, Actor: levelGrids[caseHeld].Name + "综治中心", Role: onemap.RoleOperator,
			Assignee: target.WorkerName, Department: "人民调解委员会"}
		p.step(t.Add(-2*time.Hour), assign, target.Code)
		p.step(t.Add(-time.Hour), onemap.CaseAction{Action: onemap.ActHandle, Note: "组织双方调解", Actor: target.WorkerName, Role: onemap.RoleGridWorker}, "")
		note := "经调解双方达成一致"
		switch result {
		case onemap.SessionCourt:
			note = "调解不成，引导当事人向人民法院起诉"
		case onemap.SessionArbitration:
			note = "调解不成，引导当事人申请劳动人事争议仲裁"
		}
		if !session(t, level, result, note) {
			break
		}
		d.Outcome, d.EndedAt = onemap.DisputeOutcome(result), t
		if result == onemap.SessionSettled {
			d.Agreement = "双方自愿达成如下协议：" + d.Summary + "一事，双方互谅互让，按村规民约及相关法律规定处理，今后不再因此事发生争执。"
		}
		ended = true
		p.step(t.Add(time.Hour), onemap.CaseAction{Action: onemap.ActFeedback, Note: note, Actor: target.WorkerName, Role: onemap.RoleGridWorker}, "")
		p.step(t.Add(h.between(2*time.Hour, 30*time.Hour)), onemap.CaseAction{Action: onemap.ActCheck, Pass: true,
			Actor: levelGrids[caseHeld].Name + "综治中心", Role: onemap.RoleOperator}, "")
	}
	if !ended {
		d.Outcome, d.EndedAt = onemap.DisputeMediating, time.Time{}
	}
	if d.Version == 0 {
		d.Version, d.UpdatedAt = 1, d.CreatedAt // made, no session held yet
	}
	d.Mediators, d.Synthetic = mediators, true
	sd.Dispute = d
	p.sc.Dispute = sd
}
