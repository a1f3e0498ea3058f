package tenancy

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/conditions"
	"github.com/tugboat-dev/tugboat/internal/profiles"
	"github.com/tugboat-dev/tugboat/internal/remote"
	"github.com/tugboat-dev/tugboat/internal/selection"
	"github.com/tugboat-dev/tugboat/internal/templating"
)

// RoleRequestFinalizer keeps a RoleRequest until its grants are withdrawn.
const RoleRequestFinalizer = "lib.projectsveltos.io/rolerequest"

// fieldOwner is the server-side apply field manager of what RoleRequests create.
const fieldOwner = "tugboat-rolerequest"

// maxEventMessage keeps event notes under the API server's limit.
const maxEventMessage = 1000

// RoleRequestReconciler grants a tenant's identity the roles of a RoleRequest in
// every cluster it selects, and withdraws them from the clusters it no longer
// selects and when it is deleted.
type RoleRequestReconciler struct {
	// Kubernetes options
	Client   client.Client
	Recorder events.EventRecorder
	Registry *clusters.Registry
	Fleet    clusters.Fleet
	// Shard selects the clusters this manager grants in.
	Shard       clusters.Shard
	Concurrency int

	// remoteContent keeps the content of roleRefs' remoteURLs between fetches
	// (one fetch per interval); nil fetches on every reconcile.
	remoteContent *remote.Cache
}

// grant is what a RoleRequest creates in one cluster.
type grant struct {
	identity *corev1.ServiceAccount
	// roles are the Roles and ClusterRoles, each followed by its binding.
	objects []*unstructured.Unstructured
}

// Reconcile makes the grants of one RoleRequest match the clusters it selects.
// Status is computed in memory and written once, by the deferred patcher.
func (r *RoleRequestReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	rr := &libv1beta1.RoleRequest{}
	if err := r.Client.Get(ctx, req.NamespacedName, rr); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	patcher := conditions.NewStatusPatcher(r.Client, rr)
	defer func() { retErr = errors.Join(retErr, patcher.Patch(ctx, rr)) }()

	if !rr.DeletionTimestamp.IsZero() {
		return r.withdrawAll(ctx, rr)
	}
	if controllerutil.AddFinalizer(rr, RoleRequestFinalizer) {
		if err := r.Client.Update(ctx, rr); err != nil {
			return ctrl.Result{}, fmt.Errorf("adding finalizer to RoleRequest %s: %w", rr.Name, err)
		}
	}

	fleet, err := r.Fleet.List(ctx, "")
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("RoleRequest %s: %w", rr.Name, err)
	}
	matching, err := selection.MatchingClusters(selection.Scope{ClusterSelector: rr.Spec.ClusterSelector}, fleet)
	if err != nil {
		// Keep what was granted: only a change to the spec can help.
		r.failRequest(rr, "InvalidSelector", fmt.Sprintf("RoleRequest %s: selector: %v", rr.Name, err))
		return ctrl.Result{}, nil
	}
	rr.Status.FailureMessage = nil
	rr.Status.MatchingClusterRefs = matching

	byID := map[libv1beta1.ClusterID]selection.Cluster{}
	for _, c := range fleet {
		byID[c.ID.Normal()] = c
	}
	previous := map[libv1beta1.ClusterID]libv1beta1.ClusterInfo{}
	for _, info := range rr.Status.ClusterInfo {
		if id, ok := libv1beta1.ClusterIDFromRef(info.Cluster, ""); ok {
			previous[id.Normal()] = info
		}
	}
	var infos []libv1beta1.ClusterInfo
	var errs []error
	wanted := map[libv1beta1.ClusterID]bool{}
	for _, ref := range matching {
		id, _ := libv1beta1.ClusterIDFromRef(ref, "")
		id = id.Normal()
		wanted[id] = true
		cluster := byID[id]
		info := previous[id]
		info.Cluster = ref
		if !r.Shard.Owns(cluster.Object) {
			infos = append(infos, info)
			continue // another manager's shard grants in this cluster
		}
		if err := r.grantIn(ctx, rr, cluster, &info); err != nil {
			errs = append(errs, err)
		}
		infos = append(infos, info)
	}
	// Clusters no longer selected: withdraw, keeping the entry until it is done.
	for _, id := range slices.SortedFunc(maps.Keys(previous), selection.CompareIDs) {
		if wanted[id] {
			continue
		}
		info := previous[id]
		if cluster, ok := byID[id]; ok && (!r.Shard.Owns(cluster.Object) || !cluster.Eligible()) {
			// Nothing is withdrawn from a cluster that is not ready (or not ours):
			// the entry stays until it can be.
			if r.Shard.Owns(cluster.Object) {
				infos = append(infos, info)
			}
			continue
		}
		if err := r.withdrawFrom(ctx, rr, id); err != nil {
			info.Status = libv1beta1.FeatureStatusRemoving
			info.FailureMessage = ptr(err.Error())
			r.event(rr, corev1.EventTypeWarning, "WithdrawFailed", err.Error())
			infos = append(infos, info)
			errs = append(errs, err)
			continue
		}
		r.event(rr, corev1.EventTypeNormal, "Withdrawn", fmt.Sprintf("rights of %s withdrawn from cluster %s", tenantOf(rr), id))
	}
	rr.Status.ClusterInfo = infos
	return refetchRemoteRoles(rr), errors.Join(errs...)
}

