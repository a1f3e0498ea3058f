package deployer

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// effectiveTier is the tier used in conflicts: the source's if set, else the owner's.
func effectiveTier(owner Owner, src Source) int32 {
	if src.Tier > 0 {
		return src.Tier
	}
	return owner.tier()
}

// holder is who owns a live object according to its metadata.
type holder struct {
	owner   Owner
	feature libv1beta1.FeatureID
	tier    int32 // effective tier
}

// holderOf reads the ownership metadata of a live object; ok is false when the
// object carries none.
func holderOf(u metav1.Object) (h holder, ok bool) {
	ann := u.GetAnnotations()
	kind, name := ann[libv1beta1.OwnerKindAnnotation], ann[libv1beta1.OwnerNameAnnotation]
	if kind == "" && name == "" {
		return holder{}, false
	}
	h.owner = Owner{Kind: kind, Name: name, Tier: parseTier(ann[libv1beta1.OwnerTierAnnotation]), Cluster: ann[ClusterAnnotation]}
	h.feature = libv1beta1.FeatureID(u.GetLabels()[libv1beta1.ReasonLabel])
	h.tier = h.owner.tier()
	if t := parseTier(ann[libv1beta1.ReferenceTierAnnotation]); t > 0 {
		h.tier = t
	}
	return h, true
}

// OwnerOf reads who deployed obj from the ownership metadata the deployer puts on
// what it deploys (the owner's kind, name, tier and cluster, and the feature);
// ok is false when obj carries none. It is the one reader of that metadata.
func OwnerOf(obj metav1.Object) (owner Owner, feature libv1beta1.FeatureID, ok bool) {
	h, ok := holderOf(obj)
	return h.owner, h.feature, ok
}

func parseTier(s string) int32 {
	t, err := strconv.ParseInt(s, 10, 32)
	if err != nil || t <= 0 {
		return 0
	}
	return int32(t)
}

// is reports whether the object belongs to owner. Objects recorded without a
// cluster (deployed before the annotation existed) belong to the profile in
// every cluster.
func (h holder) is(owner Owner) bool {
	return h.owner.Kind == owner.Kind && h.owner.Name == owner.Name &&
		(h.owner.Cluster == "" || owner.Cluster == "" || h.owner.Cluster == owner.Cluster)
}

// ownedBy reports whether u carries the ownership metadata of (owner, feature).
func ownedBy(u *unstructured.Unstructured, owner Owner, feature libv1beta1.FeatureID) bool {
	h, ok := holderOf(u)
	return ok && h.is(owner) && h.feature == feature
}

// decorate sets extra labels/annotations and the ownership metadata on obj (in
// place), then the hash of the result.
func decorate(obj *unstructured.Unstructured, req *Request, src Source) error {
	labels := obj.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	for k, v := range req.ExtraLabels {
		labels[k] = v
	}
	labels[libv1beta1.ReasonLabel] = string(req.Feature)
	obj.SetLabels(labels)

	ann := obj.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	for k, v := range req.ExtraAnnotations {
		ann[k] = v
	}
	delete(ann, libv1beta1.HashAnnotation)
	ann[libv1beta1.OwnerKindAnnotation] = req.Owner.Kind
	ann[libv1beta1.OwnerNameAnnotation] = req.Owner.Name
	ann[libv1beta1.OwnerTierAnnotation] = strconv.Itoa(int(req.Owner.tier()))
	if req.Owner.Cluster != "" {
		ann[ClusterAnnotation] = req.Owner.Cluster
	} else {
		delete(ann, ClusterAnnotation)
	}
	ann[libv1beta1.ReferenceKindAnnotation] = src.Kind
	ann[libv1beta1.ReferenceNameAnnotation] = src.Name
	ann[libv1beta1.ReferenceNamespaceAnnotation] = src.Namespace
	if src.Tier > 0 {
		ann[libv1beta1.ReferenceTierAnnotation] = strconv.Itoa(int(src.Tier))
	} else {
		delete(ann, libv1beta1.ReferenceTierAnnotation)
	}
	obj.SetAnnotations(ann)

	h, err := Hash(obj)
	if err != nil {
		return err
	}
	ann[libv1beta1.HashAnnotation] = h
	obj.SetAnnotations(ann)
	return nil
}

// Hash is the hex SHA-256 of the object's canonical JSON (map keys sorted),
// ignoring any hash annotation it already carries.
func Hash(obj *unstructured.Unstructured) (string, error) {
	c := obj.DeepCopy()
	if ann := c.GetAnnotations(); ann != nil {
		delete(ann, libv1beta1.HashAnnotation)
		if len(ann) == 0 {
			ann = nil
		}
		c.SetAnnotations(ann)
	}
	raw, err := json.Marshal(c.Object)
	if err != nil {
		return "", fmt.Errorf("hashing %s: %w", RefOf(obj), err)
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:]), nil
}

// cleanDesired drops server-populated metadata a desired object must not carry
// into an apply.
func cleanDesired(obj *unstructured.Unstructured) {
	for _, f := range []string{"resourceVersion", "uid", "creationTimestamp", "managedFields", "generation", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds"} {
		unstructured.RemoveNestedField(obj.Object, "metadata", f)
	}
}

// ownershipKeys are the annotations Tugboat sets on every deployed object.
func ownershipKeys() []string {
	return []string{
		libv1beta1.OwnerKindAnnotation,
		libv1beta1.OwnerNameAnnotation,
		libv1beta1.OwnerTierAnnotation,
		libv1beta1.ReferenceKindAnnotation,
		libv1beta1.ReferenceNameAnnotation,
		libv1beta1.ReferenceNamespaceAnnotation,
		libv1beta1.ReferenceTierAnnotation,
		libv1beta1.HashAnnotation,
		ClusterAnnotation,
	}
}
