package explain

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	capiv1beta2 "sigs.k8s.io/cluster-api/api/core/v1beta2"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/selection"
)

// sveltos is a ready SveltosCluster apps/NAME with labels, as clusters.View sees it.
func sveltos(name string, labels map[string]string, mutate ...func(*libv1beta1.SveltosCluster)) *selection.Cluster {
	sc := &libv1beta1.SveltosCluster{
		ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: name, Labels: labels},
		Status:     libv1beta1.SveltosClusterStatus{Ready: true, ConnectionStatus: libv1beta1.ConnectionHealthy, Version: "v1.30.0"},
	}
	for _, m := range mutate {
		m(sc)
	}
	v, _ := clusters.View(sc)
	return &v
}

func clusterProfile(name string, spec configv1beta1.Spec) *configv1beta1.ClusterProfile {
	return &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec}
}

var deploysConfigMap = []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "apps", Name: "manifests"}}

// summaryOf is the profile's summary in the cluster with the given features,
// at the profile's current spec.
func summaryOf(p configv1beta1.ProfileObject, c *selection.Cluster, features ...configv1beta1.FeatureSummary) *configv1beta1.ClusterSummary {
	ref := ProfileRef(p)
	return &configv1beta1.ClusterSummary{
		ObjectMeta: metav1.ObjectMeta{Namespace: c.ID.Namespace, Name: configv1beta1.ClusterSummaryNameFor(ref.Kind, ref.Name, c.ID), Generation: 1},
		Spec: configv1beta1.ClusterSummarySpec{ClusterNamespace: c.ID.Namespace, ClusterName: c.ID.Name, ClusterType: c.ID.Type,
			ClusterProfileSpec: *p.GetSpec().DeepCopy()},
		Status: configv1beta1.ClusterSummaryStatus{FeatureSummaries: features, ObservedGeneration: 1},
	}
}

var appliedAt = metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))

func provisioned(id libv1beta1.FeatureID) configv1beta1.FeatureSummary {
	return configv1beta1.FeatureSummary{FeatureID: id, Status: libv1beta1.FeatureStatusProvisioned, Hash: []byte("h"), LastAppliedTime: &appliedAt}
}

func failed(id libv1beta1.FeatureID, msg string, n int32) configv1beta1.FeatureSummary {
	return configv1beta1.FeatureSummary{FeatureID: id, Status: libv1beta1.FeatureStatusFailed, FailureMessage: &msg, ConsecutiveFailures: n}
}

func input(p configv1beta1.ProfileObject, c *selection.Cluster, s *configv1beta1.ClusterSummary) *Input {
	return &Input{Profile: p, ClusterID: c.ID, Cluster: c, Summary: s}
}

// step finds the step with the given title.
func step(t *testing.T, e Explanation, title string) Step {
	t.Helper()
	for _, s := range e.Steps {
		if s.Title == title {
			return s
		}
	}
	t.Fatalf("no step %q in:\n%s", title, dump(e))
	return Step{}
}

func dump(e Explanation) string {
	var b strings.Builder
	b.WriteString(string(e.Outcome) + "\n")
	for _, s := range e.Steps {
		b.WriteString(string(s.Verdict) + "\t" + s.Title + "\t" + s.Detail + "\n")
	}
	return b.String()
}

