package controller

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/api/scheduler/v1alpha1"
	"github.com/tugboat-dev/tugboat/internal/conditions"
	"github.com/tugboat-dev/tugboat/internal/gitops"
	"github.com/tugboat-dev/tugboat/internal/scheduler"
	"github.com/tugboat-dev/tugboat/internal/sources"
)

// Delivery: the scheduler controller produces, for each GitOpsRepo, a Flux
// GitRepository following its branch and one ClusterProfile per cluster-type
// folder on that branch delivered by Tugboat, selecting the member clusters by
// their labels. It never applies anything to a managed cluster itself: the
// profile controllers do (one apply path).

// Labels and annotations of the generated objects.
const (
	// GitOpsRepoLabel and GitOpsRepoNamespaceLabel name the GitOpsRepo a
	// generated ClusterProfile belongs to (a cluster-scoped object cannot be owned
	// by a namespaced one: the DeliveryFinalizer cleans them up).
	GitOpsRepoLabel          = "scheduler.kalypso.io/gitopsrepo"
	GitOpsRepoNamespaceLabel = "scheduler.kalypso.io/gitopsrepo-namespace"
	// specHashAnnotation holds the hash of what the controller last applied: an
	// unchanged object costs no write.
	specHashAnnotation = "scheduler.kalypso.io/spec-hash"
	// DeliveryFinalizer keeps a GitOpsRepo until its generated ClusterProfiles are deleted.
	DeliveryFinalizer = "scheduler.kalypso.io/delivery"
	// fieldManager applies the generated objects.
	fieldManager = "tugboat-scheduler"
	// requestedAtAnnotation asks Flux's source-controller to fetch at once.
	requestedAtAnnotation = "reconcile.fluxcd.io/requestedAt"
	// DefaultSourceInterval is how often the generated GitRepository is fetched.
	DefaultSourceInterval = time.Minute
)

// Reasons of the Delivered condition.
const (
	ReasonDelivered      = "Delivered"
	ReasonDeliveryFailed = "DeliveryFailed"
	// ReasonSourceUnsupported: the GitOps repository's URL is not one Flux fetches.
	ReasonSourceUnsupported = "SourceUnsupported"
)

// +kubebuilder:rbac:groups=config.projectsveltos.io,resources=clusterprofiles,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=source.toolkit.fluxcd.io,resources=gitrepositories,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=scheduler.kalypso.io,resources=gitopsrepos,verbs=update;patch

// SourceName is the generated GitRepository of a GitOpsRepo (in its namespace).
func SourceName(repo *v1alpha1.GitOpsRepo) string {
	return libv1beta1.BoundedName("scheduler-" + repo.Name)
}

// ProfileName is the generated ClusterProfile of a cluster type of a GitOpsRepo.
func ProfileName(repo *v1alpha1.GitOpsRepo, clusterType string) string {
	return libv1beta1.BoundedName("scheduler-" + repo.Namespace + "-" + repo.Name + "-" + clusterType)
}

func ownedLabels(repo *v1alpha1.GitOpsRepo) map[string]string {
	return map[string]string{GitOpsRepoLabel: repo.Name, GitOpsRepoNamespaceLabel: repo.Namespace}
}

