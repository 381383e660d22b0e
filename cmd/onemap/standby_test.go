package main

import (
	"strings"
	"testing"
	"time"
)

// TestStandbyFlags: a read URL needs a positive poll and a lag bound of 0 or
// more, and a write URL without target_session_attrs=read-write is warned
// of (it would not follow a failover).
func TestStandbyFlags(t *testing.T) {
	for _, c := range []struct {
		s       standbyFlags
		write   string
		wantErr bool
		warned  bool
	}{
		{standbyFlags{}, "postgres://h/db", false, false},
		{standbyFlags{ReadURL: "postgres://s/db", Poll: time.Second}, "postgres://a,b/db?target_session_attrs=read-write", false, false},
		{standbyFlags{ReadURL: "postgres://s/db", Poll: time.Second}, "host=a,b dbname=db target_session_attrs=read-write", false, false},
		{standbyFlags{ReadURL: "postgres://s/db", Poll: time.Second}, "postgres://a/db", false, true},
		{standbyFlags{ReadURL: "postgres://s/db", Poll: 0}, "postgres://a/db", true, false},
		{standbyFlags{ReadURL: "postgres://s/db", Poll: time.Second, MaxLag: -time.Second}, "postgres://a/db", true, false},
	} {
		warned := false
		err := c.s.check(c.write, func(msg string, _ ...any) { warned = strings.Contains(msg, "target_session_attrs") })
		if (err != nil) != c.wantErr || warned != c.warned {
			t.Errorf("%+v with %q: error %v, warned %v; want error %v, warned %v", c.s, c.write, err, warned, c.wantErr, c.warned)
		}
	}
}
