package postgis

import (
	"slices"
	"testing"
)

// TestCopyText: a value written for COPY's text format (appendCopyText,
// arrayLiteral for a list) reads back the same (unescapeCopyText,
// parseArrayLiteral), as the staged path reads a load's rows again when the
// client-computed path gives way; a raw tab never appears inside a value.
func TestCopyText(t *testing.T) {
	for _, s := range []string{"", "plain", "摄像头 1", "a\tb", "line\nbreak\r", `back\slash`, `\N`, `"quoted"`, "\\t"} {
		enc := string(appendCopyText(nil, s))
		if slices.Contains([]byte(enc), '\t') || slices.Contains([]byte(enc), '\n') {
			t.Errorf("%q encodes as %q: a raw tab or newline", s, enc)
		}
		if got := unescapeCopyText(enc); got != s {
			t.Errorf("%q encodes as %q, reads back %q", s, enc, got)
		}
	}
	for _, l := range [][]string{{}, {""}, {"a"}, {"a", "b,c"}, {`say "hi"`, `c:\dir`, "{}", "tab\there"}} {
		enc := string(appendCopyText(nil, arrayLiteral(l)))
		if got := parseArrayLiteral(unescapeCopyText(enc)); !slices.Equal(got, l) {
			t.Errorf("%q encodes as %q, reads back %q", l, enc, got)
		}
	}
}
