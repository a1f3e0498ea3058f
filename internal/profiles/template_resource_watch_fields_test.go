package profiles_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// templateResourceRefs[].watchFields: two profiles render the same template
// from the same management-cluster ConfigMap, one watching only data.region
// (deployed to app-1), one watching everything (app-2). A change of data.size
// re-deploys app-2's copy only; app-1 keeps its content and its feature hash.
// A change of data.region re-deploys app-1, whose template then sees the
// whole current object (the new size too). A watchFields path that does not
// parse fails the feature naming it.
func TestTemplateResourceWatchFields(t *testing.T) {
	ctx := context.Background()
	settings := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "twf-settings"},
		Data:       map[string]string{"region": "eu", "size": "small"},
	}
	if err := mgmt.Create(ctx, settings); err != nil {
		t.Fatal(err)
	}
	templatedPolicy(t, "twf-policy", "twf-out",
		`region: '{{ (getResource "Settings").data.region }}'`+"\n"+`  size: '{{ (getResource "Settings").data.size }}'`)
	ref := libv1beta1.TemplateResourceRef{
		Identifier: "Settings",
		Resource:   corev1.ObjectReference{APIVersion: "v1", Kind: "ConfigMap", Namespace: "default", Name: settings.Name},
	}
	watching := ref
	watching.WatchFields = []string{"data.region"}
	templateRefProfile(t, "twf-watch", "twf", "watch", "twf-policy", watching)
	templateRefProfile(t, "twf-all", "twf", "all", "twf-policy", ref)
	setLabels(t, "app-1", map[string]string{"twf": "watch"})
	setLabels(t, "app-2", map[string]string{"twf": "all"})
	t.Cleanup(func() {
		setLabels(t, "app-1", map[string]string{"twf": ""})
		setLabels(t, "app-2", map[string]string{"twf": ""})
	})
	out := types.NamespacedName{Namespace: "template-refs", Name: "twf-out"}
	testenv.Eventually(t, "first deployment in app-1", deployedData("app-1", out, "eu", "small"))
	testenv.Eventually(t, "first deployment in app-2", deployedData("app-2", out, "eu", "small"))
	before := waitSummary(t, "twf-watch", "app-1", resourcesStatus(libv1beta1.FeatureStatusProvisioned)).FeatureSummary(libv1beta1.FeatureResources).Hash

	settings.Data["size"] = "large"
	if err := mgmt.Update(ctx, settings); err != nil {
		t.Fatal(err)
	}
	// Both summaries are brought back by the same change; app-2's copy shows it arrived.
	testenv.Eventually(t, "size change deployed to app-2", deployedData("app-2", out, "eu", "large"))
	if err := deployedData("app-1", out, "eu", "small")(); err != nil {
		t.Errorf("a change outside watchFields re-deployed: %v", err)
	}
	if after := waitSummary(t, "twf-watch", "app-1", resourcesStatus(libv1beta1.FeatureStatusProvisioned)).FeatureSummary(libv1beta1.FeatureResources).Hash; !bytes.Equal(before, after) {
		t.Errorf("the feature hash changed on a change outside watchFields")
	}

	settings.Data["region"] = "us"
	if err := mgmt.Update(ctx, settings); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "region change deployed to app-1, with the current size", deployedData("app-1", out, "us", "large"))

	updateClusterProfile(t, "twf-watch", func(p *configv1beta1.ClusterProfile) {
		p.Spec.TemplateResourceRefs[0].WatchFields = []string{"data[region"}
	})
	waitSummary(t, "twf-watch", "app-1", failedWith(`templateResourceRefs[0].watchFields[0] "data[region"`, "unclosed '['"))
	if err := deployedData("app-1", out, "us", "large")(); err != nil {
		t.Errorf("the last good deployment was not kept: %v", err)
	}
}

// templatedPolicy is a policyRefs ConfigMap (default namespace, template
// annotation) deploying ConfigMap template-refs/<object> whose data is data.
func templatedPolicy(t *testing.T, name, object, data string) {
	t.Helper()
	if err := mgmt.Create(context.Background(), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, Annotations: map[string]string{libv1beta1.TemplateAnnotation: "ok"}},
		Data: map[string]string{"object.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + object +
			"\n  namespace: template-refs\ndata:\n  " + data + "\n"},
	}); err != nil {
		t.Fatal(err)
	}
}

// templateRefProfile is a ClusterProfile for clusters labelled key=value
// deploying policy with one templateResourceRef.
func templateRefProfile(t *testing.T, name, key, value, policy string, ref libv1beta1.TemplateResourceRef) {
	t.Helper()
	p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: name}}
	p.Spec.ClusterSelector.MatchLabels = map[string]string{key: value}
	p.Spec.TemplateResourceRefs = []libv1beta1.TemplateResourceRef{ref}
	p.Spec.PolicyRefs = []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "default", Name: policy}}
	if err := mgmt.Create(context.Background(), p); err != nil {
		t.Fatal(err)
	}
}

// deployedData checks the region and size of a deployed ConfigMap.
func deployedData(cluster string, key types.NamespacedName, region, size string) func() error {
	return func() error {
		cm := &corev1.ConfigMap{}
		if err := managedClientNoT(cluster).Get(context.Background(), key, cm); err != nil {
			return err
		}
		if cm.Data["region"] != region || cm.Data["size"] != size {
			return fmt.Errorf("%s: data %v, want region %s size %s", cluster, cm.Data, region, size)
		}
		return nil
	}
}