// refetchRemoteRoles brings the RoleRequest back when the shortest interval of
// its roleRefs' remoteURLs has passed, so that their content is fetched again.
func refetchRemoteRoles(rr *libv1beta1.RoleRequest) ctrl.Result {
	var result ctrl.Result
	for _, ref := range rr.Spec.RoleRefs {
		if ref.RemoteURL == nil {
			continue
		}
		if every := remote.Interval(*ref.RemoteURL); result.RequeueAfter == 0 || every < result.RequeueAfter {
			result.RequeueAfter = every
		}
	}
	return result
}

// grantIn creates (or updates) the tenant's identity, roles and bindings in one
// cluster and records the outcome in info. Nothing is written when what is
// granted there did not change.
func (r *RoleRequestReconciler) grantIn(ctx context.Context, rr *libv1beta1.RoleRequest, cluster selection.Cluster, info *libv1beta1.ClusterInfo) error {
	fail := func(err error) error {
		info.Status = libv1beta1.FeatureStatusFailed
		info.Hash = nil
		info.FailureMessage = ptr(err.Error())
		r.event(rr, corev1.EventTypeWarning, "GrantFailed", err.Error())
		return err
	}
	g, err := r.desired(ctx, rr, cluster)
	if err != nil {
		var bad badInput
		if errors.As(err, &bad) {
			_ = fail(err)
			return nil // waits for a change of the RoleRequest or what it references
		}
		return fail(err)
	}
	hash, err := g.hash()
	if err != nil {
		return fail(err)
	}
	if info.Status == libv1beta1.FeatureStatusProvisioned && string(info.Hash) == string(hash) {
		return nil
	}
	conn, err := r.Registry.Get(ctx, cluster.ID)
	if err != nil {
		return fail(fmt.Errorf("RoleRequest %s: connecting to cluster %s: %w", rr.Name, cluster.ID, err))
	}
	c, err := conn.Client()
	if err != nil {
		return fail(fmt.Errorf("RoleRequest %s: cluster %s: %w", rr.Name, cluster.ID, err))
	}
	if err := r.apply(ctx, c, rr, g); err != nil {
		return fail(fmt.Errorf("RoleRequest %s: cluster %s: %w", rr.Name, cluster.ID, err))
	}
	if err := r.removeStale(ctx, c, rr, g); err != nil {
		return fail(fmt.Errorf("RoleRequest %s: cluster %s: %w", rr.Name, cluster.ID, err))
	}
	info.Status = libv1beta1.FeatureStatusProvisioned
	info.Hash = hash
	info.FailureMessage = nil
	r.event(rr, corev1.EventTypeNormal, "Granted", fmt.Sprintf("%d roles granted to %s in cluster %s as %s/%s",
		len(g.objects)/2, tenantOf(rr), cluster.ID, IdentityNamespace, g.identity.Name))
	return nil
}

// badInput is a problem in the RoleRequest or what it references: retrying
// without a change will not help.
type badInput struct{ error }

func (e badInput) Unwrap() error { return e.error }

