package profiles

import (
	"slices"

	"k8s.io/apimachinery/pkg/types"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/deployer"
)

// The record of deployed objects (status.deployedObjects): per feature, the
// objects in the summary's cluster (remote) and in the management cluster
// (local). It is written ahead of every apply that adds objects and lets an
// object go only once its deletion is acknowledged; redeploys and withdrawal
// read it instead of listing the clusters.

// recordOf is the record of feature, and whether the summary has one (a
// summary written by an older Tugboat has none).
func recordOf(s *configv1beta1.ClusterSummary, feature libv1beta1.FeatureID) (*configv1beta1.FeatureDeployedObjects, bool) {
	for i := range s.Status.DeployedObjects {
		if s.Status.DeployedObjects[i].FeatureID == feature {
			return &s.Status.DeployedObjects[i], true
		}
	}
	return nil, false
}

// recorded is what the record of feature holds for one side (local: the
// management cluster's Local objects); nil without a record.
func recorded(s *configv1beta1.ClusterSummary, feature libv1beta1.FeatureID, local bool) []configv1beta1.DeployedObject {
	rec, ok := recordOf(s, feature)
	switch {
	case !ok:
		return nil
	case local:
		return rec.Local
	default:
		return rec.Remote
	}
}

// setRecorded makes objs the record of feature for one side, creating the
// record when the summary has none.
func setRecorded(s *configv1beta1.ClusterSummary, feature libv1beta1.FeatureID, local bool, objs []configv1beta1.DeployedObject) {
	rec, ok := recordOf(s, feature)
	if !ok {
		s.Status.DeployedObjects = append(s.Status.DeployedObjects, configv1beta1.FeatureDeployedObjects{FeatureID: feature})
		rec = &s.Status.DeployedObjects[len(s.Status.DeployedObjects)-1]
	}
	if local {
		rec.Local = objs
	} else {
		rec.Remote = objs
	}
}

// removeRecord forgets the record of feature.
func removeRecord(s *configv1beta1.ClusterSummary, feature libv1beta1.FeatureID) {
	out := s.Status.DeployedObjects[:0]
	for _, rec := range s.Status.DeployedObjects {
		if rec.FeatureID != feature {
			out = append(out, rec)
		}
	}
	if len(out) == 0 {
		out = nil
	}
	s.Status.DeployedObjects = out
}

// recordsAny tells whether the record of feature holds an object on either side.
func recordsAny(s *configv1beta1.ClusterSummary, feature libv1beta1.FeatureID) bool {
	rec, ok := recordOf(s, feature)
	return ok && len(rec.Remote)+len(rec.Local) > 0
}

func refOfRecorded(o configv1beta1.DeployedObject) deployer.ObjectRef {
	return deployer.ObjectRef{APIVersion: o.APIVersion, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name}
}

func recordedObject(ref deployer.ObjectRef, v deployer.Version) configv1beta1.DeployedObject {
	return configv1beta1.DeployedObject{APIVersion: ref.APIVersion, Kind: ref.Kind, Namespace: ref.Namespace, Name: ref.Name,
		UID: string(v.UID), ResourceVersion: v.ResourceVersion, Hash: v.Hash}
}

// recordedRefs are the objects of a record.
func recordedRefs(objs []configv1beta1.DeployedObject) []deployer.ObjectRef {
	out := make([]deployer.ObjectRef, len(objs))
	for i, o := range objs {
		out[i] = refOfRecorded(o)
	}
	return out
}

// recordedVersions are the objects of a record with their versions, for
// WithdrawRecorded and Request.Recorded.
func recordedVersions(objs []configv1beta1.DeployedObject) []deployer.Recorded {
	out := make([]deployer.Recorded, len(objs))
	for i, o := range objs {
		out[i] = deployer.Recorded{Ref: refOfRecorded(o),
			Version: deployer.Version{UID: types.UID(o.UID), ResourceVersion: o.ResourceVersion, Hash: o.Hash}}
	}
	return out
}

// objectKey identifies an object whatever its API version.
func objectKey(ref deployer.ObjectRef) string {
	return ref.GroupVersionKind().Group + "/" + ref.Kind + "/" + ref.Namespace + "/" + ref.Name
}

// withRefs is objs followed by those of refs it does not hold yet (without a
// version: they are about to be applied), and whether any was added.
func withRefs(objs []configv1beta1.DeployedObject, refs []deployer.ObjectRef) ([]configv1beta1.DeployedObject, bool) {
	held := make(map[string]bool, len(objs))
	for _, o := range objs {
		held[objectKey(refOfRecorded(o))] = true
	}
	out := append([]configv1beta1.DeployedObject(nil), objs...)
	for _, ref := range refs {
		if k := objectKey(ref); !held[k] {
			held[k] = true
			out = append(out, recordedObject(ref, deployer.Version{}))
		}
	}
	return out, len(out) > len(objs)
}

// withoutRefs is objs without those of refs.
func withoutRefs(objs []configv1beta1.DeployedObject, refs []deployer.ObjectRef) []configv1beta1.DeployedObject {
	gone := make(map[string]bool, len(refs))
	for _, ref := range refs {
		gone[objectKey(ref)] = true
	}
	var out []configv1beta1.DeployedObject
	for _, o := range objs {
		if !gone[objectKey(refOfRecorded(o))] {
			out = append(out, o)
		}
	}
	return out
}

// withVersionsOf is objs with the versions a failed Apply reported for the
// objects it deployed; an object another profile keeps (a conflict) loses its
// version, so that it is read rather than applied on condition of a version
// that is no longer this profile's.
func withVersionsOf(objs []configv1beta1.DeployedObject, res deployer.Result) []configv1beta1.DeployedObject {
	versions := make(map[string]deployer.Version, len(res.Versions)+len(res.Conflicts))
	for ref, v := range res.Versions {
		versions[objectKey(ref)] = v
	}
	for _, c := range res.Conflicts {
		versions[objectKey(c.Object)] = deployer.Version{}
	}
	out := slices.Clone(objs)
	for i, o := range out {
		ref := refOfRecorded(o)
		if v, ok := versions[objectKey(ref)]; ok {
			out[i] = recordedObject(ref, v)
		}
	}
	return out
}

// deployedRecord is the record of what an Apply deployed, with the versions it reported.
func deployedRecord(res deployer.Result) []configv1beta1.DeployedObject {
	var out []configv1beta1.DeployedObject
	for _, ref := range res.Deployed {
		out = append(out, recordedObject(ref, res.Versions[ref]))
	}
	return out
}
