package onemap

import "testing"

// TestRegion_GridCode: a county's six-digit code (GB/T 2260) becomes the
// twelve-digit code its grid and its sources are coded by; other codes are
// kept as they are.
func TestRegion_GridCode(t *testing.T) {
	for code, want := range map[string]string{
		"532329":          "532329000000",
		"532329000000":    "532329000000",
		"532329101001001": "532329101001001",
		"5323x9":          "5323x9",
		"":                "",
	} {
		if got := (Region{Code: code}).GridCode(); got != want {
			t.Errorf("Region{Code: %q}.GridCode() = %q, want %q", code, got, want)
		}
	}
}