// desired reads the roleRefs and builds what the RoleRequest creates in cluster.
func (r *RoleRequestReconciler) desired(ctx context.Context, rr *libv1beta1.RoleRequest, cluster selection.Cluster) (*grant, error) {
	tenant := tenantOf(rr)
	labels := map[string]string{
		libv1beta1.RoleRequestLabel:             rr.Name,
		libv1beta1.ServiceAccountNameLabel:      tenant.Name,
		libv1beta1.ServiceAccountNamespaceLabel: tenant.Namespace,
	}
	g := &grant{identity: &corev1.ServiceAccount{}}
	g.identity.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("ServiceAccount"))
	g.identity.Name, g.identity.Namespace, g.identity.Labels = IdentityName(tenant), IdentityNamespace, labels
	subject := rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: g.identity.Name, Namespace: IdentityNamespace}

	for i, ref := range rr.Spec.RoleRefs {
		ns := ref.Namespace
		if ns == "" {
			ns = cluster.ID.Namespace
		}
		var data, annotations map[string]string
		found := true
		var err error
		if ref.RemoteURL != nil {
			// The roles come from the URL; kind and name only name the source.
			body, err := r.remoteContent.Get(ctx, r.Client, *ref.RemoteURL, cluster.ID.Namespace)
			if err != nil {
				// Not retried with backoff: the next fetch comes at the ref's
				// interval (refetchRemoteRoles) or with the next reconcile.
				return nil, badInput{fmt.Errorf("RoleRequest %s: roleRefs[%d].remoteURL: %w", rr.Name, i, err)}
			}
			data = map[string]string{ref.RemoteURL.URL: string(body)}
		} else {
			data, annotations, found, err = r.readRef(ctx, ref.Kind, types.NamespacedName{Namespace: ns, Name: ref.Name})
		}
		if err != nil {
			return nil, fmt.Errorf("RoleRequest %s: roleRefs[%d]: %w", rr.Name, i, err)
		}
		if !found {
			if ref.Optional {
				continue
			}
			return nil, badInput{fmt.Errorf("RoleRequest %s: roleRefs[%d]: %s %s/%s not found", rr.Name, i, ref.Kind, ns, ref.Name)}
		}
		if _, ok := annotations[libv1beta1.TemplateAnnotation]; ok {
			return nil, badInput{fmt.Errorf("RoleRequest %s: roleRefs[%d]: %s %s/%s is annotated %s: templates in roleRefs are not supported by this version of Tugboat",
				rr.Name, i, ref.Kind, ns, ref.Name, libv1beta1.TemplateAnnotation)}
		}
		for _, key := range slices.Sorted(maps.Keys(data)) {
			where := fmt.Sprintf("%s %s/%s key %s", ref.Kind, ns, ref.Name, key)
			if ref.RemoteURL != nil {
				where = "remoteURL " + ref.RemoteURL.URL
			}
			objs, err := templating.SplitDocuments(where, data[key])
			if err != nil {
				return nil, badInput{fmt.Errorf("RoleRequest %s: roleRefs[%d]: %w", rr.Name, i, err)}
			}
			for _, obj := range objs {
				binding, err := bindingFor(obj, subject, where)
				if err != nil {
					return nil, badInput{fmt.Errorf("RoleRequest %s: roleRefs[%d]: %w", rr.Name, i, err)}
				}
				for _, o := range []*unstructured.Unstructured{obj, binding} {
					o.SetLabels(mergeLabels(o.GetLabels(), labels))
					g.objects = append(g.objects, o)
				}
			}
		}
	}
	return g, nil
}

// bindingFor checks that obj is a Role or ClusterRole and returns the binding
// of it to subject, named like it.
func bindingFor(obj *unstructured.Unstructured, subject rbacv1.Subject, where string) (*unstructured.Unstructured, error) {
	gvk := obj.GroupVersionKind()
	if gvk.Group != rbacv1.GroupName || (gvk.Kind != "Role" && gvk.Kind != "ClusterRole") {
		return nil, fmt.Errorf("%s: %s %s is not a Role or ClusterRole (rbac.authorization.k8s.io)", where, gvk.Kind, obj.GetName())
	}
	if obj.GetName() == "" {
		return nil, fmt.Errorf("%s: a %s has no name", where, gvk.Kind)
	}
	var binding runtime.Object
	roleRef := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: gvk.Kind, Name: obj.GetName()}
	if gvk.Kind == "ClusterRole" {
		obj.SetNamespace("")
		b := &rbacv1.ClusterRoleBinding{RoleRef: roleRef, Subjects: []rbacv1.Subject{subject}}
		b.SetGroupVersionKind(rbacv1.SchemeGroupVersion.WithKind("ClusterRoleBinding"))
		b.Name = obj.GetName()
		binding = b
	} else {
		if obj.GetNamespace() == "" {
			return nil, fmt.Errorf("%s: Role %s has no namespace", where, obj.GetName())
		}
		b := &rbacv1.RoleBinding{RoleRef: roleRef, Subjects: []rbacv1.Subject{subject}}
		b.SetGroupVersionKind(rbacv1.SchemeGroupVersion.WithKind("RoleBinding"))
		b.Name, b.Namespace = obj.GetName(), obj.GetNamespace()
		binding = b
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(binding)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: m}
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	return u, nil
}