// Each way a profile fails to reach a cluster names the step that stops it,
// with the precise detail.
func TestUnitExplainStops(t *testing.T) {
	web := sveltos("web", map[string]string{"env": "prod", "type": "web"})
	withSelector := func(sel map[string]string) configv1beta1.Spec {
		return configv1beta1.Spec{ClusterSelector: libv1beta1.Selector{LabelSelector: metav1.LabelSelector{MatchLabels: sel}}, PolicyRefs: deploysConfigMap}
	}
	reaching := clusterProfile("web", withSelector(map[string]string{"env": "prod"}))
	conflictMsg := "conflict on ConfigMap apps/settings: deployed by ClusterProfile base (tier 50), also wanted by ClusterProfile web (tier 100); the lower tier wins"
	dependent := clusterProfile("app", configv1beta1.Spec{ClusterRefs: []corev1.ObjectReference{{Kind: "SveltosCluster", Namespace: "apps", Name: "web"}},
		DependsOn: []string{"db"}, PolicyRefs: deploysConfigMap})
	paused := clusterProfile("web", withSelector(map[string]string{"env": "prod"}))
	paused.Annotations = map[string]string{configv1beta1.PausedAnnotation: "true"}
	dryRun := clusterProfile("web", withSelector(map[string]string{"env": "prod"}))
	dryRun.Spec.SyncMode = libv1beta1.SyncModeDryRun
	tenant := &configv1beta1.Profile{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "tenant"}, Spec: withSelector(map[string]string{"env": "prod"})}
	down := sveltos("down", map[string]string{"env": "prod"}, func(sc *libv1beta1.SveltosCluster) {
		msg := "reading /version from https://10.0.0.1:6443: connection refused"
		sc.Status = libv1beta1.SveltosClusterStatus{ConnectionStatus: libv1beta1.ConnectionDown, ConnectionFailures: 3, FailureMessage: &msg}
	})
	pausedCluster := sveltos("frozen", map[string]string{"env": "prod"}, func(sc *libv1beta1.SveltosCluster) { sc.Spec.Paused = true })

	for _, tc := range []struct {
		name    string
		in      *Input
		outcome Outcome
		stop    string // "title: detail" of Stop()
	}{
		{"reaches", input(reaching, web, summaryOf(reaching, web, provisioned(libv1beta1.FeatureResources))), Reaches, ""},
		{"selector term", input(clusterProfile("web", withSelector(map[string]string{"env": "prod", "tier": "gold"})), web, nil),
			Blocked, "clusterSelector tier=gold: cluster has no label tier"},
		{"selector term, other value", input(clusterProfile("web", withSelector(map[string]string{"type": "app"})), web, nil),
			Blocked, "clusterSelector type=app: cluster has type=web"},
		{"empty profile", input(clusterProfile("web", configv1beta1.Spec{}), web, nil),
			Blocked, "no clusterSelector: the profile selects no cluster: its clusterSelector is empty and it has no clusterRefs or setRefs"},
		{"not ready", input(reaching, down, nil),
			Blocked, "cluster not ready: status.ready is false, connectionStatus Down (3 failed probes in a row): reading /version from https://10.0.0.1:6443: connection refused"},
		{"cluster paused", input(reaching, pausedCluster, nil),
			Blocked, "cluster paused: SveltosCluster apps/frozen has spec.paused: nothing is deployed to or withdrawn from it"},
		{"profile paused", input(paused, web, summaryOf(paused, web, provisioned(libv1beta1.FeatureResources))),
			Blocked, "profile paused: ClusterProfile/web is annotated profile.projectsveltos.io/paused: Tugboat deploys nothing for it until the annotation is removed"},
		{"dry run", input(dryRun, web, summaryOf(dryRun, web)),
			Blocked, "syncMode DryRun: DryRun deploys nothing: what would change is in the ClusterReport (tug show dryrun)"},
		{"profile namespace", input(tenant, web, nil),
			Blocked, "namespace team-a: a Profile only reaches clusters of its own namespace (team-a); this cluster is in apps"},
		{"no summary yet", input(reaching, web, nil),
			Waiting, "ClusterSummary apps/web-sveltos-web: not created yet: the profile controller creates one per matching cluster (is the manager running?)"},
		{"conflict", input(reaching, web, summaryOf(reaching, web, failed(libv1beta1.FeatureResources, conflictMsg, 2))),
			Blocked, "Resources: conflict on ConfigMap apps/settings: held by ClusterProfile base (tier 50); this profile has tier 100: the lower tier wins"},
		{"failure", input(reaching, web, summaryOf(reaching, web, failed(libv1beta1.FeatureResources, "ConfigMap apps/manifests not found", 4))),
			Blocked, "Resources failed: failed 4 time(s) in a row: ConfigMap apps/manifests not found"},
		{"missing cluster", &Input{Profile: reaching, ClusterID: libv1beta1.SveltosClusterID("apps", "gone")},
			Blocked, "cluster apps/gone: SveltosCluster apps/gone not found"},
		{"no Cluster API", &Input{Profile: reaching, ClusterID: libv1beta1.CAPIClusterID("apps", "wl"), NoClusterAPI: true},
			Blocked, "cluster capi:apps/wl: Cluster apps/wl not found (the management cluster serves no Cluster API)"},
		{"dependsOn", &Input{Profile: dependent, ClusterID: web.ID, Cluster: web, Summary: summaryOf(dependent, web),
			Dependencies: map[string]*configv1beta1.ClusterSummary{"db": summaryOf(clusterProfile("db", configv1beta1.Spec{}), web,
				failed(libv1beta1.FeatureHelm, "chart not found", 1))}},
			Waiting, "dependsOn db: not provisioned on this cluster yet: Helm Failed: chart not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := Explain(tc.in)
			if e.Outcome != tc.outcome || e.Reaches != (tc.outcome == Reaches) {
				t.Errorf("outcome %s (reaches %v), want %s:\n%s", e.Outcome, e.Reaches, tc.outcome, dump(e))
			}
			got := ""
			if s := e.Stop(); s != nil {
				got = s.Title + ": " + s.Detail
			}
			if got != tc.stop {
				t.Errorf("stop:\n %q\nwant\n %q\n%s", got, tc.stop, dump(e))
			}
		})
	}
}

