package demo

import (
	"embed"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"
)

// prefectureFiles holds the outlines of 楚雄州's ten counties (see
// chuxiong/README.md for their source and licence: demo only).
//
//go:embed chuxiong
var prefectureFiles embed.FS

// Prefecture is a demo prefecture: its code (6 digits) and name, and one
// dataset per county, the reference county (Wuding) as it is and the others
// synthetic.
type Prefecture struct {
	Code, Name string
	Counties   []*Dataset
}

// Chuxiong returns 楚雄彝族自治州 (532300): Wuding as Wuding() has it and
// the other nine counties made by SyntheticCounty from their real outlines
// and names, with figures scale times Wuding's per area (1: as dense as
// Wuding). The counties come in the order of their codes, Wuding first.
func Chuxiong(scale float64) (*Prefecture, error) {
	wuding, err := Wuding()
	if err != nil {
		return nil, err
	}
	b, err := fs.ReadFile(prefectureFiles, "chuxiong/chuxiong-counties.geojson")
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	fc, err := geojson.UnmarshalFeatureCollection(b)
	if err != nil {
		return nil, fmt.Errorf("demo: chuxiong-counties.geojson: %w", err)
	}
	p := &Prefecture{Code: "532300", Name: "楚雄彝族自治州", Counties: []*Dataset{wuding}}
	var others []*Dataset
	for _, f := range fc.Features {
		code, name := f.Properties.MustString("adcode", ""), f.Properties.MustString("name", "")
		if c := f.Properties.MustString("adcode_2023", ""); c != "" { // 禄丰县 became 禄丰市 in 2021
			code, name = c, f.Properties.MustString("name_2023", name)
		}
		if code == wuding.County.Code {
			continue
		}
		var outline orb.MultiPolygon
		switch g := f.Geometry.(type) {
		case orb.Polygon:
			outline = orb.MultiPolygon{g}
		case orb.MultiPolygon:
			outline = g
		default:
			return nil, fmt.Errorf("demo: chuxiong-counties.geojson: %s: not a polygon", name)
		}
		var seat orb.Point
		if lp, ok := f.Properties["label_point"].([]any); ok && len(lp) == 2 {
			x, _ := lp[0].(float64)
			y, _ := lp[1].(float64)
			seat = orb.Point{x, y}
		}
		d, err := SyntheticCounty(Division{Code: code, Name: name}, outline, seat, wuding, scale)
		if err != nil {
			return nil, err
		}
		others = append(others, d)
	}
	slices.SortFunc(others, func(a, b *Dataset) int { return strings.Compare(a.County.Code, b.County.Code) })
	p.Counties = append(p.Counties, others...)
	return p, nil
}

// placeWords make the names of synthetic townships and villages: common
// Chinese place names, tied to no real place.
const placeWords = "青龙 白马 石门 新村 大河 小河 龙街 马街 高桥 中山 东山 西山 南山 北山 平坝 黄草 沙坝 花桥 三岔 五里 " +
	"云龙 金山 水井 岔河 凤凰 太平 安乐 永兴 长坡 竹园 松林 柏树 大村 小村 河口 坝子 梨园 桃园 杨柳 清水 " +
	"红岩 黑井 白土 新街 老街 上村 下村 中村 前所 后所 大坪 小坪 山后 岭岗 核桃 板桥 龙潭 马鞍 鹿鸣 鸡冠"

