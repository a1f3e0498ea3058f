//go:build tools

// Package tools pins Flux's source-controller main package for this tools module:
// tests and `tug dev up` run the real source-controller against the management
// cluster (hack/test-binaries.sh builds it once per machine).
package tools

import _ "github.com/fluxcd/source-controller"
