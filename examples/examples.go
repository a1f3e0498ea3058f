// Package examples carries the manifests users follow, inside the binaries that
// need them: the database-as-a-service tutorial (dbaas/, the Sveltos tutorial's
// four manifests byte for byte), the portal act's CloudEvent trigger (portal/),
// the Kalypso scheduler's templates and samples (kalypso/), and the
// multi-cluster scheduling tutorial's repositories (kalypso-tutorial/). `tug dev tutorial` plays DBaaS and `tug dev tutorial
// scheduling` the scheduling tutorial from here, so an installed tug needs no
// checkout; tests and benchmarks read the same files.
package examples

import (
	"embed"
	"fmt"
	"io/fs"
)

//go:embed dbaas/*.yaml
var dbaas embed.FS

//go:embed portal/portal.yaml
var portal []byte

//go:embed kalypso/README.md kalypso/samples/*.yaml kalypso/templates/*.yaml
var kalypso embed.FS

// all: keeps the hidden folders of the control plane (.environments, .github).
//
//go:embed all:kalypso-tutorial
var kalypsoTutorial embed.FS

// DBaaS is the database-as-a-service tutorial's folder of manifests:
// cloudnative-pg.yaml, auto-deploy-postgres-cluster.yaml,
// fetch-postgres-data.yaml and job-to-create-table.yaml.
func DBaaS() fs.FS { return sub(dbaas, "dbaas") }

// Kalypso is the Kalypso scheduler's folder: templates/ (the Template objects a
// new installation starts with) and samples/ (one object of each kind).
func Kalypso() fs.FS { return sub(kalypso, "kalypso") }

// KalypsoTutorial is the multi-cluster scheduling tutorial (Kalypso's, seed 004)
// as repositories: control-plane/{main,dev,stage} (the branches of the control
// plane, main with the app's registration workloads/hello-world-app.yaml),
// app-src/ (the app team's repository), expected/ (what the scheduler writes for
// the functional-test target in dev), steps/ (files later steps add) and
// member-crds/ (the Flux kinds the assignments' reconciler.yaml holds, so that a
// member cluster without Flux stores them). See kalypso-tutorial/README.md.
func KalypsoTutorial() fs.FS { return sub(kalypsoTutorial, "kalypso-tutorial") }

// Portal is the portal act's manifest (portal/portal.yaml): an EventSource of
// CloudEvents from a developer portal, the EventTrigger turning "Create
// database" into a PostgreSQL Cluster in the services clusters and "Delete" into
// its withdrawal, and the template it instantiates.
func Portal() []byte { return portal }

// DBaaSManifest is one of the tutorial's manifests, by file name.
func DBaaSManifest(name string) ([]byte, error) {
	b, err := fs.ReadFile(DBaaS(), name)
	if err != nil {
		return nil, fmt.Errorf("the database-as-a-service tutorial has no manifest %s: %w", name, err)
	}
	return b, nil
}

func sub(f embed.FS, dir string) fs.FS {
	s, err := fs.Sub(f, dir)
	if err != nil {
		panic(err) // dir is a literal embedded above
	}
	return s
}
