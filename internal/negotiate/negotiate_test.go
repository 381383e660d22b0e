package negotiate

import "testing"

func TestGzip(t *testing.T) {
	for header, want := range map[string]bool{
		"":                        false,
		"gzip":                    true,
		"GZip":                    true,
		"deflate, gzip;q=1.0, br": true,
		"br, gzip ; q=0.5":        true,
		"gzip;q=0":                false,
		"gzip; q=0.000":           false,
		"identity":                false,
		"*":                       false,
		"x-gzip":                  false,
	} {
		if got := Gzip(header); got != want {
			t.Errorf("Gzip(%q) = %v, want %v", header, got, want)
		}
	}
}
