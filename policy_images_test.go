package onemap_test

import (
	"testing"

	"github.com/onemapgis/onemap"
)

// TestPolicy_cameraImages: who sees what cameras see is the policy's rule
// of the cameras layer (LayerRule.Images): the commander only, of the
// default policy; the operator reads and edits cameras but sees no image;
// and a role whose rule has Images but reads no cameras sees none.
func TestPolicy_cameraImages(t *testing.T) {
	p := onemap.DefaultPolicy()
	c := onemap.NewCatalog()
	for _, r := range onemap.Roles() {
		v := p.View(c, onemap.Caller{Name: "x", Role: r})
		if got, want := v.SeesCameraImages(), r == onemap.RoleCommander; got != want {
			t.Errorf("%s sees camera images: %v, want %v", r, got, want)
		}
		if got := p.Rule(r, onemap.LayerCameras).Images; got != (r == onemap.RoleCommander) {
			t.Errorf("%s's cameras rule has Images %v", r, got)
		}
	}
	if v := p.View(c, onemap.Caller{Name: "op", Role: onemap.RoleOperator}); !v.CanEdit(onemap.LayerCameras) ||
		v.Field(onemap.LayerCameras, "device_code") == onemap.FieldDeny {
		t.Error("the operator edits the cameras and reads their device codes")
	}
}
