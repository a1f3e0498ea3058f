package postgreswriter

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestUnitWriteFailureReason(t *testing.T) {
	cases := map[string]struct {
		err  error
		want string
	}{
		"dial":            {fmt.Errorf("upserting: %w", io.ErrUnexpectedEOF), ReasonDatabaseUnavailable},
		"deadline":        {context.DeadlineExceeded, ReasonDatabaseUnavailable},
		"shutdown":        {&pgconn.PgError{Code: "57P01"}, ReasonDatabaseUnavailable},
		"too many conns":  {&pgconn.PgError{Code: "53300"}, ReasonDatabaseUnavailable},
		"missing table":   {fmt.Errorf("x: %w", &pgconn.PgError{Code: "42P01"}), ReasonTableMissing},
		"missing schema":  {&pgconn.PgError{Code: "3F000"}, ReasonTableMissing},
		"permission":      {&pgconn.PgError{Code: "42501"}, ReasonWriteFailed},
		"no unique on id": {&pgconn.PgError{Code: "42P10"}, ReasonWriteFailed},
	}
	for name, c := range cases {
		if got := writeFailureReason(c.err); got != c.want {
			t.Errorf("%s: reason %s, want %s", name, got, c.want)
		}
	}
}
