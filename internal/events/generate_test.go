package events

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/tugboat-dev/tugboat/api"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/templating"
)

func testGenerator(t *testing.T, spec libv1beta1.EventTriggerSpec) (*generator, origin, renderer) {
	t.Helper()
	values := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "values",
			Annotations: map[string]string{libv1beta1.InstantiateAnnotation: "ok", "keep": "me"}},
		Data: map[string]string{"values.yaml": "user: {{ get .Resource.data `username` }}"},
	}
	plain := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "plain"}, Data: map[string]string{"a": "{{ not rendered }}"}}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "creds", Annotations: map[string]string{libv1beta1.InstantiateAnnotation: "ok"}},
		Data:       map[string][]byte{"s.yaml": []byte("ns: {{ .MatchingResource.Namespace }}")},
	}
	reader := fake.NewClientBuilder().WithScheme(api.NewScheme()).WithObjects(values, plain, secret).Build()
	cluster := &libv1beta1.SveltosCluster{ObjectMeta: metav1.ObjectMeta{Namespace: "fleet", Name: "services", Labels: map[string]string{"env": "prod"}}}
	trigger := &libv1beta1.EventTrigger{ObjectMeta: metav1.ObjectMeta{Name: "t"}, Spec: spec}
	g := &generator{reader: reader, namespace: "projectsveltos", trigger: trigger, out: newDesired()}
	o := origin{trigger: "t", cluster: libv1beta1.SveltosClusterID("fleet", "services"), eventSource: "src",
		resource: &types.NamespacedName{Namespace: "team-a", Name: "db-app"}}
	clusterMap, err := templating.ClusterMap(cluster)
	if err != nil {
		t.Fatal(err)
	}
	res := map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"namespace": "team-a", "name": "db-app"},
		"data": map[string]any{"username": "YXBw"}}
	ref := corev1.ObjectReference{APIVersion: "v1", Kind: "Secret", Namespace: "team-a", Name: "db-app"}
	return g, o, oneEventData(clusterMap, ref, res)
}

