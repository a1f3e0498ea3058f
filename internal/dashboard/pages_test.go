package dashboard_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	schedulerv1alpha1 "github.com/tugboat-dev/tugboat/api/scheduler/v1alpha1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/dashboard/browsertest"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// visible is the text a reader sees in an HTML page (browsertest.Visible).
func visible(page string) string { return browsertest.Visible(page) }

// get fetches a dashboard page with the token; it returns the status code
// and the visible text.
func get(path string) (int, string, error) {
	req, err := http.NewRequest(http.MethodGet, baseURL+path, nil)
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, visible(string(body)), err
}

// eventuallyShows waits until the page answers 200 and shows every string of want.
func eventuallyShows(t *testing.T, path string, want ...string) string {
	t.Helper()
	var text string
	testenv.Eventually(t, fmt.Sprintf("%s shows %q", path, want), func() error {
		code, got, err := get(path)
		if err != nil {
			return err
		}
		text = got
		if code != http.StatusOK {
			return fmt.Errorf("status %d: %s", code, got)
		}
		for _, w := range want {
			if !strings.Contains(got, w) {
				return fmt.Errorf("no %q in %s", w, got)
			}
		}
		return nil
	})
	return text
}

// fleet is what the tests share: the app cluster registered as fleet/app
// (env=prod), a profile deployed there, one failing with the deployer's
// message, one whose selector leaves it out, an EventTrigger that generated
// a profile from a ConfigMap in the app cluster, and an Environment whose
// status the scheduler would write.
type fleet struct {
	app     libv1beta1.ClusterID
	failure string // the failing profile's summary's failure text, as the summary controller writes it
}

var (
	shared      *fleet
	setupFailed bool
)

// setup builds the fleet once for all tests.
func setup(t *testing.T) *fleet {
	t.Helper()
	if setupFailed {
		t.Fatal("setting up the fleet failed in an earlier test")
	}
	if shared != nil {
		return shared
	}
	setupFailed = true
	ctx := context.Background()
	f := &fleet{app: libv1beta1.SveltosClusterID("fleet", "app"),
		failure: `Widget default/broken: finding its resource in the cluster: no matches for kind "Widget" in version "example.com/v1"`}
	if _, err := clusters.Register(ctx, mgmt, clusters.Registration{Namespace: f.app.Namespace, Name: f.app.Name,
		Kubeconfig: env.Cluster("app").Kubeconfig, Labels: map[string]string{"env": "prod"}}); err != nil {
		t.Fatal(err)
	}
	policy := func(name, apiVersion, kind string) {
		content := fmt.Sprintf("apiVersion: %s\nkind: %s\nmetadata:\n  name: %s\n  namespace: default\n", apiVersion, kind, name)
		create(t, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "dash-" + name},
			Data: map[string]string{"object.yaml": content}})
	}
	profile := func(name string, selector map[string]string, object string) {
		create(t, &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: configv1beta1.Spec{
			ClusterSelector: libv1beta1.Selector{LabelSelector: metav1.LabelSelector{MatchLabels: selector}},
			PolicyRefs:      []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "default", Name: "dash-" + object}},
		}})
	}
	policy("ok", "v1", "ConfigMap")
	policy("broken", "example.com/v1", "Widget") // the app cluster serves no such kind
	profile("dash-ok", map[string]string{"env": "prod"}, "ok")
	profile("dash-broken", map[string]string{"env": "prod"}, "broken")
	profile("dash-web", map[string]string{"type": "app"}, "ok")

	summary := &configv1beta1.ClusterSummary{}
	key := types.NamespacedName{Namespace: f.app.Namespace, Name: configv1beta1.ClusterSummaryNameFor(configv1beta1.ClusterProfileKind, "dash-broken", f.app)}
	testenv.Eventually(t, "dash-broken fails", func() error {
		if err := mgmt.Get(ctx, key, summary); err != nil {
			return err
		}
		fs := summary.FeatureSummary(libv1beta1.FeatureResources)
		if fs == nil || fs.Status != libv1beta1.FeatureStatusFailed || fs.FailureMessage == nil || !strings.Contains(*fs.FailureMessage, f.failure) {
			return fmt.Errorf("Resources: %+v", fs)
		}
		return nil
	})

	create(t, &libv1beta1.EventSource{ObjectMeta: metav1.ObjectMeta{Name: "dash-requests"}, Spec: libv1beta1.EventSourceSpec{
		ResourceSelectors: []libv1beta1.ResourceSelector{{Version: "v1", Kind: "ConfigMap", Namespace: "dash-requests"}}}})
	create(t, &libv1beta1.EventTrigger{ObjectMeta: metav1.ObjectMeta{Name: "dash-trigger"}, Spec: libv1beta1.EventTriggerSpec{
		SourceClusterSelector:      libv1beta1.Selector{LabelSelector: metav1.LabelSelector{MatchLabels: map[string]string{"env": "prod"}}},
		DestinationClusterSelector: libv1beta1.Selector{LabelSelector: metav1.LabelSelector{MatchLabels: map[string]string{"env": "prod"}}},
		EventSourceName:            "dash-requests",
		PolicyRefs:                 []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "default", Name: "dash-ok"}},
	}})
	createInApp(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "dash-requests"}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "dash-requests", Name: "please"}})

	e := &schedulerv1alpha1.Environment{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "dash-dev"},
		Spec: schedulerv1alpha1.EnvironmentSpec{ControlPlane: schedulerv1alpha1.RepositoryReference{Repo: "file:///nowhere", Branch: "dev", Path: "."}}}
	create(t, e)
	e.Status = schedulerv1alpha1.EnvironmentStatus{Commit: "0123456789abcdef", Members: "1 of 2 compliant",
		Clusters: []schedulerv1alpha1.ClusterCompliance{
			{Namespace: "fleet", Name: "app", ClusterType: "small", Delivery: "tugboat", Revision: "fedcba9876543210", Healthy: true, Compliant: true},
			{Namespace: "fleet", Name: "edge", ClusterType: "edge", Delivery: "flux", Message: "runs fedcba987654, not 0123456789ab"}},
		Promotion: &schedulerv1alpha1.PromotionStatus{Next: "stage", Commit: "0123456789abcdef", Message: "waiting for fleet/edge to be compliant"}}
	if err := mgmt.Status().Update(ctx, e); err != nil {
		t.Fatal(err)
	}
	shared, setupFailed = f, false
	return f
}

// createInApp creates objects in the app cluster (the source of the fixture's events).
func createInApp(t *testing.T, objs ...client.Object) {
	t.Helper()
	app, err := client.New(env.Cluster("app").Config, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if err := app.Create(context.Background(), o); err != nil {
			t.Fatal(err)
		}
	}
}

func create(t *testing.T, obj client.Object) {
	t.Helper()
	if err := mgmt.Create(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
}

// generatedBy is the name of the ClusterProfile the EventTrigger generated.
func generatedBy(t *testing.T, trigger string) string {
	t.Helper()
	var name string
	testenv.Eventually(t, "a profile generated by "+trigger, func() error {
		list := &configv1beta1.ClusterProfileList{}
		if err := mgmt.List(context.Background(), list, client.MatchingLabels{libv1beta1.EventTriggerNameLabel: trigger}); err != nil {
			return err
		}
		if len(list.Items) != 1 {
			return fmt.Errorf("%d profiles", len(list.Items))
		}
		name = list.Items[0].Name
		return nil
	})
	return name
}
