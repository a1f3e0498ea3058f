package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/api"
	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/dashboard"
	"github.com/tugboat-dev/tugboat/internal/localkube"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// The dashboard-direct mode (-dashboard-direct) measures the dashboard's list
// pages at the size the issue names (1,000 clusters, 10,000 ClusterSummaries)
// without managed clusters: the list pages read only management-cluster
// objects, so the harness writes the SveltosClusters, ClusterProfiles and
// ClusterSummaries — statuses included, as the controllers would — straight
// into one management API server, and serves the dashboard from a cache of
// it, as the manager does (no controller runs: nothing rewrites them). The
// pages are timed as the dashboard phase times them (dashboardSamples
// fetches each over HTTP with the token; a label change to an open page
// through /updates).

// directNamespace is the manager's namespace in the direct mode (the token Secret).
const directNamespace = "tugboat-system"

// dashboardDirect runs the direct mode and returns its report section.
func dashboardDirect(ctx context.Context, cfg config) (string, error) {
	start := time.Now()
	loadStart := strings.TrimSpace(readFile("/proc/loadavg"))
	logf("dashboard-direct: starting etcd and the management kube-apiserver")
	env, err := localkube.Start(ctx, localkube.Options{Clusters: []string{"mgmt"}, InstallCRDs: true})
	if err != nil {
		return "", fmt.Errorf("starting the API server: %w", err)
	}
	defer env.Stop()
	mcfg := env.Management().Config
	// Writes go fast: the harness fills the API server, it does not measure it.
	wcfg := *mcfg
	wcfg.QPS, wcfg.Burst = 2000, 4000
	scheme := api.NewScheme()
	mgmt, err := client.New(&wcfg, client.Options{Scheme: scheme})
	if err != nil {
		return "", err
	}
	h := &harness{cfg: cfg, mgmt: mgmt, rep: newReport(cfg)}

	n, perCluster := cfg.dashboardClusters, cfg.dashboardProfiles
	t0 := time.Now()
	names, err := h.writeDirectFleet(ctx, n, perCluster)
	if err != nil {
		return "", err
	}
	fill := time.Since(t0)
	logf("dashboard-direct: %d clusters, %d ClusterSummaries written in %s", n, n*perCluster, ms(fill))

	// The dashboard as the manager serves it: reads from a cache, changes from its informers.
	informers, err := cache.New(mcfg, cache.Options{Scheme: scheme})
	if err != nil {
		return "", err
	}
	cached, err := client.New(mcfg, client.Options{Scheme: scheme, Cache: &client.CacheOptions{Reader: informers}})
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { _ = informers.Start(ctx) }()
	board := &dashboard.Server{Fleet: clusters.Fleet{Reader: cached, CAPI: clusters.CAPINone}, Client: cached, Informers: informers,
		Options: dashboard.Options{Address: "127.0.0.1:0", TokenSecret: types.NamespacedName{Namespace: directNamespace, Name: dashboard.DefaultTokenSecretName}}}
	if err := mgmt.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: directNamespace}}); err != nil {
		return "", err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	served := make(chan error, 1)
	go func() { served <- board.Serve(ctx, ln) }()
	base := "http://" + ln.Addr().String()
	token := "bench-" + fmt.Sprint(time.Now().UnixNano())
	if err := mgmt.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: directNamespace, Name: dashboard.DefaultTokenSecretName},
		Data: map[string][]byte{dashboard.TokenKey: []byte(token)}}); err != nil {
		return "", err
	}
	if !informers.WaitForCacheSync(ctx) {
		return "", fmt.Errorf("the dashboard's cache did not sync")
	}
	// The first page warms the cache's informers (each kind's informer starts on its first read).
	if err := h.waitFor(ctx, "the dashboard's first page with every cluster", cfg.timeout, func() (bool, error) {
		text, err := dashboardText(ctx, base+"/clusters?q="+names.last, token)
		return err == nil && strings.Contains(text, names.last), err
	}); err != nil {
		return "", err
	}

	res := &dashboardResult{clusters: n, summaries: n * perCluster}
	res.pages = []*dashboardPage{
		{path: "/clusters", what: "fleet, first page (100 rows)"},
		{path: "/clusters?page=7", what: "fleet, page 7"},
		{path: "/clusters?q=env%3Dprod", what: "fleet, filtered by a label (334 rows, first page)"},
		{path: "/clusters?q=" + names.last, what: "fleet, filtered to one cluster"},
		{path: "/clusters/" + names.first + "/" + names.first, what: "a cluster: its summaries (no managed cluster to read objects from)"},
		{path: "/profiles", what: "profiles with rollout counts"},
		{path: "/profiles/ClusterProfile/" + names.profile, what: fmt.Sprintf("a profile with %d clusters: its summaries, first page", n)},
		{path: "/profiles/ClusterProfile/" + names.profile + "?q=Failed", what: "a profile's summaries filtered to the failed ones"},
		{path: "/explain?profile=ClusterProfile/" + names.profile + "&cluster=" + names.first + "/" + names.first, what: "the explanation of a profile for a cluster"},
		{path: "/events", what: "events (no EventTrigger)"},
	}
	for _, pg := range res.pages {
		for range dashboardSamples {
			t := time.Now()
			size, err := dashboardGet(ctx, base+pg.path, token)
			if err != nil {
				return "", fmt.Errorf("dashboard %s: %w", pg.path, err)
			}
			pg.times.add(time.Since(t))
			pg.bytes = size
		}
		logf("dashboard-direct: %s p50 %s", pg.path, ms(pg.times.quantile(0.5)))
	}
	if err := h.dashboardLive(ctx, base, token, names.first, res); err != nil {
		return "", err
	}
	cancel()
	<-served
	loadEnd := strings.TrimSpace(readFile("/proc/loadavg"))

	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("### Dashboard at %d clusters and %d summaries (direct mode)", n, n*perCluster)
	p("")
	p("`%s` on tree %s, %s; load average %s at the start, %s at the end.", cfg.command, gitRev(), time.Now().UTC().Format("2006-01-02 15:04 UTC"), loadStart, loadEnd)
	p("No managed cluster: %d SveltosClusters (one namespace each, ready, labels `env` dev/stage/prod and `region`), %d ClusterProfiles", n, perCluster)
	p("selecting all of them (status: matching and updated clusters) and their %d ClusterSummaries (a Resources feature,", n*perCluster)
	p("1 in 100 Failed with a message, the rest Provisioned) written with their statuses straight into the management API")
	p("server in %s; the dashboard serves from a cache of it, as the manager's does, with no controller running. Each", ms(fill))
	p("page fetched %d times over HTTP with the bearer token, one after the other: time to the last byte. The baseline is", dashboardSamples)
	p("the dashboard phase's run above (200 clusters, 2,003 summaries, same pages and method). The cluster page reads no")
	p("managed cluster here (there is none), so it times the summaries' part only.")
	p("")
	res.tables(p, "")
	p("The whole run took %s.", ms(time.Since(start)))
	return b.String(), nil
}

