package clusterpromotion_test

import (
	"context"
	"fmt"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// rolledOut creates a two-stage promotion deploying ConfigMap <name>-web and
// waits until both stages run it.
func rolledOut(t *testing.T, name string, preserve bool) *configv1beta1.ClusterPromotion {
	t.Helper()
	p := &configv1beta1.ClusterPromotion{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: configv1beta1.ClusterPromotionSpec{
		ProfileSpec:                     configv1beta1.ProfileSpec{PolicyRefs: []libv1beta1.PolicyRef{policy(t, name, configMapObject(name+"-web", "v1"))}},
		Stages:                          []configv1beta1.Stage{stage("dev", nil), stage("prod", nil)},
		PreserveClusterProfilesOnDelete: preserve,
	}}
	createPromotion(t, p)
	waitConfigMap(t, "prod", name+"-web", "v1")
	waitPromotion(t, name, "rolled out", readyIs(metav1.ConditionTrue, "Succeeded", "rolled out to every stage"))
	if n := len(generated(t, name)); n != 2 {
		t.Fatalf("%d generated ClusterProfiles, want 2", n)
	}
	return p
}

// Deleting a ClusterPromotion deletes its generated ClusterProfiles, which
// withdraw what they deployed, before it goes.
func TestDeletionRemovesGeneratedProfiles(t *testing.T) {
	const name = "deleted"
	p := rolledOut(t, name, false)
	if err := mgmt.Delete(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the promotion and its profiles gone", func() error {
		if _, err := getPromotion(name); !apierrors.IsNotFound(err) {
			return fmt.Errorf("ClusterPromotion: %v", err)
		}
		if n := len(generated(t, name)); n > 0 {
			return fmt.Errorf("%d generated ClusterProfiles left", n)
		}
		for _, c := range managed {
			if _, err := configMapValue(t, c, name+"-web"); !apierrors.IsNotFound(err) {
				return fmt.Errorf("ConfigMap in %s: %v", c, err)
			}
		}
		return nil
	})
}

// preserveClusterProfilesOnDelete: the generated profiles stay, released (no
// owner), and so does what they deployed.
func TestDeletionPreservesProfilesWhenAsked(t *testing.T) {
	const name = "preserved"
	p := rolledOut(t, name, true)
	if err := mgmt.Delete(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the promotion gone", func() error {
		if _, err := getPromotion(name); !apierrors.IsNotFound(err) {
			return fmt.Errorf("ClusterPromotion: %v", err)
		}
		return nil
	})
	for _, stageName := range []string{"dev", "prod"} {
		cp := &configv1beta1.ClusterProfile{}
		if err := mgmt.Get(context.Background(), types.NamespacedName{Name: name + "-" + stageName}, cp); err != nil {
			t.Fatal(err)
		}
		if len(cp.OwnerReferences) != 0 {
			t.Fatalf("ClusterProfile %s still has owners %v", cp.Name, cp.OwnerReferences)
		}
		t.Cleanup(func() { _ = mgmt.Delete(context.Background(), cp) })
		if v, err := configMapValue(t, stageName, name+"-web"); err != nil || v != "v1" {
			t.Fatalf("ConfigMap in %s: %q, %v", stageName, v, err)
		}
	}
}
