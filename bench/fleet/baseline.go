package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/internal/templating"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// The baseline of a fan-out is the harness doing the same work without Tugboat:
// the fan-out's objects, rendered for each cluster, sent with plain server-side
// apply to the same API servers, then deleted with one DELETE each. It answers
// "how fast can these API servers on this machine take this at all", measured in
// the same run, so Tugboat's times can be read as a ratio.

// baselineManager is the field manager of the harness's own applies.
const baselineManager = "bench-baseline"

// baseline is one measured baseline of a fan-out size.
type baseline struct {
	n, k    int
	workers int // clusters worked on at once
	// clusters are the clusters it applied to.
	clusters []fleetCluster
	apply    time.Duration // every object applied
	delete   time.Duration // every object deleted
}

// baselineObjects renders the objects a fan-out profile named profile deploys to
// cluster c, the way the profile's template renders them.
func baselineObjects(profile, cluster string, k int) ([]*unstructured.Unstructured, error) {
	src := strings.ReplaceAll(objectsYAML(profile, k), "{{ .Cluster.metadata.name }}", cluster)
	return templating.SplitDocuments("baseline "+profile, src)
}

// baselineApply applies k objects named after the fan-out of len(cls) clusters
// to the clusters cls, workers clusters at a time and each cluster's objects in
// order, as the manager's workers do with one ClusterSummary each.
func (h *harness) baselineApply(ctx context.Context, cls []fleetCluster, k, workers int) (*baseline, error) {
	n := len(cls)
	profile := fmt.Sprintf("base-n%d", n)
	b := &baseline{n: n, k: k, workers: workers, clusters: cls}
	start := time.Now()
	err := testenv.Parallel(ctx, workers, n, func(i int) error {
		c := cls[i]
		objs, err := baselineObjects(profile, c.name, k)
		if err != nil {
			return err
		}
		// The manager makes sure of the namespace too (one request per summary).
		if err := h.ensureNamespace(ctx, c.server.c, c.name); err != nil {
			return err
		}
		for _, o := range objs {
			if err := c.server.c.Patch(ctx, o, client.Apply, client.FieldOwner(baselineManager), client.ForceOwnership); err != nil {
				return fmt.Errorf("baseline: applying %s/%s to %s: %w", o.GetKind(), o.GetName(), c.name, err)
			}
		}
		return nil
	})
	b.apply = time.Since(start)
	if err != nil {
		return nil, err
	}
	logf("baseline: %d objects to %d clusters with plain server-side apply (%d clusters at a time) in %s", n*b.k, n, workers, ms(b.apply))
	return b, nil
}

// baselineDelete deletes what baselineApply applied, one DELETE per object.
func (h *harness) baselineDelete(ctx context.Context, b *baseline) error {
	profile := fmt.Sprintf("base-n%d", b.n)
	start := time.Now()
	err := testenv.Parallel(ctx, b.workers, b.n, func(i int) error {
		c := b.clusters[i]
		objs, err := baselineObjects(profile, c.name, b.k)
		if err != nil {
			return err
		}
		for j := len(objs) - 1; j >= 0; j-- {
			err := c.server.c.Delete(ctx, objs[j], client.PropagationPolicy(metav1.DeletePropagationBackground))
			if err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("baseline: deleting %s/%s from %s: %w", objs[j].GetKind(), objs[j].GetName(), c.name, err)
			}
		}
		return nil
	})
	b.delete = time.Since(start)
	logf("baseline: %d objects deleted from %d clusters in %s", b.n*b.k, b.n, ms(b.delete))
	return err
}
