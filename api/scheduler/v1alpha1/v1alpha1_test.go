package v1alpha1

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// TestFixturesDecodeStrictly decodes every published sample and template (kept byte
// for byte in examples/kalypso) into the type its kind names, rejecting unknown fields.
func TestFixturesDecodeStrictly(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, dir := range []string{"samples", "templates"} {
		m, err := filepath.Glob(filepath.Join("..", "..", "..", "examples", "kalypso", dir, "*.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	sort.Strings(files)
	if len(files) < 15 {
		t.Fatalf("expected the 11 samples and 4 templates, found %d files", len(files))
	}
	kinds := map[string]bool{}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var meta struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
			}
			if err := yaml.Unmarshal(raw, &meta); err != nil {
				t.Fatal(err)
			}
			if meta.APIVersion != GroupVersion.String() {
				t.Fatalf("apiVersion %q", meta.APIVersion)
			}
			obj, err := scheme.New(GroupVersion.WithKind(meta.Kind))
			if err != nil {
				t.Fatalf("kind %q not registered: %v", meta.Kind, err)
			}
			if err := yaml.UnmarshalStrict(raw, obj); err != nil {
				t.Fatalf("strict decode: %v", err)
			}
			kinds[meta.Kind] = true
		})
	}
	for _, k := range []string{"Assignment", "AssignmentPackage", "BaseRepo", "ClusterType", "ConfigSchema",
		"DeploymentTarget", "Environment", "GitOpsRepo", "SchedulingPolicy", "Template", "Workload", "WorkloadRegistration"} {
		if !kinds[k] {
			t.Errorf("no fixture of kind %s decoded", k)
		}
	}
}

func TestDecodedFields(t *testing.T) {
	tests := []struct {
		file  string
		obj   any
		check func(t *testing.T, obj any)
	}{
		{"samples/scheduler_v1alpha1_clustertype.yaml", &ClusterType{}, func(t *testing.T, o any) {
			ct := o.(*ClusterType)
			if ct.Name != "drone" || ct.Spec.Reconciler != "argocd" || ct.Spec.NamespaceService != "default" || ct.Labels["edge"] != "true" {
				t.Errorf("got %+v", ct)
			}
		}},
		{"samples/scheduler_v1alpha1_deploymenttarget.yaml", &DeploymentTarget{}, func(t *testing.T, o any) {
			dt := o.(*DeploymentTarget)
			if dt.Spec.Environment != "dev" || dt.Spec.Manifests["path"] != "./functional-test" || dt.Spec.Manifests["branch"] != "dev" {
				t.Errorf("got %+v", dt.Spec)
			}
		}},
		{"samples/scheduler_v1alpha1_schedulingpolicy.yaml", &SchedulingPolicy{}, func(t *testing.T, o any) {
			p := o.(*SchedulingPolicy)
			if p.Spec.DeploymentTargetSelector.Workspace != "kaizen-app-team" ||
				p.Spec.DeploymentTargetSelector.LabelSelector.MatchLabels["purpose"] != "functional-test" ||
				p.Spec.ClusterTypeSelector.LabelSelector.MatchLabels["restricted"] != "true" {
				t.Errorf("got %+v", p.Spec)
			}
		}},
		{"samples/scheduler_v1alpha1_workloadregistration.yaml", &WorkloadRegistration{}, func(t *testing.T, o any) {
			r := o.(*WorkloadRegistration)
			if r.Spec.Workspace != "kaizen-app-team" || r.Spec.Workload.Path != "workload/" || r.Spec.Workload.Branch != "main" {
				t.Errorf("got %+v", r.Spec)
			}
		}},
		{"samples/scheduler_v1alpha1_environment.yaml", &Environment{}, func(t *testing.T, o any) {
			e := o.(*Environment)
			if e.Name != "dev" || e.Spec.ControlPlane.Branch != "dev" {
				t.Errorf("got %+v", e.Spec)
			}
		}},
		{"samples/scheduler_v1alpha1_gitopsrepo.yaml", &GitOpsRepo{}, func(t *testing.T, o any) {
			g := o.(*GitOpsRepo)
			if g.Spec.Repo != "https://github.com/microsoft/kalypso-gitops" || g.Spec.Branch != "dev" || g.Spec.Path != "." {
				t.Errorf("got %+v", g.Spec)
			}
		}},
		{"samples/scheduler_v1alpha1_baserepo.yaml", &BaseRepo{}, func(t *testing.T, o any) {
			b := o.(*BaseRepo)
			if b.Spec.Branch != "main" || b.Spec.Commit != "" {
				t.Errorf("got %+v", b.Spec)
			}
		}},
		{"templates/arc-flux.yaml", &Template{}, func(t *testing.T, o any) {
			tp := o.(*Template)
			if tp.Spec.Type != TemplateTypeReconciler || len(tp.Spec.Manifests) != 2 {
				t.Errorf("got %+v", tp.Spec)
			}
		}},
		{"templates/configmap.yaml", &Template{}, func(t *testing.T, o any) {
			tp := o.(*Template)
			if tp.Spec.Type != TemplateTypeConfig || len(tp.Spec.Manifests) != 1 {
				t.Errorf("got %+v", tp.Spec)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("..", "..", "..", "examples", "kalypso", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if err := yaml.UnmarshalStrict(raw, tc.obj); err != nil {
				t.Fatal(err)
			}
			tc.check(t, tc.obj)
		})
	}
}

func TestConfigSchemaAcceptsObjectOrString(t *testing.T) {
	for _, doc := range []string{
		"spec:\n  schema:\n    type: object\n    required: [REGION]\n",
		"spec:\n  schema: |\n    {\"type\": \"object\", \"required\": [\"REGION\"]}\n",
	} {
		var cs ConfigSchema
		if err := yaml.UnmarshalStrict([]byte(doc), &cs); err != nil {
			t.Fatalf("%q: %v", doc, err)
		}
		if len(cs.Spec.Schema.Raw) == 0 {
			t.Fatalf("%q: empty schema", doc)
		}
	}
}

func TestDeepCopyIndependent(t *testing.T) {
	w := &Workload{Spec: WorkloadSpec{DeploymentTargets: []WorkloadDeploymentTarget{{
		Name: "a", Labels: map[string]string{"k": "v"},
		DeploymentTargetSpec: DeploymentTargetSpec{Environment: "dev", Manifests: map[string]string{"repo": "r"}},
	}}}}
	c := w.DeepCopy()
	c.Spec.DeploymentTargets[0].Labels["k"] = "changed"
	c.Spec.DeploymentTargets[0].Manifests["repo"] = "changed"
	if w.Spec.DeploymentTargets[0].Labels["k"] != "v" || w.Spec.DeploymentTargets[0].Manifests["repo"] != "r" {
		t.Fatal("deep copy shares maps")
	}
}
