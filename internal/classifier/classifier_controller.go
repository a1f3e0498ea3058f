package classifier

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/conditions"
	"github.com/tugboat-dev/tugboat/internal/events"
	"github.com/tugboat-dev/tugboat/internal/scripting"
	"github.com/tugboat-dev/tugboat/internal/selection"
)

// ClassifierFinalizer holds a Classifier until the labels it manages and its
// ClassifierReports are gone.
const ClassifierFinalizer = "classifierfinalizer.projectsveltos.io"

// Reasons of the Events the classifier controllers record.
const (
	reasonClassificationFailed = "ClassificationFailed"
	reasonLabelConflict        = "LabelConflict"
	reasonInvalidSpec          = "InvalidSpec"
	reasonIncomplete           = "ClassificationIncomplete"
)

// classifierReconciler evaluates each Classifier in every cluster of its shard
// and keeps the labels it manages, its status and its ClassifierReports current.
// Its watches hold, per Classifier, the kinds its resourceSelectors select in
// each cluster.
type classifierReconciler struct{ fleetWatcher }

func (r *classifierReconciler) setupWithManager(mgr ctrl.Manager) error {
	// A cluster appearing, going, becoming ready, changing version or labels:
	// every Classifier looks again.
	return r.setup(mgr, "classifier", &libv1beta1.Classifier{}, func() client.ObjectList { return &libv1beta1.ClassifierList{} }, r)
}

// classifierRules is a Classifier's spec compiled.
type classifierRules struct {
	versions   []versionConstraint
	matchers   []*events.Matcher
	aggregated *scripting.Lua
	// resources is true when the Classifier has a deployedResourceConstraint.
	resources bool
}

func compileClassifier(cl *libv1beta1.Classifier) (*classifierRules, error) {
	rules := &classifierRules{}
	var err error
	if rules.versions, err = compileVersionConstraints(cl.Spec.KubernetesVersionConstraints); err != nil {
		return nil, err
	}
	drc := cl.Spec.DeployedResourceConstraint
	if drc == nil {
		return rules, nil
	}
	rules.resources = true
	if rules.matchers, err = compileSelectors("deployedResourceConstraint.resourceSelectors", drc.ResourceSelectors); err != nil {
		return nil, err
	}
	if strings.TrimSpace(drc.AggregatedClassification) != "" {
		if rules.aggregated, err = scripting.CompileLua(drc.AggregatedClassification); err != nil {
			return nil, fmt.Errorf("deployedResourceConstraint.aggregatedClassification: %w", err)
		}
	}
	return rules, nil
}

// verdict is a Classifier's evaluation in one cluster.
type verdict struct {
	match bool
	// pending: an informer has not synced yet; nothing is decided.
	pending bool
	// err: the cluster could not be evaluated (unreachable, bad script, …);
	// nothing is decided and the cluster keeps its labels.
	err error
}

