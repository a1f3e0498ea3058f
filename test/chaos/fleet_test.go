package chaos_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/api"
	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// profileLabel marks every object a chaos profile deploys with the profile's name.
const profileLabel = "chaos.tugboat.dev/profile"

// fleetLabel marks the SveltosClusters of one scenario; its profiles select them by it.
const fleetLabel = "chaos.tugboat.dev/fleet"

// fleetCluster is one registration: a SveltosCluster whose namespace and name
// are both name, reaching the managed API server server. Many registrations
// share an API server (as in bench/fleet): each profile object goes to the
// namespace named after its registration, so they never collide.
type fleetCluster struct {
	name   string
	server string
}

// fleet is a scenario's registrations.
type fleet struct {
	name     string
	clusters []fleetCluster
}

// registerFleet registers n clusters named <name>-NNN, round-robin over servers
// (clusters.Register, as `tug register cluster` and bench/fleet do), labelled
// fleetLabel=name, waits until every one is ready and deregisters them when the
// test ends. A manager must run.
func registerFleet(t *testing.T, name string, n int, servers ...string) *fleet {
	t.Helper()
	ctx := context.Background()
	f := &fleet{name: name}
	for i := range n {
		f.clusters = append(f.clusters, fleetCluster{name: fmt.Sprintf("%s-%03d", name, i+1), server: servers[i%len(servers)]})
	}
	err := testenv.Parallel(ctx, 8, len(f.clusters), func(i int) error {
		c := f.clusters[i]
		_, err := clusters.Register(ctx, s.mgmt, clusters.Registration{Namespace: c.name, Name: c.name,
			Kubeconfig: s.env.Cluster(c.server).Kubeconfig, Labels: map[string]string{fleetLabel: name}})
		return err
	})
	if err != nil {
		t.Fatalf("registering fleet %s: %v", name, err)
	}
	t.Cleanup(func() { f.deregister(t) })
	waitFor(t, fmt.Sprintf("the %d clusters of fleet %s ready", n, name), s.size.converge, func() error {
		list := &libv1beta1.SveltosClusterList{}
		if err := s.mgmt.List(ctx, list, client.MatchingLabels{fleetLabel: name}); err != nil {
			return err
		}
		ready := 0
		for _, sc := range list.Items {
			if sc.Status.Ready {
				ready++
			}
		}
		if ready < n {
			return fmt.Errorf("%d of %d ready", ready, n)
		}
		return nil
	})
	return f
}

// deregister removes the fleet's registrations and waits (bounded) until no
// ClusterSummary of them is left, so that the next scenario starts clean.
func (f *fleet) deregister(t *testing.T) {
	ctx := context.Background()
	err := testenv.Parallel(ctx, 8, len(f.clusters), func(i int) error {
		c := f.clusters[i]
		return clusters.Deregister(ctx, s.mgmt, types.NamespacedName{Namespace: c.name, Name: c.name})
	})
	if err != nil {
		t.Errorf("deregistering fleet %s: %v", f.name, err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		left := 0
		for _, c := range f.clusters {
			list := &configv1beta1.ClusterSummaryList{}
			if err := s.mgmt.List(ctx, list, client.InNamespace(c.name)); err == nil {
				left += len(list.Items)
			}
		}
		if left == 0 {
			return
		}
		time.Sleep(time.Second)
	}
	t.Logf("fleet %s: ClusterSummaries still left 2 minutes after deregistering", f.name)
}

// setFailureThreshold sets spec.consecutiveFailureThreshold of every cluster of the fleet.
func (f *fleet) setFailureThreshold(t *testing.T, n int) {
	t.Helper()
	patch := client.RawPatch(types.MergePatchType, []byte(fmt.Sprintf(`{"spec":{"consecutiveFailureThreshold":%d}}`, n)))
	for _, c := range f.clusters {
		sc := &libv1beta1.SveltosCluster{ObjectMeta: metav1.ObjectMeta{Namespace: c.name, Name: c.name}}
		if err := s.mgmt.Patch(context.Background(), sc, patch); err != nil {
			t.Fatalf("setting the failure threshold of %s: %v", c.name, err)
		}
	}
}

// on returns the fleet's clusters on one API server.
func (f *fleet) on(server string) []fleetCluster {
	var out []fleetCluster
	for _, c := range f.clusters {
		if c.server == server {
			out = append(out, c)
		}
	}
	return out
}

// policyYAML is a profile's policy: k ConfigMaps <profile>-<i> in the namespace
// named after the cluster, each carrying the version and the cluster's name.
func policyYAML(profile, version string, k int) string {
	var b strings.Builder
	for i := range k {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s-%d\n  namespace: \"{{ .Cluster.metadata.name }}\"\n"+
			"  labels:\n    %s: %s\ndata:\n  version: %q\n  cluster: \"{{ .Cluster.metadata.name }}\"\n  index: \"%d\"\n",
			profile, i, profileLabel, profile, version, i)
	}
	return b.String()
}

