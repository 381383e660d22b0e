package api

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

// jsonStrings are texts of the kinds records hold (Chinese names,
// addresses, codes) and every character encoding/json escapes or rewrites:
// controls, quotes, backslashes, <, >, &, U+2028, U+2029, invalid bytes, a
// truncated character, and a literal U+FFFD.
func jsonStrings() []string {
	out := []string{"", "a", "东岳社区第二居民小组", "武定县狮山镇 路口12号", "53232900001310000123", "名称\u2028行", "\u2029",
		"a<b", "a>b", "a&b", `"引"`, `a\b`, "tab\there", "nl\n", "\x00", "\x7f", "\xff", "名\xe4\xb8", "\xe2\x80", "\xe2\x80\xa7",
		"\xe2\x80\xaa", "\uFFFD", "名\uFFFD称", "\U0001F600", "\xed\xa0\x80", "\xc0\xaf", "é", strings.Repeat("名称ab", 50)}
	rng := rand.New(rand.NewPCG(3, 4))
	pieces := []string{"a", "名", "\u2028", "\u2029", "<", "&", `"`, "\\", "\x01", "\xff", "\xe2", "\x80", "\xa8", "\uFFFD", "é", " "}
	for range 20000 {
		var b []byte
		for range 1 + rng.IntN(8) {
			b = append(b, pieces[rng.IntN(len(pieces))]...)
		}
		out = append(out, string(b))
	}
	return out
}

// TestAppendJSONString: appendJSONString writes what encoding/json writes
// for every string, plain or not.
func TestAppendJSONString(t *testing.T) {
	for _, s := range jsonStrings() {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString(nil, s); string(got) != string(want) {
			t.Errorf("%q: wrote %s, encoding/json %s", s, got, want)
		}
	}
}