// Reconcile evaluates the Classifier in every cluster of the shard, labels the
// matching clusters, unlabels the others, and records the outcome in status
// (written once on the way out) and in ClassifierReports.
func (r *classifierReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, retErr error) {
	cl := &libv1beta1.Classifier{}
	if err := r.client.Get(ctx, req.NamespacedName, cl); err != nil {
		if !apierrors.IsNotFound(err) {
			return ctrl.Result{}, fmt.Errorf("reading Classifier %s: %w", req.Name, err)
		}
		r.watcher.Release(req.Name, nil)
		return ctrl.Result{}, nil
	}
	if !cl.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.finalize(ctx, cl)
	}
	if controllerutil.AddFinalizer(cl, ClassifierFinalizer) {
		if err := r.client.Update(ctx, cl); err != nil {
			return ctrl.Result{}, fmt.Errorf("adding the finalizer of Classifier %s: %w", cl.Name, err)
		}
	}
	patcher := conditions.NewStatusPatcher(r.client, cl)
	defer func() { retErr = errors.Join(retErr, patcher.Patch(ctx, cl)) }()

	rules, compileErr := compileClassifier(cl)
	fleet, err := r.fleet.List(ctx, "")
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("classifying clusters for Classifier %s: %w", cl.Name, err)
	}
	slices.SortFunc(fleet, func(a, b selection.Cluster) int { return selection.CompareIDs(a.ID, b.ID) })

	previous := readPreviousStatus(cl.Status)
	cl.Status = libv1beta1.ClassifierStatus{}
	owner := labelOwner(libv1beta1.ClassifierKind, cl.Name)
	keep := map[clusters.WatchKey]bool{}
	present := map[libv1beta1.ClusterID]bool{}
	// invalidReported: a spec that does not compile is one Event, not one per cluster.
	invalidReported := false
	var errs []error
	for _, c := range fleet {
		id := c.ID.Normal()
		if c.Deleting {
			continue
		}
		present[id] = true
		if !r.shard.Owns(c.Object) {
			// Another manager's shard classifies this cluster: keep what it recorded.
			previous.carry(&cl.Status, id)
			continue
		}
		v := r.classify(ctx, cl.Name, rules, compileErr, c, keep)
		switch {
		case v.err != nil:
			msg := v.err.Error()
			cl.Status.ClusterInfo = append(cl.Status.ClusterInfo, libv1beta1.ClusterInfo{Cluster: c.Ref(), Status: libv1beta1.FeatureStatusFailed, FailureMessage: &msg})
			if previous.failure(id) != msg && compileErr == nil {
				r.event(cl, c.Object, corev1.EventTypeWarning, reasonClassificationFailed, "cluster %s: %s; its labels stay as they were", id, msg)
			}
			if previous.failure(id) != msg && compileErr != nil && !invalidReported {
				invalidReported = true
				r.event(cl, nil, corev1.EventTypeWarning, reasonInvalidSpec, "%s; the labels of every cluster stay as they were", msg)
			}
			previous.carryMatching(&cl.Status, id)
			continue
		case v.pending:
			// The watches of the resourceSelectors are still listing the cluster's resources.
			cl.Status.ClusterInfo = append(cl.Status.ClusterInfo, libv1beta1.ClusterInfo{Cluster: c.Ref(), Status: libv1beta1.FeatureStatusProvisioning})
			previous.carryMatching(&cl.Status, id)
			continue
		}
		var want []libv1beta1.ClassifierLabel
		if v.match {
			want = cl.Spec.ClassifierLabels
		}
		plan, err := labelCluster(ctx, r.client, c.Object, owner, want)
		if err != nil {
			errs = append(errs, fmt.Errorf("Classifier %s: %w", cl.Name, err))
			if apierrors.IsConflict(err) {
				previous.carry(&cl.Status, id) // changed meanwhile: the next pass decides
				continue
			}
			msg := err.Error()
			cl.Status.ClusterInfo = append(cl.Status.ClusterInfo, libv1beta1.ClusterInfo{Cluster: c.Ref(), Status: libv1beta1.FeatureStatusFailed, FailureMessage: &msg})
			previous.carryMatching(&cl.Status, id)
			continue
		}
		cl.Status.ClusterInfo = append(cl.Status.ClusterInfo, libv1beta1.ClusterInfo{Cluster: c.Ref(), Status: libv1beta1.FeatureStatusProvisioned})
		if v.match {
			cl.Status.MachingClusterStatuses = append(cl.Status.MachingClusterStatuses, libv1beta1.MachingClusterStatus{
				ClusterRef: c.Ref(), ManagedLabels: plan.managed, UnManagedLabels: plan.unmanaged})
			var conflicts []string
			for _, u := range plan.unmanaged {
				if !previous.hasConflict(id, *u.FailureMessage) {
					conflicts = append(conflicts, *u.FailureMessage)
				}
			}
			if len(conflicts) > 0 {
				r.event(cl, c.Object, corev1.EventTypeWarning, reasonLabelConflict, "cluster %s: %s", id, strings.Join(conflicts, "; "))
			}
		}
		if err := r.writeReport(ctx, cl.Name, id, v.match); err != nil {
			errs = append(errs, err)
		}
	}
	if err := r.deleteReports(ctx, cl.Name, present); err != nil {
		errs = append(errs, err)
	}
	r.watcher.Release(cl.Name, keep)
	return ctrl.Result{}, errors.Join(errs...)
}

// classify evaluates the Classifier's constraints in one cluster.
func (r *classifierReconciler) classify(ctx context.Context, name string, rules *classifierRules, compileErr error,
	c selection.Cluster, keep map[clusters.WatchKey]bool) verdict {
	if compileErr != nil {
		return verdict{err: compileErr}
	}
	if !c.Ready {
		return verdict{err: notReady(c)}
	}
	if len(rules.versions) > 0 {
		v, err := r.clusterVersion(ctx, c)
		if err != nil {
			return verdict{err: err}
		}
		if unmetVersionConstraint(rules.versions, v) != "" {
			return verdict{}
		}
	}
	if !rules.resources {
		return verdict{match: true}
	}
	sel, synced, err := watchAndSelect(ctx, r.watcher, name, c.ID.Normal(), "deployedResourceConstraint.resourceSelectors", rules.matchers, keep)
	if err != nil {
		return verdict{err: err}
	}
	if !synced {
		return verdict{pending: true}
	}
	if rules.aggregated == nil {
		for _, n := range sel.perSelector {
			if n == 0 {
				return verdict{}
			}
		}
		return verdict{match: true}
	}
	out, err := rules.aggregated.Evaluate(map[string]any{"resources": sel.resources})
	if err != nil {
		return verdict{err: fmt.Errorf("deployedResourceConstraint.aggregatedClassification: %w", err)}
	}
	matching, _ := out["matching"].(bool)
	return verdict{match: matching}
}

// notReady says why a cluster that is not ready cannot be classified, with
// what its probe reported when it is a SveltosCluster.
func notReady(c selection.Cluster) error {
	if sc, ok := c.Object.(*libv1beta1.SveltosCluster); ok && sc.Status.FailureMessage != nil && *sc.Status.FailureMessage != "" {
		return fmt.Errorf("the cluster is not ready: %s", strings.TrimSpace(*sc.Status.FailureMessage))
	}
	return fmt.Errorf("the cluster is not ready (not reachable yet)")
}