func TestGenerateProfile(t *testing.T) {
	spec := libv1beta1.EventTriggerSpec{
		EventSourceName:    "src",
		OneForEvent:        true,
		DestinationCluster: &corev1.ObjectReference{Namespace: "{{ .MatchingResource.Namespace }}", Name: "{{ .Cluster.metadata.name }}-dst"},
		PolicyRefs: []libv1beta1.PolicyRef{
			{Kind: "ConfigMap", Namespace: "default", Name: "plain"},
			{Kind: "Secret", Namespace: "default", Name: "creds"},
		},
		HelmCharts: []libv1beta1.HelmChart{{
			RepositoryURL: "https://charts", RepositoryName: "r", ChartName: "r/c", ChartVersion: "1.0.0",
			ReleaseName: "{{ .MatchingResource.Name }}", ReleaseNamespace: "{{ .MatchingResource.Namespace }}",
			Values:     "env: {{ .Cluster.metadata.labels.env }}",
			ValuesFrom: []libv1beta1.ValueFrom{{Kind: "ConfigMap", Namespace: "default", Name: "values"}},
		}},
		ConfigMapGenerator: []libv1beta1.GeneratorReference{{Namespace: "default", Name: "values", NameFormat: "{{ .MatchingResource.Name }}-generated"}},
		Tier:               50,
		SyncMode:           libv1beta1.SyncModeContinuous,
	}
	g, o, r := testGenerator(t, spec)
	if err := g.event(context.Background(), o, r); err != nil {
		t.Fatal(err)
	}
	if len(g.out.profiles) != 1 {
		t.Fatalf("%d profiles", len(g.out.profiles))
	}
	var name string
	for n := range g.out.profiles {
		name = n
	}
	p := g.out.profiles[name]
	if p.Spec.Tier != 50 || p.Spec.SyncMode != libv1beta1.SyncModeContinuous {
		t.Errorf("tier/syncMode not copied: %+v", p.Spec)
	}
	if got := p.Spec.ClusterRefs; len(got) != 1 || got[0].Namespace != "team-a" || got[0].Name != "services-dst" || got[0].Kind != libv1beta1.SveltosClusterKind {
		t.Errorf("clusterRefs %+v", got)
	}
	if got := p.Spec.PolicyRefs[0]; got.Namespace != "default" || got.Name != "plain" {
		t.Errorf("a reference without the instantiate annotation changed: %+v", got)
	}
	secretRef := p.Spec.PolicyRefs[1]
	if secretRef.Namespace != "projectsveltos" || secretRef.Name == "creds" {
		t.Errorf("instantiated Secret reference %+v", secretRef)
	}
	if s := g.out.secrets[secretRef.Name]; s == nil || string(s.Data["s.yaml"]) != "ns: team-a" || s.Type != libv1beta1.ClusterProfileSecretType {
		t.Errorf("instantiated Secret %+v", s)
	}
	h := p.Spec.HelmCharts[0]
	if h.ReleaseName != "db-app" || h.ReleaseNamespace != "team-a" || h.Values != "env: prod" {
		t.Errorf("helm chart fields not rendered: %+v", h)
	}
	vf := h.ValuesFrom[0]
	cm := g.out.configMaps[vf.Name]
	if vf.Namespace != "projectsveltos" || cm == nil || cm.Data["values.yaml"] != "user: YXBw" || cm.Annotations["keep"] != "me" {
		t.Errorf("valuesFrom instantiation: ref %+v, ConfigMap %+v", vf, cm)
	}
	if _, ok := cm.Annotations[libv1beta1.InstantiateAnnotation]; ok {
		t.Errorf("instantiate annotation kept")
	}
	if gen := g.out.configMaps["db-app-generated"]; gen == nil || gen.Labels[libv1beta1.EventTriggerRefNameLabel] != "values" {
		t.Errorf("configMapGenerator output %+v", gen)
	}
	for _, l := range []string{libv1beta1.EventTriggerNameLabel, libv1beta1.EventTriggerClusterNameLabel, libv1beta1.EventTriggerResourceNameLabel} {
		if p.Labels[l] == "" {
			t.Errorf("profile lacks label %s", l)
		}
	}

	// Same origin, same names; another resource, other names.
	g2, o2, r2 := testGenerator(t, spec)
	if err := g2.event(context.Background(), o2, r2); err != nil {
		t.Fatal(err)
	}
	if _, ok := g2.out.profiles[name]; !ok || g2.out.hash() == nil || string(g2.out.hash()) != string(g.out.hash()) {
		t.Errorf("the same origin generated different objects")
	}
	o2.resource = &types.NamespacedName{Namespace: "team-a", Name: "other"}
	g3, _, _ := testGenerator(t, spec)
	if err := g3.event(context.Background(), o2, r2); err != nil {
		t.Fatal(err)
	}
	if _, ok := g3.out.profiles[name]; ok {
		t.Errorf("another origin got the same profile name %s", name)
	}
}

func TestGenerateErrors(t *testing.T) {
	tests := []struct {
		name string
		spec libv1beta1.EventTriggerSpec
		want string
	}{
		{"missing reference", libv1beta1.EventTriggerSpec{PolicyRefs: []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "default", Name: "absent"}}},
			"EventTrigger t policyRefs[0]: ConfigMap default/absent not found"},
		{"bad profileNameFormat", libv1beta1.EventTriggerSpec{ProfileNameFormat: "{{ .MatchingResource.Name }}_X"},
			"profileNameFormat: rendered name \"db-app_X\" is not a valid object name"},
		{"plural in oneForEvent", libv1beta1.EventTriggerSpec{HelmCharts: []libv1beta1.HelmChart{{Values: "{{ .Resources }}"}}},
			"EventTrigger t helmCharts[0].values"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, o, r := testGenerator(t, tc.spec)
			err := g.event(context.Background(), o, r)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	// A missing optional reference passes through.
	g, o, r := testGenerator(t, libv1beta1.EventTriggerSpec{PolicyRefs: []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "default", Name: "absent", Optional: true}}})
	if err := g.event(context.Background(), o, r); err != nil {
		t.Fatal(err)
	}
}
