package profiles

import (
	"testing"

	"k8s.io/apimachinery/pkg/types"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/deployer"
)

// After a failed apply the record takes the version (with its hash) of each
// object deployed, and drops the version of an object another profile keeps,
// so that the next apply reads it instead of applying on a version that is no
// longer this profile's; the others keep theirs.
func TestUnitRecordAfterFailedApply(t *testing.T) {
	ref := func(name string) deployer.ObjectRef {
		return deployer.ObjectRef{APIVersion: "v1", Kind: "ConfigMap", Namespace: "ns", Name: name}
	}
	v := func(rv, hash string) deployer.Version {
		return deployer.Version{UID: types.UID("uid-" + rv), ResourceVersion: rv, Hash: hash}
	}
	objs := []configv1beta1.DeployedObject{
		recordedObject(ref("applied"), v("1", "old")),
		recordedObject(ref("taken"), v("2", "old")),
		recordedObject(ref("untouched"), v("3", "old")),
		recordedObject(ref("ahead"), deployer.Version{}),
	}
	res := deployer.Result{
		Deployed:  []deployer.ObjectRef{ref("applied")},
		Versions:  map[deployer.ObjectRef]deployer.Version{ref("applied"): v("10", "new")},
		Conflicts: []deployer.Conflict{{Object: ref("taken")}},
	}
	got := withVersionsOf(objs, res)
	want := []configv1beta1.DeployedObject{
		recordedObject(ref("applied"), v("10", "new")),
		recordedObject(ref("taken"), deployer.Version{}),
		recordedObject(ref("untouched"), v("3", "old")),
		recordedObject(ref("ahead"), deployer.Version{}),
	}
	if len(got) != len(want) {
		t.Fatalf("got %d objects, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("object %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if objs[0].ResourceVersion != "1" {
		t.Error("the record passed in was changed")
	}
	if back := recordedVersions(got[:1]); back[0].Version != v("10", "new") {
		t.Errorf("read back %+v, want the version with its hash", back[0].Version)
	}
}
