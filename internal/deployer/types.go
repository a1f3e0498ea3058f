// Package deployer applies and withdraws the objects one (profile, cluster, feature)
// deploys into a cluster. It is the single place where Tugboat writes add-ons into
// managed clusters: server-side apply under one field manager, ownership metadata on
// every object, conflict arbitration between profiles by tier, hash-based skipping of
// unchanged objects, stale cleanup, withdraw, and dry runs.
//
// Controllers call it; it never calls them. The client passed in must read live
// state (a plain, non-caching controller-runtime client over the cluster).
package deployer

import (
	"context"
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// DefaultFieldManager is the server-side apply field manager used when
// Deployer.FieldManager is empty.
const DefaultFieldManager = "tugboat"

// ClusterAnnotation records Owner.Cluster on deployed objects (a Tugboat addition
// to the Sveltos ownership metadata).
const ClusterAnnotation = "tugboat.dev/cluster"

// DefaultTier is the tier of a profile that does not set one.
const DefaultTier int32 = 100

// TierOrDefault is tier, or DefaultTier when it is not set (0 or less).
func TierOrDefault(tier int32) int32 {
	if tier <= 0 {
		return DefaultTier
	}
	return tier
}

// TakesOver is the one rule settling every conflict between profiles, over an
// object (here) or a Helm release (internal/helm): the challenger takes what the
// holder deployed only with a strictly lower tier; at equal tiers the first owner
// keeps it. Unset tiers count as DefaultTier.
func TakesOver(challenger, holder int32) bool {
	return TierOrDefault(challenger) < TierOrDefault(holder)
}

// Deployer applies and withdraws objects. The zero value is ready to use; it holds
// no state between calls and is safe for concurrent use.
type Deployer struct {
	// FieldManager is the server-side apply field manager; DefaultFieldManager if empty.
	FieldManager string
	// Parallelism bounds how many objects of one Apply or Withdraw are sent at
	// once (see Apply for which objects may go together); DefaultParallelism if 0,
	// strictly one after the other if 1.
	Parallelism int
}

// DefaultParallelism is the Parallelism of a Deployer that sets none.
const DefaultParallelism = 8

func (d *Deployer) parallelism() int {
	if d == nil || d.Parallelism <= 0 {
		return DefaultParallelism
	}
	return d.Parallelism
}

func (d *Deployer) fieldManager() string {
	if d == nil || d.FieldManager == "" {
		return DefaultFieldManager
	}
	return d.FieldManager
}

// Owner is the profile that deploys: Kind is ClusterProfile or Profile. A Profile's
// Name should be qualified by its namespace by the caller if two Profiles of the
// same name can deploy into one cluster.
type Owner struct {
	Kind, Name string
	// Tier is the profile's tier; 0 means DefaultTier.
	Tier int32
	// Cluster is the registration ("namespace/name") the objects are deployed
	// for. Several registrations can share one API server (and Local objects of
	// every cluster share the management cluster): objects are told apart by it,
	// so that one registration's cleanup never removes another's objects.
	Cluster string
}

func (o Owner) String() string { return o.Kind + " " + o.Name }

func (o Owner) tier() int32 { return TierOrDefault(o.Tier) }

// Source is where an object came from: the ConfigMap, Secret, chart or
// kustomization referenced by the profile.
type Source struct {
	Kind, Namespace, Name string
	// Tier, when set (> 0), replaces the owner's tier for conflicts over objects from
	// this source.
	Tier int32
}

// Desired is one object to deploy.
type Desired struct {
	Object *unstructured.Unstructured
	Source Source
	// Force deletes and recreates the object when the API server rejects an update
	// of an immutable field. Request.Force sets it for every object.
	Force bool
	// SkipNamespaceCreation leaves a missing namespace missing (the apply then fails).
	// Request.SkipNamespaceCreation sets it for every object.
	SkipNamespaceCreation bool
}

// Request is everything one Apply needs.
type Request struct {
	Owner   Owner
	Feature libv1beta1.FeatureID
	// Objects are applied in order.
	Objects []Desired
	// Previous is what this (owner, feature) deployed last time; those no longer
	// desired are deleted after a successful apply (stale cleanup).
	Previous []ObjectRef
	// Recorded are the objects the caller recorded as deployed by this (owner,
	// feature), with the Version Apply last reported for each. A desired object
	// recorded with a resourceVersion and a hash other than its desired hash is
	// applied without reading it first, on condition that it is still at that
	// resourceVersion (the API server refuses the apply otherwise); when it
	// changed since, or is gone, it is read and handled as any other object.
	// Objects recorded with the desired hash, or without a version, are read
	// first. Not used in a dry run or with Reapply.
	Recorded []Recorded

	SkipNamespaceCreation bool
	Force                 bool
	ContinueOnConflict    bool
	ContinueOnError       bool
	// DryRun changes nothing and fills Result.Report. Conflicts never fail a dry
	// run; they are reported.
	DryRun bool
	// Reapply applies objects even when the live object carries the desired hash
	// (used to repair drift). Without it unchanged objects cost no write.
	Reapply bool

	ExtraLabels, ExtraAnnotations map[string]string
	// Patches are applied to every object their target selects, in order, before
	// anything else. They must already be rendered (templates are the caller's job).
	Patches []libv1beta1.Patch
	// DriftExclusions remove JSON-pointer paths from what is applied, leaving those
	// fields to others.
	DriftExclusions []libv1beta1.DriftExclusion

	// BeforeWrite, when set, is called once before Apply writes anything (not in a
	// dry run), with every object the request may write: the caller records them
	// ahead of the writes, so that a process stopped during the apply still knows
	// what it may have deployed. An error stops Apply with nothing written.
	BeforeWrite func(ctx context.Context, refs []ObjectRef) error
}

// Version is what identifies one state of an object: its UID and
// resourceVersion, and the hash annotation it was applied with.
type Version struct {
	UID             types.UID
	ResourceVersion string
	// Hash is the object's hash annotation (libv1beta1.HashAnnotation) in that
	// state: what this owner applied.
	Hash string
}

// Recorded is an object the caller recorded as deployed, with the Version Apply
// reported for it (zero when unknown, e.g. recorded ahead of its apply).
type Recorded struct {
	Ref     ObjectRef
	Version Version
}

// ObjectRef names an object in a cluster.
type ObjectRef struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
}

