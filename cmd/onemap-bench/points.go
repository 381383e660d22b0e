package main

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/paulmach/orb"
)

// yunnan is the box the province benchmark spreads its points over, and the
// region's envelope in its database.
var yunnan = orb.Bound{Min: orb.Point{97.5, 21.1}, Max: orb.Point{106.2, 29.2}}

// spread says how points are spread over a box: Clusters Gaussian clusters
// (settlements) whose sizes follow a log-normal law, plus a uniform
// Background fraction of the points (isolated sites).
type spread struct {
	Bound      orb.Bound
	Clusters   int
	Background float64
}

// provinceSpread is Yunnan's: 3,000 settlements from hamlets to cities, and
// 8% of the points in the open.
func provinceSpread() spread {
	return spread{Bound: yunnan, Clusters: 3000, Background: 0.08}
}

// cluster is one settlement: its centre, its spread in degrees of latitude
// and its share of the clustered points (the cumulative weight of the
// clusters up to and including it).
type cluster struct {
	centre orb.Point
	sigma  float64
	cum    float64
}

// points returns n points inside the box, the same for the same seed. A
// settlement's spread grows with the square root of its size: a hamlet
// covers a few hundred metres, a city ten kilometres and more.
func (s spread) points(seed uint64, n int) []orb.Point {
	rng := rand.New(rand.NewPCG(seed, 0x706f696e7473)) // "points"
	b := s.Bound
	uniform := func() orb.Point {
		return orb.Point{b.Min.Lon() + rng.Float64()*(b.Max.Lon()-b.Min.Lon()), b.Min.Lat() + rng.Float64()*(b.Max.Lat()-b.Min.Lat())}
	}
	cs := make([]cluster, s.Clusters)
	var total, largest float64
	weights := make([]float64, s.Clusters)
	for i := range weights {
		weights[i] = math.Exp(1.5 * rng.NormFloat64())
		largest = max(largest, weights[i])
	}
	for i := range cs {
		total += weights[i]
		cs[i] = cluster{centre: uniform(), sigma: 0.003 + 0.06*math.Sqrt(weights[i]/largest), cum: total}
	}
	cums := make([]float64, len(cs))
	for i := range cs {
		cums[i] = cs[i].cum
	}
	out := make([]orb.Point, 0, n)
	for len(out) < n {
		if len(cs) == 0 || rng.Float64() < s.Background {
			out = append(out, uniform())
			continue
		}
		i, _ := slices.BinarySearch(cums, rng.Float64()*total)
		c := cs[min(i, len(cs)-1)]
		for {
			// A degree of longitude is shorter than one of latitude by
			// cos(latitude): the cluster is round on the ground.
			p := orb.Point{
				c.centre.Lon() + rng.NormFloat64()*c.sigma/math.Cos(c.centre.Lat()*math.Pi/180),
				c.centre.Lat() + rng.NormFloat64()*c.sigma,
			}
			if b.Contains(p) {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// camera is one row of the cameras table.
type camera struct {
	DeviceCode string
	Name       string
	Kind       string
	Status     string
	Heading    float32 // with FOV, absent (NULL) for PTZ domes
	FOV        float32
	Fixed      bool // Heading and FOV are set
	Point      orb.Point
}

// Yunnan's 16 prefectures, for the cameras' names.
var prefectures = []string{"昆明", "曲靖", "玉溪", "保山", "昭通", "丽江", "普洱", "临沧",
	"楚雄", "红河", "文山", "西双版纳", "大理", "德宏", "怒江", "迪庆"}

var (
	cameraPlaces = []string{"路口", "村口", "学校门口", "农贸市场", "卫生院门口", "客运站", "广场", "桥头", "停车场", "派出所门口"}
	cameraKinds  = []string{"bullet", "dome", "hemisphere", "face", "plate"} // as in camera_kinds
	kindWeights  = []float64{45, 15, 25, 10, 5}
)

// cameraMaker turns points into cameras with unique GB/T 28181 device codes.
// A code is 20 digits: an 8-digit centre code (province 53, prefecture,
// county and grassroots unit, each 2 digits, taken from where the camera
// stands on a grid over the box), a 2-digit industry code, a 3-digit type
// (131 camera, 132 network camera), a network digit and a 6-digit serial
// number, counted per centre code. The same points in the same order give
// the same cameras.
type cameraMaker struct {
	bound  orb.Bound
	rng    *rand.Rand
	serial map[string]int
}

func newCameraMaker(seed uint64, b orb.Bound) *cameraMaker {
	return &cameraMaker{bound: b, rng: rand.New(rand.NewPCG(seed, 0x63616d657261)), serial: map[string]int{}} // "camera"
}

// cell returns which of k×k equal cells of b p falls in, and p's position
// within that cell as a fraction of it.
func cell(p orb.Point, b orb.Bound, k int) (ix, iy int, frac orb.Point) {
	fx := (p.Lon() - b.Min.Lon()) / (b.Max.Lon() - b.Min.Lon()) * float64(k)
	fy := (p.Lat() - b.Min.Lat()) / (b.Max.Lat() - b.Min.Lat()) * float64(k)
	ix, iy = clampInt(int(fx), 0, k-1), clampInt(int(fy), 0, k-1)
	return ix, iy, orb.Point{fx - float64(ix), fy - float64(iy)}
}

// camera returns the camera at p. It fails when a centre code runs out of
// serial numbers (a million cameras in one grassroots unit's cell).
func (m *cameraMaker) camera(p orb.Point) (camera, error) {
	// Prefecture: a 4×4 grid over the box; county: 9×9 within it;
	// grassroots unit: 10×10 within that (00 to 99).
	px, py, f := cell(p, m.bound, 4)
	unit := orb.Bound{Max: orb.Point{1, 1}}
	cx, cy, f := cell(f, unit, 9)
	ux, uy, _ := cell(f, unit, 10)
	pref := 1 + px + 4*py
	centre := fmt.Sprintf("53%02d%02d%02d", pref, 1+cx+9*cy, ux+10*uy)
	m.serial[centre]++
	serial := m.serial[centre]
	if serial > 999999 {
		return camera{}, fmt.Errorf("more than 999,999 cameras in the cell of centre code %s", centre)
	}
	rng := m.rng
	industry, network := "00", "0" // public security, public network
	if rng.IntN(3) == 0 {
		industry, network = "01", "8" // township and village video, private network
	}
	typ := "132"
	if rng.IntN(5) == 0 {
		typ = "131"
	}
	c := camera{
		DeviceCode: centre + industry + typ + network + fmt.Sprintf("%06d", serial),
		Name:       prefectures[pref-1] + cameraPlaces[rng.IntN(len(cameraPlaces))] + strconv.Itoa(serial) + "号",
		Kind:       cameraKinds[pickWeighted(rng, kindWeights)],
		Point:      p,
	}
	switch x := rng.Float64(); {
	case x < 0.92:
		c.Status = "online"
	case x < 0.98:
		c.Status = "offline"
	default:
		c.Status = "fault"
	}
	if c.Kind != "dome" { // PTZ domes turn: no fixed heading
		c.Fixed, c.Heading, c.FOV = true, float32(rng.IntN(360)), float32(30+rng.IntN(91))
	}
	return c, nil
}

func pickWeighted(rng *rand.Rand, weights []float64) int {
	var total float64
	for _, w := range weights {
		total += w
	}
	x := rng.Float64() * total
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

// cameraCopyColumns are the columns appendCopyRow writes, in its order.
const cameraCopyColumns = "device_code, name, kind, status, heading, fov, synthetic, geom"

// appendCopyRow appends the camera as a line of COPY's text format, its
// point as hexadecimal EWKB with SRID 4326. None of the generated texts
// holds a tab, a newline or a backslash, so none is escaped.
func appendCopyRow(buf []byte, c camera) []byte {
	buf = append(buf, c.DeviceCode...)
	buf = append(buf, '\t')
	buf = append(buf, c.Name...)
	buf = append(buf, '\t')
	buf = append(buf, c.Kind...)
	buf = append(buf, '\t')
	buf = append(buf, c.Status...)
	buf = append(buf, '\t')
	if c.Fixed {
		buf = strconv.AppendFloat(buf, float64(c.Heading), 'f', -1, 32)
		buf = append(buf, '\t')
		buf = strconv.AppendFloat(buf, float64(c.FOV), 'f', -1, 32)
	} else {
		buf = append(buf, `\N`+"\t"+`\N`...)
	}
	buf = append(buf, "\tt\t"...)
	buf = hex.AppendEncode(buf, ewkbPoint(c.Point))
	return append(buf, '\n')
}

// ewkbPoint returns a point as little-endian EWKB with SRID 4326.
func ewkbPoint(p orb.Point) []byte {
	b := make([]byte, 0, 25)
	b = append(b, 1)                                    // little endian
	b = binary.LittleEndian.AppendUint32(b, 0x20000001) // Point, with SRID
	b = binary.LittleEndian.AppendUint32(b, 4326)
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p.Lon()))
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(p.Lat()))
}
