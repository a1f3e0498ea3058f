package templating

import (
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/examples"
)

// fixtureTemplate returns a data (or stringData) value of a ConfigMap/Secret
// in one of the tutorial manifests (package examples), together with the
// object's annotations.
func fixtureTemplate(t testing.TB, file, kind, name, key string) (string, map[string]string) {
	t.Helper()
	raw, err := examples.DBaaSManifest(file)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := SplitDocuments(file, string(raw))
	if err != nil {
		t.Fatalf("SplitDocuments(%s): %v", file, err)
	}
	for _, o := range objs {
		if o.GetKind() != kind || o.GetName() != name {
			continue
		}
		for _, field := range []string{"data", "stringData"} {
			if v, ok, _ := unstructured.NestedString(o.Object, field, key); ok {
				return v, o.GetAnnotations()
			}
		}
		t.Fatalf("%s %s in %s has no key %s", kind, name, file, key)
	}
	t.Fatalf("%s %s not found in %s", kind, name, file)
	return "", nil
}

func golden(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "golden", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// mm unwraps a conversion that cannot fail for the fixed test objects.
func mm(m map[string]any, err error) map[string]any {
	if err != nil {
		panic(err)
	}
	return m
}

// Realistic inputs of the tutorial journey.

func workloadCluster() *libv1beta1.SveltosCluster {
	return &libv1beta1.SveltosCluster{
		ObjectMeta: metav1.ObjectMeta{
			Name: "workload", Namespace: "prod", UID: "0b7c3c1e-1111-2222-3333-444455556666", ResourceVersion: "4711",
			Labels:        map[string]string{"postgres": "required", "type": "app", libv1beta1.K8sVersionLabel: "v1.33.1"},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationUpdate}},
		},
		Spec:   libv1beta1.SveltosClusterSpec{Data: map[string]string{"region": "eu-west-1"}},
		Status: libv1beta1.SveltosClusterStatus{Ready: true, Version: "v1.33.1", ConnectionStatus: libv1beta1.ConnectionHealthy},
	}
}

func servicesCluster() *libv1beta1.SveltosCluster {
	return &libv1beta1.SveltosCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "services", Namespace: "infra", Labels: map[string]string{"type": "services"}},
		Status:     libv1beta1.SveltosClusterStatus{Ready: true},
	}
}

func mgmtCluster() *libv1beta1.SveltosCluster {
	return &libv1beta1.SveltosCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "mgmt", Namespace: "mgmt", Labels: map[string]string{"type": "mgmt"}},
		Status:     libv1beta1.SveltosClusterStatus{Ready: true},
	}
}

// operatorSecret is the Secret the database operator creates in the services cluster.
func operatorSecret() *corev1.Secret {
	return &corev1.Secret{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{
			Name: "cluster-workload-app", Namespace: "prod", UID: "u-1", ResourceVersion: "99",
			Labels: map[string]string{"cnpg.io/reload": "true"},
		},
		Type: corev1.SecretTypeBasicAuth,
		Data: map[string][]byte{"username": []byte("todo"), "password": []byte("s3cr3t!")},
	}
}

// operatorService is the load-balancer Service the database operator creates.
func operatorService() *corev1.Service {
	return &corev1.Service{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{
			Name: "cluster-rw-lb", Namespace: "prod",
			Labels: map[string]string{"cnpg.io/isManaged": "true"},
		},
		Spec: corev1.ServiceSpec{
			Type:  corev1.ServiceTypeLoadBalancer,
			Ports: []corev1.ServicePort{{Name: "postgres", Port: 5432, TargetPort: intstr.FromInt32(5432), Protocol: corev1.ProtocolTCP}},
		},
		Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{
			Ingress: []corev1.LoadBalancerIngress{{IP: "172.18.255.200"}},
		}},
	}
}

// pgCredentials and pgLoadBalancerData are what the two instantiated
// profiles deploy into the management cluster.
func pgCredentials() *corev1.Secret {
	return &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: "pg-credentials", Namespace: "prod", UID: "u-2", ResourceVersion: "7"},
		Data:       map[string][]byte{"password": []byte("s3cr3t!"), "user": []byte("todo")},
	}
}

func pgLoadBalancerData() *corev1.ConfigMap {
	return &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: "pg-loadbalancer-data", Namespace: "prod"},
		Data:       map[string]string{"external-ip": "172.18.255.200", "port": "5432"},
	}
}

