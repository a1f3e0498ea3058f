package explain_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/deployer"
	"github.com/tugboat-dev/tugboat/internal/explain"
	"github.com/tugboat-dev/tugboat/internal/selection"
)

// templateResourceRefs resolve per cluster as the summary controller
// resolves them: name templates over .Cluster, an empty namespace is the
// cluster's for a ClusterProfile and the Profile's own for a Profile.
func TestUnitResolveInputs(t *testing.T) {
	sc := &libv1beta1.SveltosCluster{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "edge"}}
	cluster := &selection.Cluster{ID: libv1beta1.SveltosClusterID("team", "edge"), Object: sc}
	refs := []libv1beta1.TemplateResourceRef{
		{Resource: corev1.ObjectReference{APIVersion: "v1", Kind: "Secret", Name: "pg-credentials"}, Identifier: "Credentials"},
		{Resource: corev1.ObjectReference{APIVersion: "v1", Kind: "ConfigMap", Namespace: "shared", Name: "{{ .Cluster.metadata.name }}-lb"}, Identifier: "LB", Optional: true},
		{Resource: corev1.ObjectReference{APIVersion: "v1", Kind: "ConfigMap", Name: "{{ .Cluster.nothing.name }"}, Identifier: "Broken"},
	}
	cp := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "deploy-job"}, Spec: configv1beta1.Spec{TemplateResourceRefs: refs}}
	got := explain.ResolveInputs(cp, cluster)
	if len(got) != 3 {
		t.Fatalf("got %d inputs", len(got))
	}
	if got[0].Ref() != "Secret team/pg-credentials" || got[0].Problem != "" {
		t.Errorf("a ClusterProfile's input defaults to the cluster's namespace: %+v", got[0])
	}
	if got[1].Ref() != "ConfigMap shared/edge-lb" || !got[1].Optional {
		t.Errorf("a name template resolved for the cluster: %+v", got[1])
	}
	if got[2].Problem == "" {
		t.Errorf("a name template that does not parse is the input's problem: %+v", got[2])
	}
	p := &configv1beta1.Profile{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "p"}, Spec: configv1beta1.Spec{TemplateResourceRefs: refs[:1]}}
	if got := explain.ResolveInputs(p, cluster); got[0].Ref() != "Secret apps/pg-credentials" {
		t.Errorf("a Profile's input defaults to its own namespace: %+v", got[0])
	}
}

// The producer of an object is read from the ownership annotations the
// deployer writes; an object without them has none.
func TestUnitProducerOf(t *testing.T) {
	obj := &metav1.ObjectMeta{Labels: map[string]string{libv1beta1.ReasonLabel: "Resources"}, Annotations: map[string]string{
		libv1beta1.OwnerKindAnnotation: "Profile", libv1beta1.OwnerNameAnnotation: "creds", deployer.ClusterAnnotation: "team/mgmt"}}
	p, ref, ok := explain.ProducerOf(obj)
	if !ok || p.Profile != "Profile/team/creds" || ref.Namespace != "team" || p.Feature != libv1beta1.FeatureResources || p.Cluster != "team/mgmt" {
		t.Errorf("ProducerOf: %+v %+v %v", p, ref, ok)
	}
	if _, _, ok := explain.ProducerOf(&metav1.ObjectMeta{}); ok {
		t.Error("an object without ownership annotations has a producer")
	}
}
