package selection

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// SelectedClusters keeps the selected clusters that are only not ready (their
// summaries wait for them) and drops those being deleted.
func TestSelectedClustersKeepsUnreadyClusters(t *testing.T) {
	app := sel(map[string]string{"type": "app"})
	tests := []struct {
		name  string
		scope Scope
		want  []string
	}{
		{name: "selector: the not-ready cluster stays, the deleting one does not", scope: Scope{ClusterSelector: app},
			want: []string{"dev/w1", "prod/broken", "prod/w1", "prod/w2"}},
		{name: "clusterRefs to a not-ready cluster stay", scope: Scope{ClusterRefs: []corev1.ObjectReference{
			ref("prod", "broken"), ref("prod", "leaving"), ref("dev", "plain-down")}},
			want: []string{"dev/plain-down", "prod/broken"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SelectedClusters(tt.scope, FromSveltosList(fleet()))
			if err != nil {
				t.Fatal(err)
			}
			if g := names(got); !reflect.DeepEqual(g, tt.want) {
				t.Fatalf("got %v, want %v", g, tt.want)
			}
		})
	}
}
