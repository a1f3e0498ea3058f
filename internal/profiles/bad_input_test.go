package profiles_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// Bad input — a template that does not render, invalid YAML, a missing
// reference — fails the feature with a message naming the object and the cause,
// and leaves what was deployed before untouched.
func TestBadInputKeepsLastGoodState(t *testing.T) {
	ctx := context.Background()
	good := `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "stable", "namespace": "bad-input"}, "data": {"version": "1"}}`
	policyConfigMap(t, "bad-input-cm", good)
	clusterProfile(t, "bad-input", "bad-input", "yes", 100, "", "bad-input-cm")
	setLabels(t, "app-1", map[string]string{"bad-input": "yes"})
	waitSummary(t, "bad-input", "app-1", resourcesStatus(libv1beta1.FeatureStatusProvisioned))
	app1 := managedClient(t, "app-1")

	for _, tc := range []struct {
		name        string
		annotations map[string]string
		content     string
		want        []string
	}{
		{"template error", map[string]string{libv1beta1.TemplateAnnotation: "ok"},
			`{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "stable", "namespace": "bad-input"}, "data": {"version": "{{ .Cluster.metadata.nosuchfield }}"}}`,
			[]string{"ConfigMap default/bad-input-cm", "nosuchfield"}},
		{"invalid YAML", nil, "apiVersion: v1\nkind: ConfigMap\nmetadata: [unclosed",
			[]string{"ConfigMap default/bad-input-cm", "document 1"}},
		{"Lua template", map[string]string{libv1beta1.LuaAnnotation: "ok"}, "function evaluate() return {} end",
			[]string{"ConfigMap default/bad-input-cm", "Lua templates (annotation projectsveltos.io/lua) are not supported"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setPolicy(t, "bad-input-cm", tc.annotations, tc.content)
			waitSummary(t, "bad-input", "app-1", failedWith(tc.want...))
			stableStill(t, app1)
			testenv.Eventually(t, "profile reports the failed cluster", func() error {
				p := &configv1beta1.ClusterProfile{}
				if err := mgmt.Get(ctx, types.NamespacedName{Name: "bad-input"}, p); err != nil {
					return err
				}
				for _, f := range p.Status.FailedClusters {
					if f.ClusterRef.Name == "app-1" && strings.Contains(f.FailureMessage, tc.want[len(tc.want)-1]) {
						return nil
					}
				}
				return fmt.Errorf("failedClusters %v", p.Status.FailedClusters)
			})
		})
	}

	// A reference to a ConfigMap that does not exist.
	setPolicy(t, "bad-input-cm", nil, good)
	updateClusterProfile(t, "bad-input", func(p *configv1beta1.ClusterProfile) {
		p.Spec.PolicyRefs = append(p.Spec.PolicyRefs, libv1beta1.PolicyRef{Kind: "ConfigMap", Namespace: "default", Name: "does-not-exist"})
	})
	waitSummary(t, "bad-input", "app-1", failedWith("ConfigMap default/does-not-exist not found"))
	stableStill(t, app1)

	// Marked optional, the missing reference is fine.
	updateClusterProfile(t, "bad-input", func(p *configv1beta1.ClusterProfile) { p.Spec.PolicyRefs[1].Optional = true })
	waitSummary(t, "bad-input", "app-1", resourcesStatus(libv1beta1.FeatureStatusProvisioned))
	_ = ctx
}

// stableStill checks that the object deployed before the bad input is still there, unchanged.
func stableStill(t *testing.T, c client.Client) {
	t.Helper()
	cm := &corev1.ConfigMap{}
	if err := c.Get(context.Background(), types.NamespacedName{Namespace: "bad-input", Name: "stable"}, cm); err != nil {
		t.Fatalf("last good object gone: %v", err)
	}
	if cm.Data["version"] != "1" || cm.Annotations[libv1beta1.OwnerNameAnnotation] != "bad-input" {
		t.Errorf("last good object changed: data %v annotations %v", cm.Data, cm.Annotations)
	}
}
