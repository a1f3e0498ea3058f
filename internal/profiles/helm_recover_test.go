package profiles_test

import (
	"context"
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/helm/chartrepo"
)

// installOptions.recoverAfterConsecutiveFailures: a first install that the API
// server refuses leaves a failed release record. With recovery after 1 failure
// the next attempt (the values fixed) removes that record and installs from
// scratch: revision 1, no failed revision kept. With recovery off (0) the
// failed record stays and the fix arrives as an upgrade over it (revision 2).
func TestHelmRecoverAfterConsecutiveFailures(t *testing.T) {
	ctx := context.Background()
	files := map[string]string{
		"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\ndata:\n  {{ .Values.key }}: value\n",
	}
	repo := serveRepo(t, packageRepo(t, tinyChart(t, t.TempDir(), "fragile-app", "0.1.0", files)), chartrepo.ServeOptions{})
	cases := map[string]int32{"helm-recover": 1, "helm-norecover": 0}
	var profiles []*configv1beta1.ClusterProfile
	for name, after := range cases {
		hc := tinyHelmChart(repo.URL, "fragile-app", name, name)
		hc.Values = "key: \"not a valid key!\"\n" // the API server refuses the ConfigMap
		hc.Options = &libv1beta1.HelmOptions{InstallOptions: libv1beta1.HelmInstallOptions{RecoverAfterConsecutiveFailures: &after}}
		p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: name}}
		p.Spec.HelmCharts = []libv1beta1.HelmChart{hc}
		profiles = append(profiles, p)
	}
	createProfilesSelecting(t, "app-1", profiles...)

	hr := helmReader(t)
	cfg := env.Cluster("app-1").Config
	for name := range cases {
		waitSummary(t, name, "app-1", helmFailedWith("not a valid key"))
		r, err := hr.Release(ctx, cfg, name, name)
		if err != nil || r.Status != "failed" {
			t.Fatalf("%s: release %+v (err %v), want a failed record", name, r, err)
		}
		updateClusterProfile(t, name, func(p *configv1beta1.ClusterProfile) { p.Spec.HelmCharts[0].Values = "key: good\n" })
	}
	for name := range cases {
		waitSummary(t, name, "app-1", helmStatus(libv1beta1.FeatureStatusProvisioned))
	}
	revisions := func(name string) string {
		hist, err := hr.History(ctx, cfg, name, name)
		if err != nil {
			t.Fatal(err)
		}
		out := ""
		for _, r := range hist {
			out += fmt.Sprintf("%d:%s ", r.Revision, r.Status)
		}
		return out
	}
	if got := revisions("helm-recover"); got != "1:deployed " {
		t.Errorf("helm-recover history %q, want only revision 1 deployed (the failed record removed)", got)
	}
	if got := revisions("helm-norecover"); got != "1:superseded 2:deployed " && got != "1:failed 2:deployed " {
		t.Errorf("helm-norecover history %q, want the failed revision 1 kept and the fix as revision 2", got)
	}
}