// clusterVersion is the cluster's Kubernetes version: a SveltosCluster's
// status.version (its probe's), else read from the cluster's /version.
func (r *classifierReconciler) clusterVersion(ctx context.Context, c selection.Cluster) (kubeVersion, error) {
	if sc, ok := c.Object.(*libv1beta1.SveltosCluster); ok && sc.Status.Version != "" {
		return parseKubeVersion(sc.Status.Version)
	}
	info, err := r.registry.Probe(ctx, c.ID)
	if err != nil {
		return kubeVersion{}, fmt.Errorf("reading the Kubernetes version: %w", err)
	}
	return parseKubeVersion(info.GitVersion)
}

// event records an Event about the Classifier; cluster, when not nil, is the
// cluster it concerns (the Event's related object). Events of one reason about
// one object and cluster are folded into a series that keeps the first note, so
// each cluster has its own.
func (r *classifierReconciler) event(cl *libv1beta1.Classifier, cluster client.Object, eventType, reason, format string, args ...any) {
	if r.recorder == nil {
		return
	}
	if cluster == nil {
		r.recorder.Eventf(cl, nil, eventType, reason, "Classify", format, args...)
		return
	}
	r.recorder.Eventf(cl, cluster, eventType, reason, "Classify", format, args...)
}

// finalize takes off every label the Classifier manages, deletes its reports,
// stops its watches and lets the Classifier go.
func (r *classifierReconciler) finalize(ctx context.Context, cl *libv1beta1.Classifier) error {
	if !controllerutil.ContainsFinalizer(cl, ClassifierFinalizer) {
		r.watcher.Release(cl.Name, nil)
		return nil
	}
	if err := unlabelFleet(ctx, r.client, r.fleet, r.shard, labelOwner(libv1beta1.ClassifierKind, cl.Name)); err != nil {
		return fmt.Errorf("removing the labels of Classifier %s: %w", cl.Name, err)
	}
	if err := r.deleteReports(ctx, cl.Name, nil); err != nil {
		return err
	}
	r.watcher.Release(cl.Name, nil)
	before := cl.DeepCopy()
	controllerutil.RemoveFinalizer(cl, ClassifierFinalizer)
	if err := r.client.Patch(ctx, cl, client.MergeFrom(before)); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("removing the finalizer of Classifier %s: %w", cl.Name, err)
	}
	return nil
}

// unlabelFleet removes the labels owner manages from every cluster of the shard.
func unlabelFleet(ctx context.Context, c client.Client, fleet clusters.Fleet, shard clusters.Shard, owner string) error {
	list, err := fleet.List(ctx, "")
	if err != nil {
		return err
	}
	var errs []error
	for _, cluster := range list {
		if !shard.Owns(cluster.Object) {
			continue
		}
		if _, err := labelCluster(ctx, c, cluster.Object, owner, nil); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// previousStatus indexes a Classifier's status as read, per cluster.
type previousStatus struct {
	info     map[libv1beta1.ClusterID]libv1beta1.ClusterInfo
	matching map[libv1beta1.ClusterID]libv1beta1.MachingClusterStatus
}

func readPreviousStatus(st libv1beta1.ClassifierStatus) previousStatus {
	p := previousStatus{info: map[libv1beta1.ClusterID]libv1beta1.ClusterInfo{}, matching: map[libv1beta1.ClusterID]libv1beta1.MachingClusterStatus{}}
	for _, i := range st.ClusterInfo {
		if id, ok := libv1beta1.ClusterIDFromRef(i.Cluster, ""); ok {
			p.info[id.Normal()] = i
		}
	}
	for _, m := range st.MachingClusterStatuses {
		if id, ok := libv1beta1.ClusterIDFromRef(m.ClusterRef, ""); ok {
			p.matching[id.Normal()] = m
		}
	}
	return p
}

// carry copies what was recorded about the cluster into st.
func (p previousStatus) carry(st *libv1beta1.ClassifierStatus, id libv1beta1.ClusterID) {
	if i, ok := p.info[id]; ok {
		st.ClusterInfo = append(st.ClusterInfo, i)
	}
	p.carryMatching(st, id)
}

// carryMatching keeps the cluster among the matching clusters when it was (its last good state).
func (p previousStatus) carryMatching(st *libv1beta1.ClassifierStatus, id libv1beta1.ClusterID) {
	if m, ok := p.matching[id]; ok {
		st.MachingClusterStatuses = append(st.MachingClusterStatuses, m)
	}
}

// failure is the failure recorded for the cluster ("" when none).
func (p previousStatus) failure(id libv1beta1.ClusterID) string {
	if i, ok := p.info[id]; ok && i.Status == libv1beta1.FeatureStatusFailed && i.FailureMessage != nil {
		return *i.FailureMessage
	}
	return ""
}

// hasConflict reports whether the conflict was already recorded for the cluster.
func (p previousStatus) hasConflict(id libv1beta1.ClusterID, msg string) bool {
	for _, u := range p.matching[id].UnManagedLabels {
		if u.FailureMessage != nil && *u.FailureMessage == msg {
			return true
		}
	}
	return false
}
