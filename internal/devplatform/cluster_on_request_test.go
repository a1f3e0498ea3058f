package devplatform_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/tugboat-dev/tugboat/api"
	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/devplatform"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// testClusterOnRequest runs on the platform of TestDevUpAndDown, after the GitOps
// act bootstrapped the starter platform: `tug dev cluster create stg-1 --labels
// env=staging` starts an API server that receives everything environments/staging
// defines; mistakes in how it is called are refused; `tug dev cluster delete
// stg-1` leaves no SveltosCluster, Secret, ClusterSummary, API server or
// kubeconfig file behind.
func testClusterOnRequest(t *testing.T, dir string, run func(...string) string, runStatus func(...string) (int, string, string)) {
	ctx := context.Background()
	mgmt := clientFor(t, filepath.Join(dir, "mgmt.kubeconfig"))

	out := run("dev", "cluster", "create", "stg-1", "--labels", "env=staging")
	kubeconfig := filepath.Join(dir, "stg-1.kubeconfig")
	if !strings.Contains(out, "SveltosCluster stg-1/stg-1 labelled env=staging") || !strings.Contains(out, kubeconfig) {
		t.Errorf("tug dev cluster create printed:\n%s", out)
	}
	sc := &libv1beta1.SveltosCluster{}
	if err := mgmt.Get(ctx, types.NamespacedName{Namespace: "stg-1", Name: "stg-1"}, sc); err != nil {
		t.Fatal(err)
	}
	if sc.Labels["env"] != "staging" || !sc.Status.Ready {
		t.Errorf("SveltosCluster stg-1/stg-1: labels %v, ready %v", sc.Labels, sc.Status.Ready)
	}
	stg := clientFor(t, kubeconfig)
	for _, w := range devplatform.EnvironmentObjects("staging") {
		testenv.Eventually(t, w.String()+" in stg-1", func() error { return w.Check(ctx, stg) })
	}
	if list := run("dev", "cluster", "list"); !strings.Contains(list, "stg-1") || !strings.Contains(list, "env=staging") || strings.Contains(list, "workload") {
		t.Errorf("tug dev cluster list:\n%s", list)
	}

	t.Run("usage errors", func(t *testing.T) {
		for _, tc := range []struct {
			args   []string
			code   int
			stderr string
		}{
			{[]string{"create", "stg-1", "--labels", "env=staging"}, 1, "cluster stg-1 exists"},
			{[]string{"create", "workload"}, 1, "cluster workload exists"},
			{[]string{"create", "stg-2", "--labels", "env"}, 2, `--labels: label "env" is not of the form key=value`},
			{[]string{"create", "stg-2", "--labels", "env=stag ing"}, 2, "--labels: label value"},
			{[]string{"create", "Stg_2"}, 2, `name "Stg_2"`},
			{[]string{"create"}, 2, "accepts 1 arg"},
			{[]string{"delete", "workload"}, 1, "workload is one of the platform's own clusters"},
			{[]string{"delete", "nothing"}, 1, "no cluster nothing was created"},
		} {
			code, _, stderr := runStatus(append([]string{"dev", "cluster"}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Errorf("tug dev cluster %s: exit code %d, stderr %q; want %d and %q on one line", strings.Join(tc.args, " "), code, stderr, tc.code, tc.stderr)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "stg-2.kubeconfig")); err == nil {
			t.Error("a refused create wrote stg-2.kubeconfig")
		}
	})

	host := strings.TrimPrefix(clientConfig(t, kubeconfig).Host, "https://")
	run("dev", "cluster", "delete", "stg-1")
	// delete returns once the registry holds nothing of the cluster: no waiting here.
	ref := types.NamespacedName{Namespace: "stg-1", Name: "stg-1"}
	if err := registryHolds(ctx, mgmt, ref); err != nil {
		t.Error(err)
	}
	if c, err := net.Dial("tcp", host); err == nil {
		c.Close()
		t.Errorf("the API server of stg-1 (%s) still accepts connections", host)
	}
	if procs := processesMentioning(t, filepath.Join(dir, "state", "stg-1-certs")); len(procs) > 0 {
		t.Errorf("processes of stg-1 left behind: %v", procs)
	}
	if _, err := os.Stat(kubeconfig); err == nil {
		t.Error("stg-1.kubeconfig stays after delete")
	}
	if list := run("dev", "cluster", "list"); strings.Contains(list, "stg-1") {
		t.Errorf("tug dev cluster list after delete:\n%s", list)
	}
}

// registryHolds names what the management cluster still holds of a cluster.
func registryHolds(ctx context.Context, mgmt client.Client, ref types.NamespacedName) error {
	var left []string
	if err := mgmt.Get(ctx, ref, &libv1beta1.SveltosCluster{}); err == nil {
		left = append(left, "SveltosCluster")
	}
	if err := mgmt.Get(ctx, types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name + libv1beta1.KubeconfigSecretSuffix}, &corev1.Secret{}); err == nil {
		left = append(left, "Secret")
	}
	summaries := &configv1beta1.ClusterSummaryList{}
	if err := mgmt.List(ctx, summaries, client.InNamespace(ref.Namespace)); err != nil {
		return err
	}
	for _, s := range summaries.Items {
		if s.Spec.ClusterName == ref.Name {
			left = append(left, "ClusterSummary "+s.Name)
		}
	}
	if len(left) > 0 {
		return fmt.Errorf("the registry still holds for %s: %v", ref, left)
	}
	return nil
}

func clientConfig(t *testing.T, kubeconfig string) *rest.Config {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func clientFor(t *testing.T, kubeconfig string) client.Client {
	t.Helper()
	ctrllog.SetLogger(logr.Discard()) // the clients' own logging is not this test's
	c, err := client.New(clientConfig(t, kubeconfig), client.Options{Scheme: api.NewScheme()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
