package profiles_test

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/helm/chartrepo"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// options.runTests: after the install the chart's test Pod is created and
// awaited. No kubelet runs here, so the test plays it, writing the Pod's phase
// through the status subresource: Succeeded → Provisioned; Failed → the Helm
// feature fails naming the test, and the tests run again until they pass.
func TestHelmRunTests(t *testing.T) {
	ctx := context.Background()
	files := configMapChart("tested")
	files["templates/test.yaml"] = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}-test\n  annotations:\n    helm.sh/hook: test\n" +
		"spec:\n  restartPolicy: Never\n  containers:\n  - name: check\n    image: busybox\n    command: [\"true\"]\n"
	repo := serveRepo(t, packageRepo(t, tinyChart(t, t.TempDir(), "tested-app", "0.1.0", files)), chartrepo.ServeOptions{})

	names := []string{"helm-tests-pass", "helm-tests-fail"}
	var profiles []*configv1beta1.ClusterProfile
	for _, name := range names {
		hc := tinyHelmChart(repo.URL, "tested-app", name, name)
		hc.Options = &libv1beta1.HelmOptions{RunTests: true}
		p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: name}}
		p.Spec.HelmCharts = []libv1beta1.HelmChart{hc}
		profiles = append(profiles, p)
	}
	createProfilesSelecting(t, "app-2", profiles...)

	app2 := managedClient(t, "app-2")
	// playKubelet waits for the test Pod of release (another one than the Pod
	// with UID previous, when set: a rerun makes a new Pod) and sets its phase.
	// It returns the Pod's UID.
	playKubelet := func(release string, phase corev1.PodPhase, previous types.UID) types.UID {
		t.Helper()
		var uid types.UID
		testenv.Eventually(t, "test Pod of "+release+" "+string(phase), func() error {
			pod := &corev1.Pod{}
			if err := app2.Get(ctx, types.NamespacedName{Namespace: release, Name: release + "-test"}, pod); err != nil {
				return err
			}
			if pod.UID == previous {
				return fmt.Errorf("the test Pod is still the one of the last run")
			}
			uid = pod.UID
			if pod.Status.Phase == phase {
				return nil
			}
			pod.Status.Phase = phase
			return app2.Status().Update(ctx, pod)
		})
		return uid
	}
	playKubelet("helm-tests-pass", corev1.PodSucceeded, "")
	waitSummary(t, "helm-tests-pass", "app-2", helmStatus(libv1beta1.FeatureStatusProvisioned))

	failed := playKubelet("helm-tests-fail", corev1.PodFailed, "")
	waitSummary(t, "helm-tests-fail", "app-2", helmFailedWith("run tests", "helm-tests-fail-test"))
	if err := configMapIn("app-2", "helm-tests-fail", "helm-tests-fail-cm")(); err != nil {
		t.Errorf("the release of failing tests should stay installed: %v", err)
	}
	// The retry runs the tests again (a new Pod); this time they pass.
	playKubelet("helm-tests-fail", corev1.PodSucceeded, failed)
	waitSummary(t, "helm-tests-fail", "app-2", helmStatus(libv1beta1.FeatureStatusProvisioned))
}
