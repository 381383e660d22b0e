package password

import (
	"strings"
	"testing"
)

func TestHashMatches(t *testing.T) {
	h, err := Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q is not an argon2id PHC string with the configured cost", h)
	}
	if !Matches("correct horse battery", h) {
		t.Error("the password does not match its own hash")
	}
	if Matches("correct horse batterx", h) {
		t.Error("a wrong password matches")
	}
	h2, _ := Hash("correct horse battery")
	if h2 == h {
		t.Error("two hashes of one password are equal: no salt")
	}
	if Matches("anything at all", Dummy()) || Matches("x", "not a hash") {
		t.Error("the dummy or a malformed hash matches")
	}
}

func TestCheck(t *testing.T) {
	for _, pw := range []string{"", "short", "123456789", strings.Repeat("x", MaxBytes+1), "\xff\xfe invalid utf8"} {
		if err := Check(pw); err == nil {
			t.Errorf("Check(%q) accepted it", pw)
		}
	}
	for _, pw := range []string{"0123456789", "网格员的密码一二三四五"} {
		if err := Check(pw); err != nil {
			t.Errorf("Check(%q): %v", pw, err)
		}
	}
}
