package controller

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	"github.com/tugboat-dev/tugboat/api/scheduler/v1alpha1"
	"github.com/tugboat-dev/tugboat/internal/gitops/gitopstest"
	"github.com/tugboat-dev/tugboat/internal/scheduler"
	"github.com/tugboat-dev/tugboat/internal/sources"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// generatedProfiles lists the ClusterProfiles generated for a GitOpsRepo, by name.
func generatedProfiles(t *testing.T, repo *v1alpha1.GitOpsRepo) map[string]configv1beta1.ClusterProfile {
	t.Helper()
	list := &configv1beta1.ClusterProfileList{}
	if err := mgmt.List(context.Background(), list, client.MatchingLabels(ownedLabels(repo))); err != nil {
		t.Fatal(err)
	}
	out := map[string]configv1beta1.ClusterProfile{}
	for _, p := range list.Items {
		if p.DeletionTimestamp.IsZero() {
			out[p.Name] = p
		}
	}
	return out
}

func waitProfiles(t *testing.T, repo *v1alpha1.GitOpsRepo, clusterTypes ...string) map[string]configv1beta1.ClusterProfile {
	t.Helper()
	var got map[string]configv1beta1.ClusterProfile
	testenv.Eventually(t, fmt.Sprintf("generated ClusterProfiles for %v", clusterTypes), func() error {
		got = generatedProfiles(t, repo)
		if len(got) != len(clusterTypes) {
			return fmt.Errorf("%d profiles, want %d", len(got), len(clusterTypes))
		}
		for _, ct := range clusterTypes {
			if _, ok := got[ProfileName(repo, ct)]; !ok {
				return fmt.Errorf("no profile for %s", ct)
			}
		}
		return nil
	})
	return got
}

