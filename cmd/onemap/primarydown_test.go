package main

import (
	"errors"
	"fmt"
	"syscall"
	"testing"

	"github.com/onemapgis/onemap"
)

// TestEither: a read falls back to the standby only when no primary
// answered (refused, or only standbys answered: read_only), never for a
// wrong or slow query; without a fallback, or when the fallback fails
// too, the primary's error is returned.
func TestEither(t *testing.T) {
	refused := fmt.Errorf("postgis: list cases: %w", &onemap.Error{Code: onemap.EUNAVAILABLE, Message: "the database is unavailable",
		Err: fmt.Errorf("dial: %w", syscall.ECONNREFUSED)})
	readOnly := fmt.Errorf("%w (no primary)", onemap.ErrReadOnly)
	invalid := onemap.Errorf(onemap.EINVALID, "bad filter")
	slow := &onemap.Error{Code: onemap.EUNAVAILABLE, Message: "the database took too long"}
	for _, tc := range []struct {
		name              string
		primary, fallback error // nil: answers
		noFallback        bool
		want              string
		wantErr           error
	}{
		{name: "primary answers", want: "primary"},
		{name: "primary refused", primary: refused, want: "standby"},
		{name: "only standbys answer", primary: readOnly, want: "standby"},
		{name: "a wrong query", primary: invalid, wantErr: invalid},
		{name: "a slow query", primary: slow, wantErr: slow},
		{name: "no fallback", primary: refused, noFallback: true, wantErr: refused},
		{name: "the fallback fails too", primary: refused, fallback: errors.New("standby down"), wantErr: refused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := map[string]error{"primary": tc.primary, "standby": tc.fallback}
			fallback := "standby"
			if tc.noFallback {
				fallback = ""
			}
			got, err := either("primary", fallback, func(db string) (string, error) {
				if err := errs[db]; err != nil {
					return "", err
				}
				return db, nil
			})
			if tc.wantErr != nil {
				if err != tc.wantErr {
					t.Errorf("got %q, %v; want the error %v", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
