package selection

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// Profiles target Eligible clusters (ready, not deleting); sets select Healthy
// ones (Eligible and not reported Down).
func TestEligibleAndHealthy(t *testing.T) {
	deleting := metav1.Now()
	for _, tc := range []struct {
		name              string
		status            libv1beta1.SveltosClusterStatus
		deleting          bool
		eligible, healthy bool
	}{
		{"ready", libv1beta1.SveltosClusterStatus{Ready: true, ConnectionStatus: libv1beta1.ConnectionHealthy}, false, true, true},
		{"ready, never reported", libv1beta1.SveltosClusterStatus{Ready: true}, false, true, true},
		{"ready but Down", libv1beta1.SveltosClusterStatus{Ready: true, ConnectionStatus: libv1beta1.ConnectionDown}, false, true, false},
		{"not ready", libv1beta1.SveltosClusterStatus{ConnectionStatus: libv1beta1.ConnectionHealthy}, false, false, false},
		{"ready, deleting", libv1beta1.SveltosClusterStatus{Ready: true, ConnectionStatus: libv1beta1.ConnectionHealthy}, true, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &libv1beta1.SveltosCluster{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "c"}, Status: tc.status}
			if tc.deleting {
				c.DeletionTimestamp = &deleting
			}
			if got := FromSveltos(c).Eligible(); got != tc.eligible {
				t.Errorf("Eligible = %v, want %v", got, tc.eligible)
			}
			v := FromSveltos(c)
			if got := v.Healthy(); got != tc.healthy {
				t.Errorf("Healthy = %v, want %v", got, tc.healthy)
			}
		})
	}
}

func TestRef(t *testing.T) {
	v := FromSveltos(&libv1beta1.SveltosCluster{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "prod-1"}})
	ref := v.Ref()
	if ref.APIVersion != libv1beta1.GroupVersion.String() || ref.Kind != libv1beta1.SveltosClusterKind || ref.Namespace != "apps" || ref.Name != "prod-1" {
		t.Errorf("Ref = %+v", ref)
	}
}
