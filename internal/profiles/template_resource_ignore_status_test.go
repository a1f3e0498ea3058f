package profiles_test

import (
	"bytes"
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// templateResourceRefs[].ignoreStatusChanges: two profiles render a template
// over the same management-cluster Deployment (its spec.replicas and
// status.readyReplicas), one ignoring status changes (deployed to app-1), one
// not (app-2). The test plays the Deployment controller by writing
// readyReplicas through the status subresource, then brings both summaries
// back (a label on the policy ConfigMap, which is not part of the content):
// app-2 re-deploys with the new status, app-1 keeps its content and feature
// hash. A spec change then re-deploys app-1 by itself (the Deployment kind is
// watched once a templateResourceRef names it), and its template sees the
// whole current object, status included.
func TestTemplateResourceIgnoreStatusChanges(t *testing.T) {
	ctx := context.Background()
	labels := map[string]string{"app": "tisc"}
	app := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "tisc-app"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1"}}},
			},
		},
	}
	if err := mgmt.Create(ctx, app); err != nil {
		t.Fatal(err)
	}
	templatedPolicy(t, "tisc-policy", "tisc-out",
		`region: '{{ (getResource "App").spec.replicas }}'`+"\n"+`  size: '{{ dig "status" "readyReplicas" 0 (getResource "App") }}'`)
	ref := libv1beta1.TemplateResourceRef{
		Identifier: "App",
		Resource:   corev1.ObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "default", Name: app.Name},
	}
	ignoring := ref
	ignoring.IgnoreStatusChanges = true
	templateRefProfile(t, "tisc-ignore", "tisc", "ignore", "tisc-policy", ignoring)
	templateRefProfile(t, "tisc-all", "tisc", "all", "tisc-policy", ref)
	setLabels(t, "app-1", map[string]string{"tisc": "ignore"})
	setLabels(t, "app-2", map[string]string{"tisc": "all"})
	t.Cleanup(func() {
		setLabels(t, "app-1", map[string]string{"tisc": ""})
		setLabels(t, "app-2", map[string]string{"tisc": ""})
	})
	// deployedData's region and size carry spec.replicas and status.readyReplicas.
	out := types.NamespacedName{Namespace: "template-refs", Name: "tisc-out"}
	testenv.Eventually(t, "first deployment in app-1", deployedData("app-1", out, "1", "0"))
	testenv.Eventually(t, "first deployment in app-2", deployedData("app-2", out, "1", "0"))
	before := waitSummary(t, "tisc-ignore", "app-1", resourcesStatus(libv1beta1.FeatureStatusProvisioned)).FeatureSummary(libv1beta1.FeatureResources).Hash

	app.Status = appsv1.DeploymentStatus{Replicas: 1, ReadyReplicas: 1, AvailableReplicas: 1, UpdatedReplicas: 1}
	if err := mgmt.Status().Update(ctx, app); err != nil {
		t.Fatal(err)
	}
	touchPolicy(t, "tisc-policy", "status-written")
	testenv.Eventually(t, "status change deployed to app-2", deployedData("app-2", out, "1", "1"))
	if err := deployedData("app-1", out, "1", "0")(); err != nil {
		t.Errorf("a status change re-deployed with ignoreStatusChanges: %v", err)
	}
	if after := waitSummary(t, "tisc-ignore", "app-1", resourcesStatus(libv1beta1.FeatureStatusProvisioned)).FeatureSummary(libv1beta1.FeatureResources).Hash; !bytes.Equal(before, after) {
		t.Errorf("the feature hash changed on a status change")
	}

	if err := mgmt.Get(ctx, types.NamespacedName{Namespace: "default", Name: app.Name}, app); err != nil {
		t.Fatal(err)
	}
	app.Spec.Replicas = ptr.To[int32](2)
	if err := mgmt.Update(ctx, app); err != nil {
		t.Fatal(err)
	}
	// Nothing else is touched: the Deployment kind is watched since a
	// templateResourceRef named it, so the change alone brings the summary back.
	testenv.Eventually(t, "spec change deployed to app-1, with the current status", deployedData("app-1", out, "2", "1"))
}

// touchPolicy labels a policyRefs ConfigMap, which brings back the summaries
// reading it without changing what they deploy.
func touchPolicy(t *testing.T, name, value string) {
	t.Helper()
	cm := &corev1.ConfigMap{}
	if err := mgmt.Get(context.Background(), types.NamespacedName{Namespace: "default", Name: name}, cm); err != nil {
		t.Fatal(err)
	}
	cm.Labels = map[string]string{"touched": value}
	if err := mgmt.Update(context.Background(), cm); err != nil {
		t.Fatal(err)
	}
}