func mergeLabels(a, b map[string]string) map[string]string {
	out := maps.Clone(a)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, b)
	return out
}

// readRef reads a ConfigMap's or Secret's data.
func (r *RoleRequestReconciler) readRef(ctx context.Context, kind string, key types.NamespacedName) (map[string]string, map[string]string, bool, error) {
	switch kind {
	case "ConfigMap":
		cm := &corev1.ConfigMap{}
		if err := r.Client.Get(ctx, key, cm); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, nil, false, nil
			}
			return nil, nil, false, fmt.Errorf("reading ConfigMap %s: %w", key, err)
		}
		return cm.Data, cm.Annotations, true, nil
	case "Secret":
		s := &corev1.Secret{}
		if err := r.Client.Get(ctx, key, s); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, nil, false, nil
			}
			return nil, nil, false, fmt.Errorf("reading Secret %s: %w", key, err)
		}
		data := map[string]string{}
		for k, v := range s.Data {
			data[k] = string(v)
		}
		return data, s.Annotations, true, nil
	}
	return nil, nil, false, badInput{fmt.Errorf("kind %s is not supported (ConfigMap and Secret are)", kind)}
}

func (g *grant) hash() ([]byte, error) {
	h := sha256.New()
	for _, o := range append([]runtime.Object{g.identity}, objectsOf(g.objects)...) {
		b, err := json.Marshal(o)
		if err != nil {
			return nil, err
		}
		h.Write(b)
	}
	return h.Sum(nil), nil
}

func objectsOf(us []*unstructured.Unstructured) []runtime.Object {
	out := make([]runtime.Object, len(us))
	for i, u := range us {
		out[i] = u
	}
	return out
}

// apply creates the identity (and its namespace), then each role and binding,
// with server-side apply. An object of the same name that another RoleRequest
// (or nobody) made is not taken over.
func (r *RoleRequestReconciler) apply(ctx context.Context, c client.Client, rr *libv1beta1.RoleRequest, g *grant) error {
	ns := &corev1.Namespace{}
	if err := c.Get(ctx, client.ObjectKey{Name: IdentityNamespace}, ns); apierrors.IsNotFound(err) {
		ns.Name = IdentityNamespace
		if err := c.Create(ctx, ns, client.FieldOwner(fieldOwner)); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating namespace %s: %w", IdentityNamespace, err)
		}
	} else if err != nil {
		return fmt.Errorf("reading namespace %s: %w", IdentityNamespace, err)
	}
	sa, err := runtime.DefaultUnstructuredConverter.ToUnstructured(g.identity)
	if err != nil {
		return err
	}
	identity := &unstructured.Unstructured{Object: sa}
	unstructured.RemoveNestedField(identity.Object, "metadata", "creationTimestamp")
	// The identity is the tenant's, shared by its RoleRequests: any of them may update it.
	if err := r.applyOne(ctx, c, rr, identity, true); err != nil {
		return err
	}
	for _, obj := range g.objects {
		if err := r.applyOne(ctx, c, rr, obj, false); err != nil {
			return err
		}
	}
	return nil
}

func (r *RoleRequestReconciler) applyOne(ctx context.Context, c client.Client, rr *libv1beta1.RoleRequest, obj *unstructured.Unstructured, shared bool) error {
	what := fmt.Sprintf("%s %s", obj.GetKind(), objectName(obj))
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(obj.GroupVersionKind())
	switch err := c.Get(ctx, client.ObjectKeyFromObject(obj), live); {
	case err == nil:
		owner, ok := live.GetLabels()[libv1beta1.RoleRequestLabel]
		if !ok {
			return fmt.Errorf("%s exists and was not made by a RoleRequest: not taken over", what)
		}
		if owner != rr.Name && !shared {
			return fmt.Errorf("%s belongs to RoleRequest %s", what, owner)
		}
		if shared && live.GetLabels()[libv1beta1.ServiceAccountNameLabel] != obj.GetLabels()[libv1beta1.ServiceAccountNameLabel] {
			return fmt.Errorf("%s belongs to another tenant", what)
		}
		if shared {
			// Keep the label of the RoleRequest that made it.
			labels := obj.GetLabels()
			labels[libv1beta1.RoleRequestLabel] = owner
			obj.SetLabels(labels)
		}
	case !apierrors.IsNotFound(err):
		return fmt.Errorf("reading %s: %w", what, err)
	}
	if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj), client.FieldOwner(fieldOwner), client.ForceOwnership); err != nil {
		return fmt.Errorf("applying %s: %w", what, err)
	}
	return nil
}