// SyntheticCounty makes a demo dataset for a county of which only the code
// (6 digits), name and outline are known: synthetic townships and villages
// with made-up names and codes under the county's, the seed and the
// figures of like (the reference county) scaled to the outline's area and
// by scale. seat, if not inside the outline, is replaced by a point inside
// it. The same arguments make the same dataset.
func SyntheticCounty(county Division, outline orb.MultiPolygon, seat orb.Point, like *Dataset, scale float64) (*Dataset, error) {
	if len(outline) == 0 {
		return nil, fmt.Errorf("demo: county %s: no outline", county.Code)
	}
	var seed uint64
	fmt.Sscan(county.Code, &seed)
	rng := rand.New(rand.NewPCG(seed, 0x5e6))
	if !planar.MultiPolygonContains(outline, seat) {
		seat = interiorPoint(outline, rng)
	}
	r := planar.Area(outline) / planar.Area(like.Outline)
	round := func(v float64) int { return int(math.Round(v)) }
	nt := min(max(round(float64(len(like.Townships))*r), 4), 16)
	words := strings.Fields(placeWords)
	rng.Shuffle(len(words), func(i, j int) { words[i], words[j] = words[j], words[i] })
	next := 0
	word := func() string { // 青龙, …, then 青龙二, …
		w := words[next%len(words)]
		if k := next / len(words); k > 0 {
			w += chineseNumber(k + 1)
		}
		next++
		return w
	}
	d := &Dataset{
		Name:          "synthetic-" + county.Code,
		Source:        "outline: chuxiong-counties.geojson (approximate); names and codes below the county: synthetic",
		County:        county,
		Outline:       outline,
		Seat:          seat,
		Seed:          seed,
		AsOf:          like.AsOf,
		PhoneAreaCode: like.PhoneAreaCode,
		PhonePrefix:   like.PhonePrefix,
		PhoneDigits:   like.PhoneDigits,
	}
	perTownship := max(like.Villages()/len(like.Townships), 2)
	for i := range nt {
		kind, suffix := "town", "镇"
		if i%3 == 2 {
			kind, suffix = "township", "乡"
		}
		t := Township{Code: fmt.Sprintf("%s%03d", county.Code, 101+i), Name: word() + suffix, Kind: kind}
		for j := range perTownship {
			short, vkind, full := word(), "village", ""
			if j == 0 && i == 0 {
				vkind = "community"
				full = short + "社区居民委员会"
				short += "社区"
			} else {
				full = short + "村民委员会"
				short += "村"
			}
			t.Villages = append(t.Villages, Village{Code: fmt.Sprintf("%s%03d", t.Code, 201+j), Name: full, ShortName: short, Kind: vkind})
		}
		d.Townships = append(d.Townships, t)
	}
	d.SeatTownship = d.Townships[0].Code
	nv := d.Villages()
	f := r * scale
	c := like.Counts
	d.Counts = Counts{
		Groups:     min(max(round(float64(c.Groups)*f), 2*nv), 40*nv),
		Cameras:    round(float64(c.Cameras) * f),
		RiskPoints: round(float64(c.RiskPoints) * f),
		Households: round(float64(c.Households) * f),
	}
	d.Counts.Population = max(round(float64(c.Population)*f), 10*d.Counts.Groups)
	d.Counts.MediationCommittees = max(round(float64(c.MediationCommittees)*f), 1+nt+nv)
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return d, nil
}

// interiorPoint returns a point inside the outline: the centre of its
// bounding box if inside, else the first of a fixed sequence of random
// points that is.
func interiorPoint(outline orb.MultiPolygon, rng *rand.Rand) orb.Point {
	b := outline.Bound()
	if p := b.Center(); planar.MultiPolygonContains(outline, p) {
		return p
	}
	for range 10000 {
		p := orb.Point{b.Min.X() + rng.Float64()*(b.Max.X()-b.Min.X()), b.Min.Y() + rng.Float64()*(b.Max.Y()-b.Min.Y())}
		if planar.MultiPolygonContains(outline, p) {
			return p
		}
	}
	return b.Center()
}

// Cut gives the counties after the first the outlines cut (the same
// order, each cut by those before it so that no two overlap, as the
// store's CutOutlines returns them), and a seat inside the cut outline
// where the old one fell out of it. The first county (the reference
// county) keeps its outline and contents.
func (p *Prefecture) Cut(cut []orb.MultiPolygon) error {
	if len(cut) != len(p.Counties) {
		return fmt.Errorf("demo: %d outlines for %d counties", len(cut), len(p.Counties))
	}
	for i, d := range p.Counties[1:] {
		o := cut[i+1]
		if len(o) == 0 {
			return fmt.Errorf("demo: county %s: nothing is left of its outline", d.County.Code)
		}
		d.Outline = o
		if !planar.MultiPolygonContains(o, d.Seat) {
			d.Seat = interiorPoint(o, rand.New(rand.NewPCG(d.Seed, 0x5e7)))
		}
		if err := d.Validate(); err != nil {
			return err
		}
	}
	return nil
}
