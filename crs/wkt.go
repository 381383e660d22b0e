package crs

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// wktNode is one KEYWORD[...] of a WKT string; its args are quoted strings,
// numbers or bare words (as string) and nested nodes.
type wktNode struct {
	key  string
	args []any
}

func (n *wktNode) child(keys ...string) *wktNode {
	for _, a := range n.args {
		if c, ok := a.(*wktNode); ok {
			for _, k := range keys {
				if c.key == k {
					return c
				}
			}
		}
	}
	return nil
}

func (n *wktNode) name() string {
	if n == nil || len(n.args) == 0 {
		return ""
	}
	s, _ := n.args[0].(string)
	return s
}

// param returns the number of PARAMETER[name, value] whose normalised name
// is one of names.
func (n *wktNode) param(names ...string) (float64, bool) {
	for _, a := range n.args {
		c, ok := a.(*wktNode)
		if !ok || c.key != "PARAMETER" || len(c.args) < 2 {
			continue
		}
		for _, want := range names {
			if norm(c.name()) == want {
				v, ok := c.args[1].(float64)
				return v, ok
			}
		}
	}
	return 0, false
}

func norm(s string) string {
	return strings.NewReplacer("_", "", " ", "", "-", "").Replace(strings.ToLower(s))
}

// parseWKT parses WKT 1 (OGC or ESRI flavour) and the WKT 2 keywords a .prj
// may hold, into a tree.
func parseWKT(s string) (*wktNode, error) {
	p := wktParser{s: s}
	n, err := p.node()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("unexpected %q after the end at offset %d", p.s[p.i:min(len(p.s), p.i+10)], p.i)
	}
	return n, nil
}

type wktParser struct {
	s     string
	i     int
	depth int
}

func (p *wktParser) space() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *wktParser) word() string {
	j := p.i
	for p.i < len(p.s) && (p.s[p.i] == '_' || p.s[p.i] == '.' || p.s[p.i] == '-' || p.s[p.i] == '+' ||
		p.s[p.i] >= 'a' && p.s[p.i] <= 'z' || p.s[p.i] >= 'A' && p.s[p.i] <= 'Z' || p.s[p.i] >= '0' && p.s[p.i] <= '9') {
		p.i++
	}
	return p.s[j:p.i]
}

func (p *wktParser) node() (*wktNode, error) {
	p.depth++
	if p.depth > 32 {
		return nil, fmt.Errorf("nested too deeply")
	}
	defer func() { p.depth-- }()
	p.space()
	key := strings.ToUpper(p.word())
	if key == "" {
		return nil, fmt.Errorf("expected a keyword at offset %d", p.i)
	}
	p.space()
	if p.i >= len(p.s) || (p.s[p.i] != '[' && p.s[p.i] != '(') {
		return nil, fmt.Errorf("expected [ after %s at offset %d", key, p.i)
	}
	closer := byte(']')
	if p.s[p.i] == '(' {
		closer = ')'
	}
	p.i++
	n := &wktNode{key: key}
	for {
		p.space()
		if p.i >= len(p.s) {
			return nil, fmt.Errorf("%s[ is not closed", key)
		}
		switch c := p.s[p.i]; {
		case c == closer:
			p.i++
			return n, nil
		case c == ',':
			p.i++
		case c == '"':
			j := strings.IndexByte(p.s[p.i+1:], '"')
			if j < 0 {
				return nil, fmt.Errorf("unterminated string at offset %d", p.i)
			}
			n.args = append(n.args, p.s[p.i+1:p.i+1+j])
			p.i += j + 2
		default:
			save := p.i
			w := p.word()
			if w == "" {
				return nil, fmt.Errorf("unexpected %q at offset %d", c, p.i)
			}
			if f, err := strconv.ParseFloat(w, 64); err == nil {
				n.args = append(n.args, f)
				continue
			}
			p.space()
			if p.i < len(p.s) && (p.s[p.i] == '[' || p.s[p.i] == '(') {
				p.i = save
				c, err := p.node()
				if err != nil {
					return nil, err
				}
				n.args = append(n.args, c)
				continue
			}
			n.args = append(n.args, w)
		}
	}
}