func objectName(o client.Object) string {
	if o.GetNamespace() == "" {
		return o.GetName()
	}
	return o.GetNamespace() + "/" + o.GetName()
}

// grantKinds are the kinds a RoleRequest creates roles and bindings of.
var grantKinds = []string{"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}

// removeStale deletes the roles and bindings labelled with this RoleRequest
// that g no longer has (nil g: all of them).
func (r *RoleRequestReconciler) removeStale(ctx context.Context, c client.Client, rr *libv1beta1.RoleRequest, g *grant) error {
	keep := map[string]bool{}
	if g != nil {
		for _, o := range g.objects {
			keep[o.GetKind()+"/"+objectName(o)] = true
		}
	}
	for _, kind := range grantKinds {
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(rbacv1.SchemeGroupVersion.WithKind(kind + "List"))
		if err := c.List(ctx, list, client.MatchingLabels{libv1beta1.RoleRequestLabel: rr.Name}); err != nil {
			return fmt.Errorf("listing %ss of RoleRequest %s: %w", kind, rr.Name, err)
		}
		for i := range list.Items {
			o := &list.Items[i]
			if keep[kind+"/"+objectName(o)] {
				continue
			}
			if err := c.Delete(ctx, o); client.IgnoreNotFound(err) != nil {
				return fmt.Errorf("deleting %s %s: %w", kind, objectName(o), err)
			}
		}
	}
	return nil
}

// withdrawFrom removes what the RoleRequest created in a cluster: its roles and
// bindings, and the tenant's identity unless another RoleRequest of the same
// tenant still grants there. A cluster that no longer exists has nothing to
// withdraw.
func (r *RoleRequestReconciler) withdrawFrom(ctx context.Context, rr *libv1beta1.RoleRequest, id libv1beta1.ClusterID) error {
	if _, err := r.Fleet.Get(ctx, id); apierrors.IsNotFound(err) {
		return nil
	}
	conn, err := r.Registry.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("RoleRequest %s: withdrawing from cluster %s: %w", rr.Name, id, err)
	}
	c, err := conn.Client()
	if err != nil {
		return fmt.Errorf("RoleRequest %s: withdrawing from cluster %s: %w", rr.Name, id, err)
	}
	if err := r.removeStale(ctx, c, rr, nil); err != nil {
		return fmt.Errorf("RoleRequest %s: withdrawing from cluster %s: %w", rr.Name, id, err)
	}
	shared, err := r.identityStillGranted(ctx, rr, id)
	if err != nil || shared {
		return err
	}
	sa := &corev1.ServiceAccount{}
	sa.Name, sa.Namespace = IdentityName(tenantOf(rr)), IdentityNamespace
	if err := c.Delete(ctx, sa); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("RoleRequest %s: withdrawing from cluster %s: deleting ServiceAccount %s/%s: %w", rr.Name, id, sa.Namespace, sa.Name, err)
	}
	return nil
}

// identityStillGranted reports whether another live RoleRequest of the same
// tenant selects the cluster.
func (r *RoleRequestReconciler) identityStillGranted(ctx context.Context, rr *libv1beta1.RoleRequest, id libv1beta1.ClusterID) (bool, error) {
	all := &libv1beta1.RoleRequestList{}
	if err := r.Client.List(ctx, all); err != nil {
		return false, fmt.Errorf("listing RoleRequests: %w", err)
	}
	for _, other := range all.Items {
		if other.Name == rr.Name || !other.DeletionTimestamp.IsZero() || tenantOf(&other) != tenantOf(rr) {
			continue
		}
		for _, ref := range other.Status.MatchingClusterRefs {
			if oid, ok := libv1beta1.ClusterIDFromRef(ref, ""); ok && oid.Normal() == id {
				return true, nil
			}
		}
	}
	return false, nil
}