// deliver reads the head of the GitOps branch and makes the delivery objects
// match its cluster-type folders; status.source, branchCommit, delivery and the
// Delivered condition record the outcome. pushed asks the source to fetch at once.
func (r *Reconciler) deliver(ctx context.Context, repo *v1alpha1.GitOpsRepo, env string, cp *gitops.ControlPlane, pushed bool) error {
	var before metav1.Condition
	if c := conditions.Get(repo, v1alpha1.ConditionDelivered); c != nil {
		before = *c
	}
	defer r.deliveryEvent(repo, before)
	branch, err := gitops.ReadBranch(ctx, r.cache(), repo.Spec.RepositoryReference)
	if err != nil {
		mark(repo, v1alpha1.ConditionDelivered, metav1.ConditionFalse, ReasonDeliveryFailed, fmt.Sprintf("environment %s: %v", env, err))
		return err
	}
	clusterTypes := map[string]v1alpha1.ClusterType{}
	for _, ct := range cp.Manifests.ClusterTypes {
		clusterTypes[ct.Name] = ct
	}
	previous := map[string]v1alpha1.ClusterTypeDelivery{}
	for _, d := range repo.Status.Delivery {
		previous[d.ClusterType] = d
	}
	var (
		deliveries []v1alpha1.ClusterTypeDelivery
		profiles   []*configv1beta1.ClusterProfile
		problems   []string
		// kept are the profiles of cluster types whose delivery cannot be read
		// now: left as they were (the last good state).
		kept = map[string]bool{}
	)
	for _, name := range branch.ClusterTypes {
		d := scheduler.Delivery{Mode: v1alpha1.DeliveryTugboat}
		if ct, ok := clusterTypes[name]; ok {
			if d, err = scheduler.DeliveryOf(ct); err != nil {
				problems = append(problems, err.Error())
				if prev, ok := previous[name]; ok {
					deliveries = append(deliveries, prev)
					if prev.Profile != "" {
						kept[prev.Profile] = true
					}
				}
				continue
			}
		}
		entry := v1alpha1.ClusterTypeDelivery{ClusterType: name, Mode: d.Mode}
		if d.Mode == v1alpha1.DeliveryTugboat {
			p := clusterProfile(repo, env, name)
			entry.Profile = p.Name
			profiles = append(profiles, p)
		} else {
			entry.Reconciler = d.Namespace + "/" + d.Name
		}
		deliveries = append(deliveries, entry)
	}

	var errs []error
	src := r.gitRepository(repo)
	needSource := len(profiles) > 0 || len(kept) > 0
	if needSource && src == nil {
		// Nothing Flux can fetch: no profile either (it would only fail).
		mark(repo, v1alpha1.ConditionDelivered, metav1.ConditionFalse, ReasonSourceUnsupported,
			fmt.Sprintf("environment %s: Flux's source-controller cannot fetch %s (http, https and ssh URLs only): the cluster-type folders are not delivered by Tugboat", env, repo.Spec.Repo))
		repo.Status.BranchCommit, repo.Status.Delivery, repo.Status.Source = branch.Commit, deliveries, ""
		return r.deleteProfiles(ctx, repo, nil)
	}
	if src == nil {
		src = &unstructured.Unstructured{}
		src.SetGroupVersionKind(sources.GVK(sources.GitRepository))
		src.SetNamespace(repo.Namespace)
		src.SetName(SourceName(repo))
	}
	if needSource {
		if err := r.applyGenerated(ctx, src); err != nil {
			errs = append(errs, err)
		} else if pushed || repo.Status.BranchCommit != branch.Commit {
			errs = append(errs, r.requestFetch(ctx, src))
		}
	} else if err := r.Client.Delete(ctx, src); err != nil && !apierrors.IsNotFound(err) && !meta.IsNoMatchError(err) {
		errs = append(errs, fmt.Errorf("deleting GitRepository %s/%s: %w", src.GetNamespace(), src.GetName(), err))
	}
	keep := kept
	for _, p := range profiles {
		keep[p.Name] = true
		if err := r.applyGenerated(ctx, p); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, r.deleteProfiles(ctx, repo, keep))

	st := &repo.Status
	st.BranchCommit, st.Delivery = branch.Commit, deliveries
	st.Source = ""
	if needSource {
		st.Source = repo.Namespace + "/" + src.GetName()
	}
	if err := errors.Join(errs...); err != nil {
		mark(repo, v1alpha1.ConditionDelivered, metav1.ConditionFalse, ReasonDeliveryFailed, fmt.Sprintf("environment %s: %v", env, err))
		return err
	}
	if len(problems) > 0 {
		mark(repo, v1alpha1.ConditionDelivered, metav1.ConditionFalse, ReasonDeliveryFailed,
			fmt.Sprintf("environment %s: %s (its delivery is left as it was; the other cluster types are delivered)", env, strings.Join(problems, "; ")))
		return nil
	}
	mark(repo, v1alpha1.ConditionDelivered, metav1.ConditionTrue, ReasonDelivered,
		fmt.Sprintf("environment %s: %d cluster type folder(s) of %s delivered (branch %s at %s)", env, len(deliveries), repo.Spec.Repo, repo.Spec.Branch, short(branch.Commit)))
	return nil
}

