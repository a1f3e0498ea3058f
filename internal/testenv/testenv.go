// Package testenv is what test packages need around local clusters: Main starts
// the clusters of internal/localkube once per test package, Eventually waits for
// an outcome, Fixture and CreateObjects feed manifests. Programs (tug dev, the
// benchmarks) use internal/localkube directly, without package testing.
//
// Two tiers: `go test` runs everything against real API servers; `go test
// -short` (make test-unit) is the unit tier and starts none. There, Main runs
// only the tests named TestUnit… of its package — it sets the test.run flag to
// ^TestUnit before m.Run (or, when -run was given, skips with test.skip the tests
// not so named) — so a package with clusters names its pure tests TestUnit…;
// packages without TestMain run fully, skipping with testing.Short what needs
// an external server.
package testenv

import (
	"context"

	"github.com/tugboat-dev/tugboat/internal/localkube"
)

// Options configures the clusters a test package starts (localkube.Options).
type Options = localkube.Options

// Env is a running set of clusters (localkube.Env).
type Env = localkube.Env

// Cluster is one running API server (localkube.Cluster).
type Cluster = localkube.Cluster

// Start starts the clusters (localkube.Start).
func Start(ctx context.Context, opts Options) (*Env, error) { return localkube.Start(ctx, opts) }

// RepoRoot is the root of the Tugboat checkout holding the working directory.
func RepoRoot() (string, error) { return localkube.RepoRoot() }
