// Package charts carries the chart sources of this folder (see README.md) so that
// the local platform (`tug dev up`) serves them from any folder, without a checkout.
package charts

import (
	"embed"
	"io/fs"
)

//go:embed all:cloudnative-pg all:cloudnative-pg-0.27.2 all:platform-baseline
var sources embed.FS

// Sources is the folder of chart sources: one sub-folder per chart version.
func Sources() fs.FS { return sources }
