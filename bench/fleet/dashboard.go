package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/dashboard"
)

// dashboardPage is one page the dashboard phase times.
type dashboardPage struct {
	path  string
	what  string
	times dist
	bytes int
}

// dashboardResult is what the dashboard phase measured.
type dashboardResult struct {
	clusters, summaries int
	pages               []*dashboardPage
	// live is a label change on a cluster → its page, fetched on the event
	// stream's notice, shows the label.
	live dist
}

// dashboardSamples is how many times each page is fetched.
const dashboardSamples = 20

// dashboardPhase puts -dashboard-profiles ClusterProfiles on every cluster
// (no features: only their ClusterSummaries count), waits for every summary,
// then times the manager's dashboard pages over HTTP, as a browser fetches
// them, and a label change reaching an open page through the event stream.
func (h *harness) dashboardPhase(ctx context.Context) error {
	res := &dashboardResult{clusters: len(h.clusters)}
	h.rep.dashboard = res
	var names []string
	for i := range h.cfg.dashboardProfiles {
		name := fmt.Sprintf("dash-p%02d", i+1)
		names = append(names, name)
		cp := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: configv1beta1.Spec{
			ClusterSelector: libv1beta1.Selector{LabelSelector: metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
				{Key: "bench.tugboat.dev/apiserver", Operator: metav1.LabelSelectorOpExists}}}},
		}}
		if err := h.mgmt.Create(ctx, cp); err != nil {
			return fmt.Errorf("creating ClusterProfile %s: %w", name, err)
		}
	}
	want := len(names) * len(h.clusters)
	logf("dashboard: waiting for %d ClusterSummaries", want)
	t0 := time.Now()
	err := h.waitFor(ctx, fmt.Sprintf("%d ClusterSummaries of the dashboard profiles", want), 20*time.Minute, func() (bool, error) {
		list := &metav1.PartialObjectMetadataList{}
		list.SetGroupVersionKind(configv1beta1.GroupVersion.WithKind("ClusterSummaryList"))
		if err := h.mgmt.List(ctx, list, client.HasLabels{configv1beta1.ClusterProfileNameLabel}); err != nil {
			return false, err
		}
		res.summaries = len(list.Items)
		return res.summaries >= want, nil
	})
	if err != nil {
		return err
	}
	h.rep.notef("dashboard phase: %d ClusterProfiles × %d clusters → %d ClusterSummaries in the cache (%s to create them)",
		len(names), len(h.clusters), res.summaries, ms(time.Since(t0)))

	base := "http://" + h.mgr.Dashboard.Addr().String()
	secret := &corev1.Secret{}
	if err := h.mgmt.Get(ctx, types.NamespacedName{Namespace: h.mgrNamespace, Name: dashboard.DefaultTokenSecretName}, secret); err != nil {
		return fmt.Errorf("the dashboard's token: %w", err)
	}
	token := string(secret.Data[dashboard.TokenKey])
	first := h.clusters[0].name
	res.pages = []*dashboardPage{
		{path: "/clusters", what: "fleet, first page (100 rows)"},
		{path: "/clusters?page=5", what: "fleet, page 5"},
		{path: "/clusters?q=" + h.clusters[len(h.clusters)-1].name, what: "fleet, filtered to one cluster"},
		{path: "/clusters/" + first + "/" + first, what: "a cluster: its summaries, the objects deployed there"},
		{path: "/profiles", what: "profiles with rollout counts"},
		{path: "/profiles/ClusterProfile/" + names[0], what: "a profile: its summaries, first page"},
		{path: "/explain?profile=ClusterProfile/" + names[0] + "&cluster=" + first + "/" + first, what: "the explanation of a profile for a cluster"},
	}
	for _, pg := range res.pages {
		for range dashboardSamples {
			t := time.Now()
			n, err := dashboardGet(ctx, base+pg.path, token)
			if err != nil {
				return fmt.Errorf("dashboard %s: %w", pg.path, err)
			}
			pg.times.add(time.Since(t))
			pg.bytes = n
		}
		logf("dashboard: %s p50 %s", pg.path, ms(pg.times.quantile(0.5)))
	}
	return h.dashboardLive(ctx, base, token, first, res)
}

// dashboardLive times label changes reaching an open page: a stream of
// /updates is open; after the label changes, each notice makes the page
// fetch its content again (as the page's script does) until it shows it.
func (h *harness) dashboardLive(ctx context.Context, base, token, cluster string, res *dashboardResult) error {
	streamCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(streamCtx, http.MethodGet, base+"/updates", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("the dashboard's event stream: %w", err)
	}
	defer resp.Body.Close()
	notices := make(chan struct{}, 64)
	go func() {
		lines := bufio.NewScanner(resp.Body)
		for lines.Scan() {
			if lines.Text() == "event: change" {
				notices <- struct{}{}
			}
		}
	}()
	page := base + "/clusters/" + cluster + "/" + cluster
	for i := range 10 {
		value := fmt.Sprintf("v%d", i)
		t0 := time.Now()
		if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			sc := &libv1beta1.SveltosCluster{}
			if err := h.mgmt.Get(ctx, types.NamespacedName{Namespace: cluster, Name: cluster}, sc); err != nil {
				return err
			}
			sc.Labels["bench.tugboat.dev/dashboard"] = value
			return h.mgmt.Update(ctx, sc)
		}); err != nil {
			return err
		}
		deadline := time.After(h.cfg.timeout)
		for shown := false; !shown; {
			select {
			case <-notices:
			case <-deadline:
				res.live.failures++
				shown = true
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
			text, err := dashboardText(ctx, page, token)
			if err != nil {
				return err
			}
			if strings.Contains(text, "bench.tugboat.dev/dashboard="+value) {
				res.live.add(time.Since(t0))
				shown = true
			}
		}
	}
	return nil
}

// dashboardGet fetches a page and returns its size.
func dashboardGet(ctx context.Context, url, token string) (int, error) {
	text, err := dashboardText(ctx, url, token)
	return len(text), err
}

func dashboardText(ctx context.Context, url, token string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %d", resp.StatusCode)
	}
	return string(body), nil
}

// dashboardSection reports the dashboard phase.
func (r *report) dashboardSection(p func(string, ...any)) {
	d := r.dashboard
	if d == nil {
		return
	}
	p("## Dashboard responsiveness")
	p("")
	p("The manager's dashboard (`--dashboard-bind-address`) with %d clusters and %d ClusterSummaries in its cache (%d ClusterProfiles", d.clusters, d.summaries, r.cfg.dashboardProfiles)
	p("without features on every cluster, beside whatever earlier phases left). Each page fetched %d times over HTTP with the", dashboardSamples)
	p("bearer token, one after the other, as a browser fetches it: time to the last byte.")
	p("")
	d.tables(p, ", as the page's script does")
}

// tables writes the per-page table and the live-update table of a dashboard
// run; how says how a page is fetched again on a change notice.
func (d *dashboardResult) tables(p func(string, ...any), how string) {
	p("| page | what | n | p50 | p90 | max | failures | bytes |")
	p("| --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, pg := range d.pages {
		p("| `%s` | %s | %s | %d |", pg.path, pg.what, pg.times.row3(), pg.bytes)
	}
	p("")
	p("Live: a label change on a cluster → its open page (fetched again on each `change` notice of `/updates`%s) shows the label:", how)
	p("")
	p("| n | p50 | p90 | max | failures |")
	p("| --- | --- | --- | --- | --- |")
	p("| %s |", d.live.row3())
	p("")
}