// Pushing dev directly generates a GitRepository following the dev branch and one
// ClusterProfile per cluster-type folder (drone, large), selecting the member
// clusters by label and delivering <cluster-type>/ from the source. A cluster
// type delivered by Flux in the cluster gets no profile; deleting the GitOpsRepo
// deletes the profiles.
func TestDeliveryObjects(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t)
	name := "gitops-" + ns
	s := newSeedRepos(t, filepath.Join(githubRoot, name), nil)
	// The scheduler reaches it through InsteadOf; Flux gets the URL as written.
	repo := newGitOpsRepo(ns, "dev", s, "https://github.com/test/"+name, "dev", true)
	if err := mgmt.Create(ctx, repo); err != nil {
		t.Fatal(err)
	}
	key := types.NamespacedName{Namespace: ns, Name: "dev"}
	got := waitStatus(t, key, func(r *v1alpha1.GitOpsRepo) error {
		if err := ready(s.envCommits["dev"])(r); err != nil {
			return err
		}
		if c := condition(r, v1alpha1.ConditionDelivered); c.Status != metav1.ConditionTrue {
			return fmt.Errorf("Delivered %s %s: %s", c.Status, c.Reason, c.Message)
		}
		return nil
	})
	head := gitopstest.Git(t, s.gitops, "rev-parse", "dev")
	if got.Status.BranchCommit != head || got.Status.Source != ns+"/"+SourceName(got) {
		t.Fatalf("status branchCommit %s source %s; want %s and %s", got.Status.BranchCommit, got.Status.Source, head, SourceName(got))
	}
	if len(got.Status.Delivery) != 2 || got.Status.Delivery[0].ClusterType != "drone" || got.Status.Delivery[1].Mode != v1alpha1.DeliveryTugboat {
		t.Fatalf("status.delivery %+v", got.Status.Delivery)
	}

	src := &unstructured.Unstructured{}
	src.SetGroupVersionKind(sources.GVK(sources.GitRepository))
	if err := mgmt.Get(ctx, types.NamespacedName{Namespace: ns, Name: SourceName(got)}, src); err != nil {
		t.Fatal(err)
	}
	url, _, _ := unstructured.NestedString(src.Object, "spec", "url")
	branch, _, _ := unstructured.NestedString(src.Object, "spec", "ref", "branch")
	if url != "https://github.com/test/"+name || branch != "dev" || len(src.GetOwnerReferences()) != 1 {
		t.Fatalf("GitRepository url %s branch %s owners %v", url, branch, src.GetOwnerReferences())
	}

	profiles := waitProfiles(t, got, "drone", "large")
	drone := profiles[ProfileName(got, "drone")]
	if want := scheduler.MemberLabels("dev", "drone"); fmt.Sprint(drone.Spec.ClusterSelector.MatchLabels) != fmt.Sprint(want) {
		t.Errorf("drone selector %v, want %v", drone.Spec.ClusterSelector.MatchLabels, want)
	}
	if refs := drone.Spec.PolicyRefs; len(refs) != 1 || refs[0].Kind != sources.GitRepository || refs[0].Name != SourceName(got) ||
		refs[0].Namespace != ns || refs[0].Path != "drone" {
		t.Errorf("drone policyRefs %+v", refs)
	}
	rv := drone.ResourceVersion

	// Nothing new: looking again writes no profile.
	poke(t, key)
	waitStatus(t, key, func(r *v1alpha1.GitOpsRepo) error { return nil })
	if p := generatedProfiles(t, got)[drone.Name]; p.ResourceVersion != rv {
		t.Errorf("the drone profile was written again (resourceVersion %s → %s)", rv, p.ResourceVersion)
	}

	// drone is now reconciled by Flux inside its clusters: its profile goes.
	droneType := strings.Replace(readSeed(t, "control-plane/dev/cluster-types/china-north-3/drone/drone.yaml"),
		"  labels:\n", "  labels:\n    "+v1alpha1.DeliveryLabel+": flux\n", 1)
	next := gitopstest.Commit(t, s.controlPlane, "dev", "", map[string]string{"cluster-types/china-north-3/drone/drone.yaml": droneType})
	poke(t, key)
	got = waitStatus(t, key, func(r *v1alpha1.GitOpsRepo) error {
		if r.Status.ObservedCommit != next {
			return fmt.Errorf("observed %s", r.Status.ObservedCommit)
		}
		for _, d := range r.Status.Delivery {
			if d.ClusterType == "drone" && d.Mode == v1alpha1.DeliveryFlux && d.Reconciler == "flux-system/platform" && d.Profile == "" {
				return nil
			}
		}
		return fmt.Errorf("delivery %+v", r.Status.Delivery)
	})
	waitProfiles(t, got, "large")

	// A delivery label Tugboat does not know: large keeps its profile (the last
	// good state), and the status and an Event name the ClusterType and the cause.
	largeType := strings.Replace(readSeed(t, "control-plane/dev/cluster-types/china-east-2/large/large.yaml"),
		"  labels:\n", "  labels:\n    "+v1alpha1.DeliveryLabel+": fleet\n", 1)
	bad := gitopstest.Commit(t, s.controlPlane, "dev", "", map[string]string{"cluster-types/china-east-2/large/large.yaml": largeType})
	poke(t, key)
	got = waitStatus(t, key, func(r *v1alpha1.GitOpsRepo) error {
		c := condition(r, v1alpha1.ConditionDelivered)
		if r.Status.ObservedCommit != bad || c.Status != metav1.ConditionFalse ||
			!strings.Contains(c.Message, `ClusterType large: label scheduler.kalypso.io/delivery="fleet"`) {
			return fmt.Errorf("observed %s, Delivered %s: %s", r.Status.ObservedCommit, c.Status, c.Message)
		}
		return nil
	})
	waitProfiles(t, got, "large")
	testenv.Eventually(t, "a DeliveryFailed Event on the GitOpsRepo", func() error {
		list := &eventsv1.EventList{}
		if err := mgmt.List(ctx, list, client.InNamespace(ns)); err != nil {
			return err
		}
		for _, e := range list.Items {
			if e.Reason == ReasonDeliveryFailed && e.Regarding.Name == "dev" && strings.Contains(e.Note, "ClusterType large") {
				return nil
			}
		}
		return fmt.Errorf("%d events, none DeliveryFailed naming ClusterType large", len(list.Items))
	})

	if err := mgmt.Delete(ctx, got); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "generated profiles deleted with the GitOpsRepo", func() error {
		if n := len(generatedProfiles(t, got)); n != 0 {
			return fmt.Errorf("%d profiles left", n)
		}
		if err := mgmt.Get(ctx, key, &v1alpha1.GitOpsRepo{}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("GitOpsRepo still there: %v", err)
		}
		return nil
	})
}