// deliveryEvent records a Warning Event when delivery turns bad or fails for a
// new reason (not on every poll), and a Normal one when it recovers.
func (r *Reconciler) deliveryEvent(repo *v1alpha1.GitOpsRepo, before metav1.Condition) {
	now := conditions.Get(repo, v1alpha1.ConditionDelivered)
	if r.Recorder == nil || now == nil || (now.Status == before.Status && now.Reason == before.Reason && now.Message == before.Message) {
		return
	}
	switch {
	case now.Status != metav1.ConditionTrue:
		r.Recorder.Eventf(repo, nil, corev1.EventTypeWarning, now.Reason, "Deliver", "GitOpsRepo %s/%s: %s", repo.Namespace, repo.Name, now.Message)
	case before.Status == metav1.ConditionFalse:
		r.Recorder.Eventf(repo, nil, corev1.EventTypeNormal, now.Reason, "Deliver", "GitOpsRepo %s/%s: %s", repo.Namespace, repo.Name, now.Message)
	}
}

// clusterProfile delivers the folder <path>/<clusterType>/ of the branch to the
// clusters labelled as members of clusterType in env.
func clusterProfile(repo *v1alpha1.GitOpsRepo, env, clusterType string) *configv1beta1.ClusterProfile {
	labels := ownedLabels(repo)
	for k, v := range scheduler.MemberLabels(env, clusterType) {
		labels[k] = v
	}
	return &configv1beta1.ClusterProfile{
		TypeMeta:   metav1.TypeMeta{APIVersion: configv1beta1.GroupVersion.String(), Kind: configv1beta1.ClusterProfileKind},
		ObjectMeta: metav1.ObjectMeta{Name: ProfileName(repo, clusterType), Labels: labels},
		Spec: configv1beta1.Spec{
			ClusterSelector: libv1beta1.Selector{LabelSelector: metav1.LabelSelector{MatchLabels: scheduler.MemberLabels(env, clusterType)}},
			SyncMode:        libv1beta1.SyncModeContinuous,
			PolicyRefs: []libv1beta1.PolicyRef{{
				Kind:      sources.GitRepository,
				Namespace: repo.Namespace,
				Name:      SourceName(repo),
				Path:      path.Join(scheduler.CleanRepoPath(repo.Spec.Path), clusterType),
			}},
		},
	}
}

// fluxURL is the URL the generated GitRepository fetches: the repository as
// rewritten by InsteadOf, else as written, whichever Flux accepts (http, https,
// ssh); "" when neither.
func (r *Reconciler) fluxURL(url string) string {
	for _, u := range []string{r.cache().Resolve(url), url} {
		if strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "ssh://") {
			return u
		}
	}
	return ""
}