// String is "Kind namespace/name", or "Kind name" for a cluster-scoped object.
func (r ObjectRef) String() string {
	if r.Namespace == "" {
		return r.Kind + " " + r.Name
	}
	return r.Kind + " " + r.Namespace + "/" + r.Name
}

// GroupVersionKind of the object.
func (r ObjectRef) GroupVersionKind() schema.GroupVersionKind {
	return schema.FromAPIVersionAndKind(r.APIVersion, r.Kind)
}

// key identifies the object independent of its API version.
func (r ObjectRef) key() string {
	return r.GroupVersionKind().Group + "/" + r.Kind + "/" + r.Namespace + "/" + r.Name
}

// RefOf is the ObjectRef of u.
func RefOf(u *unstructured.Unstructured) ObjectRef {
	return ObjectRef{APIVersion: u.GetAPIVersion(), Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName()}
}

// Conflict is an object another profile keeps.
type Conflict struct {
	Object ObjectRef
	// Holder is the profile that owns the object and keeps it.
	Holder Owner
	// Message names the object and both profiles.
	Message string
}

// Preemption is an object taken from another profile with a higher tier. The caller
// should requeue Loser so it reports the conflict.
type Preemption struct {
	Object  ObjectRef
	Loser   Owner
	Feature libv1beta1.FeatureID
}

// Result is what an Apply did (or, for a dry run, would do).
type Result struct {
	// Deployed are the desired objects this owner now owns in the cluster (applied,
	// or already up to date). On error, stale cleanup is skipped: the caller should
	// remember Previous as well as Deployed. In a dry run only objects already up
	// to date are listed.
	Deployed []ObjectRef
	// Removed are stale objects deleted.
	Removed []ObjectRef
	// Conflicts are objects another profile keeps.
	Conflicts []Conflict
	// Preempted are objects taken from other profiles.
	Preempted []Preemption
	// Versions holds the UID and resourceVersion of each object of Deployed as the
	// API server last reported them (none in a dry run).
	Versions map[ObjectRef]Version
	// Unchanged counts objects skipped because their hash matched.
	Unchanged int
	// Writes counts write requests sent to the API server (creates, applies,
	// patches, deletes); always 0 for a dry run.
	Writes int
	// Reads counts read requests sent to the API server (the objects and
	// namespaces read before applying, the stale objects read before deleting).
	Reads int
	// Report says, for a dry run, what would happen to each object.
	Report []configv1beta1.ResourceReport
}

// DeployedGVKs lists the kinds of refs as Kind.version.group (the form of
// ClusterSummary's deployedGVKs), sorted, without duplicates.
func DeployedGVKs(refs []ObjectRef) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range refs {
		gvk := r.GroupVersionKind()
		s := fmt.Sprintf("%s.%s.%s", gvk.Kind, gvk.Version, gvk.Group)
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}
