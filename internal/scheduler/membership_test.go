package scheduler

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugboat-dev/tugboat/api/scheduler/v1alpha1"
)

func TestMembership(t *testing.T) {
	env, ct, ok := Membership(MemberLabels("dev", "drone"))
	if !ok || env != "dev" || ct != "drone" {
		t.Fatalf("Membership(MemberLabels) = %q %q %v", env, ct, ok)
	}
	if _, _, ok := Membership(map[string]string{v1alpha1.MemberEnvironmentLabel: "dev"}); ok {
		t.Error("a cluster without a cluster type is a member")
	}
}

func TestDeliveryOf(t *testing.T) {
	ct := func(labels, annotations map[string]string) v1alpha1.ClusterType {
		return v1alpha1.ClusterType{ObjectMeta: metav1.ObjectMeta{Name: "drone", Labels: labels, Annotations: annotations}}
	}
	tests := []struct {
		name    string
		ct      v1alpha1.ClusterType
		want    Delivery
		wantErr string
	}{
		{"no label: Tugboat", ct(nil, nil), Delivery{Mode: "tugboat"}, ""},
		{"flux default object", ct(map[string]string{v1alpha1.DeliveryLabel: "flux"}, nil), Delivery{Mode: "flux", Namespace: "flux-system", Name: "platform"}, ""},
		{"argocd default object", ct(map[string]string{v1alpha1.DeliveryLabel: "argocd"}, nil), Delivery{Mode: "argocd", Namespace: "argocd", Name: "platform"}, ""},
		{"named object", ct(map[string]string{v1alpha1.DeliveryLabel: "flux"}, map[string]string{v1alpha1.ReconcilerObjectAnnotation: "gitops/drone"}),
			Delivery{Mode: "flux", Namespace: "gitops", Name: "drone"}, ""},
		{"unknown mode", ct(map[string]string{v1alpha1.DeliveryLabel: "fleet"}, nil), Delivery{}, `ClusterType drone: label scheduler.kalypso.io/delivery="fleet"`},
		{"bad annotation", ct(map[string]string{v1alpha1.DeliveryLabel: "flux"}, map[string]string{v1alpha1.ReconcilerObjectAnnotation: "drone"}), Delivery{}, "want <namespace>/<name>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DeliveryOf(tc.ct)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("DeliveryOf = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}
