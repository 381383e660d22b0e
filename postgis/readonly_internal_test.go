package postgis

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/onemapgis/onemap"
)

// TestMapErrorReadOnly: a write refused by a standby (SQLSTATE 25006) and a
// connection that target_session_attrs=read-write found only standbys for
// are onemap.ErrReadOnly; a database that does not answer stays
// EUNAVAILABLE.
func TestMapErrorReadOnly(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"standby refuses a write", &pgconn.PgError{Code: "25006", Message: "cannot execute INSERT in a read-only transaction"}, onemap.EREADONLY},
		{"no read-write host", fmt.Errorf("connect: %w", errors.Join(errors.New("dial: connection refused"), pgconn.ErrReadOnlyConnection)), onemap.EREADONLY},
		{"nothing answers", &pgconn.PgError{Code: "57P03"}, onemap.EUNAVAILABLE},
	} {
		err := mapError(c.err)
		if got := onemap.ErrorCode(err); got != c.want {
			t.Errorf("%s: code %s, want %s (%v)", c.name, got, c.want, err)
		}
		if c.want == onemap.EREADONLY && !errors.Is(err, onemap.ErrReadOnly) {
			t.Errorf("%s: not onemap.ErrReadOnly: %v", c.name, err)
		}
	}
}
