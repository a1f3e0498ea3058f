package profiles_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// DryRun changes nothing in the cluster and reports what would happen in a ClusterReport.
func TestDryRunReportsAndChangesNothing(t *testing.T) {
	ctx := context.Background()
	policyConfigMap(t, "dryrun-cm", `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "would-be", "namespace": "dryrun"}}`)
	p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "dryrun"}}
	p.Spec.ClusterSelector.MatchLabels = map[string]string{"dryrun": "yes"}
	p.Spec.SyncMode = libv1beta1.SyncModeDryRun
	p.Spec.PolicyRefs = []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "default", Name: "dryrun-cm"}}
	if err := mgmt.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	setLabels(t, "app-1", map[string]string{"dryrun": "yes"})
	testenv.Eventually(t, "ClusterReport with a Create", func() error {
		r := &configv1beta1.ClusterReport{}
		if err := mgmt.Get(ctx, types.NamespacedName{Namespace: "fleet", Name: configv1beta1.ClusterReportName(configv1beta1.ClusterProfileKind, "dryrun", "app-1")}, r); err != nil {
			return err
		}
		for _, rr := range r.Status.ResourceReports {
			if rr.Action == configv1beta1.ReportActionCreate && strings.Contains(rr.Resource, "would-be") {
				return nil
			}
		}
		return fmt.Errorf("reports %+v", r.Status.ResourceReports)
	})
	if err := configMapIn("app-1", "dryrun", "would-be")(); err == nil {
		t.Error("a dry run created the object")
	}
}

// A Profile (namespaced) matches only clusters of its namespace and reads its
// references from its namespace; its summary is prefixed p--.
func TestNamespacedProfile(t *testing.T) {
	ctx := context.Background()
	if err := mgmt.Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: "fleet", Name: "team-cm"},
		Data:       map[string]string{"o.yaml": `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "from-profile", "namespace": "team"}}`},
	}); err != nil {
		t.Fatal(err)
	}
	p := &configv1beta1.Profile{ObjectMeta: metav1.ObjectMeta{Namespace: "fleet", Name: "team"}}
	p.Spec.ClusterSelector.MatchLabels = map[string]string{"team": "a"}
	p.Spec.PolicyRefs = []libv1beta1.PolicyRef{{Kind: "ConfigMap", Name: "team-cm"}}
	if err := mgmt.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	setLabels(t, "app-2", map[string]string{"team": "a"})
	testenv.Eventually(t, "deployed by the Profile", configMapIn("app-2", "team", "from-profile"))
	s := &configv1beta1.ClusterSummary{}
	if err := mgmt.Get(ctx, types.NamespacedName{Namespace: "fleet", Name: "p--team-sveltos-app-2"}, s); err != nil {
		t.Fatal(err)
	}
	// A Profile in another namespace matches nothing in fleet.
	other := &configv1beta1.Profile{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "elsewhere"}}
	other.Spec.ClusterSelector.MatchLabels = map[string]string{"team": "a"}
	if err := mgmt.Create(ctx, other); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "other Profile reconciled", func() error {
		got := &configv1beta1.Profile{}
		if err := mgmt.Get(ctx, types.NamespacedName{Namespace: "default", Name: "elsewhere"}, got); err != nil {
			return err
		}
		if len(got.Status.Conditions) == 0 {
			return fmt.Errorf("not reconciled yet")
		}
		if len(got.Status.MatchingClusterRefs) != 0 {
			return fmt.Errorf("matches %v across namespaces", got.Status.MatchingClusterRefs)
		}
		return nil
	})
}