// setPolicy creates or updates the policy ConfigMap default/<profile> of a profile.
func setPolicy(t *testing.T, profile, version string) {
	t.Helper()
	ctx := context.Background()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: profile,
		Annotations: map[string]string{libv1beta1.TemplateAnnotation: "ok"}},
		Data: map[string]string{"objects.yaml": policyYAML(profile, version, s.size.objects)}}
	err := s.mgmt.Create(ctx, cm)
	if apierrors.IsAlreadyExists(err) {
		existing := &corev1.ConfigMap{}
		if err = s.mgmt.Get(ctx, client.ObjectKeyFromObject(cm), existing); err == nil {
			existing.Data = cm.Data
			err = s.mgmt.Update(ctx, existing)
		}
	}
	if err != nil {
		t.Fatalf("writing policy %s: %v", profile, err)
	}
}

// firstRollout creates ClusterProfile <profile> at version v0 on every cluster
// of the fleet and waits until it converges, undisturbed: window is how long
// that took, the span the kills of a chaos scenario land in. check(version)
// is the convergence check of the profile at that version.
func firstRollout(t *testing.T, f *fleet, profile string) (check func(version string) func(context.Context) (tally, error), window time.Duration) {
	t.Helper()
	check = func(version string) func(context.Context) (tally, error) {
		return func(ctx context.Context) (tally, error) { return f.check(ctx, profile, version, f.clusters) }
	}
	start := time.Now()
	createProfile(t, f, profile, "v0", nil)
	if got, _ := converge(t, "first rollout", start, check("v0")); !got.converged() {
		t.FailNow()
	}
	return check, time.Since(start)
}

// rolloutToKill starts the rollout of one seed (the profile's policy changes
// to version seed-<seed>) and returns at the point of it where the scenario
// kills: killAfter, drawn from the seed within window. stream keeps each
// scenario's draws its own; rng serves the scenario's further draws.
func rolloutToKill(t *testing.T, profile string, seed int64, stream uint64, window time.Duration) (rng *rand.Rand, version string, killAfter time.Duration) {
	t.Helper()
	rng = rand.New(rand.NewPCG(uint64(seed), stream))
	version = fmt.Sprintf("seed-%d", seed)
	killAfter = time.Duration(rng.Int64N(int64(window)))
	setPolicy(t, profile, version)
	time.Sleep(killAfter)
	return rng, version, killAfter
}

// createProfile creates ClusterProfile <profile> deploying its policy to the
// fleet's clusters (selected by labels; default: every cluster of the fleet).
// The profile is deleted when the test ends.
func createProfile(t *testing.T, f *fleet, profile, version string, selector map[string]string) {
	t.Helper()
	setPolicy(t, profile, version)
	if selector == nil {
		selector = map[string]string{fleetLabel: f.name}
	}
	p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: profile}}
	p.Spec.ClusterSelector.MatchLabels = selector
	p.Spec.PolicyRefs = []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "default", Name: profile}}
	if err := s.mgmt.Create(context.Background(), p); err != nil {
		t.Fatalf("creating ClusterProfile %s: %v", profile, err)
	}
	t.Cleanup(func() { deleteProfile(t, profile) })
}

