// Package hack carries the scripts that programs run as well as make: tug's local
// platform runs postgres.sh for its database stand-in from any folder.
package hack

import _ "embed"

//go:embed postgres.sh
var postgresScript []byte

// PostgresScript is postgres.sh (a private PostgreSQL server from Debian's postgresql).
func PostgresScript() []byte { return postgresScript }
