package tenancy_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// clusterFailure waits until the RoleRequest's entry for a cluster has failed
// with a message containing want, and a Warning event says it too. Only the
// first failure of a RoleRequest is checked in Events: the events.k8s.io
// recorder folds later ones of the same reason into that event's series
// (count and time), keeping the first note.
func clusterFailure(t *testing.T, rr, cluster, want string) {
	t.Helper()
	waitClusterFailure(t, rr, cluster, want, true)
}

func waitClusterFailure(t *testing.T, rr, cluster, want string, checkEvent bool) {
	t.Helper()
	ctx := context.Background()
	testenv.Eventually(t, fmt.Sprintf("RoleRequest %s fails in %s with %q", rr, cluster, want), func() error {
		got := &libv1beta1.RoleRequest{}
		if err := mgmt.Get(ctx, client.ObjectKey{Name: rr}, got); err != nil {
			return err
		}
		for _, info := range got.Status.ClusterInfo {
			if info.Cluster.Name == cluster && info.Status == libv1beta1.FeatureStatusFailed &&
				info.FailureMessage != nil && strings.Contains(*info.FailureMessage, want) {
				if !checkEvent {
					return nil
				}
				notes, err := eventsAbout(ctx, "RoleRequest", "", rr)
				if err != nil {
					return err
				}
				if !strings.Contains(notes, "Warning GrantFailed") || !strings.Contains(notes, want) {
					return fmt.Errorf("events: %q", notes)
				}
				return nil
			}
		}
		return fmt.Errorf("clusterInfo %+v", got.Status.ClusterInfo)
	})
}