// directNames are the objects the pages are asked about.
type directNames struct{ first, last, profile string }

// writeDirectFleet writes n ready SveltosClusters (namespace = name), perCluster
// ClusterProfiles selecting them all and one ClusterSummary per (profile,
// cluster), each with the status its controller would write.
func (h *harness) writeDirectFleet(ctx context.Context, n, perCluster int) (directNames, error) {
	envs := []string{"dev", "stage", "prod"}
	name := func(i int) string { return fmt.Sprintf("c%04d", i+1) }
	names := directNames{first: name(0), last: name(n - 1), profile: "dash-p01"}
	now := metav1.Now()
	logf("dashboard-direct: writing %d SveltosClusters", n)
	if err := testenv.Parallel(ctx, 16, n, func(i int) error {
		c := name(i)
		if err := h.mgmt.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: c}}); err != nil {
			return err
		}
		sc := &libv1beta1.SveltosCluster{ObjectMeta: metav1.ObjectMeta{Namespace: c, Name: c, Labels: map[string]string{
			"env": envs[i%3], "region": fmt.Sprintf("r%d", i%7), "bench.tugboat.dev/direct": "yes"}}}
		if err := h.mgmt.Create(ctx, sc); err != nil {
			return fmt.Errorf("creating SveltosCluster %s: %w", c, err)
		}
		sc.Status = libv1beta1.SveltosClusterStatus{Ready: true, Version: "v1.36.3"}
		return h.mgmt.Status().Update(ctx, sc)
	}); err != nil {
		return names, err
	}
	var refs []corev1.ObjectReference
	for i := range n {
		refs = append(refs, corev1.ObjectReference{Kind: libv1beta1.SveltosClusterKind, APIVersion: libv1beta1.GroupVersion.String(), Namespace: name(i), Name: name(i)})
	}
	var profiles []string
	for j := range perCluster {
		p := fmt.Sprintf("dash-p%02d", j+1)
		profiles = append(profiles, p)
		cp := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: p}, Spec: configv1beta1.Spec{
			ClusterSelector: libv1beta1.Selector{LabelSelector: metav1.LabelSelector{MatchLabels: map[string]string{"bench.tugboat.dev/direct": "yes"}}}}}
		if err := h.mgmt.Create(ctx, cp); err != nil {
			return names, fmt.Errorf("creating ClusterProfile %s: %w", p, err)
		}
		cp.Status = configv1beta1.Status{MatchingClusterRefs: refs, UpdatedClusters: &configv1beta1.Clusters{Clusters: refs}}
		if err := h.mgmt.Status().Update(ctx, cp); err != nil {
			return names, fmt.Errorf("the status of ClusterProfile %s: %w", p, err)
		}
	}
	logf("dashboard-direct: writing %d ClusterSummaries", n*perCluster)
	return names, testenv.Parallel(ctx, 16, n*perCluster, func(k int) error {
		i, p := k/perCluster, profiles[k%perCluster]
		id := libv1beta1.SveltosClusterID(name(i), name(i))
		s := &configv1beta1.ClusterSummary{
			ObjectMeta: metav1.ObjectMeta{Namespace: id.Namespace, Name: configv1beta1.ClusterSummaryNameFor(configv1beta1.ClusterProfileKind, p, id),
				Labels: map[string]string{configv1beta1.ClusterProfileNameLabel: p}},
			Spec: configv1beta1.ClusterSummarySpec{ClusterNamespace: id.Namespace, ClusterName: id.Name, ClusterType: libv1beta1.ClusterTypeSveltos},
		}
		if err := h.mgmt.Create(ctx, s); err != nil {
			return fmt.Errorf("creating ClusterSummary %s/%s: %w", s.Namespace, s.Name, err)
		}
		f := configv1beta1.FeatureSummary{FeatureID: libv1beta1.FeatureResources, Status: libv1beta1.FeatureStatusProvisioned, LastAppliedTime: &now}
		if k%100 == 99 {
			msg := fmt.Sprintf("conflict on ConfigMap default/settings-%d: deployed by ClusterProfile other (tier 100)", k)
			f.Status, f.FailureMessage, f.ConsecutiveFailures = libv1beta1.FeatureStatusFailed, &msg, 3
		}
		s.Status.FeatureSummaries = []configv1beta1.FeatureSummary{f}
		return h.mgmt.Status().Update(ctx, s)
	})
}

// gitRev is the tree the harness runs from: $BENCH_REV when set (a copy of
// a commit, outside Git), else HEAD, marked when the dashboard or the harness
// differ from it.
func gitRev() string {
	if rev := os.Getenv("BENCH_REV"); rev != "" {
		return rev
	}
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	rev := strings.TrimSpace(string(out))
	if err := exec.Command("git", "diff", "--quiet", "HEAD", "--", "internal/dashboard", "bench/fleet").Run(); err != nil {
		rev += " (+ uncommitted changes in internal/dashboard or bench/fleet)"
	}
	return rev
}
