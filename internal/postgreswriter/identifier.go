package postgreswriter

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
)

// identifierPattern is one part of a table name: what PostgreSQL accepts as an
// unquoted identifier, restricted to ASCII, at most 63 bytes (NAMEDATALEN-1).
var identifierPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// TableName is a validated table name: one or two identifier parts (table or
// schema.table), lower-cased the way PostgreSQL folds unquoted identifiers.
// The zero value is not a valid table name.
type TableName struct {
	parts []string
}

// ParseTableName validates a table name as given in a PostgresWriter's spec.table.
// It accepts "table" and "schema.table" where each part is a plain identifier
// (letter or underscore, then letters, digits or underscores; 1 to 63 characters)
// and folds them to lower case, as unquoted SQL would. Everything else — quotes,
// spaces, semicolons, dots beyond one, non-ASCII — is refused.
func ParseTableName(s string) (TableName, error) {
	if s == "" {
		return TableName{}, fmt.Errorf("table name is empty")
	}
	parts := strings.Split(s, ".")
	if len(parts) > 2 {
		return TableName{}, fmt.Errorf("table name %q has more than one dot: use table or schema.table", s)
	}
	for i, p := range parts {
		if !identifierPattern.MatchString(p) {
			return TableName{}, fmt.Errorf("table name %q: %q is not a plain identifier (a letter or underscore, then letters, digits or underscores, at most 63 characters)", s, p)
		}
		parts[i] = strings.ToLower(p)
	}
	return TableName{parts: parts}, nil
}

// String is the normalised name, schema.table or table, unquoted.
func (t TableName) String() string { return strings.Join(t.parts, ".") }

// IsZero tells whether t is the zero value (no table).
func (t TableName) IsZero() bool { return len(t.parts) == 0 }

// Sanitize is the name quoted for use in SQL text, e.g. "public"."students".
func (t TableName) Sanitize() string { return pgx.Identifier(t.parts).Sanitize() }
