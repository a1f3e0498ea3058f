package api_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// fixturesDir is the database-as-a-service tutorial's manifests (package examples).
var fixturesDir = filepath.Join("..", "examples", "dbaas")

// newObject returns an empty Go value for the apiVersion and kind of a document.
func newObject(tm metav1.TypeMeta) any {
	switch tm.APIVersion + "/" + tm.Kind {
	case "config.projectsveltos.io/v1beta1/ClusterProfile":
		return &configv1beta1.ClusterProfile{}
	case "config.projectsveltos.io/v1beta1/Profile":
		return &configv1beta1.Profile{}
	case "config.projectsveltos.io/v1beta1/ClusterSummary":
		return &configv1beta1.ClusterSummary{}
	case "config.projectsveltos.io/v1beta1/ClusterReport":
		return &configv1beta1.ClusterReport{}
	case "lib.projectsveltos.io/v1beta1/EventSource":
		return &libv1beta1.EventSource{}
	case "lib.projectsveltos.io/v1beta1/EventTrigger":
		return &libv1beta1.EventTrigger{}
	case "lib.projectsveltos.io/v1beta1/EventReport":
		return &libv1beta1.EventReport{}
	case "lib.projectsveltos.io/v1beta1/ClusterSet":
		return &libv1beta1.ClusterSet{}
	case "lib.projectsveltos.io/v1beta1/Set":
		return &libv1beta1.Set{}
	case "lib.projectsveltos.io/v1beta1/SveltosCluster":
		return &libv1beta1.SveltosCluster{}
	case "v1/ConfigMap":
		return &corev1.ConfigMap{}
	case "v1/Secret":
		return &corev1.Secret{}
	}
	return nil
}

// documents splits a multi-document YAML file, dropping empty documents.
func documents(t *testing.T, path string) [][]byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(raw)))
	var docs [][]byte
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("splitting %s: %v", path, err)
		}
		var probe map[string]any
		if err := yaml.Unmarshal(doc, &probe); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if len(probe) == 0 {
			continue
		}
		docs = append(docs, doc)
	}
}

// TestFixturesDecodeStrictly checks that every field of the tutorial's manifests has
// a home in the Go types: a strict decode fails on any unknown or duplicate field.
func TestFixturesDecodeStrictly(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(fixturesDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no fixtures found in %s", fixturesDir)
	}
	kinds := map[string]int{}
	for _, f := range files {
		for i, doc := range documents(t, f) {
			var tm metav1.TypeMeta
			if err := yaml.Unmarshal(doc, &tm); err != nil {
				t.Fatalf("%s #%d: %v", f, i, err)
			}
			obj := newObject(tm)
			if obj == nil {
				t.Errorf("%s #%d: no Go type for %s %s", filepath.Base(f), i, tm.APIVersion, tm.Kind)
				continue
			}
			if err := yaml.UnmarshalStrict(doc, obj); err != nil {
				t.Errorf("%s #%d (%s): strict decode: %v", filepath.Base(f), i, tm.Kind, err)
				continue
			}
			kinds[tm.Kind]++
		}
	}
	for kind, want := range map[string]int{"ClusterProfile": 2, "EventSource": 3, "EventTrigger": 3} {
		if kinds[kind] != want {
			t.Errorf("decoded %d %s documents, want %d", kinds[kind], kind, want)
		}
	}
}

