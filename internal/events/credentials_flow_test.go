package events_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/events"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// The tutorial's fetch-postgres-data.yaml, unchanged: a Secret labelled
// cnpg.io/reload=true in the services cluster becomes pg-credentials in the
// management cluster, in the Secret's namespace, with its values copied; deleting
// the Secret withdraws the generated profile and pg-credentials.
func TestCredentialsSecretIsCopiedToManagementCluster(t *testing.T) {
	ctx := context.Background()
	applyYAML(t, readFixture(t, "fetch-postgres-data.yaml"))

	services := clusterClient(t, "services")
	const ns = "credentials-flow"
	ensureNamespace(t, services, ns)
	source := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cluster-app-app", Labels: map[string]string{"cnpg.io/reload": "true"}},
		Data:       map[string][]byte{"username": []byte("app"), "password": []byte("s3cr3t")},
	}
	if err := services.Create(ctx, source); err != nil {
		t.Fatal(err)
	}

	got := &corev1.Secret{}
	testenv.Eventually(t, "pg-credentials in the management cluster", func() error {
		return mgmt.Get(ctx, types.NamespacedName{Namespace: ns, Name: "pg-credentials"}, got)
	})
	if string(got.Data["user"]) != "app" || string(got.Data["password"]) != "s3cr3t" {
		t.Errorf("pg-credentials data = %q, want user=app password=s3cr3t", got.Data)
	}

	profiles := generatedProfiles(t, "credentials-secret")
	if len(profiles) != 1 {
		t.Fatalf("generated ClusterProfiles: %d, want 1", len(profiles))
	}
	p := profiles[0]
	wantLabels := map[string]string{
		libv1beta1.EventTriggerNameLabel:              "credentials-secret",
		libv1beta1.EventTriggerClusterNamespaceLabel:  fleetNamespace,
		libv1beta1.EventTriggerClusterNameLabel:       "services",
		libv1beta1.EventTriggerClusterTypeLabel:       "Sveltos",
		libv1beta1.EventTriggerEventSourceNameLabel:   "detect-credentials-secret",
		libv1beta1.EventTriggerResourceNameLabel:      "cluster-app-app",
		libv1beta1.EventTriggerResourceNamespaceLabel: ns,
	}
	for k, v := range wantLabels {
		if p.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, p.Labels[k], v)
		}
	}
	if p.Spec.ClusterSelector.MatchLabels["type"] != "mgmt" {
		t.Errorf("clusterSelector = %+v, want type=mgmt", p.Spec.ClusterSelector)
	}
	if len(p.Spec.PolicyRefs) != 1 || p.Spec.PolicyRefs[0].Namespace != libv1beta1.DefaultSystemNamespace || p.Spec.PolicyRefs[0].Kind != "Secret" {
		t.Fatalf("policyRefs = %+v, want one Secret in %s", p.Spec.PolicyRefs, libv1beta1.DefaultSystemNamespace)
	}
	inst := &corev1.Secret{}
	if err := mgmt.Get(ctx, types.NamespacedName{Namespace: libv1beta1.DefaultSystemNamespace, Name: p.Spec.PolicyRefs[0].Name}, inst); err != nil {
		t.Fatal(err)
	}
	if inst.Type != libv1beta1.ClusterProfileSecretType {
		t.Errorf("instantiated Secret type %q, want %q", inst.Type, libv1beta1.ClusterProfileSecretType)
	}
	if _, ok := inst.Annotations[libv1beta1.InstantiateAnnotation]; ok {
		t.Errorf("instantiated Secret keeps the instantiate annotation")
	}
	if inst.Labels[libv1beta1.EventTriggerRefNameLabel] != "credentials" || inst.Labels[libv1beta1.EventTriggerRefNamespaceLabel] != "default" {
		t.Errorf("instantiated Secret labels %v lack refname/refnamespace", inst.Labels)
	}

	report := &libv1beta1.EventReport{}
	testenv.Eventually(t, "EventReport of detect-credentials-secret in services", func() error {
		key := types.NamespacedName{Namespace: fleetNamespace, Name: libv1beta1.EventReportName("detect-credentials-secret", "services")}
		if err := mgmt.Get(ctx, key, report); err != nil {
			return err
		}
		if len(report.Spec.MatchingResources) != 1 || report.Spec.MatchingResources[0].Name != "cluster-app-app" {
			return fmt.Errorf("matchingResources %+v", report.Spec.MatchingResources)
		}
		if len(report.Spec.Resources) == 0 {
			return fmt.Errorf("no resources collected")
		}
		return nil
	})
	// The EventReport records the Secret, not its values: they are replaced by
	// their hashes (EventReports are not Secrets, and many may read them).
	for _, leak := range []string{"s3cr3t", base64.StdEncoding.EncodeToString([]byte("s3cr3t"))} {
		if strings.Contains(string(report.Spec.Resources), leak) {
			t.Fatalf("the EventReport carries the Secret's password (%q):\n%s", leak, report.Spec.Resources)
		}
	}
	if !strings.Contains(string(report.Spec.Resources), events.DataHashesAnnotation) {
		t.Errorf("the EventReport's Secret lacks the %s annotation:\n%s", events.DataHashesAnnotation, report.Spec.Resources)
	}

	trigger := &libv1beta1.EventTrigger{}
	testenv.Eventually(t, "EventTrigger status", func() error {
		if err := mgmt.Get(ctx, client.ObjectKey{Name: "credentials-secret"}, trigger); err != nil {
			return err
		}
		if len(trigger.Status.MatchingClusterRefs) != 1 || trigger.Status.MatchingClusterRefs[0].Name != "services" {
			return fmt.Errorf("matchingClusters %+v", trigger.Status.MatchingClusterRefs)
		}
		if len(trigger.Status.ClusterInfo) != 1 || trigger.Status.ClusterInfo[0].Status != libv1beta1.FeatureStatusProvisioned {
			return fmt.Errorf("clusterInfo %+v", trigger.Status.ClusterInfo)
		}
		return nil
	})

	if err := services.Delete(ctx, source); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "pg-credentials withdrawn", func() error {
		return notFound(mgmt, &corev1.Secret{}, types.NamespacedName{Namespace: ns, Name: "pg-credentials"})
	})
	testenv.Eventually(t, "generated ClusterProfile deleted", func() error {
		if n := len(generatedProfiles(t, "credentials-secret")); n != 0 {
			return fmt.Errorf("%d generated ClusterProfiles left", n)
		}
		return nil
	})
	testenv.Eventually(t, "instantiated Secret deleted", func() error {
		return notFound(mgmt, &corev1.Secret{}, types.NamespacedName{Namespace: libv1beta1.DefaultSystemNamespace, Name: p.Spec.PolicyRefs[0].Name})
	})
}
