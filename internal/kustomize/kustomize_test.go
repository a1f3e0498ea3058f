package kustomize_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tugboat-dev/tugboat/internal/kustomize"

	"github.com/tugboat-dev/tugboat/internal/testenv"
)

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    region: "{{ .Region }}"
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: "nginx:{{ .Version }}"
`

const service = `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: 80
`

const clusterRole = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: web-reader
rules:
- apiGroups: [""]
  resources: [pods]
  verbs: [get]
`

func byKindName(objs []*unstructured.Unstructured) map[string]*unstructured.Unstructured {
	m := map[string]*unstructured.Unstructured{}
	for _, o := range objs {
		m[o.GetKind()+"/"+o.GetName()] = o
	}
	return m
}

func mustGet(t *testing.T, objs []*unstructured.Unstructured, kindName string) *unstructured.Unstructured {
	t.Helper()
	o, ok := byKindName(objs)[kindName]
	if !ok {
		names := make([]string, 0, len(objs))
		for k := range byKindName(objs) {
			names = append(names, k)
		}
		t.Fatalf("no %s in output %v", kindName, names)
	}
	return o
}

var baseAndOverlay = map[string]string{
	"base/kustomization.yaml": "resources:\n- deployment.yaml\n- service.yaml\n",
	"base/deployment.yaml":    deployment,
	"base/service.yaml":       service,
	"overlays/prod/kustomization.yaml": `resources:
- ../../base
namePrefix: prod-
labels:
- pairs: {env: prod}
patches:
- target: {kind: Deployment, name: web}
  patch: |
    - op: replace
      path: /spec/replicas
      value: 3
`,
}

func TestBuildFilesAsKeys(t *testing.T) {
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "default"},
		Data: map[string]string{
			"kustomization.yaml": "resources:\n- service.yaml\n- role.yaml\nnamePrefix: demo-\n",
			"service.yaml":       service,
			"role.yaml":          clusterRole,
		},
	}
	objs, err := kustomize.Build(kustomize.FilesFromConfigMap(cm), kustomize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 {
		t.Fatalf("got %d objects, want 2", len(objs))
	}
	mustGet(t, objs, "Service/demo-web")
	mustGet(t, objs, "ClusterRole/demo-web-reader")
}

func TestBuildTarGzBaseAndOverlay(t *testing.T) {
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "default"},
		BinaryData: map[string][]byte{"kustomize.tar.gz": testenv.TarGz(t, baseAndOverlay)},
	}
	files := kustomize.FilesFromConfigMap(cm)
	values := map[string]string{"Region": "west", "Version": "1.27"}

	objs, err := kustomize.Build(files, kustomize.Options{Path: "overlays/prod", Values: values})
	if err != nil {
		t.Fatal(err)
	}
	dep := mustGet(t, objs, "Deployment/prod-web")
	if r, _, _ := unstructured.NestedInt64(dep.Object, "spec", "replicas"); r != 3 {
		t.Errorf("overlay replicas %d, want 3", r)
	}
	if got := dep.GetLabels(); got["env"] != "prod" || got["region"] != "west" {
		t.Errorf("deployment labels %v", got)
	}
	containers, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
	if img := containers[0].(map[string]any)["image"]; img != "nginx:1.27" {
		t.Errorf("image %v, want nginx:1.27", img)
	}
	mustGet(t, objs, "Service/prod-web")

	// The base alone, from the same archive.
	objs, err = kustomize.Build(files, kustomize.Options{Path: "base/", Values: values})
	if err != nil {
		t.Fatal(err)
	}
	dep = mustGet(t, objs, "Deployment/web")
	if r, _, _ := unstructured.NestedInt64(dep.Object, "spec", "replicas"); r != 1 {
		t.Errorf("base replicas %d, want 1", r)
	}

	// A Secret holding the archive under any key name (gzip detected by content).
	sec := &corev1.Secret{Data: map[string][]byte{"bundle": testenv.TarGz(t, baseAndOverlay)}}
	objs, err = kustomize.Build(kustomize.FilesFromSecret(sec), kustomize.Options{Path: "./overlays/prod", Values: values})
	if err != nil {
		t.Fatal(err)
	}
	mustGet(t, objs, "Deployment/prod-web")
}

