package selection

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

func sel(matchLabels map[string]string, exprs ...metav1.LabelSelectorRequirement) libv1beta1.Selector {
	return libv1beta1.Selector{LabelSelector: metav1.LabelSelector{MatchLabels: matchLabels, MatchExpressions: exprs}}
}

func expr(key string, op metav1.LabelSelectorOperator, values ...string) metav1.LabelSelectorRequirement {
	return metav1.LabelSelectorRequirement{Key: key, Operator: op, Values: values}
}

func TestMatches(t *testing.T) {
	prod := map[string]string{"env": "prod", "region": "eu"}
	tests := []struct {
		name     string
		selector libv1beta1.Selector
		labels   map[string]string
		want     bool
		wantErr  string
	}{
		{name: "empty selector matches nothing", selector: sel(nil), labels: prod, want: false},
		{name: "empty selector, no labels", selector: sel(map[string]string{}), labels: nil, want: false},
		{name: "matchLabels", selector: sel(map[string]string{"env": "prod"}), labels: prod, want: true},
		{name: "matchLabels all must match", selector: sel(map[string]string{"env": "prod", "region": "us"}), labels: prod, want: false},
		{name: "matchLabels on unlabelled", selector: sel(map[string]string{"env": "prod"}), labels: nil, want: false},
		{name: "In", selector: sel(nil, expr("region", metav1.LabelSelectorOpIn, "us", "eu")), labels: prod, want: true},
		{name: "NotIn", selector: sel(nil, expr("region", metav1.LabelSelectorOpNotIn, "eu")), labels: prod, want: false},
		{name: "NotIn absent key", selector: sel(nil, expr("tier", metav1.LabelSelectorOpNotIn, "gold")), labels: prod, want: true},
		{name: "Exists", selector: sel(nil, expr("env", metav1.LabelSelectorOpExists)), labels: prod, want: true},
		{name: "DoesNotExist", selector: sel(nil, expr("env", metav1.LabelSelectorOpDoesNotExist)), labels: prod, want: false},
		{name: "labels and expressions ANDed", selector: sel(map[string]string{"env": "prod"}, expr("region", metav1.LabelSelectorOpIn, "us")), labels: prod, want: false},
		{name: "bad operator", selector: sel(nil, expr("env", metav1.LabelSelectorOpExists), expr("region", "Like", "e*")),
			wantErr: `clusterSelector: matchExpressions[1] (key "region"): unknown operator "Like"`},
		{name: "In without values", selector: sel(nil, expr("region", metav1.LabelSelectorOpIn)),
			wantErr: `matchExpressions[0] (key "region", operator In):`},
		{name: "Exists with values", selector: sel(nil, expr("region", metav1.LabelSelectorOpExists, "x")),
			wantErr: `matchExpressions[0] (key "region", operator Exists):`},
		{name: "bad label key", selector: sel(map[string]string{"ok": "1", "bad key": "x"}),
			wantErr: `clusterSelector: matchLabels "bad key": "x":`},
		{name: "bad label value", selector: sel(map[string]string{"env": "not valid!"}),
			wantErr: `matchLabels "env": "not valid!":`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Matches(tt.selector, tt.labels)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

type clusterOpt func(*libv1beta1.SveltosCluster)

func notReady(c *libv1beta1.SveltosCluster) { c.Status.Ready = false }
func down(c *libv1beta1.SveltosCluster) {
	c.Status.ConnectionStatus = libv1beta1.ConnectionDown
}
func deleting(c *libv1beta1.SveltosCluster) {
	now := metav1.Now()
	c.DeletionTimestamp = &now
}

func cluster(ns, name string, lbls map[string]string, opts ...clusterOpt) libv1beta1.SveltosCluster {
	c := libv1beta1.SveltosCluster{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: lbls},
		Status:     libv1beta1.SveltosClusterStatus{Ready: true, ConnectionStatus: libv1beta1.ConnectionHealthy},
	}
	for _, o := range opts {
		o(&c)
	}
	return c
}

func ref(ns, name string) corev1.ObjectReference {
	return corev1.ObjectReference{APIVersion: "lib.projectsveltos.io/v1beta1", Kind: "SveltosCluster", Namespace: ns, Name: name}
}

func names(refs []corev1.ObjectReference) []string {
	out := []string{}
	for _, r := range refs {
		out = append(out, r.Namespace+"/"+r.Name)
	}
	return out
}

func fleet() []libv1beta1.SveltosCluster {
	app := map[string]string{"type": "app"}
	return []libv1beta1.SveltosCluster{
		cluster("prod", "w2", app),
		cluster("prod", "w1", app),
		cluster("dev", "w1", app),
		cluster("prod", "broken", app, notReady),
		cluster("prod", "leaving", app, deleting),
		cluster("mgmt", "mgmt", map[string]string{"type": "mgmt"}),
		cluster("prod", "plain", nil),
		cluster("dev", "plain", nil),
		cluster("dev", "plain-down", nil, notReady),
	}
}

func TestMatchingClusters(t *testing.T) {
	app := sel(map[string]string{"type": "app"})
	tests := []struct {
		name  string
		scope Scope
		want  []string
	}{
		{name: "empty scope", scope: Scope{}, want: []string{}},
		{name: "selector, ready and non-deleting only, sorted", scope: Scope{ClusterSelector: app},
			want: []string{"dev/w1", "prod/w1", "prod/w2"}},
		{name: "Profile only matches its namespace", scope: Scope{Namespace: "prod", ClusterSelector: app},
			want: []string{"prod/w1", "prod/w2"}},
		{name: "clusterRefs are unioned and deduplicated", scope: Scope{ClusterSelector: app, ClusterRefs: []corev1.ObjectReference{
			ref("prod", "plain"), ref("prod", "w1"), ref("prod", "plain"), ref("nowhere", "x")}},
			want: []string{"dev/w1", "prod/plain", "prod/w1", "prod/w2"}},
		{name: "clusterRefs to unready or deleting clusters are dropped", scope: Scope{ClusterRefs: []corev1.ObjectReference{
			ref("prod", "broken"), ref("prod", "leaving"), ref("dev", "plain-down"), ref("dev", "plain")}},
			want: []string{"dev/plain"}},
		{name: "clusterRefs of other kinds are ignored", scope: Scope{ClusterRefs: []corev1.ObjectReference{
			{Kind: "Cluster", Namespace: "prod", Name: "plain"}, {Namespace: "dev", Name: "plain"}}},
			want: []string{"dev/plain"}},
		{name: "Profile clusterRefs: empty namespace is the profile's, others ignored", scope: Scope{Namespace: "prod", ClusterRefs: []corev1.ObjectReference{
			{Kind: "SveltosCluster", Name: "plain"}, ref("dev", "plain")}},
			want: []string{"prod/plain"}},
		{name: "ClusterProfile clusterRef without namespace is ignored", scope: Scope{ClusterRefs: []corev1.ObjectReference{{Name: "plain"}}},
			want: []string{}},
		{name: "set clusters are added", scope: Scope{ClusterSelector: sel(map[string]string{"type": "mgmt"}), SetClusters: []corev1.ObjectReference{
			ref("dev", "plain"), ref("prod", "broken")}},
			want: []string{"dev/plain", "mgmt/mgmt"}},
		{name: "Profile set clusters outside its namespace are ignored", scope: Scope{Namespace: "dev", SetClusters: []corev1.ObjectReference{
			ref("dev", "plain"), ref("prod", "plain")}},
			want: []string{"dev/plain"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := MatchingClusters(tt.scope, FromSveltosList(fleet()))
			if err != nil {
				t.Fatal(err)
			}
			if g := names(got); !reflect.DeepEqual(g, tt.want) {
				t.Fatalf("got %v, want %v", g, tt.want)
			}
			for _, r := range got {
				if r.Kind != libv1beta1.SveltosClusterKind || r.APIVersion != "lib.projectsveltos.io/v1beta1" {
					t.Fatalf("bad ref %+v", r)
				}
			}
		})
	}
}

func TestMatchingClustersInvalidSelector(t *testing.T) {
	_, err := MatchingClusters(Scope{ClusterSelector: sel(nil, expr("a", "Bogus"))}, FromSveltosList(fleet()))
	if err == nil || !strings.Contains(err.Error(), `clusterSelector: matchExpressions[0] (key "a"): unknown operator "Bogus"`) {
		t.Fatalf("error %v", err)
	}
}

func TestMatchingClustersDeterministic(t *testing.T) {
	f := fleet()
	want, _ := MatchingClusters(Scope{ClusterSelector: sel(map[string]string{"type": "app"})}, FromSveltosList(f))
	for i := 0; i < 5; i++ {
		rev := make([]libv1beta1.SveltosCluster, len(f))
		for j := range f {
			rev[(j*7+i)%len(f)] = f[j]
		}
		got, _ := MatchingClusters(Scope{ClusterSelector: sel(map[string]string{"type": "app"})}, FromSveltosList(rev))
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("order-dependent result: %v vs %v", names(got), names(want))
		}
	}
}

func TestProfileScope(t *testing.T) {
	spec := &configv1beta1.Spec{
		ClusterSelector: sel(map[string]string{"type": "app"}),
		ClusterRefs:     []corev1.ObjectReference{ref("prod", "plain")},
		SetRefs:         []string{"s1", "gone", "s2", "gone"},
	}
	scope, missing := ProfileScope("", spec, map[string][]corev1.ObjectReference{
		"s1": {ref("mgmt", "mgmt")},
		"s2": {ref("dev", "plain")},
	})
	if !reflect.DeepEqual(missing, []string{"gone"}) {
		t.Fatalf("missing = %v", missing)
	}
	got, err := MatchingClusters(scope, FromSveltosList(fleet()))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"dev/plain", "dev/w1", "mgmt/mgmt", "prod/plain", "prod/w1", "prod/w2"}
	if g := names(got); !reflect.DeepEqual(g, want) {
		t.Fatalf("got %v, want %v", g, want)
	}
}

