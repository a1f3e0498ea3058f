package controller

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/api/scheduler/v1alpha1"
	"github.com/tugboat-dev/tugboat/internal/gitops"
	"github.com/tugboat-dev/tugboat/internal/promotion"
	"github.com/tugboat-dev/tugboat/internal/scheduler"
	"github.com/tugboat-dev/tugboat/internal/sources"
)

// Reasons of an Environment's Compliant condition.
const (
	ReasonCompliant          = "Compliant"
	ReasonPending            = "Pending"
	ReasonClusterUnreachable = "ClusterUnreachable"
	ReasonClusterUnhealthy   = "ClusterUnhealthy"
	ReasonNoMembers          = "NoMembers"
	ReasonNotScheduled       = "NotScheduled"
)

// The in-cluster reconcilers Tugboat reads.
var (
	fluxKustomization = schema.GroupKind{Group: "kustomize.toolkit.fluxcd.io", Kind: "Kustomization"}
	argoApplication   = schema.GroupKind{Group: "argoproj.io", Kind: "Application"}
)

// observed is what one member cluster runs, as read (before the GitOps revision
// is mapped to a control-plane commit).
type observed struct {
	cluster     libv1beta1.SveltosCluster
	clusterType string
	delivery    *v1alpha1.ClusterTypeDelivery // nil: no folder for its cluster type
	revision    string                        // GitOps commit
	healthy     bool
	unreachable bool
	message     string
}

// observeMembers reads every member cluster of env (SveltosClusters labelled
// with the environment) according to how its cluster type is delivered.
func (r *EnvironmentReconciler) observeMembers(ctx context.Context, env string, repo *v1alpha1.GitOpsRepo) ([]observed, error) {
	list := &libv1beta1.SveltosClusterList{}
	if err := r.Client.List(ctx, list, client.MatchingLabels{v1alpha1.MemberEnvironmentLabel: env}); err != nil {
		return nil, fmt.Errorf("listing the member clusters of %s: %w", env, err)
	}
	deliveries := map[string]*v1alpha1.ClusterTypeDelivery{}
	for i := range repo.Status.Delivery {
		deliveries[repo.Status.Delivery[i].ClusterType] = &repo.Status.Delivery[i]
	}
	var out []observed
	for _, sc := range list.Items {
		_, ct, ok := scheduler.Membership(sc.Labels)
		if !ok || !sc.DeletionTimestamp.IsZero() {
			continue
		}
		o := observed{cluster: sc, clusterType: ct, delivery: deliveries[ct]}
		switch {
		case !sc.Status.Ready:
			o.unreachable = true
			o.message = "unreachable"
			if sc.Status.FailureMessage != nil && *sc.Status.FailureMessage != "" {
				o.message += ": " + *sc.Status.FailureMessage
			}
		case o.delivery == nil:
			o.healthy = true // nothing of this environment is assigned to its cluster type
		case o.delivery.Mode == v1alpha1.DeliveryTugboat:
			r.observeSummary(ctx, repo, &o)
		default:
			r.observeInCluster(ctx, &o)
		}
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return clusterName(out[i].cluster) < clusterName(out[j].cluster) })
	return out, nil
}

func clusterName(sc libv1beta1.SveltosCluster) string { return sc.Namespace + "/" + sc.Name }

