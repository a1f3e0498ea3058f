package explain_test

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/explain"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// policy creates a ConfigMap in the management cluster holding one ConfigMap
// to deploy (default/NAME in the managed cluster).
func policy(t *testing.T, name string) {
	t.Helper()
	content := fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  namespace: default\ndata:\n  k: v\n", name)
	if err := mgmt.Create(context.Background(), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "explain-" + name},
		Data:       map[string]string{"object.yaml": content},
	}); err != nil {
		t.Fatal(err)
	}
}

// profile creates a ClusterProfile deploying the policy named object.
func profile(t *testing.T, name string, selector map[string]string, tier int32, object string, dependsOn ...string) {
	t.Helper()
	p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: configv1beta1.Spec{
		ClusterSelector: libv1beta1.Selector{LabelSelector: metav1.LabelSelector{MatchLabels: selector}},
		Tier:            tier, DependsOn: dependsOn,
		PolicyRefs: []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "default", Name: "explain-" + object}},
	}}
	if err := mgmt.Create(context.Background(), p); err != nil {
		t.Fatal(err)
	}
}

// explainNow loads and explains a ClusterProfile for the cluster.
func explainNow(name string, cluster libv1beta1.ClusterID) (explain.Explanation, error) {
	in, err := explain.Load(context.Background(), clusters.Fleet{Reader: mgmt}, configv1beta1.ProfileRef{Kind: configv1beta1.ClusterProfileKind, Name: name}, cluster)
	if err != nil {
		return explain.Explanation{}, err
	}
	return explain.Explain(in), nil
}

// stop is "check title: detail" of the step deciding the outcome.
func stop(e explain.Explanation) string {
	if s := e.Stop(); s != nil {
		return string(s.Check) + " " + s.Title + ": " + s.Detail
	}
	return ""
}

// eventuallyExplained waits until the explanation has the outcome and
// deciding step (want, as stop prints it; "" when it reaches).
func eventuallyExplained(t *testing.T, name string, cluster libv1beta1.ClusterID, outcome explain.Outcome, want string) explain.Explanation {
	t.Helper()
	var e explain.Explanation
	testenv.Eventually(t, fmt.Sprintf("%s for %s: %s %q", name, cluster, outcome, want), func() error {
		var err error
		if e, err = explainNow(name, cluster); err != nil {
			return err
		}
		if e.Outcome != outcome || stop(e) != want {
			return fmt.Errorf("%s %q", e.Outcome, stop(e))
		}
		return nil
	})
	return e
}

// What the real controllers write is what the explanation reads: a profile
// that deploys reaches; a second profile wanting the same object at a higher
// tier is blocked by a conflict naming the first and the object; a profile
// depending on it waits; a selector term the cluster lacks blocks until the
// cluster is labelled.
func TestExplainFollowsTheManager(t *testing.T) {
	ctx := context.Background()
	app := libv1beta1.SveltosClusterID("fleet", "app")
	if _, err := clusters.Register(ctx, mgmt, clusters.Registration{Namespace: app.Namespace, Name: app.Name,
		Kubeconfig: env.Cluster("app").Kubeconfig, Labels: map[string]string{"env": "prod"}}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"settings", "after", "web"} {
		policy(t, p)
	}
	prod := map[string]string{"env": "prod"}

	profile(t, "live-base", prod, 50, "settings")
	eventuallyExplained(t, "live-base", app, explain.Reaches, "")

	profile(t, "live-late", prod, 100, "settings")
	e := eventuallyExplained(t, "live-late", app, explain.Blocked,
		"conflict Resources: conflict on ConfigMap default/settings: held by ClusterProfile live-base (tier 50); this profile has tier 100: the lower tier wins")
	if c := e.Stop().Conflict; c.HolderKind != configv1beta1.ClusterProfileKind || c.HolderName != "live-base" || c.HolderTier != 50 {
		t.Errorf("conflict: %+v", c)
	}

	profile(t, "live-after", prod, 0, "after", "live-late")
	eventuallyExplained(t, "live-after", app, explain.Waiting,
		"dependsOn dependsOn live-late: not provisioned on this cluster yet: Resources Failed: "+e.Stop().Conflict.Message+
			"; the summary reports: waiting for live-late to be provisioned")

	profile(t, "live-web", map[string]string{"type": "app"}, 0, "web")
	eventuallyExplained(t, "live-web", app, explain.Blocked, "clusterSelector clusterSelector type=app: cluster has no label type")
	if _, err := clusters.Register(ctx, mgmt, clusters.Registration{Namespace: app.Namespace, Name: app.Name,
		Kubeconfig: env.Cluster("app").Kubeconfig, Labels: map[string]string{"type": "app"}}); err != nil {
		t.Fatal(err)
	}
	eventuallyExplained(t, "live-web", app, explain.Reaches, "")
}
