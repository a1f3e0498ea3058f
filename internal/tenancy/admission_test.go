package tenancy_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/api"
	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/tenancy"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// TestTenantLabelsAdmission: the admission policies the manager installs in the
// management cluster label a Profile a tenant (a ServiceAccount that may not
// create RoleRequests) creates without identity labels with its own identity,
// and refuse one naming another tenant; a platform admin's profiles are left
// as they are.
func TestTenantLabelsAdmission(t *testing.T) {
	ctx := context.Background()
	testenv.Eventually(t, "admission policies installed", func() error {
		if err := mgmt.Get(ctx, client.ObjectKey{Name: tenancy.TenantLabelsPolicy}, &admissionv1.MutatingAdmissionPolicyBinding{}); err != nil {
			return err
		}
		return mgmt.Get(ctx, client.ObjectKey{Name: tenancy.TenantLabelsPolicy}, &admissionv1.ValidatingAdmissionPolicyBinding{})
	})
	// The tenant: team-a/writer, allowed to manage Profiles in team-a.
	create(t, mgmt,
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "writer"}},
		&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "profile-writer"}, Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{configv1beta1.GroupVersion.Group}, Resources: []string{"profiles"}, Verbs: []string{"get", "create", "update", "patch"}}}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "profile-writer"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "profile-writer"},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: "team-a", Name: "writer"}}})
	cfg := rest.CopyConfig(env.Management().Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:team-a:writer"}
	tenant, err := client.New(cfg, client.Options{Scheme: api.NewScheme()})
	if err != nil {
		t.Fatal(err)
	}
	profile := func(name string, labels map[string]string) *configv1beta1.Profile {
		return &configv1beta1.Profile{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: name, Labels: labels}}
	}

	// The API server starts enforcing a new policy shortly after it is created
	// (each policy on its own): wait for both with dry runs.
	testenv.Eventually(t, "policies in force", func() error {
		probe := profile("probe", nil)
		if err := tenant.Create(ctx, probe, client.DryRunAll); err != nil {
			return err
		}
		if probe.Labels[libv1beta1.ServiceAccountNameLabel] != "writer" {
			return fmt.Errorf("labels %v", probe.Labels)
		}
		// The validating policy comes into force on its own schedule.
		spoof := profile("probe-spoofed", map[string]string{
			libv1beta1.ServiceAccountNamespaceLabel: "team-b", libv1beta1.ServiceAccountNameLabel: "admin"})
		if err := tenant.Create(ctx, spoof, client.DryRunAll); err == nil {
			return fmt.Errorf("validating policy not in force yet: a Profile naming team-b/admin was accepted")
		}
		return nil
	})

	// Without labels: labelled with the tenant's identity.
	p := profile("labelled-by-policy", map[string]string{"app": "web"})
	if err := tenant.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := mgmt.Get(ctx, client.ObjectKeyFromObject(p), p); err != nil {
		t.Fatal(err)
	}
	if p.Labels[libv1beta1.ServiceAccountNamespaceLabel] != "team-a" || p.Labels[libv1beta1.ServiceAccountNameLabel] != "writer" || p.Labels["app"] != "web" {
		t.Errorf("tenant's Profile created without identity labels: labels %v", p.Labels)
	}
	// Removing them on update: put back.
	delete(p.Labels, libv1beta1.ServiceAccountNameLabel)
	if err := tenant.Update(ctx, p); err != nil {
		t.Fatal(err)
	}
	if p.Labels[libv1beta1.ServiceAccountNameLabel] != "writer" {
		t.Errorf("after an update dropping the label: labels %v", p.Labels)
	}

	// Naming someone else: refused, saying whose identity it must be.
	err = tenant.Create(ctx, profile("spoofed", map[string]string{
		libv1beta1.ServiceAccountNamespaceLabel: "team-b", libv1beta1.ServiceAccountNameLabel: "admin"}))
	if err == nil || !strings.Contains(err.Error(), "must name its service account team-a/writer") {
		t.Errorf("a tenant's Profile naming team-b/admin: %v", err)
	}

	// A platform admin (not a ServiceAccount) creates what it wants.
	admin := profile("by-admin", nil)
	create(t, mgmt, admin)
	if len(admin.Labels) != 0 {
		t.Errorf("platform admin's Profile labelled %v", admin.Labels)
	}
}