// deleteProfile deletes a ClusterProfile (gone already is fine).
func deleteProfile(t *testing.T, profile string) {
	err := s.mgmt.Delete(context.Background(), &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: profile}})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Errorf("deleting ClusterProfile %s: %v", profile, err)
	}
}

// tally is what a check found against what should be.
type tally struct {
	// lost: objects missing or with other content than the profile's current
	// version, summaries missing.
	lost int
	// duplicates: objects or summaries that should not exist (deployed where the
	// profile does not select, left behind by a withdrawal, a second summary for
	// one cluster, a summary of a cluster that is not selected).
	duplicates int
	// pending: summaries that exist as they should but do not say Provisioned yet.
	pending int
	// current counts the selected clusters whose objects are all at the version.
	current int
	detail  []string
}

func (t *tally) notef(format string, args ...any) {
	if len(t.detail) < 5 {
		t.detail = append(t.detail, fmt.Sprintf(format, args...))
	}
}

func (t tally) converged() bool { return t.lost == 0 && t.duplicates == 0 && t.pending == 0 }

func (t tally) String() string {
	return fmt.Sprintf("lost %d, duplicates %d, pending %d, %d clusters current; %s", t.lost, t.duplicates, t.pending, t.current,
		strings.Join(t.detail, "; "))
}

// check compares what profile deployed over the fleet's API servers, and its
// summaries, with what it should have deployed: its k objects at version in
// every cluster of want, nothing elsewhere (want empty: withdrawn everywhere).
// Servers not in reachable are not read (a stopped API server).
func (f *fleet) check(ctx context.Context, profile, version string, want []fleetCluster, reachable ...string) (tally, error) {
	var t tally
	if len(reachable) == 0 {
		reachable = managed
	}
	wanted := map[string]bool{} // server/namespace
	for _, c := range want {
		wanted[c.server+"/"+c.name] = true
	}
	for _, server := range reachable {
		c, err := managedClient(server)
		if err != nil {
			return t, err
		}
		list := &corev1.ConfigMapList{}
		if err := c.List(ctx, list, client.MatchingLabels{profileLabel: profile}); err != nil {
			return t, fmt.Errorf("listing %s's objects in %s: %w", profile, server, err)
		}
		found := map[string]int{} // namespace -> objects at version
		for _, cm := range list.Items {
			if !wanted[server+"/"+cm.Namespace] || !isPolicyObject(profile, cm.Name) {
				t.duplicates++
				t.notef("%s: %s/%s should not exist", server, cm.Namespace, cm.Name)
				continue
			}
			if cm.Data["version"] != version || cm.Data["cluster"] != cm.Namespace {
				// Counted below, with the cluster's objects not at the version.
				t.notef("%s: %s/%s has version %q", server, cm.Namespace, cm.Name, cm.Data["version"])
				continue
			}
			found[cm.Namespace]++
		}
		for _, fc := range want {
			if fc.server != server {
				continue
			}
			if n := found[fc.name]; n < s.size.objects {
				t.lost += s.size.objects - n
				t.notef("%s: %d of %d objects of %s at %s", fc.name, n, s.size.objects, profile, version)
			} else {
				t.current++
			}
		}
	}
	summaries := &configv1beta1.ClusterSummaryList{}
	if err := s.mgmt.List(ctx, summaries, client.MatchingLabels{configv1beta1.ClusterProfileNameLabel: profile}); err != nil {
		return t, fmt.Errorf("listing the summaries of %s: %w", profile, err)
	}
	perCluster := map[string]int{}
	for _, sum := range summaries.Items {
		perCluster[sum.Spec.ClusterNamespace+"/"+sum.Spec.ClusterName]++
	}
	selected := map[string]bool{}
	for _, c := range want {
		selected[c.name+"/"+c.name] = true
	}
	for key, n := range perCluster {
		if !selected[key] {
			t.duplicates += n
			t.notef("summary of %s for %s should not exist", profile, key)
		} else if n > 1 {
			t.duplicates += n - 1
			t.notef("%d summaries of %s for %s", n, profile, key)
		}
	}
	for _, sum := range summaries.Items {
		key := sum.Spec.ClusterNamespace + "/" + sum.Spec.ClusterName
		if !selected[key] {
			continue
		}
		fs := sum.FeatureSummary(libv1beta1.FeatureResources)
		if fs == nil || fs.Status != libv1beta1.FeatureStatusProvisioned || !sum.DeletionTimestamp.IsZero() {
			t.pending++
		}
	}
	for key := range selected {
		if perCluster[key] == 0 {
			t.lost++
			t.notef("no summary of %s for %s", profile, key)
		}
	}
	return t, nil
}

