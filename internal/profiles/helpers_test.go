package profiles_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/api"
	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/helm"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// selectCluster creates ClusterProfile p, selecting the clusters labelled
// label=yes, and labels cluster so; the label comes off when the test ends.
func selectCluster(t *testing.T, p *configv1beta1.ClusterProfile, cluster, label string) {
	t.Helper()
	p.Spec.ClusterSelector.MatchLabels = map[string]string{label: "yes"}
	if err := mgmt.Create(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	setLabels(t, cluster, map[string]string{label: "yes"})
	t.Cleanup(func() { setLabels(t, cluster, map[string]string{label: ""}) })
}

// createProfilesSelecting creates profiles, each selecting the clusters
// labelled <its name>=yes and deleted when the test ends, and labels cluster
// with all those labels (taken off when the test ends, before the deletions).
func createProfilesSelecting(t *testing.T, cluster string, profiles ...*configv1beta1.ClusterProfile) {
	t.Helper()
	labels := map[string]string{}
	for _, p := range profiles {
		p.Spec.ClusterSelector.MatchLabels = map[string]string{p.Name: "yes"}
		if err := mgmt.Create(context.Background(), p); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = mgmt.Delete(context.Background(), p) })
		labels[p.Name] = "yes"
	}
	setLabels(t, cluster, labels)
	t.Cleanup(func() { unsetLabels(t, cluster, labels) })
}

// kustomizeSource creates ConfigMap name in default holding files (path →
// content) as a kustomize.tar.gz, the source of a kustomizationRef.
func kustomizeSource(t *testing.T, name string, files map[string]string) {
	t.Helper()
	if err := mgmt.Create(context.Background(), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		BinaryData: map[string][]byte{"kustomize.tar.gz": testenv.TarGz(t, files)},
	}); err != nil {
		t.Fatal(err)
	}
}

// failedWithoutDeploying waits until the profile's summary for cluster fails
// with a message holding summaryPart and a DeployFailed Event holding
// eventPart, and checks that the ConfigMap namespace/name was not deployed.
func failedWithoutDeploying(t *testing.T, profile, cluster, summaryPart, eventPart, namespace, name string) {
	t.Helper()
	waitSummary(t, profile, cluster, failedWith(summaryPart))
	waitEvent(t, "fleet", configv1beta1.ClusterSummaryName(configv1beta1.ClusterProfileKind, profile, cluster), "DeployFailed", eventPart)
	if err := managedClient(t, cluster).Get(context.Background(), types.NamespacedName{Namespace: namespace, Name: name}, &corev1.ConfigMap{}); err == nil {
		t.Fatalf("ConfigMap %s/%s deployed although the profile failed", namespace, name)
	}
}

// waitEvent waits for an Event about the named object in namespace with the
// reason and a note containing part.
func waitEvent(t *testing.T, namespace, name, reason, part string) {
	t.Helper()
	testenv.Eventually(t, fmt.Sprintf("Event %s about %s/%s", reason, namespace, name), func() error {
		list := &eventsv1.EventList{}
		if err := mgmt.List(context.Background(), list, client.InNamespace(namespace)); err != nil {
			return err
		}
		var seen []string
		for _, e := range list.Items {
			if e.Regarding.Name != name {
				continue
			}
			if e.Reason == reason && strings.Contains(e.Note, part) {
				return nil
			}
			seen = append(seen, e.Reason+": "+e.Note)
		}
		return fmt.Errorf("events seen: %v", seen)
	})
}

// createSelecting creates ClusterProfile p, which selects the clusters
// labelled label=yes, and labels cluster so. When the test ends it takes the
// label off, deletes p, waits until p is gone, and deletes also (what p used).
func createSelecting(t *testing.T, p *configv1beta1.ClusterProfile, cluster, label string, also ...client.Object) {
	t.Helper()
	ctx := context.Background()
	p.Spec.ClusterSelector.MatchLabels = map[string]string{label: "yes"}
	if err := mgmt.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	setLabels(t, cluster, map[string]string{label: "yes"})
	t.Cleanup(func() {
		setLabels(t, cluster, map[string]string{label: ""})
		_ = mgmt.Delete(ctx, p)
		testenv.Eventually(t, "the profile gone", func() error {
			return notFound(mgmt, &configv1beta1.ClusterProfile{}, types.NamespacedName{Name: p.Name})
		})
		for _, o := range also {
			_ = mgmt.Delete(ctx, o)
		}
	})
}