// gitRepository is the Flux source following the GitOpsRepo's branch, owned by
// it; nil when Flux cannot fetch the repository's URL.
func (r *Reconciler) gitRepository(repo *v1alpha1.GitOpsRepo) *unstructured.Unstructured {
	url := r.fluxURL(repo.Spec.Repo)
	if url == "" {
		return nil
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(sources.GVK(sources.GitRepository))
	u.SetNamespace(repo.Namespace)
	u.SetName(SourceName(repo))
	u.SetLabels(ownedLabels(repo))
	u.SetOwnerReferences([]metav1.OwnerReference{{
		APIVersion: v1alpha1.GroupVersion.String(), Kind: "GitOpsRepo", Name: repo.Name, UID: repo.UID,
		Controller: ptr(true), BlockOwnerDeletion: ptr(true),
	}})
	interval := r.SourceInterval
	if interval <= 0 {
		interval = DefaultSourceInterval
	}
	u.Object["spec"] = map[string]any{
		"url":      url,
		"interval": interval.String(),
		"ref":      map[string]any{"branch": repo.Spec.Branch},
	}
	return u
}

func ptr[T any](v T) *T { return &v }

// applyGenerated server-side applies obj unless the live object carries the
// hash of the same content (no write then).
func (r *Reconciler) applyGenerated(ctx context.Context, obj client.Object) error {
	hash, err := contentHash(obj)
	if err != nil {
		return err
	}
	kind := obj.GetObjectKind().GroupVersionKind().Kind
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(obj.GetObjectKind().GroupVersionKind())
	switch err := r.Client.Get(ctx, client.ObjectKeyFromObject(obj), live); {
	case err == nil:
		if live.GetAnnotations()[specHashAnnotation] == hash {
			return nil
		}
	case meta.IsNoMatchError(err):
		return fmt.Errorf("the management cluster does not serve %s: install Flux's source-controller", kind)
	case !apierrors.IsNotFound(err):
		return fmt.Errorf("reading %s %s: %w", kind, client.ObjectKeyFromObject(obj), err)
	}
	obj.SetAnnotations(map[string]string{specHashAnnotation: hash})
	if err := r.Client.Patch(ctx, obj, client.Apply, client.FieldOwner(fieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("applying %s %s: %w", kind, client.ObjectKeyFromObject(obj), err)
	}
	return nil
}

// contentHash covers an object's labels, owners and spec.
func contentHash(obj client.Object) (string, error) {
	raw, err := json.Marshal(obj)
	if err != nil {
		return "", err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return "", err
	}
	raw, err = json.Marshal([]any{obj.GetLabels(), obj.GetOwnerReferences(), m["spec"]})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])[:16], nil
}

// requestFetch has source-controller fetch the branch now, as
// `flux reconcile source git` does.
func (r *Reconciler) requestFetch(ctx context.Context, src *unstructured.Unstructured) error {
	ref := sources.Ref{Kind: sources.GitRepository, Namespace: src.GetNamespace(), Name: src.GetName()}
	if err := sources.RequestReconcile(ctx, r.Client, ref, time.Now()); err != nil {
		return fmt.Errorf("requesting a fetch of %s: %w", ref, err)
	}
	return nil
}

// deleteProfiles deletes the GitOpsRepo's generated ClusterProfiles not in keep
// (a cluster type whose folder left the branch; every one when keep is empty).
func (r *Reconciler) deleteProfiles(ctx context.Context, repo *v1alpha1.GitOpsRepo, keep map[string]bool) error {
	list := &configv1beta1.ClusterProfileList{}
	if err := r.Client.List(ctx, list, client.MatchingLabels(ownedLabels(repo))); err != nil {
		return fmt.Errorf("listing the generated ClusterProfiles: %w", err)
	}
	var errs []error
	for i := range list.Items {
		p := &list.Items[i]
		if keep[p.Name] || !p.DeletionTimestamp.IsZero() {
			continue
		}
		if err := r.Client.Delete(ctx, p); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting ClusterProfile %s: %w", p.Name, err))
		}
	}
	return errors.Join(errs...)
}

// finalize deletes what the GitOpsRepo generated and releases it.
func (r *Reconciler) finalize(ctx context.Context, repo *v1alpha1.GitOpsRepo) error {
	if !controllerutil.ContainsFinalizer(repo, DeliveryFinalizer) {
		return nil
	}
	if err := r.deleteProfiles(ctx, repo, nil); err != nil {
		return err
	}
	before := repo.DeepCopy()
	controllerutil.RemoveFinalizer(repo, DeliveryFinalizer)
	if err := r.Client.Patch(ctx, repo, client.MergeFrom(before)); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("removing the finalizer of GitOpsRepo %s/%s: %w", repo.Namespace, repo.Name, err)
	}
	return nil
}

// addFinalizer makes sure the GitOpsRepo is finalized before it goes.
func (r *Reconciler) addFinalizer(ctx context.Context, repo *v1alpha1.GitOpsRepo) error {
	before := repo.DeepCopy()
	if !controllerutil.AddFinalizer(repo, DeliveryFinalizer) {
		return nil
	}
	if err := r.Client.Patch(ctx, repo, client.MergeFrom(before)); err != nil {
		return fmt.Errorf("adding the finalizer of GitOpsRepo %s/%s: %w", repo.Namespace, repo.Name, err)
	}
	return nil
}
