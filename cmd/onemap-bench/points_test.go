package main

import (
	"bytes"
	"encoding/hex"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/ewkb"
)

func TestSpread_points(t *testing.T) {
	sp := provinceSpread()
	a := sp.points(1, 50_000)
	if len(a) != 50_000 {
		t.Fatalf("got %d points, want 50,000", len(a))
	}
	if b := sp.points(1, 50_000); !slices.Equal(a, b) {
		t.Fatal("the same seed gave different points")
	}
	if c := sp.points(2, 50_000); slices.Equal(a, c) {
		t.Error("seeds 1 and 2 gave the same points")
	}
	for i, p := range a {
		if !yunnan.Contains(p) {
			t.Fatalf("point %d %v lies outside Yunnan's box %v", i, p, yunnan)
		}
	}
	// Clustered: a grid of 0.1° cells over the box holds the points very
	// unevenly, far more than uniform points would.
	cells := map[[2]int]int{}
	for _, p := range a {
		cells[[2]int{int(p.Lon() * 10), int(p.Lat() * 10)}]++
	}
	largest := 0
	for _, n := range cells {
		largest = max(largest, n)
	}
	uniform := float64(len(a)) / (87 * 81)
	if float64(largest) < 20*uniform {
		t.Errorf("the fullest 0.1° cell holds %d points, uniform would be %.0f: not clustered", largest, uniform)
	}
	if len(cells) < 87*81/4 {
		t.Errorf("only %d of %d cells hold points: no background", len(cells), 87*81)
	}
}

func TestCameraMaker(t *testing.T) {
	pts := provinceSpread().points(1, 200_000)
	build := func() []camera {
		m := newCameraMaker(1, yunnan)
		cs := make([]camera, len(pts))
		for i, p := range pts {
			c, err := m.camera(p)
			if err != nil {
				t.Fatal(err)
			}
			cs[i] = c
		}
		return cs
	}
	cs := build()
	if again := build(); !slices.Equal(cs, again) {
		t.Fatal("the same seed and points gave different cameras")
	}
	// As migrations/0003_layers.sql checks them.
	codeRE := regexp.MustCompile(`^[1-8][0-9]{19}$`)
	seen := make(map[string]bool, len(cs))
	for i, c := range cs {
		if !codeRE.MatchString(c.DeviceCode) {
			t.Fatalf("camera %d: device code %q is not 20 digits starting 1-8", i, c.DeviceCode)
		}
		if !strings.HasPrefix(c.DeviceCode, "53") {
			t.Fatalf("camera %d: device code %q is not Yunnan's (53)", i, c.DeviceCode)
		}
		if seen[c.DeviceCode] {
			t.Fatalf("camera %d: device code %q is not unique", i, c.DeviceCode)
		}
		seen[c.DeviceCode] = true
		if c.Name == "" {
			t.Fatalf("camera %d: no name", i)
		}
		if !slices.Contains(cameraKinds, c.Kind) {
			t.Fatalf("camera %d: kind %q", i, c.Kind)
		}
		if c.Status != "online" && c.Status != "offline" && c.Status != "fault" {
			t.Fatalf("camera %d: status %q", i, c.Status)
		}
		if c.Fixed != (c.Kind != "dome") {
			t.Fatalf("camera %d: a %s with fixed=%v", i, c.Kind, c.Fixed)
		}
		if c.Fixed && (c.Heading < 0 || c.Heading >= 360 || c.FOV <= 0 || c.FOV > 360) {
			t.Fatalf("camera %d: heading %v, fov %v", i, c.Heading, c.FOV)
		}
		if c.Point != pts[i] {
			t.Fatalf("camera %d stands at %v, not at its point %v", i, c.Point, pts[i])
		}
	}
}

func TestCameraMaker_serialRunsOut(t *testing.T) {
	m := newCameraMaker(1, yunnan)
	m.serial["53010100"] = 999999
	if _, err := m.camera(orb.Point{97.5, 21.1}); err == nil {
		t.Error("the millionth camera of a cell got a code")
	}
}

func TestAppendCopyRow(t *testing.T) {
	p := orb.Point{102.25, 25.5}
	fixed := camera{DeviceCode: "53010100001320000001", Name: "昆明路口1号", Kind: "bullet", Status: "online",
		Fixed: true, Heading: 90, FOV: 60.5, Point: p}
	row := string(appendCopyRow(nil, fixed))
	fields := strings.Split(strings.TrimSuffix(row, "\n"), "\t")
	want := []string{"53010100001320000001", "昆明路口1号", "bullet", "online", "90", "60.5", "t"}
	if len(fields) != 8 || !slices.Equal(fields[:7], want) {
		t.Fatalf("row %q, want fields %q and the geometry", row, want)
	}
	if n := strings.Count(cameraCopyColumns, ",") + 1; n != len(fields) {
		t.Errorf("the row has %d fields, the column list %d", len(fields), n)
	}
	wkb, err := hex.DecodeString(fields[7])
	if err != nil {
		t.Fatal(err)
	}
	g, srid, err := ewkb.Unmarshal(wkb)
	if err != nil {
		t.Fatal(err)
	}
	if g != p || srid != 4326 {
		t.Errorf("geometry %v SRID %d, want %v SRID 4326", g, srid, p)
	}

	dome := fixed
	dome.Kind, dome.Fixed = "dome", false
	if row := appendCopyRow(nil, dome); !bytes.Contains(row, []byte("\tdome\tonline\t\\N\t\\N\tt\t")) {
		t.Errorf("a dome's row %q does not leave heading and fov NULL", row)
	}
}