// A selector term failing does not block a cluster that clusterRefs or a set
// selects: the profile reaches it by another way.
func TestUnitExplainOtherSources(t *testing.T) {
	web := sveltos("web", map[string]string{"env": "dev"})
	p := clusterProfile("web", configv1beta1.Spec{
		ClusterSelector: libv1beta1.Selector{LabelSelector: metav1.LabelSelector{MatchLabels: map[string]string{"env": "prod"}}},
		SetRefs:         []string{"pool", "absent"},
		PolicyRefs:      deploysConfigMap,
	})
	in := input(p, web, summaryOf(p, web, provisioned(libv1beta1.FeatureResources)))
	in.Sets = map[string]*SetState{
		"pool":   {Spec: libv1beta1.SetSpec{MaxReplicas: 1}, Status: libv1beta1.SetStatus{SelectedClusterRefs: []corev1.ObjectReference{web.Ref()}, MatchingClusterRefs: []corev1.ObjectReference{web.Ref()}}},
		"absent": nil,
	}
	e := Explain(in)
	if e.Outcome != Reaches {
		t.Fatalf("outcome %s, want reaches:\n%s", e.Outcome, dump(e))
	}
	if s := step(t, e, "clusterSelector env=prod"); s.Verdict != NotApplicable || s.Detail != "cluster has env=dev" {
		t.Errorf("selector term: %+v", s)
	}
	if s := step(t, e, "setRef ClusterSet pool"); s.Verdict != Passes || s.Detail != "selected this cluster (selected: apps/web; maxReplicas 1)" {
		t.Errorf("set: %+v", s)
	}
	if s := step(t, e, "setRef ClusterSet absent"); s.Verdict != NotApplicable || s.Detail != "ClusterSet absent not found" {
		t.Errorf("missing set: %+v", s)
	}

	// The set's candidate, not selected: maxReplicas is why.
	other := libv1beta1.SveltosClusterID("apps", "other").Ref()
	in.Sets = map[string]*SetState{"pool": {Spec: libv1beta1.SetSpec{MaxReplicas: 1},
		Status: libv1beta1.SetStatus{SelectedClusterRefs: []corev1.ObjectReference{other}, MatchingClusterRefs: []corev1.ObjectReference{other, web.Ref()}}}}
	e = Explain(in)
	want := "a candidate, not selected: maxReplicas 1, selected apps/other (a selected cluster is replaced only when it goes Down, becomes not ready or stops matching)"
	if s := step(t, e, "setRef ClusterSet pool"); e.Outcome != Blocked || s.Verdict != Blocks || s.Detail != want {
		t.Errorf("set candidate: %s %+v", e.Outcome, s)
	}
}

