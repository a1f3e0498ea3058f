package postgreswriter

import (
	"regexp"
	"strings"
	"testing"
)

func TestUnitParseTableName(t *testing.T) {
	valid := map[string]string{ // spec.table -> quoted SQL
		"students":              `"students"`,
		"Students":              `"students"`,
		"_t1":                   `"_t1"`,
		"public.students":       `"public"."students"`,
		"order":                 `"order"`, // reserved words are fine once quoted
		strings.Repeat("a", 63): `"` + strings.Repeat("a", 63) + `"`,
	}
	for in, want := range valid {
		tn, err := ParseTableName(in)
		if err != nil {
			t.Errorf("ParseTableName(%q): %v", in, err)
			continue
		}
		if got := tn.Sanitize(); got != want {
			t.Errorf("ParseTableName(%q).Sanitize() = %s, want %s", in, got, want)
		}
	}
	invalid := []string{
		"",
		"students; DROP TABLE x",
		`students"; DROP TABLE x; --`,
		`"students"`,
		"my table",
		"a.b.c",
		".students",
		"students.",
		"1students",
		"stu-dents",
		"étudiants",
		"students\x00",
		strings.Repeat("a", 64),
		"students\n",
	}
	for _, in := range invalid {
		if tn, err := ParseTableName(in); err == nil {
			t.Errorf("ParseTableName(%q) = %s, want an error", in, tn.Sanitize())
		}
	}
}

// sanitizedPattern is everything a validated, quoted table name can look like.
var sanitizedPattern = regexp.MustCompile(`^"[a-z_][a-z0-9_]{0,62}"(\."[a-z_][a-z0-9_]{0,62}")?$`)

func FuzzParseTableName(f *testing.F) {
	for _, seed := range []string{
		"students", "public.students", "Students", "students; DROP TABLE x",
		`students"; DROP TABLE x; --`, `a"."b`, "my table", "a.b.c", "", ".", "_",
		"select", "x\x00y", "ünïcode", strings.Repeat("z", 64), `""`, "a..b", "a;b",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tn, err := ParseTableName(s)
		if err != nil {
			if !tn.IsZero() {
				t.Fatalf("ParseTableName(%q) failed but returned a table", s)
			}
			return
		}
		q := tn.Sanitize()
		// Accepted names are plain identifiers only: no way to break out of
		// the quotes, no statement separator, no comment.
		if !sanitizedPattern.MatchString(q) {
			t.Fatalf("ParseTableName(%q).Sanitize() = %s, not a quoted plain identifier", s, q)
		}
		if strings.ContainsAny(s, "\"'; \t\n\x00-/\\") {
			t.Fatalf("ParseTableName(%q) accepted a name with a special character", s)
		}
		// The quoted form names exactly the table given, read case-insensitively.
		if unq := strings.ReplaceAll(q, `"`, ""); unq != strings.ToLower(s) || tn.String() != unq {
			t.Fatalf("ParseTableName(%q): quoted %s, String %s", s, q, tn.String())
		}
	})
}

// FuzzQuoteIdentifier checks the quoting layer on its own, for any part: the
// result is one double-quoted identifier that reads back as the input.
func FuzzQuoteIdentifier(f *testing.F) {
	for _, seed := range []string{"students", `a"b`, `"; DROP TABLE x; --`, "a b", `""`, "x\x00y", "."} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := TableName{parts: []string{s}}.Sanitize()
		if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
			t.Fatalf("quoting %q gave %s: not enclosed in double quotes", s, q)
		}
		inner := q[1 : len(q)-1]
		// Inside, every double quote is doubled, so none closes the identifier.
		if strings.Contains(strings.ReplaceAll(inner, `""`, ""), `"`) {
			t.Fatalf("quoting %q gave %s: a lone double quote ends the identifier early", s, q)
		}
		// PostgreSQL identifiers cannot hold NUL; pgx drops it.
		if back := strings.ReplaceAll(inner, `""`, `"`); back != strings.ReplaceAll(s, "\x00", "") {
			t.Fatalf("quoting %q gave %s which reads back as %q", s, q, back)
		}
	})
}
