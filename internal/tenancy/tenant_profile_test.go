package tenancy_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// teamARoles is what team-a's RoleRequest grants: everything on ConfigMaps in
// namespace apps, and reading namespaces (the deployer checks that a
// namespace exists before deploying into it).
const teamARoles = `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: team-a-apps
  namespace: apps
rules:
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["*"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: team-a-namespaces
rules:
- apiGroups: [""]
  resources: ["namespaces"]
  verbs: ["get"]
`

// grantTeamA creates the RoleRequest granting team-a's admin (team-a/admin)
// teamARoles in cluster a1 (once: the tests that need it share it) and waits
// until it is granted.
func grantTeamA(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	createNamespace(t, a1, "apps")
	createNamespace(t, b1, "apps")
	if err := mgmt.Get(ctx, client.ObjectKey{Name: "team-a"}, &libv1beta1.RoleRequest{}); err == nil {
		return // granted by an earlier test
	}
	create(t, mgmt, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "team-a-roles"},
		Data: map[string]string{"roles.yaml": teamARoles}})
	create(t, mgmt, &libv1beta1.RoleRequest{ObjectMeta: metav1.ObjectMeta{Name: "team-a"}, Spec: libv1beta1.RoleRequestSpec{
		ClusterSelector:         libv1beta1.Selector{LabelSelector: metav1.LabelSelector{MatchLabels: map[string]string{"tenant": "a"}}},
		RoleRefs:                []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "team-a", Name: "team-a-roles"}},
		ServiceAccountNamespace: "team-a", ServiceAccountName: "admin",
	}})
	setClusterLabels(t, "team-a", "a1", map[string]string{"tenant": "a"})
	testenv.Eventually(t, "team-a's rights granted in a1", func() error {
		rr := &libv1beta1.RoleRequest{}
		if err := mgmt.Get(ctx, client.ObjectKey{Name: "team-a"}, rr); err != nil {
			return err
		}
		if len(rr.Status.ClusterInfo) != 1 || rr.Status.ClusterInfo[0].Status != libv1beta1.FeatureStatusProvisioned {
			return fmt.Errorf("clusterInfo %+v", rr.Status.ClusterInfo)
		}
		return nil
	})
}

// tenantProfile is a Profile of team-a labelled with team-a's admin identity,
// deploying the ConfigMap policy in team-a to the clusters labelled env=prod.
func tenantProfile(name, policy string) *configv1beta1.Profile {
	return &configv1beta1.Profile{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: name, Labels: map[string]string{
			libv1beta1.ServiceAccountNamespaceLabel: "team-a", libv1beta1.ServiceAccountNameLabel: "admin"}},
		Spec: configv1beta1.Spec{
			ClusterSelector: libv1beta1.Selector{LabelSelector: metav1.LabelSelector{MatchLabels: map[string]string{"env": "prod"}}},
			PolicyRefs:      []libv1beta1.PolicyRef{{Kind: "ConfigMap", Name: policy}},
		},
	}
}

// summaryOf reads the ClusterSummary of a team-a Profile in cluster team-a/a1.
func summaryOf(ctx context.Context, profile string) (*configv1beta1.ClusterSummary, error) {
	list := &configv1beta1.ClusterSummaryList{}
	if err := mgmt.List(ctx, list, client.InNamespace("team-a"),
		client.MatchingLabels{configv1beta1.ProfileLabel(configv1beta1.ProfileKind): profile}); err != nil {
		return nil, err
	}
	if len(list.Items) != 1 {
		return nil, fmt.Errorf("%d ClusterSummaries of Profile team-a/%s, want 1", len(list.Items), profile)
	}
	return &list.Items[0], nil
}