// observeSummary reads the ClusterSummary of the generated profile in the
// cluster: the GitOps revision its Resources feature last deployed.
func (r *EnvironmentReconciler) observeSummary(ctx context.Context, repo *v1alpha1.GitOpsRepo, o *observed) {
	list := &configv1beta1.ClusterSummaryList{}
	if err := r.Client.List(ctx, list, client.InNamespace(o.cluster.Namespace), client.MatchingLabels{
		configv1beta1.ClusterProfileNameLabel: o.delivery.Profile,
		configv1beta1.ClusterNameLabel:        o.cluster.Name,
	}); err != nil {
		o.message = fmt.Sprintf("reading its ClusterSummary: %v", err)
		return
	}
	if len(list.Items) == 0 {
		o.message = fmt.Sprintf("ClusterProfile %s has not reached it yet", o.delivery.Profile)
		return
	}
	sum := list.Items[0]
	for _, f := range sum.Status.FeatureSummaries {
		if f.FeatureID != libv1beta1.FeatureResources {
			continue
		}
		for _, rev := range f.SourceRevisions {
			if rev.Kind == sources.GitRepository && rev.Namespace+"/"+rev.Name == repo.Status.Source {
				o.revision = gitops.RevisionCommit(rev.Revision)
			}
		}
		switch f.Status {
		case libv1beta1.FeatureStatusProvisioned:
			o.healthy = true
		default:
			o.message = fmt.Sprintf("ClusterSummary %s/%s: %s", sum.Namespace, sum.Name, cmpOr(string(f.Status), "not deployed yet"))
			if f.FailureMessage != nil {
				o.message += ": " + *f.FailureMessage
			}
		}
		return
	}
	o.message = fmt.Sprintf("ClusterSummary %s/%s has not deployed yet", sum.Namespace, sum.Name)
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// observeInCluster reads the Flux Kustomization or Argo CD Application that
// delivers the cluster type's folder inside the cluster, through the registry's
// connection (agentless).
func (r *EnvironmentReconciler) observeInCluster(ctx context.Context, o *observed) {
	key := libv1beta1.SveltosClusterID(o.cluster.Namespace, o.cluster.Name)
	ns, name, _ := strings.Cut(o.delivery.Reconciler, "/")
	gk := fluxKustomization
	if o.delivery.Mode == v1alpha1.DeliveryArgoCD {
		gk = argoApplication
	}
	what := fmt.Sprintf("%s %s/%s", gk.Kind, ns, name)
	conn, err := r.Registry.Get(ctx, key)
	if err != nil {
		o.unreachable, o.message = true, fmt.Sprintf("unreachable: %v", err)
		return
	}
	c, err := conn.Client()
	if err != nil {
		o.unreachable, o.message = true, fmt.Sprintf("unreachable: %v", err)
		return
	}
	mapper, err := conn.RESTMapper()
	if err != nil {
		o.unreachable, o.message = true, fmt.Sprintf("unreachable: %v", err)
		return
	}
	mapping, err := mapper.RESTMapping(gk)
	if err != nil {
		if meta.IsNoMatchError(err) {
			o.message = fmt.Sprintf("does not serve %s (is %s installed?)", gk, o.delivery.Mode)
			return
		}
		o.unreachable, o.message = true, fmt.Sprintf("unreachable: %v", err)
		return
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(mapping.GroupVersionKind)
	if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, u); err != nil {
		if apierrors.IsNotFound(err) {
			o.message = what + " not found"
			return
		}
		o.unreachable, o.message = true, fmt.Sprintf("unreachable: reading %s: %v", what, err)
		return
	}
	if o.delivery.Mode == v1alpha1.DeliveryArgoCD {
		rev, _, _ := unstructured.NestedString(u.Object, "status", "sync", "revision")
		sync, _, _ := unstructured.NestedString(u.Object, "status", "sync", "status")
		health, _, _ := unstructured.NestedString(u.Object, "status", "health", "status")
		o.revision = gitops.RevisionCommit(rev)
		o.healthy = sync == "Synced" && health == "Healthy"
		if !o.healthy {
			o.message = fmt.Sprintf("%s: sync %s, health %s", what, cmpOr(sync, "unknown"), cmpOr(health, "unknown"))
		}
		return
	}
	rev, _, _ := unstructured.NestedString(u.Object, "status", "lastAppliedRevision")
	o.revision = gitops.RevisionCommit(rev)
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	ready, readyMsg := "Unknown", "no Ready condition yet"
	for _, raw := range conds {
		if m, ok := raw.(map[string]any); ok && m["type"] == "Ready" {
			ready, _ = m["status"].(string)
			readyMsg, _ = m["message"].(string)
		}
	}
	o.healthy = ready == "True"
	if !o.healthy {
		o.message = fmt.Sprintf("%s not Ready: %s", what, readyMsg)
	}
}

// resolveCommits maps each member's GitOps revision to the control-plane commit
// it was rendered from (cached: commits do not change).
func (r *EnvironmentReconciler) resolveCommits(ctx context.Context, repo *v1alpha1.GitOpsRepo, members []observed) ([]v1alpha1.ClusterCompliance, error) {
	var errs []error
	out := make([]v1alpha1.ClusterCompliance, 0, len(members))
	for _, o := range members {
		cc := v1alpha1.ClusterCompliance{
			Namespace: o.cluster.Namespace, Name: o.cluster.Name, ClusterType: o.clusterType,
			Revision: o.revision, Healthy: o.healthy && !o.unreachable, Message: o.message,
		}
		if o.delivery != nil {
			cc.Delivery = o.delivery.Mode
		}
		if o.revision != "" {
			commit, err := r.promotedCommit(ctx, repo.Spec.RepositoryReference, o.revision)
			if err != nil {
				errs = append(errs, err)
			}
			cc.Commit = commit
		}
		out = append(out, cc)
	}
	return out, errors.Join(errs...)
}

func (r *EnvironmentReconciler) promotedCommit(ctx context.Context, ref v1alpha1.RepositoryReference, revision string) (string, error) {
	key := ref.Repo + "\x00" + ref.Path + "\x00" + revision
	r.mu.Lock()
	commit, ok := r.promoted[key]
	r.mu.Unlock()
	if ok {
		return commit, nil
	}
	commit, found, err := gitops.PromotedCommit(ctx, r.cache(), ref, revision)
	if err != nil {
		return "", err
	}
	if !found {
		commit = ""
	}
	r.mu.Lock()
	if r.promoted == nil {
		r.promoted = map[string]string{}
	}
	r.promoted[key] = commit
	r.mu.Unlock()
	return commit, nil
}

// Compliance is an environment's verdict on one control-plane commit.
type Compliance struct {
	Compliant bool
	Reason    string
	// Message is the condition message; Waiting what a promotion out of the
	// environment waits for.
	Message, Waiting string
	// Members is "<compliant>/<members>".
	Members string
}

// Assess marks each member compliant or not with commit and judges the
// environment: compliant when it has members and every one of them is healthy
// and runs commit (members of a cluster type without a folder on the branch run
// nothing of it and count as compliant). Unreachable clusters come first in the
// message, then unhealthy ones, then those running another commit.
func Assess(env, commit string, clusters []v1alpha1.ClusterCompliance) Compliance {
	if len(clusters) == 0 {
		msg := fmt.Sprintf("no registered cluster is labelled %s=%s", v1alpha1.MemberEnvironmentLabel, env)
		return Compliance{Reason: ReasonNoMembers, Message: msg, Waiting: msg, Members: "0/0"}
	}
	var unreachable, unhealthy, behind []string
	ok := 0
	for i := range clusters {
		c := &clusters[i]
		name := c.Namespace + "/" + c.Name
		switch {
		case c.Delivery == "" && c.Healthy:
			c.Compliant = true
			c.Message = fmt.Sprintf("no folder for cluster type %s on the branch", c.ClusterType)
		case !c.Healthy && strings.HasPrefix(c.Message, "unreachable"):
			unreachable = append(unreachable, name+" is "+c.Message)
		case !c.Healthy:
			unhealthy = append(unhealthy, name+": "+c.Message)
		case commit != "" && c.Commit == commit:
			c.Compliant, c.Message = true, ""
		case c.Revision == "":
			c.Message = "runs no known revision yet"
			behind = append(behind, name+" "+c.Message)
		case c.Commit == "":
			c.Message = fmt.Sprintf("runs %s, which carries no %s", promotion.Short(c.Revision), scheduler.PromotedCommitFile)
			behind = append(behind, name+" "+c.Message)
		default:
			c.Message = "runs " + promotion.Short(c.Commit)
			behind = append(behind, name+" runs "+promotion.Short(c.Commit))
		}
		if c.Compliant {
			ok++
		}
	}
	res := Compliance{Members: fmt.Sprintf("%d/%d", ok, len(clusters))}
	if ok == len(clusters) && commit != "" {
		res.Compliant, res.Reason = true, ReasonCompliant
		res.Message = fmt.Sprintf("all %d %s cluster(s) run %s", len(clusters), env, promotion.Short(commit))
		return res
	}
	res.Reason = ReasonPending
	switch {
	case len(unreachable) > 0:
		res.Reason = ReasonClusterUnreachable
	case len(unhealthy) > 0:
		res.Reason = ReasonClusterUnhealthy
	}
	target := promotion.Short(commit)
	if commit == "" {
		target = "the environment's commit (unknown yet)"
	}
	parts := []string{fmt.Sprintf("%d of %d %s cluster(s) run %s", ok, len(clusters), env, target)}
	parts = append(parts, unreachable...)
	parts = append(parts, unhealthy...)
	parts = append(parts, behind...)
	res.Message = strings.Join(parts, "; ")
	res.Waiting = res.Message
	return res
}
