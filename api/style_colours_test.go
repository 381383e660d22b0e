package api_test

import (
	"math"
	"strconv"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/internal/pgtest"
)

// hue returns the hue (degrees), saturation and lightness of #rrggbb.
func hue(t *testing.T, s string) (h, sat, l float64) {
	t.Helper()
	n, err := strconv.ParseUint(s[1:], 16, 32)
	if err != nil || len(s) != 7 {
		t.Fatalf("colour %q", s)
	}
	r, g, b := float64(n>>16&255)/255, float64(n>>8&255)/255, float64(n&255)/255
	mx, mn := math.Max(r, math.Max(g, b)), math.Min(r, math.Min(g, b))
	l = (mx + mn) / 2
	if mx == mn {
		return 0, 0, l
	}
	d := mx - mn
	sat = d / (1 - math.Abs(2*l-1))
	switch mx {
	case r:
		h = math.Mod((g-b)/d, 6)
	case g:
		h = (b-r)/d + 2
	default:
		h = (r-g)/d + 4
	}
	return math.Mod(h*60+360, 360), sat, l
}

// TestStyle_hazardColours: 红橙黄蓝 mean a risk level and nothing else. No
// colour of another point layer (a camera's status, a station's kind) is a
// saturated colour within 25° of the hue of a risk level, and no two of
// them are the same colour (a camera fault and a mediation committee were
// both purple; a clinic and 重大 both red).
func TestStyle_hazardColours(t *testing.T) {
	srv := serve(t, pgtest.DemoURL(t), api.Config{AnonymousRole: onemap.RoleCommander})
	_, body := get(t, srv.URL+"/styles/all.json")
	style := decode[struct {
		Layers []struct {
			ID    string
			Paint map[string]any
		}
	}](t, body)
	pairs := func(id string) map[string]string {
		for _, l := range style.Layers {
			if l.ID != id {
				continue
			}
			m, _ := l.Paint["circle-color"].([]any)
			out := map[string]string{}
			for i := 2; i+1 < len(m); i += 2 {
				out[m[i].(string)] = m[i+1].(string)
			}
			return out
		}
		t.Fatalf("no style layer %s", id)
		return nil
	}
	risk := pairs("risk_points")
	if len(risk) != 4 || risk["red"] == "" || risk["blue"] == "" {
		t.Fatalf("risk colours = %v", risk)
	}
	seen := map[string]string{}
	for _, id := range []string{"cameras", "stations"} {
		for value, c := range pairs(id) {
			if other, dup := seen[c]; dup {
				t.Errorf("%s %s and %s share %s", id, value, other, c)
			}
			seen[c] = id + " " + value
			h, s, _ := hue(t, c)
			for level, rc := range risk {
				rh, _, _ := hue(t, rc)
				if dh := math.Min(math.Abs(h-rh), 360-math.Abs(h-rh)); s > 0.35 && dh < 25 {
					t.Errorf("%s %s is %s, %.0f° from %s (%s): the risk colours are the risk levels'", id, value, c, dh, level, rc)
				}
			}
		}
	}
}
