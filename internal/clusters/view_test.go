package clusters_test

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	capiv1beta1 "sigs.k8s.io/cluster-api/api/core/v1beta1"
	capiv1beta2 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
)

// A Cluster API Cluster is ready once its control plane is initialized, in
// either version's words; labels and spec.paused are the Cluster's.
func TestUnitCAPIView(t *testing.T) {
	meta := metav1.ObjectMeta{Namespace: "fleet", Name: "prod", Labels: map[string]string{"env": "prod"}}
	for _, tc := range []struct {
		name          string
		obj           client.Object
		ready, paused bool
	}{
		{"v1beta2 new", &capiv1beta2.Cluster{ObjectMeta: meta}, false, false},
		{"v1beta2 initialized", &capiv1beta2.Cluster{ObjectMeta: meta, Status: capiv1beta2.ClusterStatus{
			Initialization: capiv1beta2.ClusterInitializationStatus{ControlPlaneInitialized: ptr.To(true)}}}, true, false},
		{"v1beta2 condition", &capiv1beta2.Cluster{ObjectMeta: meta, Status: capiv1beta2.ClusterStatus{
			Conditions: []metav1.Condition{{Type: "ControlPlaneInitialized", Status: metav1.ConditionTrue}}}}, true, false},
		{"v1beta2 paused", &capiv1beta2.Cluster{ObjectMeta: meta, Spec: capiv1beta2.ClusterSpec{Paused: ptr.To(true)}}, false, true},
		{"v1beta1 new", &capiv1beta1.Cluster{ObjectMeta: meta}, false, false},
		{"v1beta1 controlPlaneReady", &capiv1beta1.Cluster{ObjectMeta: meta, Status: capiv1beta1.ClusterStatus{ControlPlaneReady: true}}, true, false},
		{"v1beta1 condition", &capiv1beta1.Cluster{ObjectMeta: meta, Status: capiv1beta1.ClusterStatus{
			Conditions: capiv1beta1.Conditions{{Type: capiv1beta1.ControlPlaneInitializedCondition, Status: "True"}}}}, true, false},
		{"v1beta1 paused", &capiv1beta1.Cluster{ObjectMeta: meta, Spec: capiv1beta1.ClusterSpec{Paused: true}}, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, ok := clusters.View(tc.obj)
			if !ok {
				t.Fatal("not a cluster")
			}
			if v.ID != libv1beta1.CAPIClusterID("fleet", "prod") || v.Labels["env"] != "prod" {
				t.Fatalf("view %+v", v)
			}
			if v.Ready != tc.ready || v.Paused != tc.paused || v.Eligible() != tc.ready {
				t.Fatalf("ready %v paused %v, want %v %v", v.Ready, v.Paused, tc.ready, tc.paused)
			}
			if gvk := tc.obj.GetObjectKind().GroupVersionKind(); gvk.Group != libv1beta1.CAPIGroup || gvk.Kind != "Cluster" {
				t.Fatalf("apiVersion/kind not filled in: %v", gvk)
			}
		})
	}
	if _, ok := clusters.View(&libv1beta1.ClusterSet{}); ok {
		t.Fatal("a ClusterSet is not a cluster")
	}
}