func TestBuildTargetNamespace(t *testing.T) {
	files := map[string][]byte{
		"kustomization.yaml": []byte("resources:\n- service.yaml\n- role.yaml\n- ns.yaml\n"),
		"service.yaml":       []byte(service),
		"role.yaml":          []byte(clusterRole),
		"ns.yaml":            []byte("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: other\n"),
	}
	objs, err := kustomize.Build(files, kustomize.Options{TargetNamespace: "eng"})
	if err != nil {
		t.Fatal(err)
	}
	if ns := mustGet(t, objs, "Service/web").GetNamespace(); ns != "eng" {
		t.Errorf("service namespace %q, want eng", ns)
	}
	if ns := mustGet(t, objs, "ClusterRole/web-reader").GetNamespace(); ns != "" {
		t.Errorf("cluster role got namespace %q", ns)
	}
	if len(objs) != 3 {
		t.Errorf("got %d objects, want 3", len(objs))
	}

	// With a path, through the archive.
	objs, err = kustomize.Build(map[string][]byte{"k.tgz": testenv.TarGz(t, baseAndOverlay)},
		kustomize.Options{Path: "overlays/prod", TargetNamespace: "eng", Values: map[string]string{"Region": "r", "Version": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if o.GetNamespace() != "eng" {
			t.Errorf("%s/%s namespace %q, want eng", o.GetKind(), o.GetName(), o.GetNamespace())
		}
	}
}

func TestBuildWithoutValuesKeepsPlaceholders(t *testing.T) {
	files := map[string][]byte{
		"kustomization.yaml": []byte("resources:\n- deployment.yaml\n"),
		"deployment.yaml":    []byte(deployment),
	}
	objs, err := kustomize.Build(files, kustomize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, objs, "Deployment/web").GetLabels()["region"]; got != "{{ .Region }}" {
		t.Errorf("region label %q", got)
	}
}

func TestBuildErrors(t *testing.T) {
	good := map[string][]byte{
		"kustomization.yaml": []byte("resources:\n- deployment.yaml\n"),
		"deployment.yaml":    []byte(deployment),
	}
	cases := []struct {
		name  string
		files map[string][]byte
		opts  kustomize.Options
		want  []string
	}{
		{
			name:  "missing resource file",
			files: map[string][]byte{"kustomization.yaml": []byte("resources:\n- nothere.yaml\n")},
			opts:  kustomize.Options{Source: "ConfigMap default/app"},
			want:  []string{"ConfigMap default/app", "nothere.yaml"},
		},
		{
			name:  "invalid kustomization YAML",
			files: map[string][]byte{"kustomization.yaml": []byte("resources: [unclosed\n")},
			opts:  kustomize.Options{Source: "ConfigMap default/app"},
			want:  []string{"ConfigMap default/app", "build"},
		},
		{
			name:  "unknown field",
			files: map[string][]byte{"kustomization.yaml": []byte("resourcez:\n- a.yaml\n")},
			want:  []string{"resourcez"},
		},
		{
			name:  "no such path",
			files: map[string][]byte{"k.tar.gz": testenv.TarGz(t, baseAndOverlay)},
			opts:  kustomize.Options{Path: "overlays/dev"},
			want:  []string{`"overlays/dev"`, "base, overlays/prod"},
		},
		{
			name:  "folder without kustomization",
			files: map[string][]byte{"k.tar.gz": testenv.TarGz(t, baseAndOverlay)},
			opts:  kustomize.Options{Path: "overlays"},
			want:  []string{"no kustomization.yaml", "base, overlays/prod"},
		},
		{
			name:  "path leaving the source",
			files: good,
			opts:  kustomize.Options{Path: "../etc"},
			want:  []string{"leaves the source"},
		},
		{
			name:  "archive entry leaving the source",
			files: map[string][]byte{"k.tar.gz": testenv.TarGz(t, map[string]string{"../evil.yaml": service})},
			want:  []string{"leaves the source"},
		},
		{
			name:  "corrupt archive",
			files: map[string][]byte{"k.tar.gz": {0x1f, 0x8b, 0, 1, 2}},
			want:  []string{`archive "k.tar.gz"`},
		},
		{
			name:  "missing value",
			files: good,
			opts:  kustomize.Options{Values: map[string]string{"Region": "west"}},
			want:  []string{"substitute values", "Version"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := kustomize.Build(tc.files, tc.opts)
			t.Log(err)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}