// Each kind of selector term says what the cluster's labels hold.
func TestUnitExplainSelectorTerms(t *testing.T) {
	c := sveltos("c", map[string]string{"env": "prod", "zone": "eu"})
	p := clusterProfile("p", configv1beta1.Spec{ClusterSelector: libv1beta1.Selector{LabelSelector: metav1.LabelSelector{
		MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "env", Operator: metav1.LabelSelectorOpIn, Values: []string{"prod", "staging"}},
			{Key: "zone", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"eu"}},
			{Key: "gpu", Operator: metav1.LabelSelectorOpExists},
			{Key: "legacy", Operator: metav1.LabelSelectorOpDoesNotExist},
		}}}})
	e := Explain(input(p, c, nil))
	var got []string
	for _, s := range e.Steps {
		if s.Check == CheckClusterSelector {
			got = append(got, string(s.Verdict)+" "+s.Title+": "+s.Detail)
		}
	}
	want := []string{
		"passes clusterSelector env in (prod,staging): cluster has env=prod",
		"blocks clusterSelector gpu: cluster has no label gpu",
		"passes clusterSelector !legacy: cluster has no label legacy",
		"blocks clusterSelector zone notin (eu): cluster has zone=eu",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("terms:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	bad := clusterProfile("p", configv1beta1.Spec{ClusterSelector: libv1beta1.Selector{LabelSelector: metav1.LabelSelector{
		MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "env", Operator: "Near"}}}}})
	eb := Explain(input(bad, c, nil))
	if s := eb.Stop(); s == nil || s.Title != "clusterSelector invalid" || !strings.Contains(s.Detail, `unknown operator "Near"`) {
		t.Errorf("invalid selector: %+v", s)
	}
}

// maxUpdate: a cluster whose summary carries an older spec and is not among
// the updating clusters is queued.
func TestUnitExplainMaxUpdate(t *testing.T) {
	web := sveltos("web", map[string]string{"env": "prod"})
	p := clusterProfile("web", configv1beta1.Spec{ClusterRefs: []corev1.ObjectReference{web.Ref()}, PolicyRefs: deploysConfigMap})
	s := summaryOf(p, web, provisioned(libv1beta1.FeatureResources))
	one := intstr.FromInt32(1)
	p.Spec.MaxUpdate = &one
	p.Spec.Tier = 90 // the spec changed
	p.Status.MatchingClusterRefs = []corev1.ObjectReference{web.Ref(), libv1beta1.SveltosClusterID("apps", "first").Ref()}
	p.Status.UpdatingClusters = &configv1beta1.Clusters{Clusters: []corev1.ObjectReference{libv1beta1.SveltosClusterID("apps", "first").Ref()}}
	e := Explain(input(p, web, s))
	st := e.Stop()
	if e.Outcome != Waiting || st == nil || st.Title != "maxUpdate 1" ||
		st.Detail != "queued: the cluster keeps the previous spec until the 1 clusters being updated (apps/first) are provisioned" {
		t.Errorf("maxUpdate: %s %+v\n%s", e.Outcome, st, dump(e))
	}
}

// A Helm release held by another profile is one conflict step, whether the
// summary records it in its release summaries, its failure message or both.
func TestUnitExplainHelmConflict(t *testing.T) {
	web := sveltos("web", nil)
	p := clusterProfile("web", configv1beta1.Spec{ClusterRefs: []corev1.ObjectReference{web.Ref()}, Tier: 100,
		HelmCharts: []libv1beta1.HelmChart{{ReleaseName: "cnpg", ReleaseNamespace: "cnpg-system"}}})
	msg := "release cnpg-system/cnpg is managed by ClusterProfile dbaas (tier 100); this profile has tier 100"
	s := summaryOf(p, web, failed(libv1beta1.FeatureHelm, msg, 1))
	s.Status.HelmReleaseSummaries = []configv1beta1.HelmChartSummary{{ReleaseName: "cnpg", ReleaseNamespace: "cnpg-system",
		Status: configv1beta1.HelmChartStatusConflict, ConflictMessage: msg}}
	in := input(p, web, s)
	in.Holders = map[string]configv1beta1.ProfileObject{"ClusterProfile dbaas": nil}
	e := Explain(in)
	var conflicts, features int
	for _, st := range e.Steps {
		switch st.Check {
		case CheckConflict:
			conflicts++
			want := "held by ClusterProfile dbaas (tier 100); this profile has tier 100: at equal tiers the first owner keeps it; ClusterProfile dbaas no longer exists: the next deployment takes the object"
			if st.Title != "Helm: conflict on helm release cnpg-system/cnpg" || st.Detail != want ||
				st.Conflict.HolderKind != "ClusterProfile" || st.Conflict.HolderName != "dbaas" || st.Conflict.HolderTier != 100 {
				t.Errorf("conflict step: %+v %+v", st, st.Conflict)
			}
		case CheckFeature:
			features++
		}
	}
	if conflicts != 1 || features != 0 || e.Outcome != Blocked {
		t.Errorf("%d conflict steps, %d feature steps, outcome %s; want 1, 0, blocked:\n%s", conflicts, features, e.Outcome, dump(e))
	}
}