// TestTenantProfile is issue #19's acceptance: tenant A's Profile in namespace
// team-a deploys to A's clusters only, as A's identity; a Profile of team-a
// asking for a ClusterRole its RoleRequest does not grant fails with the missing
// right named, and nothing of it is created.
func TestTenantProfile(t *testing.T) {
	ctx := context.Background()
	grantTeamA(t)

	// Allowed: a ConfigMap in apps. Both clusters are env=prod; only a1 is in team-a.
	create(t, mgmt, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "web-policy"},
		Data: map[string]string{"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\n  namespace: apps\ndata:\n  color: blue\n"}})
	create(t, mgmt, tenantProfile("web", "web-policy"))
	testenv.Eventually(t, "team-a's ConfigMap deployed in a1", func() error {
		return a1.Get(ctx, client.ObjectKey{Namespace: "apps", Name: "web-config"}, &corev1.ConfigMap{})
	})
	testenv.Eventually(t, "Profile web matches a1 only and is provisioned there", func() error {
		p := &configv1beta1.Profile{}
		if err := mgmt.Get(ctx, client.ObjectKey{Namespace: "team-a", Name: "web"}, p); err != nil {
			return err
		}
		if len(p.Status.MatchingClusterRefs) != 1 || p.Status.MatchingClusterRefs[0].Namespace != "team-a" {
			return fmt.Errorf("matchingClusters %v", p.Status.MatchingClusterRefs)
		}
		s, err := summaryOf(ctx, "web")
		if err != nil {
			return err
		}
		if len(s.Status.FeatureSummaries) != 1 || s.Status.FeatureSummaries[0].Status != libv1beta1.FeatureStatusProvisioned {
			return fmt.Errorf("feature summaries %+v", s.Status.FeatureSummaries)
		}
		return nil
	})
	if err := gone(ctx, b1, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "web-config"}}); err != nil {
		t.Errorf("team-b's cluster: %v", err)
	}

	// Not allowed: a ClusterRole. The ConfigMap before it, which team-a may
	// create, is not created either.
	create(t, mgmt, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "escalate-policy"},
		Data: map[string]string{"all.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: before-escalation
  namespace: apps
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: team-a-escalated
rules:
- apiGroups: ["*"]
  resources: ["*"]
  verbs: ["*"]
`}})
	create(t, mgmt, tenantProfile("escalate", "escalate-policy"))
	var failure string
	testenv.Eventually(t, "Profile escalate fails in a1 naming the missing right", func() error {
		s, err := summaryOf(ctx, "escalate")
		if err != nil {
			return err
		}
		if len(s.Status.FeatureSummaries) != 1 || s.Status.FeatureSummaries[0].Status != libv1beta1.FeatureStatusFailed ||
			s.Status.FeatureSummaries[0].FailureMessage == nil {
			return fmt.Errorf("feature summaries %+v", s.Status.FeatureSummaries)
		}
		failure = *s.Status.FeatureSummaries[0].FailureMessage
		return nil
	})
	for _, want := range []string{"tenant team-a/admin may not deploy", "nothing was applied", "ClusterRole team-a-escalated",
		`User "system:serviceaccount:projectsveltos:team-a--admin" cannot`, `resource "clusterroles" in API group "rbac.authorization.k8s.io"`} {
		if !strings.Contains(failure, want) {
			t.Errorf("failure message %q does not contain %q", failure, want)
		}
	}
	if strings.Contains(failure, "before-escalation") {
		t.Errorf("failure message names the allowed ConfigMap: %q", failure)
	}
	if err := gone(ctx, a1, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "before-escalation"}},
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "team-a-escalated"}}); err != nil {
		t.Errorf("the refused profile created something: %v", err)
	}
	s, err := summaryOf(ctx, "escalate")
	if err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "a warning Event on the ClusterSummary naming the missing right", func() error {
		notes, err := eventsAbout(ctx, "ClusterSummary", s.Namespace, s.Name)
		if err != nil {
			return err
		}
		if !strings.Contains(notes, "Warning DeployFailed") || !strings.Contains(notes, `resource "clusterroles"`) {
			return fmt.Errorf("events: %q", notes)
		}
		return nil
	})
}

// TestProfileReachesOwnNamespaceOnly: a Profile's clusterRefs naming a cluster
// of another namespace, and its selector matching one, do not reach it.
func TestProfileReachesOwnNamespaceOnly(t *testing.T) {
	ctx := context.Background()
	p := &configv1beta1.Profile{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "cross"},
		Spec: configv1beta1.Spec{
			ClusterSelector: libv1beta1.Selector{LabelSelector: metav1.LabelSelector{MatchLabels: map[string]string{"env": "prod"}}},
			ClusterRefs:     []corev1.ObjectReference{{Kind: "SveltosCluster", APIVersion: libv1beta1.GroupVersion.String(), Namespace: "team-b", Name: "b1"}},
		},
	}
	create(t, mgmt, p)
	testenv.Eventually(t, "Profile cross reconciled, matching a1 only", func() error {
		got := &configv1beta1.Profile{}
		if err := mgmt.Get(ctx, client.ObjectKeyFromObject(p), got); err != nil {
			return err
		}
		ready := meta(got.Status.Conditions, "Ready")
		if ready == nil || ready.ObservedGeneration != got.Generation {
			return fmt.Errorf("not reconciled yet: %+v", got.Status.Conditions)
		}
		if len(got.Status.MatchingClusterRefs) != 1 || got.Status.MatchingClusterRefs[0].Namespace != "team-a" || got.Status.MatchingClusterRefs[0].Name != "a1" {
			return fmt.Errorf("matchingClusters %v", got.Status.MatchingClusterRefs)
		}
		return nil
	})
	list := &configv1beta1.ClusterSummaryList{}
	if err := mgmt.List(ctx, list, client.MatchingLabels{configv1beta1.ProfileLabel(configv1beta1.ProfileKind): "cross"}); err != nil {
		t.Fatal(err)
	}
	for _, s := range list.Items {
		if s.Spec.ClusterName != "a1" {
			t.Errorf("ClusterSummary %s/%s for cluster %s/%s", s.Namespace, s.Name, s.Spec.ClusterNamespace, s.Spec.ClusterName)
		}
	}
}

func meta(conds []metav1.Condition, t string) *metav1.Condition {
	for i := range conds {
		if conds[i].Type == t {
			return &conds[i]
		}
	}
	return nil
}

// TestTenantProfileLocal: a tenant's objects with deploymentType Local go to the
// management cluster as the tenant admin's own ServiceAccount — refused, naming
// it, until that ServiceAccount may create them there.
func TestTenantProfileLocal(t *testing.T) {
	ctx := context.Background()
	create(t, mgmt, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "local-policy"},
		Data: map[string]string{"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: local-config\n  namespace: team-a\n"}})
	p := tenantProfile("local", "local-policy")
	p.Spec.PolicyRefs[0].DeploymentType = libv1beta1.DeploymentTypeLocal
	p.Spec.PolicyRefs[0].SkipNamespaceCreation = true
	create(t, mgmt, p)
	testenv.Eventually(t, "Local objects refused to team-a/admin in the management cluster", func() error {
		s, err := summaryOf(ctx, "local")
		if err != nil {
			return err
		}
		for _, fs := range s.Status.FeatureSummaries {
			if fs.FailureMessage != nil && strings.Contains(*fs.FailureMessage, `User "system:serviceaccount:team-a:admin" cannot`) {
				return nil
			}
		}
		return fmt.Errorf("feature summaries %+v", s.Status.FeatureSummaries)
	})
	if err := gone(ctx, mgmt, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "local-config"}}); err != nil {
		t.Error(err)
	}
	create(t, mgmt,
		&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "admin-configmaps"}, Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"*"}}}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "admin-configmaps"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "admin-configmaps"},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: "team-a", Name: "admin"}}})
	testenv.Eventually(t, "deployed as team-a/admin once it may", func() error {
		return mgmt.Get(ctx, client.ObjectKey{Namespace: "team-a", Name: "local-config"}, &corev1.ConfigMap{})
	})
}
