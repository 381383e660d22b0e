package demo

import (
	"math/rand/v2"
	"slices"

	"github.com/onemapgis/onemap"
)

// The demo's households are assessed as the county's method has it: each
// household's last assessment ticks the dispute situations and categories
// of people found, and the county's rule table (SeedKinds.Rules) gives the
// level from the ticks, so that the level on the map is the one the rules
// give and a reassessment with the same ticks keeps it. A household whose
// level is drawn as the one the rules give no ticks (低 in the default
// table) had its dispute settled at the last assessment: nothing is
// ticked, and the note says so. Every other household's own dispute
// situation (its kind) is ticked, and categories of people are ticked
// until the rules give the drawn level; where the kind alone gives more
// (征地拆迁 and 土地山林 are 较大 by default), the household takes that.

// settledNote is the note of an assessment that ticks nothing.
const settledNote = "纠纷已调解化解，未发现其他风险情形，列入低风险跟踪"

// categoryNotes are the notes of ticked categories of people, by code;
// a code not listed gets "户内有" and the category's name.
var categoryNotes = map[string]string{
	"mental_disorder":      "户内有严重精神障碍患者，监护人已落实",
	"extreme_risk":         "家庭成员有过激言行，需重点稳控",
	"petitioner":           "多次到县信访，诉求未解决",
	"drug_user":            "户内有社区戒毒人员",
	"community_correction": "户内有社区矫正对象",
	"released_prisoner":    "户内有刑满释放人员，已纳入安置帮教",
	"hiv_risk":             "户内有艾滋病危险人员，已落实随访",
	"youth":                "户内有辍学闲散青少年",
	"left_behind":          "子女外出务工，老人和儿童留守",
	"elderly_alone":        "独居老人，子女不在身边",
	"disabled":             "户内有残疾人",
	"hardship":             "家庭困难，已纳入低保",
}

// assessTicks returns the ticks of a household of kind (a dispute
// situation) whose level is drawn as want, with its dispute's note, under
// the rules r, and the note of the assessment. The level is
// r.HouseholdLevel of the ticks: want where the ticks can give it, more
// severe where the household's own situation alone gives more.
func (s *synth) assessTicks(rng *rand.Rand, r *onemap.AssessmentRules, kind, note, want string) (sit, cat []onemap.Tick, assessNote string) {
	none := r.HouseholdLevel(nil, nil)
	if onemap.RiskRank(want) >= onemap.RiskRank(none) {
		return nil, nil, settledNote
	}
	if slices.ContainsFunc(s.kinds.Situations, func(k onemap.SeedKind) bool { return k.Code == kind }) {
		sit = []onemap.Tick{{Code: kind, Note: note}}
	}
	level := func(extra ...onemap.Tick) string { return r.HouseholdLevel(sit, append(slices.Clone(cat), extra...)) }
	tick := func(k onemap.SeedKind) onemap.Tick {
		n, ok := categoryNotes[k.Code]
		if !ok {
			n = "户内有" + k.Name
		}
		return onemap.Tick{Code: k.Code, Note: n}
	}
	// Categories are added, each one that keeps the level at or below want,
	// those that give want first, until the rules give want.
	for len(sit)+len(cat) < onemap.MaxTicks && onemap.RiskRank(level()) > onemap.RiskRank(want) {
		var exact, below []onemap.Tick
		for _, k := range s.kinds.Categories {
			if slices.ContainsFunc(cat, func(t onemap.Tick) bool { return t.Code == k.Code }) {
				continue
			}
			t := tick(k)
			switch got := onemap.RiskRank(level(t)); {
			case got == onemap.RiskRank(want):
				exact = append(exact, t)
			case got > onemap.RiskRank(want):
				below = append(below, t)
			}
		}
		switch {
		case len(exact) > 0:
			cat = append(cat, exact[rng.IntN(len(exact))])
		case len(below) > 0:
			cat = append(cat, below[rng.IntN(len(below))])
		default:
			return sit, cat, ""
		}
	}
	// A quarter of the households have one more category found that does
	// not change their level.
	if rng.IntN(4) == 0 {
		var same []onemap.Tick
		for _, k := range s.kinds.Categories {
			if t := tick(k); !slices.ContainsFunc(cat, func(c onemap.Tick) bool { return c.Code == k.Code }) && level(t) == level() {
				same = append(same, t)
			}
		}
		if len(same) > 0 {
			cat = append(cat, same[rng.IntN(len(same))])
		}
	}
	return sit, cat, ""
}

// cycle returns the months between a subject's assessments under the
// rules r (nil: fallback[key], else 3): a household's by its level, a risk
// point's by its kind.
func cycle(r *onemap.AssessmentRules, subject, key string, fallback map[string]int) int {
	m := fallback[key]
	if r != nil {
		c := r.HouseholdCycle
		if subject == onemap.AssessRiskPoint {
			c = r.RiskPointCycle
		}
		m = c[key]
	}
	if m <= 0 {
		m = 3
	}
	return m
}

// riskAssessNote is the note of a risk point's last assessment.
func riskAssessNote(kind, level string) string {
	switch {
	case kind == "dilapidated_housing" && level == "red":
		return "D级危房，整栋危险，已劝离住户"
	case kind == "dilapidated_housing":
		return "C级危房，局部危险，限制使用"
	case level == "red" || level == "orange":
		return "隐患未消除，落实专人监测"
	}
	return "例行评估，措施落实"
}

// gridsByCode returns the plan's grids by code.
func (s *synth) gridsByCode() map[string]*Grid {
	out := make(map[string]*Grid, len(s.plan.Grids))
	for i := range s.plan.Grids {
		out[s.plan.Grids[i].Code] = &s.plan.Grids[i]
	}
	return out
}

// worker returns the grid of the level (county, township, village or
// group) that holds group g of village v of township tw, with its worker,
// or nil for another level.
func (s *synth) worker(grids map[string]*Grid, level string, tw *town, v *village, g *group) *Grid {
	switch level {
	case LevelCounty:
		return grids[GridCode(s.d.County.Code)]
	case LevelTownship:
		return grids[GridCode(tw.t.Code)]
	case LevelVillage:
		return grids[v.v.Code]
	case LevelGroup:
		return grids[g.code]
	}
	return nil
}