// TestRoleRequestBadInput: a missing roleRef, a roleRef holding something other
// than roles, a template, a role another RoleRequest holds and an invalid
// selector each fail with a message naming
// the cause (status and Event) and grant nothing; fixing the input grants; an
// optional missing roleRef is skipped.
func TestRoleRequestBadInput(t *testing.T) {
	ctx := context.Background()
	setClusterLabels(t, "team-a", "a1", map[string]string{"bad": "input"})
	defer setClusterLabels(t, "team-a", "a1", map[string]string{"bad": ""})
	rr := &libv1beta1.RoleRequest{ObjectMeta: metav1.ObjectMeta{Name: "bad-input"}, Spec: libv1beta1.RoleRequestSpec{
		ClusterSelector: libv1beta1.Selector{LabelSelector: metav1.LabelSelector{MatchLabels: map[string]string{"bad": "input"}}},
		RoleRefs: []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "team-a", Name: "bad-roles"},
			{Kind: "Secret", Namespace: "team-a", Name: "never-there", Optional: true}},
		ServiceAccountNamespace: "team-x", ServiceAccountName: "bad",
	}}
	create(t, mgmt, rr)
	clusterFailure(t, "bad-input", "a1", "roleRefs[0]: ConfigMap team-a/bad-roles not found")

	roles := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "bad-roles"},
		Data: map[string]string{"x.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sneaky\n  namespace: default\n"}}
	create(t, mgmt, roles)
	waitClusterFailure(t, "bad-input", "a1", "ServiceAccount sneaky is not a Role or ClusterRole", false)

	roles.Annotations = map[string]string{libv1beta1.TemplateAnnotation: "ok"}
	roles.Data["x.yaml"] = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: bad-input-view\nrules: []\n"
	if err := mgmt.Update(ctx, roles); err != nil {
		t.Fatal(err)
	}
	waitClusterFailure(t, "bad-input", "a1", "templates in roleRefs are not supported by this version of Tugboat", false)
	if err := gone(ctx, a1, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "bad-input-view"}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "projectsveltos", Name: "team-x--bad"}}); err != nil {
		t.Errorf("bad input granted something: %v", err)
	}

	roles.Annotations = nil
	if err := mgmt.Update(ctx, roles); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "fixed roleRef granted (the optional missing one skipped)", func() error {
		return a1.Get(ctx, client.ObjectKey{Name: "bad-input-view"}, &rbacv1.ClusterRole{})
	})

	// Another RoleRequest naming the same role: not taken over.
	rival := &libv1beta1.RoleRequest{ObjectMeta: metav1.ObjectMeta{Name: "bad-input-rival"}, Spec: libv1beta1.RoleRequestSpec{
		ClusterSelector:         rr.Spec.ClusterSelector,
		RoleRefs:                rr.Spec.RoleRefs[:1],
		ServiceAccountNamespace: "team-y", ServiceAccountName: "rival",
	}}
	create(t, mgmt, rival)
	clusterFailure(t, "bad-input-rival", "a1", "ClusterRole bad-input-view belongs to RoleRequest bad-input")
	if err := mgmt.Delete(ctx, rival); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "rival withdrawn, the role kept for its RoleRequest", func() error {
		if err := gone(ctx, mgmt, rival); err != nil {
			return err
		}
		cr := &rbacv1.ClusterRole{}
		if err := a1.Get(ctx, client.ObjectKey{Name: "bad-input-view"}, cr); err != nil {
			return err
		}
		if cr.Labels[libv1beta1.RoleRequestLabel] != "bad-input" {
			return fmt.Errorf("labels %v", cr.Labels)
		}
		return gone(ctx, a1, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "projectsveltos", Name: "team-y--rival"}})
	})

	// An invalid selector: reported, and what was granted is kept.
	if err := mgmt.Get(ctx, client.ObjectKeyFromObject(rr), rr); err != nil {
		t.Fatal(err)
	}
	rr.Spec.ClusterSelector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "bad", Operator: "Roughly", Values: []string{"input"}}}
	if err := mgmt.Update(ctx, rr); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "invalid selector reported", func() error {
		got := &libv1beta1.RoleRequest{}
		if err := mgmt.Get(ctx, client.ObjectKeyFromObject(rr), got); err != nil {
			return err
		}
		if got.Status.FailureMessage == nil || !strings.Contains(*got.Status.FailureMessage, `unknown operator "Roughly"`) {
			return fmt.Errorf("failureMessage %v", got.Status.FailureMessage)
		}
		notes, err := eventsAbout(ctx, "RoleRequest", "", rr.Name)
		if err != nil {
			return err
		}
		if !strings.Contains(notes, "Warning InvalidSelector") {
			return fmt.Errorf("events: %q", notes)
		}
		return nil
	})
	if err := a1.Get(ctx, client.ObjectKey{Name: "bad-input-view"}, &rbacv1.ClusterRole{}); err != nil {
		t.Errorf("grant not kept under an invalid selector: %v", err)
	}

	if err := mgmt.Delete(ctx, rr); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "withdrawn on deletion", func() error {
		return gone(ctx, a1, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "bad-input-view"}},
			&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "projectsveltos", Name: "team-x--bad"}})
	})
}

// TestRoleRequestValidation: fields Tugboat does not implement are refused by
// the CRD with a message saying so.
func TestRoleRequestValidation(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name string
		spec libv1beta1.RoleRequestSpec
		want string
	}{
		{"expiration", libv1beta1.RoleRequestSpec{ExpirationSeconds: ptr.To[int64](3600)},
			"expirationSeconds is not supported by this version of Tugboat"},
		{"force", libv1beta1.RoleRequestSpec{RoleRefs: []libv1beta1.PolicyRef{{Kind: "ConfigMap", Name: "r", Force: true}}},
			"force is not supported in roleRefs"},
		{"skip-namespace", libv1beta1.RoleRequestSpec{RoleRefs: []libv1beta1.PolicyRef{{Kind: "ConfigMap", Name: "r", SkipNamespaceCreation: true}}},
			"skipNamespaceCreation is not supported in roleRefs"},
		{"kind", libv1beta1.RoleRequestSpec{RoleRefs: []libv1beta1.PolicyRef{{Kind: "GitRepository", Name: "r"}}},
			"roleRefs must name ConfigMaps or Secrets"},
	} {
		c.spec.ServiceAccountNamespace, c.spec.ServiceAccountName = "team-a", "admin"
		err := mgmt.Create(ctx, &libv1beta1.RoleRequest{ObjectMeta: metav1.ObjectMeta{Name: "invalid-" + c.name}, Spec: c.spec})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}
}