// A generated profile says which EventTrigger made it, from which event.
func TestUnitExplainGenerated(t *testing.T) {
	web := sveltos("web", nil)
	p := clusterProfile("sveltos-8x2k", configv1beta1.Spec{ClusterRefs: []corev1.ObjectReference{web.Ref()}, PolicyRefs: deploysConfigMap})
	p.Labels = map[string]string{
		libv1beta1.EventTriggerNameLabel:              "deploy-db",
		libv1beta1.EventTriggerEventSourceNameLabel:   "needs-db",
		libv1beta1.EventTriggerClusterNamespaceLabel:  "apps",
		libv1beta1.EventTriggerClusterNameLabel:       "web",
		libv1beta1.EventTriggerClusterTypeLabel:       "Sveltos",
		libv1beta1.EventTriggerResourceNamespaceLabel: "shop",
		libv1beta1.EventTriggerResourceNameLabel:      "orders",
	}
	p.Annotations = map[string]string{libv1beta1.EventObservedAnnotation: "2026-01-02T03:04:05Z"}
	in := input(p, web, summaryOf(p, web, provisioned(libv1beta1.FeatureResources)))
	in.Origin = &OriginInput{Trigger: &libv1beta1.EventTrigger{}, Source: &libv1beta1.EventSource{}, SourceCluster: web,
		Report: &libv1beta1.EventReport{Spec: libv1beta1.EventReportSpec{MatchingResources: make([]corev1.ObjectReference, 2)}}}
	e := Explain(in)
	want := Origin{EventTrigger: "deploy-db", EventSource: "needs-db", SourceCluster: "apps/web", Resource: "shop/orders", ObservedAt: "2026-01-02T03:04:05Z"}
	if e.GeneratedBy == nil || *e.GeneratedBy != want {
		t.Errorf("generatedBy %+v, want %+v", e.GeneratedBy, want)
	}
	first := e.Steps[0]
	if first.Check != CheckOrigin || first.Title != "generated by EventTrigger deploy-db" ||
		first.Detail != "EventSource needs-db matching shop/orders in cluster apps/web; event acted on at 2026-01-02T03:04:05Z; the EventSource matches 2 resource(s) there now" {
		t.Errorf("origin step: %+v", first)
	}
	if e.Outcome != Reaches {
		t.Errorf("outcome %s:\n%s", e.Outcome, dump(e))
	}
	in.Origin = &OriginInput{}
	if d := Explain(in).Steps[0].Detail; !strings.Contains(d, "EventTrigger deploy-db no longer exists") || !strings.Contains(d, "EventSource needs-db does not exist") {
		t.Errorf("origin gone: %s", d)
	}
}