func TestSelectSet(t *testing.T) {
	pool := map[string]string{"pool": "a"}
	clusters := []libv1beta1.SveltosCluster{
		cluster("ns", "c1", pool),
		cluster("ns", "c2", pool),
		cluster("ns", "c3", pool),
		cluster("ns", "c4", pool, down),
		cluster("ns", "c5", pool, notReady),
		cluster("other", "c0", pool),
		cluster("ns", "listed", nil),
	}
	poolSel := sel(pool)
	tests := []struct {
		name          string
		namespace     string
		spec          libv1beta1.SetSpec
		previous      []corev1.ObjectReference
		clusters      []libv1beta1.SveltosCluster
		wantMatching  []string
		wantSelected  []string
		wantErrSubstr string
	}{
		{name: "fill from nothing in order", namespace: "", spec: libv1beta1.SetSpec{ClusterSelector: poolSel, MaxReplicas: 2},
			wantMatching: []string{"ns/c1", "ns/c2", "ns/c3", "ns/c4", "other/c0"},
			wantSelected: []string{"ns/c1", "ns/c2"}},
		{name: "Set only sees its namespace; refs added", namespace: "ns",
			spec:         libv1beta1.SetSpec{ClusterSelector: poolSel, ClusterRefs: []corev1.ObjectReference{{Name: "listed"}, ref("other", "c0")}, MaxReplicas: 10},
			wantMatching: []string{"ns/c1", "ns/c2", "ns/c3", "ns/c4", "ns/listed"},
			wantSelected: []string{"ns/c1", "ns/c2", "ns/c3", "ns/listed"}},
		{name: "stability: keep previous healthy selection", namespace: "ns", spec: libv1beta1.SetSpec{ClusterSelector: poolSel, MaxReplicas: 2},
			previous:     []corev1.ObjectReference{ref("ns", "c3"), ref("ns", "c2")},
			wantMatching: []string{"ns/c1", "ns/c2", "ns/c3", "ns/c4"},
			wantSelected: []string{"ns/c2", "ns/c3"}},
		{name: "failover: Down cluster replaced", namespace: "ns", spec: libv1beta1.SetSpec{ClusterSelector: poolSel, MaxReplicas: 2},
			previous:     []corev1.ObjectReference{ref("ns", "c4"), ref("ns", "c3")},
			wantMatching: []string{"ns/c1", "ns/c2", "ns/c3", "ns/c4"},
			wantSelected: []string{"ns/c1", "ns/c3"}},
		{name: "failover: not ready or vanished cluster replaced", namespace: "ns", spec: libv1beta1.SetSpec{ClusterSelector: poolSel, MaxReplicas: 2},
			previous:     []corev1.ObjectReference{ref("ns", "c5"), ref("ns", "gone"), ref("ns", "c2")},
			wantMatching: []string{"ns/c1", "ns/c2", "ns/c3", "ns/c4"},
			wantSelected: []string{"ns/c1", "ns/c2"}},
		{name: "previous no longer matching is dropped", namespace: "ns", spec: libv1beta1.SetSpec{ClusterSelector: poolSel, MaxReplicas: 1},
			previous:     []corev1.ObjectReference{ref("ns", "listed")},
			wantMatching: []string{"ns/c1", "ns/c2", "ns/c3", "ns/c4"},
			wantSelected: []string{"ns/c1"}},
		{name: "maxReplicas lowered keeps the first previous ones", namespace: "ns", spec: libv1beta1.SetSpec{ClusterSelector: poolSel, MaxReplicas: 1},
			previous:     []corev1.ObjectReference{ref("ns", "c3"), ref("ns", "c2")},
			wantMatching: []string{"ns/c1", "ns/c2", "ns/c3", "ns/c4"},
			wantSelected: []string{"ns/c2"}},
		{name: "fewer healthy than maxReplicas", namespace: "ns", spec: libv1beta1.SetSpec{ClusterSelector: poolSel, MaxReplicas: 9},
			wantMatching: []string{"ns/c1", "ns/c2", "ns/c3", "ns/c4"},
			wantSelected: []string{"ns/c1", "ns/c2", "ns/c3"}},
		{name: "maxReplicas 0 selects none", namespace: "ns", spec: libv1beta1.SetSpec{ClusterSelector: poolSel},
			previous:     []corev1.ObjectReference{ref("ns", "c1")},
			wantMatching: []string{"ns/c1", "ns/c2", "ns/c3", "ns/c4"},
			wantSelected: []string{}},
		{name: "empty selector, no refs", namespace: "", spec: libv1beta1.SetSpec{MaxReplicas: 3},
			wantMatching: []string{}, wantSelected: []string{}},
		{name: "invalid selector", spec: libv1beta1.SetSpec{ClusterSelector: sel(map[string]string{"bad key": "x"}), MaxReplicas: 1},
			wantErrSubstr: `clusterSelector: matchLabels "bad key"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := tt.clusters
			if cs == nil {
				cs = clusters
			}
			msg := "old failure"
			st, err := SelectSet(tt.namespace, tt.spec, tt.previous, FromSveltosList(cs))
			if tt.wantErrSubstr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErrSubstr) {
					t.Fatalf("error %v, want %q", err, tt.wantErrSubstr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if st.FailureMessage != nil {
				t.Fatalf("failureMessage %v (was %s)", *st.FailureMessage, msg)
			}
			if g := names(st.MatchingClusterRefs); !reflect.DeepEqual(g, tt.wantMatching) {
				t.Errorf("matching %v, want %v", g, tt.wantMatching)
			}
			if g := names(st.SelectedClusterRefs); !reflect.DeepEqual(g, tt.wantSelected) {
				t.Errorf("selected %v, want %v", g, tt.wantSelected)
			}
		})
	}
}

// TestSelectSetConverges checks that feeding the result back is stable and
// that a failover moves only the failed slot.
func TestSelectSetConverges(t *testing.T) {
	var clusters []libv1beta1.SveltosCluster
	for i := range 6 {
		clusters = append(clusters, cluster("ns", fmt.Sprintf("c%d", i), map[string]string{"pool": "a"}))
	}
	spec := libv1beta1.SetSpec{ClusterSelector: sel(map[string]string{"pool": "a"}), MaxReplicas: 3}
	st, err := SelectSet("ns", spec, nil, FromSveltosList(clusters))
	if err != nil {
		t.Fatal(err)
	}
	again, _ := SelectSet("ns", spec, st.SelectedClusterRefs, FromSveltosList(clusters))
	if !reflect.DeepEqual(again, st) {
		t.Fatalf("not stable: %v vs %v", names(again.SelectedClusterRefs), names(st.SelectedClusterRefs))
	}
	down(&clusters[1]) // c1 goes down
	after, _ := SelectSet("ns", spec, st.SelectedClusterRefs, FromSveltosList(clusters))
	if g, want := names(after.SelectedClusterRefs), []string{"ns/c0", "ns/c2", "ns/c3"}; !reflect.DeepEqual(g, want) {
		t.Fatalf("after failover %v, want %v", g, want)
	}
	clusters[1].Status.ConnectionStatus = libv1beta1.ConnectionHealthy // c1 comes back: no flapping back
	back, _ := SelectSet("ns", spec, after.SelectedClusterRefs, FromSveltosList(clusters))
	if !reflect.DeepEqual(back.SelectedClusterRefs, after.SelectedClusterRefs) {
		t.Fatalf("selection moved back: %v", names(back.SelectedClusterRefs))
	}
}