// setLabels sets (or, with an empty value, removes) labels of a managed cluster's SveltosCluster.
func setLabels(t *testing.T, cluster string, labels map[string]string) {
	t.Helper()
	if err := clusters.SetLabels(context.Background(), mgmt, types.NamespacedName{Namespace: "fleet", Name: cluster}, labels); err != nil {
		t.Fatal(err)
	}
}

// summary waits for the summary of a ClusterProfile in a cluster and returns it once check accepts it.
func waitSummary(t *testing.T, profile, cluster string, check func(*configv1beta1.ClusterSummary) error) *configv1beta1.ClusterSummary {
	t.Helper()
	var s *configv1beta1.ClusterSummary
	name := configv1beta1.ClusterSummaryName(configv1beta1.ClusterProfileKind, profile, cluster)
	testenv.Eventually(t, "ClusterSummary fleet/"+name, func() error {
		s = &configv1beta1.ClusterSummary{}
		if err := mgmt.Get(context.Background(), types.NamespacedName{Namespace: "fleet", Name: name}, s); err != nil {
			return err
		}
		return check(s)
	})
	return s
}

// featureIs checks the status of one feature of a summary.
func featureIs(s *configv1beta1.ClusterSummary, id libv1beta1.FeatureID, want libv1beta1.FeatureStatus) error {
	fs := s.FeatureSummary(id)
	if fs == nil {
		return fmt.Errorf("no %s feature yet", id)
	}
	if fs.Status != want {
		msg := ""
		if fs.FailureMessage != nil {
			msg = *fs.FailureMessage
		}
		return fmt.Errorf("%s is %s (%s), want %s", id, fs.Status, msg, want)
	}
	return nil
}

// applyYAML creates every document of a manifest in the management cluster.
func applyYAML(t *testing.T, manifest []byte) {
	t.Helper()
	if err := testenv.CreateObjects(context.Background(), mgmt, manifest, false); err != nil {
		t.Fatal(err)
	}
}

func notFound(c client.Client, obj client.Object, key types.NamespacedName) error {
	if err := c.Get(context.Background(), key, obj); err == nil {
		return fmt.Errorf("%s still exists", key)
	} else if client.IgnoreNotFound(err) != nil {
		return err
	}
	return nil
}

// policyConfigMap is a ConfigMap in the management cluster holding one object to deploy.
func policyConfigMap(t *testing.T, name, content string) {
	t.Helper()
	if err := mgmt.Create(context.Background(), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		Data:       map[string]string{"object.yaml": content},
	}); err != nil {
		t.Fatal(err)
	}
}

// clusterProfile creates a ClusterProfile deploying the named ConfigMaps to clusters labelled key=value.
func clusterProfile(t *testing.T, name, key, value string, tier int32, behavior libv1beta1.StopMatchingBehavior, configMaps ...string) {
	t.Helper()
	p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: name}}
	p.Spec.ClusterSelector.MatchLabels = map[string]string{key: value}
	p.Spec.Tier = tier
	p.Spec.StopMatchingBehavior = behavior
	for _, cm := range configMaps {
		p.Spec.PolicyRefs = append(p.Spec.PolicyRefs, libv1beta1.PolicyRef{Kind: "ConfigMap", Namespace: "default", Name: cm})
	}
	if err := mgmt.Create(context.Background(), p); err != nil {
		t.Fatal(err)
	}
}

func setPolicy(t *testing.T, name string, annotations map[string]string, content string) {
	t.Helper()
	cm := &corev1.ConfigMap{}
	if err := mgmt.Get(context.Background(), types.NamespacedName{Namespace: "default", Name: name}, cm); err != nil {
		t.Fatal(err)
	}
	cm.Annotations = annotations
	cm.Data = map[string]string{"object.yaml": content}
	if err := mgmt.Update(context.Background(), cm); err != nil {
		t.Fatal(err)
	}
}

// releaseSecrets lists Helm's release records of release in namespace.
func releaseSecrets(c client.Client, namespace, release string) ([]corev1.Secret, error) {
	list := &corev1.SecretList{}
	err := c.List(context.Background(), list, client.InNamespace(namespace), client.MatchingLabels{"owner": "helm", "name": release})
	return list.Items, err
}