func isPolicyObject(profile, name string) bool {
	for i := range s.size.objects {
		if name == fmt.Sprintf("%s-%d", profile, i) {
			return true
		}
	}
	return false
}

// uids returns the UIDs of a profile's objects on one API server, by namespace/name.
func uids(ctx context.Context, profile, server string) (map[string]types.UID, error) {
	c, err := managedClient(server)
	if err != nil {
		return nil, err
	}
	list := &corev1.ConfigMapList{}
	if err := c.List(ctx, list, client.MatchingLabels{profileLabel: profile}); err != nil {
		return nil, err
	}
	out := map[string]types.UID{}
	for _, cm := range list.Items {
		out[cm.Namespace+"/"+cm.Name] = cm.UID
	}
	return out, nil
}

// countObjects counts a profile's objects on one API server.
func countObjects(ctx context.Context, server, profile string) (int, error) {
	found, err := uids(ctx, profile, server)
	return len(found), err
}

// replaced counts the objects of before that are gone or were re-created (another UID) in after.
func replaced(before, after map[string]types.UID) int {
	n := 0
	for k, uid := range before {
		if after[k] != uid {
			n++
		}
	}
	return n
}

// converge polls check until its tally has converged or s.size.converge has
// passed, and returns the last tally and how long it took from start.
func converge(t *testing.T, what string, start time.Time, check func(context.Context) (tally, error)) (tally, time.Duration) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(s.size.converge)
	var last tally
	var lastErr error
	for {
		got, err := check(ctx)
		if err == nil {
			last = got
			if got.converged() {
				return got, time.Since(start)
			}
		}
		lastErr = err
		if time.Now().After(deadline) {
			t.Errorf("%s: not converged after %s: %v (last error: %v)", what, s.size.converge, last, lastErr)
			return last, time.Since(start)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// waitFor polls check until it returns nil, failing the test after timeout.
func waitFor(t *testing.T, what string, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still not true after %s: %v", what, timeout, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// managedClient is a direct admin client of one of the API servers (one per
// server for the package: a restarted API server keeps its address).
func managedClient(server string) (client.Client, error) {
	s.clientsMu.Lock()
	defer s.clientsMu.Unlock()
	if c, ok := s.clients[server]; ok {
		return c, nil
	}
	cl := s.env.Cluster(server)
	if cl == nil {
		return nil, fmt.Errorf("no cluster %s", server)
	}
	c, err := client.New(cl.Config, client.Options{Scheme: api.NewScheme()})
	if err != nil {
		return nil, fmt.Errorf("client of %s: %w", server, err)
	}
	if s.clients == nil {
		s.clients = map[string]client.Client{}
	}
	s.clients[server] = c
	return c, nil
}

// objectMeta is the metadata naming key.
func objectMeta(key types.NamespacedName) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}
}
