package profiles_test

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// New content for recorded objects that changed since the summary applied
// them: one edited by someone else is read and applied; one deleted is created
// again; one a profile of a lower tier took over stays with it and the summary
// still reports the conflict.
func TestContentChangeOfChangedRecordedObjectsFallsBack(t *testing.T) {
	ctx := context.Background()
	const ns, cluster = "unread-fallback", "counted-unread-fallback"
	requests := countedCluster(t, cluster, "app-2", map[string]string{"unread-fallback": "yes"})
	deletePoliciesAtEnd(t, "unread-fallback-cm", "unread-fallback-winner-cm")
	policyConfigMap(t, "unread-fallback-cm", configMapsYAML(ns, "1", "edited", "deleted", "taken"))
	clusterProfile(t, "unread-fallback", "unread-fallback", "yes", 100, "", "unread-fallback-cm")
	deleteProfileAtEnd(t, "unread-fallback")
	first := waitSummary(t, "unread-fallback", cluster, provisionedWithNewHashes(nil, "edited", "deleted", "taken"))
	old, _ := recordedHashes(first)

	app2 := managedClient(t, "app-2")
	edited := &corev1.ConfigMap{}
	if err := app2.Get(ctx, types.NamespacedName{Namespace: ns, Name: "edited"}, edited); err != nil {
		t.Fatal(err)
	}
	edited.Labels = map[string]string{"edited-by": "someone"}
	if err := app2.Update(ctx, edited); err != nil {
		t.Fatal(err)
	}
	if err := app2.Delete(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "deleted"}}); err != nil {
		t.Fatal(err)
	}
	requests.reset()
	setPolicy(t, "unread-fallback-cm", nil, configMapsYAML(ns, "2", "edited", "deleted", "taken"))
	waitSummary(t, "unread-fallback", cluster, provisionedWithNewHashes(old, "edited", "deleted", "taken"))
	for _, name := range []string{"edited", "deleted"} {
		testenv.Eventually(t, name+" holds the new content", configMapHas("app-2", ns, name, map[string]string{"v": "2"}))
	}
	if err := app2.Get(ctx, types.NamespacedName{Namespace: ns, Name: "edited"}, edited); err != nil {
		t.Fatal(err)
	}
	if edited.Labels["edited-by"] != "someone" || edited.Annotations[libv1beta1.OwnerNameAnnotation] != "unread-fallback" {
		t.Errorf("edited object: labels %v, owner %q; want the other writer's label kept and the profile still owning it",
			edited.Labels, edited.Annotations[libv1beta1.OwnerNameAnnotation])
	}
	if sent := requests.in(ns); !appliedUnread(sent, ns, "deleted") {
		t.Errorf("the deleted object was read before it was applied again: %v", sent)
	}

	// A profile of a lower tier takes one object over; new content for the
	// summary that recorded it is still a conflict.
	policyConfigMap(t, "unread-fallback-winner-cm", configMapsYAML(ns, "winner", "taken"))
	clusterProfile(t, "unread-fallback-winner", "unread-fallback", "yes", 10, "", "unread-fallback-winner-cm")
	deleteProfileAtEnd(t, "unread-fallback-winner")
	waitSummary(t, "unread-fallback-winner", cluster, resourcesStatus(libv1beta1.FeatureStatusProvisioned))
	// The summary that lost it is not reconciled by the takeover: its record
	// still holds the object at the version it wrote, so the new content goes
	// first as an apply on that version, which the API server refuses.
	requests.reset()
	setPolicy(t, "unread-fallback-cm", nil, configMapsYAML(ns, "3", "edited", "deleted", "taken"))
	testenv.Eventually(t, "edited holds content 3", configMapHas("app-2", ns, "edited", map[string]string{"v": "3"}))
	waitSummary(t, "unread-fallback", cluster, failedWith("conflict", "taken", "unread-fallback-winner"))
	taken := &corev1.ConfigMap{}
	if err := app2.Get(ctx, types.NamespacedName{Namespace: ns, Name: "taken"}, taken); err != nil {
		t.Fatal(err)
	}
	if taken.Data["v"] != "winner" || taken.Annotations[libv1beta1.OwnerNameAnnotation] != "unread-fallback-winner" {
		t.Errorf("the object taken over: data %v owner %q, want the winner's", taken.Data, taken.Annotations[libv1beta1.OwnerNameAnnotation])
	}
	if sent := requests.in(ns); !appliedUnread(sent, ns, "taken") {
		t.Errorf("the object taken over was not first applied on its recorded version: %v", sent)
	}
}
