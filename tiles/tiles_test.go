package tiles

import (
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb/maptile"
)

func TestParseZXY(t *testing.T) {
	for _, tc := range []struct {
		z, x, y string
		want    maptile.Tile
		ok      bool
	}{
		{"0", "0", "0.mvt", maptile.New(0, 0, 0), true},
		{"12", "3258", "1712.mvt", maptile.New(3258, 1712, 12), true},
		{"12", "3258", "1712.pbf", maptile.New(3258, 1712, 12), true},
		{"22", "4194303", "4194303.mvt", maptile.New(4194303, 4194303, 22), true},
		{"1", "2", "0.mvt", maptile.Tile{}, false},  // x out of range
		{"1", "0", "2.mvt", maptile.Tile{}, false},  // y out of range
		{"23", "0", "0.mvt", maptile.Tile{}, false}, // zoom too deep
		{"-1", "0", "0.mvt", maptile.Tile{}, false},
		{"a", "0", "0.mvt", maptile.Tile{}, false},
		{"3", "1", "1", maptile.Tile{}, false},      // no extension
		{"3", "1", "1.png", maptile.Tile{}, false},  // wrong extension
		{"3", "+1", "1.mvt", maptile.Tile{}, false}, // sign
		{"3", "1", " 1.mvt", maptile.Tile{}, false},
		{"3", "99999999999999999999", "1.mvt", maptile.Tile{}, false},
	} {
		got, err := ParseZXY(tc.z, tc.x, tc.y)
		if tc.ok != (err == nil) {
			t.Errorf("ParseZXY(%q, %q, %q) error = %v, want ok=%v", tc.z, tc.x, tc.y, err, tc.ok)
			continue
		}
		if err != nil && onemap.ErrorCode(err) != onemap.EINVALID {
			t.Errorf("ParseZXY(%q, %q, %q) code = %s, want invalid", tc.z, tc.x, tc.y, onemap.ErrorCode(err))
		}
		if tc.ok && got != tc.want {
			t.Errorf("ParseZXY(%q, %q, %q) = %v, want %v", tc.z, tc.x, tc.y, got, tc.want)
		}
	}
}

func FuzzParseZXY(f *testing.F) {
	f.Add("12", "3258", "1712.mvt")
	f.Add("0", "0", "0.pbf")
	f.Add("22", "4194304", "1.mvt")
	f.Fuzz(func(t *testing.T, z, x, y string) {
		tile, err := ParseZXY(z, x, y)
		if err != nil {
			if onemap.ErrorCode(err) != onemap.EINVALID {
				t.Fatalf("error %v is not EINVALID", err)
			}
			return
		}
		if !tile.Valid() || tile.Z > MaxZoom {
			t.Fatalf("ParseZXY(%q, %q, %q) accepted invalid tile %v", z, x, y, tile)
		}
	})
}
