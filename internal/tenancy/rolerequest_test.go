package tenancy_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

const rolesYAML = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: ops-read-namespaces
rules:
- apiGroups: [""]
  resources: ["namespaces"]
  verbs: ["get", "list"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: ops-configmaps
  namespace: ops
rules:
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["*"]
`

// TestRoleRequestGrantsAndWithdraws: a RoleRequest creates, in each cluster it
// selects, the tenant's ServiceAccount (projectsveltos/<namespace>--<name>), the
// roles of its roleRefs and their bindings, all labelled with it; the identity
// can do what the roles grant and nothing else (SubjectAccessReview in the
// managed cluster); a cluster that stops matching loses them, and deleting the
// RoleRequest withdraws them everywhere before it goes.
func TestRoleRequestGrantsAndWithdraws(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, b1, "ops")
	roles := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "team-b", Name: "ops-roles"},
		Data: map[string]string{"roles.yaml": rolesYAML}}
	create(t, mgmt, roles)
	rr := &libv1beta1.RoleRequest{ObjectMeta: metav1.ObjectMeta{Name: "ops"}, Spec: libv1beta1.RoleRequestSpec{
		ClusterSelector:         libv1beta1.Selector{LabelSelector: metav1.LabelSelector{MatchLabels: map[string]string{"ops": "granted"}}},
		RoleRefs:                []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "team-b", Name: "ops-roles"}},
		ServiceAccountNamespace: "team-b", ServiceAccountName: "ops",
	}}
	create(t, mgmt, rr)
	setClusterLabels(t, "team-b", "b1", map[string]string{"ops": "granted"})

	identity := types.NamespacedName{Namespace: "projectsveltos", Name: "team-b--ops"}
	testenv.Eventually(t, "identity, roles and bindings in b1", func() error {
		for _, o := range []client.Object{
			&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: identity.Namespace, Name: identity.Name}},
			&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "ops-read-namespaces"}},
			&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "ops-read-namespaces"}},
			&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: "ops", Name: "ops-configmaps"}},
			&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "ops", Name: "ops-configmaps"}},
		} {
			if err := b1.Get(ctx, client.ObjectKeyFromObject(o), o); err != nil {
				return err
			}
			if got := o.GetLabels()[libv1beta1.RoleRequestLabel]; got != "ops" {
				return fmt.Errorf("%T %s labelled %s=%q", o, o.GetName(), libv1beta1.RoleRequestLabel, got)
			}
		}
		return nil
	})
	testenv.Eventually(t, "status: b1 matching and provisioned", func() error {
		got := &libv1beta1.RoleRequest{}
		if err := mgmt.Get(ctx, client.ObjectKey{Name: "ops"}, got); err != nil {
			return err
		}
		if len(got.Status.MatchingClusterRefs) != 1 || got.Status.MatchingClusterRefs[0].Name != "b1" {
			return fmt.Errorf("matchingClusters %v", got.Status.MatchingClusterRefs)
		}
		if len(got.Status.ClusterInfo) != 1 || got.Status.ClusterInfo[0].Status != libv1beta1.FeatureStatusProvisioned || len(got.Status.ClusterInfo[0].Hash) == 0 {
			return fmt.Errorf("clusterInfo %+v", got.Status.ClusterInfo)
		}
		return nil
	})

	// Least privilege: what the roles grant, and nothing more.
	user := "system:serviceaccount:projectsveltos:team-b--ops"
	for _, c := range []struct {
		attrs   authorizationv1.ResourceAttributes
		allowed bool
	}{
		{authorizationv1.ResourceAttributes{Verb: "create", Resource: "configmaps", Namespace: "ops"}, true},
		{authorizationv1.ResourceAttributes{Verb: "get", Resource: "namespaces", Name: "ops"}, true},
		{authorizationv1.ResourceAttributes{Verb: "create", Resource: "configmaps", Namespace: "default"}, false},
		{authorizationv1.ResourceAttributes{Verb: "get", Resource: "secrets", Namespace: "ops"}, false},
		{authorizationv1.ResourceAttributes{Verb: "create", Resource: "clusterroles", Group: "rbac.authorization.k8s.io"}, false},
		{authorizationv1.ResourceAttributes{Verb: "delete", Resource: "namespaces", Name: "ops"}, false},
	} {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: user,
			Groups: []string{"system:serviceaccounts", "system:serviceaccounts:projectsveltos", "system:authenticated"}, ResourceAttributes: &c.attrs}}
		if err := b1.Create(ctx, sar); err != nil {
			t.Fatal(err)
		}
		if sar.Status.Allowed != c.allowed {
			t.Errorf("%s %s in %q: allowed=%v, want %v (%s)", c.attrs.Verb, c.attrs.Resource, c.attrs.Namespace, sar.Status.Allowed, c.allowed, sar.Status.Reason)
		}
	}

	// A roleRef that changes: the role no longer listed goes.
	roles.Data["roles.yaml"] = strings.SplitN(rolesYAML, "---\n", 2)[0]
	if err := mgmt.Update(ctx, roles); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "Role and RoleBinding no longer in the roleRef removed from b1", func() error {
		return gone(ctx, b1, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: "ops", Name: "ops-configmaps"}},
			&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "ops", Name: "ops-configmaps"}})
	})

	// The cluster stops matching: everything is withdrawn from it.
	setClusterLabels(t, "team-b", "b1", map[string]string{"ops": ""})
	testenv.Eventually(t, "grants withdrawn from b1", func() error {
		return gone(ctx, b1, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: identity.Namespace, Name: identity.Name}},
			&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "ops-read-namespaces"}},
			&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "ops-read-namespaces"}})
	})

	// Matching again, then the RoleRequest is deleted: withdrawn, then it goes.
	setClusterLabels(t, "team-b", "b1", map[string]string{"ops": "granted"})
	testenv.Eventually(t, "granted in b1 again", func() error {
		return b1.Get(ctx, client.ObjectKey{Name: "ops-read-namespaces"}, &rbacv1.ClusterRole{})
	})
	if err := mgmt.Delete(ctx, rr); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "RoleRequest deleted after withdrawing", func() error {
		if err := gone(ctx, mgmt, &libv1beta1.RoleRequest{ObjectMeta: metav1.ObjectMeta{Name: "ops"}}); err != nil {
			return err
		}
		return gone(ctx, b1, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: identity.Namespace, Name: identity.Name}},
			&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "ops-read-namespaces"}},
			&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "ops-read-namespaces"}})
	})
	setClusterLabels(t, "team-b", "b1", map[string]string{"ops": ""})
}

func create(t *testing.T, c client.Client, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := c.Create(context.Background(), o); err != nil {
			t.Fatal(err)
		}
	}
}

func createNamespace(t *testing.T, c client.Client, name string) {
	t.Helper()
	if err := c.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// gone returns nil when none of the objects exist.
func gone(ctx context.Context, c client.Client, objs ...client.Object) error {
	var errs []error
	for _, o := range objs {
		switch err := c.Get(ctx, client.ObjectKeyFromObject(o), o); {
		case err == nil:
			errs = append(errs, fmt.Errorf("%T %s still exists", o, client.ObjectKeyFromObject(o)))
		case !apierrors.IsNotFound(err):
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
