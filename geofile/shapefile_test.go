package geofile

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/crs"
	"github.com/paulmach/orb"
	"golang.org/x/text/encoding/simplifiedchinese"
)

func writeShp(t testing.TB, fs []*onemap.Feature) map[string][]byte {
	t.Helper()
	var buf bytes.Buffer
	if err := writeShapefile(&buf, fs, "grids"); err != nil {
		t.Fatal(err)
	}
	return unzipFiles(t, buf.Bytes())
}

func TestShapefile_roundTrip(t *testing.T) {
	fs := sampleFeatures()
	files := writeShp(t, fs)
	for _, ext := range []string{".shp", ".shx", ".dbf", ".prj", ".cpg"} {
		if _, ok := files["grids"+ext]; !ok {
			t.Errorf("the zip lacks grids%s; has %v", ext, len(files))
		}
	}
	if string(files["grids.cpg"]) != "UTF-8" || !strings.Contains(string(files["grids.prj"]), "GCS_WGS_1984") {
		t.Errorf(".cpg = %q, .prj = %q", files["grids.cpg"], files["grids.prj"])
	}
	// The written .shp has its outer rings clockwise, as the format says.
	shp := files["grids.shp"]
	content := shp[108 : 108+2*int(be32(shp[104:]))]
	first := orb.Ring{}
	nPoints := int(le32(content[40:]))
	for i := range 5 {
		first = append(first, lePoint(content[44+4*2+16*i:]))
	}
	if nPoints != 10 || first.Orientation() != orb.CW {
		t.Errorf("first ring written with %d points, orientation %v; want 10 points, clockwise", nPoints, first.Orientation())
	}
	recs, err := Read(Shapefile, zipFiles(t, files), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sameFeatures(t, "shapefile", recs, fs)
	if recs[2].Where != "feature 3 (grids.shp record 3)" {
		t.Errorf("Where = %q", recs[2].Where)
	}
}

func TestShapefile_points(t *testing.T) {
	fs := []*onemap.Feature{
		{Geometry: orb.Point{102.4, 25.5}, Properties: map[string]any{"name": "卫生室"}},
		{Geometry: orb.Point{102.41, 25.51}, Properties: map[string]any{"name": "警务室", "tel": "0878-8711234"}},
	}
	recs, err := Read(Shapefile, zipFiles(t, writeShp(t, fs)), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sameFeatures(t, "points", recs, fs)
	lines := []*onemap.Feature{{Geometry: orb.MultiLineString{{{102.4, 25.5}, {102.5, 25.6}}, {{102.6, 25.5}, {102.7, 25.6}}}, Properties: map[string]any{}}}
	recs, err = Read(Shapefile, zipFiles(t, writeShp(t, lines)), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sameFeatures(t, "lines", recs, lines)
}

// gbkShapefile returns the sample as a Shapefile whose table is GBK, with
// the given .cpg (none if cpg is "").
func gbkShapefile(t testing.TB, cpg string) map[string][]byte {
	files := writeShp(t, sampleFeatures())
	dbf, err := encodeDBF(sampleFeatures(), simplifiedchinese.GBK.NewEncoder())
	if err != nil {
		t.Fatal(err)
	}
	files["grids.dbf"] = dbf
	delete(files, "grids.cpg")
	if cpg != "" {
		files["grids.cpg"] = []byte(cpg)
	}
	return files
}

func TestShapefile_encodings(t *testing.T) {
	fs := sampleFeatures()
	for _, cpg := range []string{"GBK", "936", "CP936", "GB2312", "GB18030", "ANSI 936", ""} {
		t.Run("cpg="+cpg, func(t *testing.T) {
			recs, err := Read(Shapefile, zipFiles(t, gbkShapefile(t, cpg)), ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			sameFeatures(t, "GBK", recs, fs)
		})
	}
	t.Run("language driver", func(t *testing.T) {
		files := gbkShapefile(t, "")
		files["grids.dbf"][29] = 0x4D
		recs, err := Read(Shapefile, zipFiles(t, files), ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		sameFeatures(t, "GBK", recs, fs)
	})
	t.Run("chosen encoding overrides the .cpg", func(t *testing.T) {
		files := gbkShapefile(t, "UTF-8")
		_, err := Read(Shapefile, zipFiles(t, files), ReadOptions{})
		wantInvalid(t, err, "feature 1 (grids.dbf record 1) field \"name\"")
		_, err = Read(Shapefile, zipFiles(t, files), ReadOptions{})
		wantInvalid(t, err, "not UTF-8")
		recs, err := Read(Shapefile, zipFiles(t, files), ReadOptions{Encoding: "GBK"})
		if err != nil {
			t.Fatal(err)
		}
		sameFeatures(t, "GBK", recs, fs)
	})
	t.Run("unknown encoding", func(t *testing.T) {
		_, err := Read(Shapefile, zipFiles(t, gbkShapefile(t, "KOI8-R")), ReadOptions{})
		wantInvalid(t, err, `grids.cpg: unsupported encoding "KOI8-R"`)
	})
}

// rawPolygonShp builds a one-record Polygon .shp from rings as given, with
// no reorientation.
func rawPolygonShp(rings ...orb.Ring) []byte { return rawShp(shpPolygon, rings...) }

// rawShp builds a one-record .shp of type typ (Polygon or PolygonZ) from
// rings as given; PolygonZ gets Z values of 1800 m and no M values.
func rawShp(typ int32, rings ...orb.Ring) []byte {
	var c bytes.Buffer
	le := func(v any) { binary.Write(&c, binary.LittleEndian, v) }
	le(typ)
	le([4]float64{})
	le(int32(len(rings)))
	n := 0
	for _, r := range rings {
		n += len(r)
	}
	le(int32(n))
	n = 0
	for _, r := range rings {
		le(int32(n))
		n += len(r)
	}
	for _, r := range rings {
		for _, p := range r {
			le([2]float64(p))
		}
	}
	if typ == shpPolygonZ {
		le([2]float64{1800, 1800})
		for range n {
			le(1800.0)
		}
	}
	b := make([]byte, 108, 108+c.Len())
	binary.BigEndian.PutUint32(b, 9994)
	binary.BigEndian.PutUint32(b[24:], uint32((108+c.Len())/2))
	binary.LittleEndian.PutUint32(b[28:], 1000)
	binary.LittleEndian.PutUint32(b[32:], uint32(typ))
	binary.BigEndian.PutUint32(b[100:], 1)
	binary.BigEndian.PutUint32(b[104:], uint32(c.Len()/2))
	return append(b, c.Bytes()...)
}

func TestShapefile_rings(t *testing.T) {
	outer := orb.Ring{{0, 0}, {0, 10}, {10, 10}, {10, 0}, {0, 0}} // clockwise
	hole := orb.Ring{{2, 2}, {4, 2}, {4, 4}, {2, 4}, {2, 2}}      // counter-clockwise
	far := orb.Ring{{20, 0}, {20, 1}, {21, 1}, {21, 0}, {20, 0}}  // clockwise
	lone := orb.Ring{{30, 0}, {31, 0}, {31, 1}, {30, 1}, {30, 0}} // counter-clockwise, in no outer ring
	open := orb.Ring{{40, 0}, {40, 1}, {41, 1}, {41, 0}}          // clockwise, not closed
	g, err := parseSHP("x.shp", rawPolygonShp(hole, far, outer, lone, open))
	if err != nil {
		t.Fatal(err)
	}
	mp, ok := g[0].(orb.MultiPolygon)
	if !ok || len(mp) != 4 {
		t.Fatalf("got %v, want 4 polygons", g[0])
	}
	if len(mp[0]) != 1 || len(mp[1]) != 2 || len(mp[2]) != 1 || len(mp[3]) != 1 || len(mp[3][0]) != 5 {
		t.Errorf("rings grouped as %v; want far, outer+hole, open (closed), lone", mp)
	}
	for i, p := range mp {
		for j, r := range p {
			if want := orb.Orientation(orb.CCW); j > 0 {
				want = orb.CW
				if r.Orientation() != want {
					t.Errorf("polygon %d ring %d orientation %v, want %v", i, j, r.Orientation(), want)
				}
			} else if r.Orientation() != want {
				t.Errorf("polygon %d ring %d orientation %v, want %v", i, j, r.Orientation(), want)
			}
		}
	}
	t.Run("PolygonZ", func(t *testing.T) {
		g, err := parseSHP("z.shp", rawShp(shpPolygonZ, outer, hole))
		if err != nil {
			t.Fatal(err)
		}
		if p, ok := g[0].(orb.Polygon); !ok || len(p) != 2 || p[0][1] != (orb.Point{10, 0}) {
			t.Errorf("PolygonZ read as %v; want the polygon with its hole, in 2D", g[0])
		}
	})
	for name, tc := range map[string]struct {
		shp  []byte
		want string
	}{
		"short ring": {rawPolygonShp(orb.Ring{{0, 0}, {1, 1}, {0, 0}}), "x.shp record 1: ring 1 has 3 points"},
		"flat ring":  {rawPolygonShp(orb.Ring{{0, 0}, {1, 1}, {2, 2}, {0, 0}}), "ring 1 has no area"},
		"NaN":        {rawPolygonShp(orb.Ring{{0, 0}, {math.NaN(), 1}, {2, 2}, {0, 0}}), "not a number"},
		"truncated":  {rawPolygonShp(outer)[:150], "header gives a length of 236 bytes but the file has 150"},
		"too short":  {[]byte("hello"), "too short"},
		"not shp":    {make([]byte, 200), "file code 0"},
	} {
		t.Run("Err/"+name, func(t *testing.T) {
			_, err := parseSHP("x.shp", tc.shp)
			wantInvalid(t, err, tc.want)
		})
	}
	t.Run("Err/parts", func(t *testing.T) {
		b := rawPolygonShp(outer)
		binary.LittleEndian.PutUint32(b[108+36:], 1<<30) // numParts
		_, err := parseSHP("x.shp", b)
		wantInvalid(t, err, "x.shp record 1: 1073741824 parts and 5 points")
		b = rawPolygonShp(outer)
		binary.BigEndian.PutUint32(b[104:], 1<<29) // content length
		_, err = parseSHP("x.shp", b)
		wantInvalid(t, err, "record 1: content length")
	})
}

func TestShapefile_errors(t *testing.T) {
	good := writeShp(t, sampleFeatures())
	with := func(change func(map[string][]byte)) []byte {
		files := map[string][]byte{}
		for k, v := range good {
			files[k] = bytes.Clone(v)
		}
		change(files)
		return zipFiles(t, files)
	}
	for name, tc := range map[string]struct {
		zip  []byte
		want string
	}{
		"no shp": {with(func(f map[string][]byte) { delete(f, "grids.shp") }), "the zip holds no .shp file"},
		"no dbf": {with(func(f map[string][]byte) { delete(f, "grids.dbf") }), "grids.shp has no grids.dbf"},
		"two": {with(func(f map[string][]byte) { f["other/b.shp"], f["other/b.dbf"] = f["grids.shp"], f["grids.dbf"] }),
			"the zip holds 2 Shapefiles (grids.shp, other/b.shp)"},
		"count": {with(func(f map[string][]byte) { f["grids.dbf"][4] = 2 }), "grids.shp has 3 shapes but grids.dbf has 2 records"},
		"dbf truncated": {with(func(f map[string][]byte) { f["grids.dbf"] = f["grids.dbf"][:len(f["grids.dbf"])-30] }),
			"grids.dbf: the header counts 3 records"},
		"prj": {with(func(f map[string][]byte) {
			f["grids.prj"] = []byte(`GEOGCS["GCS_Beijing_1954",DATUM["D_Beijing_1954",SPHEROID["Krasovsky_1940",6378245.0,298.3]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]`)
		}), "grids.prj: the file is in Beijing 1954"},
		"not zip": {[]byte("PK\x03\x04 not really"), "not a readable zip"},
		"wrong crs": {with(func(f map[string][]byte) { f["grids.prj"] = []byte(crs.GK102.WKT()) }),
			"feature 1 (grids.shp record 1): easting 102.300 m, northing 25.500 m is outside 3-degree Gauss-Kruger zone 34 (read as EPSG:4543)"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Read(Shapefile, tc.zip, ReadOptions{})
			wantInvalid(t, err, tc.want)
		})
	}
	t.Run("chosen CRS ignores the .prj", func(t *testing.T) {
		zip := with(func(f map[string][]byte) { f["grids.prj"] = []byte("LOCAL_CS[\"unknown\"]") })
		_, err := Read(Shapefile, zip, ReadOptions{})
		wantInvalid(t, err, "grids.prj: unsupported coordinate system definition LOCAL_CS")
		if _, err := Read(Shapefile, zip, ReadOptions{CRS: crs.WGS84}); err != nil {
			t.Error(err)
		}
	})
	t.Run("null shape", func(t *testing.T) {
		fs := sampleFeatures()
		fs[1].Geometry = nil
		_, err := Read(Shapefile, zipFiles(t, writeShp(t, fs)), ReadOptions{})
		wantInvalid(t, err, "feature 2 (grids.shp record 2): the shape is null")
	})
	t.Run("mixed kinds", func(t *testing.T) {
		fs := sampleFeatures()
		fs[2].Geometry = orb.Point{1, 2}
		err := writeShapefile(&bytes.Buffer{}, fs, "x")
		wantInvalid(t, err, "feature 3 (id 3) is a Point but earlier ones are Polygons")
	})
}

func TestShapefile_zipLimits(t *testing.T) {
	t.Run("members", func(t *testing.T) {
		files := map[string][]byte{}
		for i := range MaxZipMembers + 1 {
			files[strings.Repeat("a", i+1)+".txt"] = []byte("x")
		}
		_, err := Read(Shapefile, zipFiles(t, files), ReadOptions{})
		wantInvalid(t, err, "the zip holds 65 files; at most 64")
	})
	raw := func(declared uint64, data []byte) []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, err := zw.CreateRaw(&zip.FileHeader{Name: "big.shp", Method: zip.Store, CompressedSize64: uint64(len(data)), UncompressedSize64: declared})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
		zw.Close()
		return buf.Bytes()
	}
	t.Run("declared size", func(t *testing.T) {
		_, err := Read(Shapefile, raw(1<<40, []byte("tiny")), ReadOptions{})
		wantInvalid(t, err, "zip member big.shp: the archive inflates to more than 256 MiB")
	})
	t.Run("lying size", func(t *testing.T) {
		_, err := Read(Shapefile, raw(2, []byte("more than two bytes")), ReadOptions{})
		wantInvalid(t, err, "zip member big.shp")
	})
	t.Run("ratio", func(t *testing.T) {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, _ := zw.Create("zeros.shp")
		w.Write(make([]byte, 8<<20))
		zw.Close()
		_, err := Read(Shapefile, buf.Bytes(), ReadOptions{})
		wantInvalid(t, err, "zip member zeros.shp: compressed")
	})
}

// TestShapefile_GDAL has GDAL read the Shapefile we write, and we read the
// one GDAL writes in GBK (the encoding of most Chinese Shapefiles).
func TestShapefile_GDAL(t *testing.T) {
	ogr2ogr := needGDAL(t, "ogr2ogr")
	dir := t.TempDir()
	fs := sampleFeatures()
	var buf bytes.Buffer
	if err := Write(Shapefile, &buf, fs); err != nil {
		t.Fatal(err)
	}
	zipPath := filepath.Join(dir, "grids.zip")
	os.WriteFile(zipPath, buf.Bytes(), 0o644)
	out := filepath.Join(dir, "gdal.geojson")
	if b, err := exec.Command(ogr2ogr, "-f", "GeoJSON", "-lco", "RFC7946=YES", out, "/vsizip/"+zipPath+"/grids.shp").CombinedOutput(); err != nil {
		t.Fatalf("ogr2ogr: %v\n%s", err, b)
	}
	data, _ := os.ReadFile(out)
	recs, err := Read(GeoJSON, data, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// GDAL (3.6) reads a dBASE logical field as the text "T" or "F".
	gdalBool := map[any]any{true: "T", false: "F"}
	for i, r := range recs {
		if !orb.Equal(r.Geometry, fs[i].Geometry) {
			t.Errorf("GDAL read feature %d as %v, want %v", i+1, r.Geometry, fs[i].Geometry)
		}
		for k, v := range fs[i].Properties {
			if b, ok := gdalBool[v]; ok {
				v = b
			}
			if r.Properties[k] != v {
				t.Errorf("GDAL read feature %d %s = %#v, want %#v", i+1, k, r.Properties[k], v)
			}
		}
	}

	// GDAL writes a GBK Shapefile (and its .cpg); we read it.
	in := filepath.Join(dir, "in.geojson")
	var gj bytes.Buffer
	WriteGeoJSON(&gj, fs)
	os.WriteFile(in, gj.Bytes(), 0o644)
	shpDir := filepath.Join(dir, "gbk")
	if b, err := exec.Command(ogr2ogr, "-f", "ESRI Shapefile", "-lco", "ENCODING=CP936", "-nln", "grids", shpDir, in).CombinedOutput(); err != nil {
		t.Fatalf("ogr2ogr: %v\n%s", err, b)
	}
	files := map[string][]byte{}
	entries, _ := os.ReadDir(shpDir)
	for _, e := range entries {
		files["sub/"+e.Name()], _ = os.ReadFile(filepath.Join(shpDir, e.Name()))
	}
	t.Logf("GDAL wrote %d files; .cpg %q", len(files), files["sub/grids.cpg"])
	recs, err = Read(Shapefile, zipFiles(t, files), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sameFeatures(t, "GDAL GBK shapefile", recs, gdalBoolsAsNumbers(fs))
}

func FuzzParseSHP(f *testing.F) {
	var buf bytes.Buffer
	writeShapefile(&buf, sampleFeatures(), "x")
	files := unzipFiles(f, buf.Bytes())
	f.Add(files["x.shp"], files["x.dbf"])
	f.Fuzz(func(t *testing.T, shp, dbf []byte) {
		if _, err := parseSHP("x.shp", shp); err != nil && onemap.ErrorCode(err) != onemap.EINVALID {
			t.Fatalf("parseSHP error %v is not EINVALID", err)
		}
		if _, err := parseDBF("x.dbf", dbf, "", ""); err != nil && onemap.ErrorCode(err) != onemap.EINVALID {
			t.Fatalf("parseDBF error %v is not EINVALID", err)
		}
	})
}

// gdalBoolsAsNumbers returns fs with booleans as 1 and 0: GDAL (3.6)
// writes a boolean field as an integer to Shapefiles and KML.
func gdalBoolsAsNumbers(fs []*onemap.Feature) []*onemap.Feature {
	for _, f := range fs {
		for k, v := range f.Properties {
			if b, ok := v.(bool); ok {
				f.Properties[k] = map[bool]float64{false: 0, true: 1}[b]
			}
		}
	}
	return fs
}