// dependsOn: a profile waits until the profiles it depends on are Provisioned on the cluster.
func TestDependsOn(t *testing.T) {
	ctx := context.Background()
	policyConfigMap(t, "base-cm", `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "base", "namespace": "deps"}}`)
	policyConfigMap(t, "top-cm", `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "top", "namespace": "deps"}}`)
	top := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "top"}}
	top.Spec.ClusterSelector.MatchLabels = map[string]string{"deps": "yes"}
	top.Spec.DependsOn = []string{"base"}
	top.Spec.PolicyRefs = []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "default", Name: "top-cm"}}
	if err := mgmt.Create(ctx, top); err != nil {
		t.Fatal(err)
	}
	setLabels(t, "app-1", map[string]string{"deps": "yes"})
	s := waitSummary(t, "top", "app-1", func(s *configv1beta1.ClusterSummary) error {
		if s.Status.Dependencies == nil {
			return fmt.Errorf("no dependencies reported")
		}
		return nil
	})
	if !strings.Contains(*s.Status.Dependencies, "base") {
		t.Errorf("dependencies %q", *s.Status.Dependencies)
	}
	if err := configMapIn("app-1", "deps", "top")(); err == nil {
		t.Fatal("deployed before its dependency")
	}
	clusterProfile(t, "base", "deps", "yes", 100, "", "base-cm")
	testenv.Eventually(t, "top deployed after base", configMapIn("app-1", "deps", "top"))
}

// The paused annotation stops a profile; removing it resumes. OneTime deploys once.
func TestPausedAndOneTime(t *testing.T) {
	ctx := context.Background()
	policyConfigMap(t, "once-cm", `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "once", "namespace": "modes"}, "data": {"v": "1"}}`)
	p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "once", Annotations: map[string]string{configv1beta1.PausedAnnotation: "true"}}}
	p.Spec.ClusterSelector.MatchLabels = map[string]string{"modes": "yes"}
	p.Spec.SyncMode = libv1beta1.SyncModeOneTime
	p.Spec.PolicyRefs = []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "default", Name: "once-cm"}}
	if err := mgmt.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	setLabels(t, "app-2", map[string]string{"modes": "yes"})
	t.Run("paused deploys nothing", func(t *testing.T) {
		waitSummary(t, "once", "app-2", func(*configv1beta1.ClusterSummary) error { return nil })
		time.Sleep(2 * time.Second) // give a paused profile the chance to (wrongly) deploy
		if err := configMapIn("app-2", "modes", "once")(); err == nil {
			t.Fatal("a paused profile deployed")
		}
	})
	t.Run("unpausing deploys", func(t *testing.T) {
		updateClusterProfile(t, "once", func(p *configv1beta1.ClusterProfile) { delete(p.Annotations, configv1beta1.PausedAnnotation) })
		testenv.Eventually(t, "deployed after unpausing", configMapIn("app-2", "modes", "once"))
		waitSummary(t, "once", "app-2", resourcesStatus(libv1beta1.FeatureStatusProvisioned))
	})
	t.Run("OneTime does not push a later change", func(t *testing.T) {
		setPolicy(t, "once-cm", nil, `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "once", "namespace": "modes"}, "data": {"v": "2"}}`)
		time.Sleep(2 * time.Second)
		cm := &corev1.ConfigMap{}
		if err := managedClient(t, "app-2").Get(ctx, types.NamespacedName{Namespace: "modes", Name: "once"}, cm); err != nil {
			t.Fatal(err)
		}
		if cm.Data["v"] != "1" {
			t.Errorf("OneTime profile pushed a change: %v", cm.Data)
		}
	})
}

// `kubectl get clustersummaries -A -owide` shows the status of each feature.
func TestClusterSummaryColumns(t *testing.T) {
	cs := kubernetes.NewForConfigOrDie(env.Management().Config)
	table := &metav1.Table{}
	raw, err := cs.CoreV1().RESTClient().Get().AbsPath("/apis/config.projectsveltos.io/v1beta1/namespaces/fleet/clustersummaries").
		SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").DoRaw(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, table); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range table.ColumnDefinitions {
		names = append(names, strings.ToUpper(c.Name))
	}
	for _, want := range []string{"HELMCHARTS", "KUSTOMIZEREFS", "POLICYREFS"} {
		if !strings.Contains(strings.Join(names, " "), want) {
			t.Errorf("columns %v lack %s", names, want)
		}
	}
}