// A Cluster API cluster is ready once its control plane is initialized.
func TestUnitExplainCAPI(t *testing.T) {
	c := &capiv1beta2.Cluster{ObjectMeta: metav1.ObjectMeta{Namespace: "capi", Name: "wl", Labels: map[string]string{"env": "prod"}}}
	v, _ := clusters.View(c)
	p := clusterProfile("web", configv1beta1.Spec{ClusterSelector: libv1beta1.Selector{LabelSelector: metav1.LabelSelector{MatchLabels: map[string]string{"env": "prod"}}}, PolicyRefs: deploysConfigMap})
	e := Explain(input(p, &v, nil))
	if e.Cluster != "capi:capi/wl" || e.Stop() == nil || e.Stop().Detail != "Cluster API control plane not initialized yet" {
		t.Errorf("capi not initialized: %s\n%s", e.Cluster, dump(e))
	}
	yes := true
	c.Status.Initialization.ControlPlaneInitialized = &yes
	v, _ = clusters.View(c)
	e = Explain(input(p, &v, summaryOf(p, &v, provisioned(libv1beta1.FeatureResources))))
	if e.Outcome != Reaches || step(t, e, "ClusterSummary capi/web-capi-wl").Verdict != Passes {
		t.Errorf("capi ready:\n%s", dump(e))
	}
}

// The JSON form is what scripts read: its field names are stable and
// documented (docs/explain.md).
func TestUnitExplanationJSON(t *testing.T) {
	e := Explanation{Profile: "ClusterProfile/web", Cluster: "apps/prod-1", Outcome: Blocked,
		GeneratedBy: &Origin{EventTrigger: "t", EventSource: "s", SourceCluster: "apps/src", Resource: "ns/r", ObservedAt: "2026-01-02T03:04:05Z"},
		Steps: []Step{
			{Check: CheckClusterSelector, Verdict: Passes, Title: "clusterSelector env=prod", Detail: "cluster has env=prod"},
			{Check: CheckConflict, Verdict: Blocks, Title: "Resources: conflict on ConfigMap apps/x", Detail: "held by ClusterProfile base (tier 50)",
				Conflict: &Conflict{Feature: libv1beta1.FeatureResources, Object: "ConfigMap apps/x", Holder: "ClusterProfile base",
					HolderKind: "ClusterProfile", HolderName: "base", HolderTier: 50, Message: "conflict on ConfigMap apps/x: ..."}},
			{Check: CheckClusterRefs, Verdict: NotApplicable, Title: "no clusterRefs"},
		}}
	out, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"profile":"ClusterProfile/web","cluster":"apps/prod-1","outcome":"blocked","reaches":false,` +
		`"generatedBy":{"eventTrigger":"t","eventSource":"s","sourceCluster":"apps/src","resource":"ns/r","observedAt":"2026-01-02T03:04:05Z"},` +
		`"steps":[{"check":"clusterSelector","verdict":"passes","title":"clusterSelector env=prod","detail":"cluster has env=prod"},` +
		`{"check":"conflict","verdict":"blocks","title":"Resources: conflict on ConfigMap apps/x","detail":"held by ClusterProfile base (tier 50)",` +
		`"conflict":{"feature":"Resources","object":"ConfigMap apps/x","holder":"ClusterProfile base","holderKind":"ClusterProfile","holderName":"base","holderTier":50,"message":"conflict on ConfigMap apps/x: ..."}},` +
		`{"check":"clusterRefs","verdict":"n.a.","title":"no clusterRefs"}]}`
	if string(out) != want {
		t.Errorf("JSON:\n%s\nwant:\n%s", out, want)
	}
}

// A profile being deleted blocks: its summaries are withdrawn.
func TestUnitExplainProfileDeleting(t *testing.T) {
	web := sveltos("web", map[string]string{"env": "prod"})
	p := clusterProfile("web", configv1beta1.Spec{ClusterSelector: libv1beta1.Selector{LabelSelector: metav1.LabelSelector{MatchLabels: map[string]string{"env": "prod"}}}, PolicyRefs: deploysConfigMap})
	now := metav1.Now()
	p.DeletionTimestamp = &now
	e := Explain(input(p, web, summaryOf(p, web, provisioned(libv1beta1.FeatureResources))))
	if s := e.Stop(); s == nil || s.Check != CheckProfileDeleting ||
		s.Detail != "ClusterProfile/web has a deletion timestamp: its ClusterSummaries are withdrawn (stopMatchingBehavior WithdrawPolicies) before it goes" {
		t.Errorf("deleting: %+v", s)
	}
}
