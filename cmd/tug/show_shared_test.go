package main

import (
	"context"
	"encoding/json"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/deployer"
)

// Two registrations of one API server, one profile: each registration's row
// lists only the object deployed for it (objects record their registration).
func TestShowAddonsSharedAPIServer(t *testing.T) {
	t.Setenv("KUBECONFIG", env.Management().KubeconfigPath)
	ctx := context.Background()
	svc := servicesClient(t)
	must(t, svc.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shared-apps"}}))
	for _, reg := range []string{"shared-a", "shared-b"} {
		registerServices(t, reg)
		meta := withName(deployed("ClusterProfile", "shared", libv1beta1.FeatureResources), "shared-apps", "for-"+reg)
		meta.Annotations[deployer.ClusterAnnotation] = reg + "/services"
		must(t, svc.Create(ctx, &corev1.ConfigMap{ObjectMeta: meta}))
		createSummary(t, "ClusterProfile", "shared", reg, "services", configv1beta1.Spec{},
			configv1beta1.ClusterSummaryStatus{DeployedGVKs: []configv1beta1.FeatureDeploymentInfo{
				{FeatureID: libv1beta1.FeatureResources, DeployedGroupVersionKind: []string{"ConfigMap.v1."}},
			}})
	}
	out, err := tug(t, "show", "addons", "--profile", "ClusterProfile/shared", "-o", "json")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var rows []addonRow
	must(t, json.Unmarshal([]byte(out), &rows))
	got := map[string]string{}
	for _, r := range rows {
		got[r.Cluster] += r.Name + " "
	}
	if got["shared-a/services"] != "for-shared-a " || got["shared-b/services"] != "for-shared-b " || len(got) != 2 {
		t.Errorf("rows by cluster: %q", got)
	}
}