// helmReader reads releases in the managed clusters of this package.
func helmReader(t *testing.T) *helm.Client {
	t.Helper()
	c, err := helm.New(t.TempDir(), helm.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// extraChart is the test chart as release name in namespace ns.
func extraChart(repoURL, name, ns string) libv1beta1.HelmChart {
	return libv1beta1.HelmChart{
		RepositoryURL: repoURL, RepositoryName: "cloudnative-pg", ChartName: "cloudnative-pg/cloudnative-pg",
		ChartVersion: "0.27.1", ReleaseName: name, ReleaseNamespace: ns,
	}
}

// updateClusterProfile changes a ClusterProfile, retrying on conflicts.
func updateClusterProfile(t *testing.T, name string, change func(*configv1beta1.ClusterProfile)) {
	t.Helper()
	testenv.Update(t, mgmt, types.NamespacedName{Name: name}, &configv1beta1.ClusterProfile{}, change)
}

func configMapIn(cluster, namespace, name string) func() error {
	return func() error {
		return managedClientNoT(cluster).Get(context.Background(), types.NamespacedName{Namespace: namespace, Name: name}, &corev1.ConfigMap{})
	}
}

// newManagedClient is a client of a managed cluster.
func newManagedClient(name string) (client.Client, error) {
	return client.New(env.Cluster(name).Config, client.Options{Scheme: api.NewScheme()})
}

// managedClientNoT is a client of a managed cluster, for use inside polls.
func managedClientNoT(name string) client.Client {
	c, err := newManagedClient(name)
	if err != nil {
		panic(err)
	}
	return c
}

// managedClient is a client of a managed cluster.
func managedClient(t *testing.T, name string) client.Client {
	t.Helper()
	c, err := newManagedClient(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// featureStatus accepts a summary whose feature has the status.
func featureStatus(id libv1beta1.FeatureID, want libv1beta1.FeatureStatus) func(*configv1beta1.ClusterSummary) error {
	return func(s *configv1beta1.ClusterSummary) error { return featureIs(s, id, want) }
}

func resourcesStatus(want libv1beta1.FeatureStatus) func(*configv1beta1.ClusterSummary) error {
	return featureStatus(libv1beta1.FeatureResources, want)
}

func helmStatus(want libv1beta1.FeatureStatus) func(*configv1beta1.ClusterSummary) error {
	return featureStatus(libv1beta1.FeatureHelm, want)
}

// featureFailedWith accepts a summary whose feature failed with a message containing every part.
func featureFailedWith(id libv1beta1.FeatureID, parts ...string) func(*configv1beta1.ClusterSummary) error {
	return func(s *configv1beta1.ClusterSummary) error {
		if err := featureIs(s, id, libv1beta1.FeatureStatusFailed); err != nil {
			return err
		}
		msg := *s.FeatureSummary(id).FailureMessage
		for _, p := range parts {
			if !strings.Contains(msg, p) {
				return fmt.Errorf("failure message %q lacks %q", msg, p)
			}
		}
		return nil
	}
}

// failedWith accepts a summary whose Resources feature failed with a message containing every part.
func failedWith(parts ...string) func(*configv1beta1.ClusterSummary) error {
	return featureFailedWith(libv1beta1.FeatureResources, parts...)
}

// helmFailedWith accepts a summary whose Helm feature failed with a message containing every part.
func helmFailedWith(parts ...string) func(*configv1beta1.ClusterSummary) error {
	return featureFailedWith(libv1beta1.FeatureHelm, parts...)
}

// provisioningSaying accepts a summary whose Resources feature is Provisioning
// with a message containing every part.
func provisioningSaying(parts ...string) func(*configv1beta1.ClusterSummary) error {
	return func(s *configv1beta1.ClusterSummary) error {
		if err := featureIs(s, libv1beta1.FeatureResources, libv1beta1.FeatureStatusProvisioning); err != nil {
			return err
		}
		msg := ""
		if fm := s.FeatureSummary(libv1beta1.FeatureResources).FailureMessage; fm != nil {
			msg = *fm
		}
		for _, part := range parts {
			if !strings.Contains(msg, part) {
				return fmt.Errorf("message %q lacks %q", msg, part)
			}
		}
		return nil
	}
}

// configMapHas polls a managed cluster's ConfigMap until it exists with every
// key of want set to its value.
func configMapHas(cluster, namespace, name string, want map[string]string) func() error {
	return func() error {
		cm := &corev1.ConfigMap{}
		if err := managedClientNoT(cluster).Get(context.Background(), types.NamespacedName{Namespace: namespace, Name: name}, cm); err != nil {
			return err
		}
		for k, v := range want {
			if cm.Data[k] != v {
				return fmt.Errorf("ConfigMap %s/%s in %s: data %v, want %s=%q", namespace, name, cluster, cm.Data, k, v)
			}
		}
		return nil
	}
}