// FromWKT returns the CRS that a WKT definition (a Shapefile's .prj) names.
// It recognises WGS-84 and CGCS2000 geographic systems, and transverse
// Mercator / Gauss-Krüger on CGCS2000 with central meridian 102°E, scale 1
// and false easting 500 000 m or 34 500 000 m. Anything else (Beijing 1954,
// Xian 1980, other zones, Web Mercator) is an error that says what the file
// holds, so the user can convert it or choose a CRS.
func FromWKT(wkt string) (CRS, error) {
	root, err := parseWKT(strings.TrimSpace(strings.TrimPrefix(wkt, "\ufeff")))
	if err != nil {
		return "", fmt.Errorf("the coordinate system definition is not WKT: %v", err)
	}
	geog := root
	var proj *wktNode
	switch root.key {
	case "PROJCS", "PROJCRS", "PROJECTEDCRS":
		proj = root
		geog = root.child("GEOGCS", "GEOGCRS", "BASEGEOGCRS", "BASEGEODCRS", "GEODCRS")
		if geog == nil {
			return "", fmt.Errorf("projected coordinate system %q has no geographic base", root.name())
		}
	case "GEOGCS", "GEOGCRS", "GEODCRS", "GEODETICCRS":
	default:
		return "", fmt.Errorf("unsupported coordinate system definition %s[%q]", root.key, root.name())
	}
	datum := geog.child("DATUM", "GEODETICDATUM", "TRF")
	var spheroid *wktNode
	if datum != nil {
		spheroid = datum.child("SPHEROID", "ELLIPSOID")
	}
	names := norm(geog.name() + " " + datum.name() + " " + spheroid.name())
	var base CRS
	switch {
	case strings.Contains(names, "2000") && (strings.Contains(names, "china") || strings.Contains(names, "cgcs")):
		base = CGCS2000
	case strings.Contains(names, "wgs84") || strings.Contains(names, "wgs1984") || strings.Contains(names, "worldgeodeticsystem1984"):
		base = WGS84
	case strings.Contains(names, "1954") || strings.Contains(names, "beijing"):
		return "", fmt.Errorf("the file is in Beijing 1954 (%q), which differs from WGS-84 by up to 100 m; convert it to CGCS2000 or WGS-84 first", geog.name())
	case strings.Contains(names, "1980") || strings.Contains(names, "xian"):
		return "", fmt.Errorf("the file is in Xian 1980 (%q), which differs from WGS-84 by up to 100 m; convert it to CGCS2000 or WGS-84 first", geog.name())
	default:
		return "", fmt.Errorf("unsupported datum %q (%q); supported: %s", datum.name(), geog.name(), supported)
	}
	if spheroid != nil && len(spheroid.args) >= 3 {
		a, _ := spheroid.args[1].(float64)
		rf, _ := spheroid.args[2].(float64)
		if math.Abs(a-6378137) > 0.01 || math.Abs(rf-298.2572) > 0.001 {
			return "", fmt.Errorf("ellipsoid %q (a=%v, 1/f=%v) is not WGS-84 or CGCS2000", spheroid.name(), a, rf)
		}
	}
	if proj == nil {
		return base, nil
	}
	params := proj // WKT 1 keeps PROJECTION and PARAMETERs in PROJCS, WKT 2 in CONVERSION.
	if conv := proj.child("CONVERSION"); conv != nil {
		params = conv
	}
	method := params.child("PROJECTION", "METHOD")
	m := norm(method.name())
	if m != "transversemercator" && m != "gausskruger" && m != "gaussian" && m != "tmerc" {
		return "", fmt.Errorf("projection %q (%q) is not supported; supported: %s", method.name(), proj.name(), supported)
	}
	if base != CGCS2000 {
		return "", fmt.Errorf("transverse Mercator on %q is not supported; supported: %s", geog.name(), supported)
	}
	cm, _ := params.param("centralmeridian", "longitudeofnaturalorigin", "longitudeofcenter")
	k, ok := params.param("scalefactor", "scalefactoratnaturalorigin")
	if !ok {
		k = 1
	}
	lat0, _ := params.param("latitudeoforigin", "latitudeofnaturalorigin")
	fe, _ := params.param("falseeasting")
	fn, _ := params.param("falsenorthing")
	if cm != gkCentral || k != 1 || lat0 != 0 || fn != 0 || (fe != gkFalseEasting && fe != gkPrefixEasting) {
		return "", fmt.Errorf("%q (central meridian %v°, scale %v, false easting %v m) is not CGCS2000 3-degree Gauss-Kruger at 102°E; supported: %s", proj.name(), cm, k, fe, supported)
	}
	if u := proj.child("UNIT", "LENGTHUNIT"); u != nil && len(u.args) >= 2 {
		if f, _ := u.args[1].(float64); f != 1 {
			return "", fmt.Errorf("%q has unit %q; only metres are supported", proj.name(), u.name())
		}
	}
	if fe == gkPrefixEasting {
		return GKZone34, nil
	}
	return GK102, nil
}

// WKT returns the ESRI-flavoured WKT 1 definition of c, as written in a
// Shapefile's .prj, or "" for GCJ-02 and BD-09, which have none.
func (c CRS) WKT() string {
	switch c {
	case WGS84:
		return wktWGS84
	case CGCS2000:
		return wktCGCS2000
	case GK102:
		return `PROJCS["CGCS2000_3_Degree_GK_CM_102E",` + wktCGCS2000 + `,PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",102.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]`
	case GKZone34:
		return `PROJCS["CGCS2000_3_Degree_GK_Zone_34",` + wktCGCS2000 + `,PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",34500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",102.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]`
	}
	return ""
}

// The .prj texts ESRI and GDAL (gdalsrsinfo -o wkt_esri) write.
const (
	wktWGS84    = `GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]`
	wktCGCS2000 = `GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]`
)