func TestFixtureTemplates(t *testing.T) {
	tests := []struct {
		name              string
		file, kind, obj   string
		key               string
		instantiate       bool // annotation expected on the source
		render            func(t *testing.T, name, text string) (string, error)
		golden            string
		wantKind, wantAPI string
	}{
		{
			name: "postgres-cluster from the workload SveltosCluster",
			file: "auto-deploy-postgres-cluster.yaml", kind: "ConfigMap", obj: "postgres-cluster", key: "cluster.yaml",
			instantiate: true,
			render: func(t *testing.T, name, text string) (string, error) {
				res := mm(ClusterMap(workloadCluster()))
				ref := corev1.ObjectReference{APIVersion: "lib.projectsveltos.io/v1beta1", Kind: "SveltosCluster", Namespace: "prod", Name: "workload"}
				ctx := NewEventContext(mm(ClusterMap(mgmtCluster())), ref, res)
				return ctx.Render(name, text)
			},
			golden: "postgres-cluster.yaml", wantKind: "Cluster", wantAPI: "postgresql.cnpg.io/v1",
		},
		{
			name: "credentials from the operator's Secret",
			file: "fetch-postgres-data.yaml", kind: "Secret", obj: "credentials", key: "credentials",
			instantiate: true,
			render: func(t *testing.T, name, text string) (string, error) {
				res := mm(ObjectMap(operatorSecret()))
				ref := corev1.ObjectReference{APIVersion: "v1", Kind: "Secret", Namespace: "prod", Name: "cluster-workload-app"}
				ctx := NewEventContext(mm(ClusterMap(servicesCluster())), ref, res)
				return ctx.Render(name, text)
			},
			golden: "credentials.yaml", wantKind: "Secret", wantAPI: "v1",
		},
		{
			name: "loadbalancer data from the operator's Service",
			file: "fetch-postgres-data.yaml", kind: "ConfigMap", obj: "loadbalancer-data", key: "credentials",
			instantiate: true,
			render: func(t *testing.T, name, text string) (string, error) {
				res := mm(ObjectMap(operatorService()))
				ref := corev1.ObjectReference{APIVersion: "v1", Kind: "Service", Namespace: "prod", Name: "cluster-rw-lb"}
				ctx := NewEventContext(mm(ClusterMap(servicesCluster())), ref, res)
				return ctx.Render(name, text)
			},
			golden: "loadbalancer-data.yaml", wantKind: "ConfigMap", wantAPI: "v1",
		},
		{
			name: "job-to-create-table from templateResourceRefs",
			file: "job-to-create-table.yaml", kind: "ConfigMap", obj: "job-to-create-table", key: "job-to-create-table.yaml",
			render: func(t *testing.T, name, text string) (string, error) {
				ctx := NewProfileContext(mm(ClusterMap(workloadCluster())), map[string]map[string]any{
					"Credentials":  mm(ObjectMap(pgCredentials())),
					"LoadBalancer": mm(ObjectMap(pgLoadBalancerData())),
				})
				return ctx.Render(name, text)
			},
			golden: "job-to-create-table.yaml", wantKind: "Job", wantAPI: "batch/v1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, annotations := fixtureTemplate(t, tt.file, tt.kind, tt.obj, tt.key)
			if IsInstantiate(annotations) != tt.instantiate || IsTemplate(annotations) == tt.instantiate {
				t.Fatalf("annotations %v: IsInstantiate=%v IsTemplate=%v", annotations, IsInstantiate(annotations), IsTemplate(annotations))
			}
			name := SourceName(tt.kind, "default", tt.obj, tt.key)
			got, err := tt.render(t, name, text)
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			if want := golden(t, tt.golden); got != want {
				t.Fatalf("rendered:\n%s\nwant:\n%s", got, want)
			}
			objs, err := SplitDocuments(name, got)
			if err != nil {
				t.Fatalf("rendered output does not parse: %v", err)
			}
			if len(objs) != 1 || objs[0].GetKind() != tt.wantKind || objs[0].GetAPIVersion() != tt.wantAPI {
				t.Fatalf("parsed %d objects, first %s %s", len(objs), objs[0].GetAPIVersion(), objs[0].GetKind())
			}
		})
	}
}

// TestTutorialChain renders the tutorial's templates in sequence, feeding the
// objects produced by the instantiate stage to the profile stage.
func TestTutorialChain(t *testing.T) {
	servicesMap := mm(ClusterMap(servicesCluster()))

	credText, _ := fixtureTemplate(t, "fetch-postgres-data.yaml", "Secret", "credentials", "credentials")
	credOut, err := NewEventContext(servicesMap, corev1.ObjectReference{Kind: "Secret", Namespace: "prod", Name: "cluster-workload-app"},
		mm(ObjectMap(operatorSecret()))).Render("credentials", credText)
	if err != nil {
		t.Fatal(err)
	}
	lbText, _ := fixtureTemplate(t, "fetch-postgres-data.yaml", "ConfigMap", "loadbalancer-data", "credentials")
	lbOut, err := NewEventContext(servicesMap, corev1.ObjectReference{Kind: "Service", Namespace: "prod", Name: "cluster-rw-lb"},
		mm(ObjectMap(operatorService()))).Render("loadbalancer-data", lbText)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := SplitDocuments("credentials", credOut)
	if err != nil {
		t.Fatal(err)
	}
	lb, err := SplitDocuments("loadbalancer-data", lbOut)
	if err != nil {
		t.Fatal(err)
	}

	jobText, _ := fixtureTemplate(t, "job-to-create-table.yaml", "ConfigMap", "job-to-create-table", "job-to-create-table.yaml")
	ctx := NewProfileContext(mm(ClusterMap(workloadCluster())), map[string]map[string]any{
		"Credentials": cred[0].Object, "LoadBalancer": lb[0].Object,
	})
	jobOut, err := ctx.Render("job", jobText)
	if err != nil {
		t.Fatal(err)
	}
	if want := golden(t, "job-to-create-table.yaml"); jobOut != want {
		t.Fatalf("rendered:\n%s\nwant:\n%s", jobOut, want)
	}
	job, err := SplitDocuments("job", jobOut)
	if err != nil {
		t.Fatal(err)
	}
	containers, _, _ := unstructured.NestedSlice(job[0].Object, "spec", "template", "spec", "containers")
	c := containers[0].(map[string]any)
	env := c["env"].([]any)[0].(map[string]any)
	if env["value"] != "s3cr3t!" {
		t.Errorf("PGPASSWORD = %v", env["value"])
	}
	args := c["args"].([]any)
	if args[0] != "--host=172.18.255.200" || args[1] != "--port=5432" || args[2] != "--username=todo" {
		t.Errorf("args = %v", args[:3])
	}
}

// contextRenderer is a template context: ProfileContext, EventContext or
// ClusterEventsContext.
type contextRenderer interface {
	Render(name, text string) (string, error)
}

// checkRender renders text with r in a subtest named name and compares it with want.
func checkRender(t *testing.T, r contextRenderer, name, text, want string) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		got, err := r.Render(name, text)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("got\n%s\nwant\n%s", got, want)
		}
	})
}