// withdrawAll withdraws from every cluster the deleted RoleRequest granted in,
// then lets it go.
func (r *RoleRequestReconciler) withdrawAll(ctx context.Context, rr *libv1beta1.RoleRequest) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(rr, RoleRequestFinalizer) {
		return ctrl.Result{}, nil
	}
	var remaining []libv1beta1.ClusterInfo
	var errs []error
	for _, info := range rr.Status.ClusterInfo {
		id, ok := libv1beta1.ClusterIDFromRef(info.Cluster, "")
		if !ok {
			continue
		}
		if err := r.withdrawFrom(ctx, rr, id.Normal()); err != nil {
			info.Status = libv1beta1.FeatureStatusRemoving
			info.FailureMessage = ptr(err.Error())
			remaining = append(remaining, info)
			errs = append(errs, err)
			r.event(rr, corev1.EventTypeWarning, "WithdrawFailed", err.Error())
		}
	}
	rr.Status.ClusterInfo = remaining
	if len(errs) > 0 {
		return ctrl.Result{RequeueAfter: 5 * time.Second}, nil
	}
	controllerutil.RemoveFinalizer(rr, RoleRequestFinalizer)
	if err := r.Client.Update(ctx, rr); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(fmt.Errorf("removing finalizer of RoleRequest %s: %w", rr.Name, err))
	}
	return ctrl.Result{}, nil
}

func (r *RoleRequestReconciler) failRequest(rr *libv1beta1.RoleRequest, reason, msg string) {
	rr.Status.FailureMessage = ptr(msg)
	r.event(rr, corev1.EventTypeWarning, reason, msg)
	log.Log.WithName("rolerequest").Info("RoleRequest failed", "rolerequest", rr.Name, "reason", reason, "message", msg)
}

func (r *RoleRequestReconciler) event(obj client.Object, kind, reason, msg string) {
	if len(msg) > maxEventMessage {
		msg = msg[:maxEventMessage-3] + "..."
	}
	if r.Recorder != nil {
		r.Recorder.Eventf(obj, nil, kind, reason, "Grant", "%s", msg)
	}
}

func tenantOf(rr *libv1beta1.RoleRequest) profiles.Tenant {
	return profiles.Tenant{Namespace: rr.Spec.ServiceAccountNamespace, Name: rr.Spec.ServiceAccountName}
}

func ptr[T any](v T) *T { return &v }

// remoteSecretRef is the secretRef of ref's remoteURL, nil without one.
func remoteSecretRef(ref libv1beta1.PolicyRef) *corev1.SecretReference {
	if ref.RemoteURL == nil {
		return nil
	}
	return ref.RemoteURL.SecretRef
}

// SetupWithManager watches RoleRequests, the clusters (labels, readiness) and
// the ConfigMaps/Secrets they reference.
func (r *RoleRequestReconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.remoteContent = remote.NewCache()
	all := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, _ client.Object) []reconcile.Request {
		return r.requests(ctx, func(*libv1beta1.RoleRequest) bool { return true })
	})
	referencing := func(kind string) handler.EventHandler {
		return handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
			return r.requests(ctx, func(rr *libv1beta1.RoleRequest) bool {
				for _, ref := range rr.Spec.RoleRefs {
					if ref.Kind == kind && ref.Name == o.GetName() && (ref.Namespace == "" || ref.Namespace == o.GetNamespace()) {
						return true
					}
					if sr := remoteSecretRef(ref); kind == "Secret" && sr != nil && sr.Name == o.GetName() && (sr.Namespace == "" || sr.Namespace == o.GetNamespace()) {
						return true
					}
				}
				return false
			})
		})
	}
	b := ctrl.NewControllerManagedBy(mgr).
		Named("rolerequest").
		For(&libv1beta1.RoleRequest{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.LabelChangedPredicate{},
			predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool { return !e.ObjectNew.GetDeletionTimestamp().IsZero() }}))).
		Watches(&corev1.ConfigMap{}, referencing("ConfigMap")).
		Watches(&corev1.Secret{}, referencing("Secret")).
		WithOptions(controller.Options{MaxConcurrentReconciles: max(r.Concurrency, 1)})
	b = r.Fleet.Watch(b, all, clusters.ViewChanged(func(o, n selection.Cluster) bool {
		return !maps.Equal(o.Labels, n.Labels) || o.Eligible() != n.Eligible()
	}))
	return b.Complete(r)
}

func (r *RoleRequestReconciler) requests(ctx context.Context, keep func(*libv1beta1.RoleRequest) bool) []reconcile.Request {
	return clusters.ListRequests(ctx, r.Client, &libv1beta1.RoleRequestList{}, func(o client.Object) bool {
		return keep(o.(*libv1beta1.RoleRequest))
	})
}
