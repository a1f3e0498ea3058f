package v1beta1_test

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
)

// A summary or report names its profile by label; a Profile's lives in its namespace.
func TestProfileOf(t *testing.T) {
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   configv1beta1.ProfileRef
		ok     bool
		str    string
	}{
		{"cluster profile", map[string]string{configv1beta1.ClusterProfileNameLabel: "addons"},
			configv1beta1.ProfileRef{Kind: configv1beta1.ClusterProfileKind, Name: "addons"}, true, "ClusterProfile/addons"},
		{"profile", map[string]string{configv1beta1.ProfileNameLabel: "db"},
			configv1beta1.ProfileRef{Kind: configv1beta1.ProfileKind, Namespace: "apps", Name: "db"}, true, "Profile/apps/db"},
		{"none", map[string]string{"other": "x"}, configv1beta1.ProfileRef{}, false, "/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &configv1beta1.ClusterSummary{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "s", Labels: tc.labels}}
			got, ok := configv1beta1.ProfileOf(s)
			if got != tc.want || ok != tc.ok || got.String() != tc.str {
				t.Errorf("ProfileOf = %+v, %v (%s); want %+v, %v (%s)", got, ok, got, tc.want, tc.ok, tc.str)
			}
		})
	}
}
