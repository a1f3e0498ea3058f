package helm

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

func chartFor(ns, name string, action libv1beta1.HelmChartAction) Desired {
	return Desired{Chart: libv1beta1.HelmChart{ReleaseNamespace: ns, ReleaseName: name, HelmChartAction: action}}
}

// Arbitration follows deployer.TakesOver: only a strictly lower tier takes a
// release over; unset tiers are the default tier.
func TestUnitLost(t *testing.T) {
	pg := ReleaseKey{Namespace: "db", Name: "pg"}
	for _, tc := range []struct {
		name       string
		tier       int32
		holderTier int32
		action     libv1beta1.HelmChartAction
		lost       bool
	}{
		{name: "equal tiers: the holder keeps it", tier: 100, holderTier: 100, lost: true},
		{name: "unset equals the default tier", tier: 0, holderTier: 100, lost: true},
		{name: "a lower tier takes it over", tier: 50, holderTier: 100, lost: false},
		{name: "a higher tier loses", tier: 200, holderTier: 100, lost: true},
		{name: "a lower unset holder tier keeps it", tier: 150, holderTier: 0, lost: true},
		{name: "an Uninstall entry never counts", tier: 200, holderTier: 100, action: libv1beta1.HelmChartActionUninstall, lost: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := Request{
				Tier:     tc.tier,
				Releases: []Desired{chartFor("db", "pg", tc.action), chartFor("db", "free", "")},
				Holders:  map[ReleaseKey]Holder{pg: {Owner: "ClusterProfile other", Tier: tc.holderTier}},
			}
			var want []ReleaseKey
			if tc.lost {
				want = []ReleaseKey{pg}
			}
			if got := req.Lost(); !reflect.DeepEqual(got, want) {
				t.Errorf("lost %v, want %v", got, want)
			}
		})
	}
}

func TestUnitOrphans(t *testing.T) {
	req := Request{
		Releases: []Desired{chartFor("a", "kept", ""), chartFor("a", "removed", libv1beta1.HelmChartActionUninstall)},
		Previous: []ReleaseKey{{"a", "kept"}, {"a", "removed"}, {"b", "gone"}, {"c", "gone-too"}},
	}
	// An Uninstall entry removes its own release: it is no orphan.
	want := []ReleaseKey{{"b", "gone"}, {"c", "gone-too"}}
	if got := req.orphans(); !reflect.DeepEqual(got, want) {
		t.Errorf("orphans %v, want %v", got, want)
	}
}

func TestUnitOutcomeManaged(t *testing.T) {
	for action, want := range map[Action]bool{
		ActionInstalled: true, ActionUpgraded: true, ActionUnchanged: true, ActionUninstalled: false, ActionConflict: false,
	} {
		if got := (Outcome{Action: action}).Managed(); got != want {
			t.Errorf("%s: managed %v, want %v", action, got, want)
		}
	}
}

func TestUnitReleaseKinds(t *testing.T) {
	obj := func(apiVersion, kind string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion(apiVersion)
		u.SetKind(kind)
		return u
	}
	rel := &Release{Objects: []*unstructured.Unstructured{
		obj("v1", "ConfigMap"), obj("apps/v1", "Deployment"), obj("v1", "ConfigMap"), obj("v1", ""),
	}}
	want := []schema.GroupVersionKind{{Version: "v1", Kind: "ConfigMap"}, {Group: "apps", Version: "v1", Kind: "Deployment"}}
	if got := rel.Kinds(); !reflect.DeepEqual(got, want) {
		t.Errorf("kinds %v, want %v", got, want)
	}
}

func TestUnitKeyOf(t *testing.T) {
	key := KeyOf(libv1beta1.HelmChart{ReleaseNamespace: "db", ReleaseName: "pg"})
	if key != (ReleaseKey{Namespace: "db", Name: "pg"}) || key.String() != "db/pg" {
		t.Errorf("key %v (%s)", key, key)
	}
}
