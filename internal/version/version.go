// Package version says which Tugboat build is running: set at build time with
// -ldflags "-X github.com/tugboat-dev/tugboat/internal/version.version=v…", else
// the module version from the build information, else "dev".
package version

import "runtime/debug"

var version = ""

// String is the version of this build.
func String() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// ConfigMapName is the ConfigMap, in the manager's namespace, where a running
// manager records its version for `tug version`.
const ConfigMapName = "tugboat-manager"