// TestFixtureValues spot-checks that decoded fields land where the controllers read them.
func TestFixtureValues(t *testing.T) {
	docs := documents(t, filepath.Join(fixturesDir, "auto-deploy-postgres-cluster.yaml"))
	var et libv1beta1.EventTrigger
	var es libv1beta1.EventSource
	for _, doc := range docs {
		switch {
		case bytes.Contains(doc, []byte("kind: EventTrigger")):
			if err := yaml.UnmarshalStrict(doc, &et); err != nil {
				t.Fatal(err)
			}
		case bytes.Contains(doc, []byte("kind: EventSource")):
			if err := yaml.UnmarshalStrict(doc, &es); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := et.Spec.SourceClusterSelector.MatchLabels["type"]; got != "mgmt" {
		t.Errorf("sourceClusterSelector type = %q, want mgmt", got)
	}
	if got := et.Spec.DestinationClusterSelector.MatchLabels["type"]; got != "services" {
		t.Errorf("destinationClusterSelector type = %q, want services", got)
	}
	if !et.Spec.OneForEvent || et.Spec.EventSourceName != "detect-cluster-requiring-postgres" {
		t.Errorf("unexpected trigger spec %+v", et.Spec)
	}
	if len(et.Spec.PolicyRefs) != 1 || et.Spec.PolicyRefs[0].Kind != libv1beta1.ConfigMapReferencedKind {
		t.Errorf("unexpected policyRefs %+v", et.Spec.PolicyRefs)
	}
	if !es.Spec.CollectResources || len(es.Spec.ResourceSelectors) != 1 ||
		es.Spec.ResourceSelectors[0].LabelFilters[0].Operation != libv1beta1.OperationEqual {
		t.Errorf("unexpected event source spec %+v", es.Spec)
	}

	docs = documents(t, filepath.Join(fixturesDir, "cloudnative-pg.yaml"))
	var cp configv1beta1.ClusterProfile
	if err := yaml.UnmarshalStrict(docs[0], &cp); err != nil {
		t.Fatal(err)
	}
	if cp.Spec.SyncMode != libv1beta1.SyncModeContinuous || len(cp.Spec.HelmCharts) != 1 {
		t.Fatalf("unexpected profile spec %+v", cp.Spec)
	}
	hc := cp.Spec.HelmCharts[0]
	// The fixture has a trailing space after the repository name; YAML plain scalars drop it.
	if hc.RepositoryName != "cloudnative-pg" || hc.ChartVersion != "0.27.1" ||
		hc.HelmChartAction != libv1beta1.HelmChartActionInstall || hc.ReleaseNamespace != "cnpg-system" {
		t.Errorf("unexpected helm chart %+v", hc)
	}

	docs = documents(t, filepath.Join(fixturesDir, "job-to-create-table.yaml"))
	cp = configv1beta1.ClusterProfile{}
	if err := yaml.UnmarshalStrict(docs[0], &cp); err != nil {
		t.Fatal(err)
	}
	if len(cp.Spec.TemplateResourceRefs) != 2 ||
		cp.Spec.TemplateResourceRefs[0].Identifier != "Credentials" ||
		cp.Spec.TemplateResourceRefs[0].Resource.Kind != "Secret" ||
		cp.Spec.TemplateResourceRefs[0].Resource.Namespace != "" {
		t.Errorf("unexpected templateResourceRefs %+v", cp.Spec.TemplateResourceRefs)
	}
}

func TestNames(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{configv1beta1.ClusterSummaryName(configv1beta1.ClusterProfileKind, "deploy-cnpg", "services"), "deploy-cnpg-sveltos-services"},
		{configv1beta1.ClusterSummaryName(configv1beta1.ProfileKind, "web", "prod"), "p--web-sveltos-prod"},
		{configv1beta1.ClusterReportName(configv1beta1.ClusterProfileKind, "deploy-job", "workload"), "deploy-job--sveltos--workload"},
		{configv1beta1.ClusterReportName(configv1beta1.ProfileKind, "web", "prod"), "p--web--sveltos--prod"},
		{libv1beta1.EventReportName("detect-loadbalancer", "services"), "sveltos--detect-loadbalancer--services"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}

	long := strings.Repeat("a", 200)
	a := configv1beta1.ClusterSummaryName(configv1beta1.ClusterProfileKind, long, long+"x")
	b := configv1beta1.ClusterSummaryName(configv1beta1.ClusterProfileKind, long, long+"y")
	if len(a) > libv1beta1.MaxNameLength || len(b) > libv1beta1.MaxNameLength || a == b {
		t.Errorf("long names not bounded or not distinct: %d %d", len(a), len(b))
	}
	if a != configv1beta1.ClusterSummaryName(configv1beta1.ClusterProfileKind, long, long+"x") {
		t.Error("bounded name is not deterministic")
	}
}

func TestEmptySelectorMatchesNothing(t *testing.T) {
	var s libv1beta1.Selector
	sel, err := s.AsLabelSelector()
	if err != nil {
		t.Fatal(err)
	}
	if sel.Matches(labels.Set{"type": "mgmt"}) {
		t.Error("empty Selector matched a cluster")
	}
	s.MatchLabels = map[string]string{"type": "mgmt"}
	sel, err = s.AsLabelSelector()
	if err != nil {
		t.Fatal(err)
	}
	if !sel.Matches(labels.Set{"type": "mgmt"}) {
		t.Error("Selector type=mgmt did not match")
	}
}
