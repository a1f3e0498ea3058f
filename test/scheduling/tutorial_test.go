package scheduling_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/api/scheduler/v1alpha1"
	"github.com/tugboat-dev/tugboat/internal/gitops/gitopstest"
	"github.com/tugboat-dev/tugboat/internal/metrics"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

const platformNamespace = "platform"

// setUpEnvironments creates, in the management cluster, the Environments dev
// (promoting to stage as mode says) and stage, and the GitOpsRepos scheduling
// them (direct pushes, the control plane polled every 2s).
func setUpEnvironments(t testing.TB, ns string, tu *tutorial, mode v1alpha1.PromotionMode) {
	t.Helper()
	ctx := context.Background()
	ensureNamespace(t, mgmt, ns)
	for _, name := range []string{"dev", "stage"} {
		e := &v1alpha1.Environment{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec:       v1alpha1.EnvironmentSpec{ControlPlane: v1alpha1.RepositoryReference{Repo: tu.controlPlane, Branch: name, Path: "."}},
		}
		if name == "dev" {
			e.Spec.Promotion = &v1alpha1.Promotion{Next: "stage", Mode: mode}
		}
		if err := mgmt.Create(ctx, e); err != nil {
			t.Fatal(err)
		}
		repo := &v1alpha1.GitOpsRepo{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: v1alpha1.GitOpsRepoSpec{
				RepositoryReference: v1alpha1.RepositoryReference{Repo: tu.gitops, Branch: name, Path: "."},
				ControlPlane:        tu.controlPlane,
				Interval:            &metav1.Duration{Duration: 2 * time.Second},
				Direct:              true,
			},
		}
		if err := mgmt.Create(ctx, repo); err != nil {
			t.Fatal(err)
		}
	}
}

func setPaused(t *testing.T, cluster string, paused bool) {
	t.Helper()
	sc := &libv1beta1.SveltosCluster{}
	key := types.NamespacedName{Namespace: fleetNamespace, Name: cluster}
	if err := mgmt.Get(context.Background(), key, sc); err != nil {
		t.Fatal(err)
	}
	before := sc.DeepCopy()
	sc.Spec.Paused = paused
	if err := mgmt.Patch(context.Background(), sc, client.MergeFrom(before)); err != nil {
		t.Fatal(err)
	}
}

func setMode(t *testing.T, mode v1alpha1.PromotionMode) {
	t.Helper()
	e := &v1alpha1.Environment{}
	if err := mgmt.Get(context.Background(), types.NamespacedName{Namespace: platformNamespace, Name: "dev"}, e); err != nil {
		t.Fatal(err)
	}
	before := e.DeepCopy()
	e.Spec.Promotion.Mode = mode
	if err := mgmt.Patch(context.Background(), e, client.MergeFrom(before)); err != nil {
		t.Fatal(err)
	}
}

// playFlux stands for the Flux inside the stage drone cluster: its
// Kustomization flux-system/platform reports the branch head applied, Ready.
// (No Flux runs in the test clusters; the test writes the status Flux would.)
func playFlux(t *testing.T, cluster, revision string) {
	t.Helper()
	ctx := context.Background()
	c := member(t, cluster)
	ensureNamespace(t, c, "flux-system")
	k := &unstructured.Unstructured{}
	k.SetAPIVersion("kustomize.toolkit.fluxcd.io/v1")
	k.SetKind("Kustomization")
	k.SetNamespace("flux-system")
	k.SetName("platform")
	if err := c.Get(ctx, client.ObjectKeyFromObject(k), k); err != nil {
		k.Object["spec"] = map[string]any{"path": "./drone", "sourceRef": map[string]any{"kind": "GitRepository", "name": "platform"}}
		if err := c.Create(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	k.Object["status"] = map[string]any{
		"lastAppliedRevision": "stage@sha1:" + revision,
		"conditions": []any{map[string]any{
			"type": "Ready", "status": "True", "reason": "ReconciliationSucceeded",
			"message": "Applied revision: stage@sha1:" + revision, "lastTransitionTime": time.Now().UTC().Format(time.RFC3339),
		}},
	}
	if err := c.Status().Update(ctx, k); err != nil {
		t.Fatal(err)
	}
}

func expectedPlatformConfig(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(seedDir, "expected/dev/drone/hello-world-app-functional-test/platform-config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cm corev1.ConfigMap
	if err := yaml.Unmarshal(raw, &cm); err != nil {
		t.Fatal(err)
	}
	return cm.Data
}

func promotionEvents(t *testing.T, reason string) int {
	t.Helper()
	list := &eventsv1.EventList{}
	if err := mgmt.List(context.Background(), list, client.InNamespace(platformNamespace)); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range list.Items {
		if e.Reason == reason && e.Regarding.Kind == "Environment" && e.Regarding.Name == "dev" {
			n++
		}
	}
	return n
}

// The tutorial from dev to stage, without CI or a cloud inventory:
//
//  1. The platform team onboards the hello-world app on main; dev's BaseRepo
//     takes the commit (as the first environment does). Its functional-test
//     assignment lands in the drone cluster with its platform config,
//     performance-test in the large one, nothing elsewhere.
//  2. Promotion is automatic, but the large dev cluster is held back (paused):
//     dev is not compliant and stage waits, naming it; once it runs the commit,
//     stage's BaseRepo gets the commit, the scheduler renders stage, and the
//     uat-test assignment lands in the large stage cluster (Tugboat) — the
//     stage drone cluster runs Flux itself, which the test plays.
//  3. With manual promotion, a new main commit runs everywhere in dev and stage
//     waits for `tug promote approve stage` (the annotation it writes).
//  4. An unreachable dev cluster keeps dev non-compliant, naming it, and
//     nothing is promoted past it.
func TestTutorialDevToStage(t *testing.T) {
	ctx := context.Background()
	tu := newTutorial(t, "tutorial")
	setUpEnvironments(t, platformNamespace, tu, v1alpha1.PromotionAutomatic)

	// Nothing is assigned at m0: every environment complies with it.
	waitEnvironment(t, platformNamespace, "dev", "compliant with m0", compliantWith(tu.m0))
	waitEnvironment(t, platformNamespace, "stage", "compliant with m0", compliantWith(tu.m0))

	t.Run("dev step, promotion held back by one dev cluster", func(t *testing.T) {
		setPaused(t, "large-dev", true)
		work := gitopstest.Clone(t, tu.controlPlane)
		m1 := gitopstest.Push(t, work, "main", map[string]string{"workloads/hello-world-app.yaml": tu.registration(t)})
		gitopstest.Commit(t, tu.controlPlane, "dev", "", map[string]string{"base-repo.yaml": baseRepo(t, "dev", m1)})

		// functional-test lands in drone with its platform configuration.
		ns := "dev-drone-hello-world-app-functional-test"
		waitNamespace(t, "drone-dev", ns)
		testenv.Eventually(t, "platform-config in "+ns, func() error {
			cm := &corev1.ConfigMap{}
			if err := member(t, "drone-dev").Get(ctx, types.NamespacedName{Namespace: ns, Name: "platform-config"}, cm); err != nil {
				return err
			}
			if want := expectedPlatformConfig(t); !reflect.DeepEqual(cm.Data, want) {
				return fmt.Errorf("data %v, want %v", cm.Data, want)
			}
			return nil
		})

		// large is held back: dev is not compliant, and stage waits for it.
		dev := waitEnvironment(t, platformNamespace, "dev", "waiting for large-dev", promotionWaits(m1, "stage waits", "1 of 2 dev cluster(s)", "fleet/large-dev"))
		if c := condition(dev, v1alpha1.ConditionCompliant); c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, "fleet/large-dev") {
			t.Fatalf("dev Compliant %s %s: %s", c.Status, c.Reason, c.Message)
		}
		if got := tu.pinnedCommit(t, "stage"); got != tu.m0 {
			t.Fatalf("stage pins %s while a dev cluster is held back, want %s", got, tu.m0)
		}

		// Let it comply: the commit moves on to stage.
		setPaused(t, "large-dev", false)
		waitNamespace(t, "large-dev", "dev-large-hello-world-app-performance-test")
		dev = waitEnvironment(t, platformNamespace, "dev", "compliant with m1", compliantWith(m1))
		compliantAt := time.Now()
		testenv.Eventually(t, "stage's BaseRepo pins m1", func() error {
			if got := tu.pinnedCommit(t, "stage"); got != m1 {
				return fmt.Errorf("stage pins %s", got)
			}
			return nil
		})
		waitNamespace(t, "large-stage", "stage-large-hello-world-app-uat-test")
		t.Logf("dev compliant → uat-test namespace in the large stage cluster: %s (measured, not asserted)", time.Since(compliantAt))

		// The stage drone cluster pulls its folder with Flux: stage complies
		// once that Flux reports the branch head applied.
		stage := waitEnvironment(t, platformNamespace, "stage", "waiting for drone-stage's Flux", func(e *v1alpha1.Environment) error {
			if e.Status.Commit != m1 {
				return fmt.Errorf("commit %s", e.Status.Commit)
			}
			c := condition(e, v1alpha1.ConditionCompliant)
			if c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, "fleet/drone-stage") || !strings.Contains(c.Message, "Kustomization flux-system/platform not found") {
				return fmt.Errorf("Compliant %s %s: %s", c.Status, c.Reason, c.Message)
			}
			return nil
		})
		_ = stage
		playFlux(t, "drone-stage", branchHead(t, tu.gitops, "stage"))
		waitEnvironment(t, platformNamespace, "stage", "compliant with m1", compliantWith(m1))

		// Nothing elsewhere.
		for cluster, want := range map[string][]string{
			"drone-dev":   {"dev-drone-hello-world-app-functional-test"},
			"large-dev":   {"dev-large-hello-world-app-performance-test"},
			"drone-stage": nil,
			"large-stage": {"stage-large-hello-world-app-uat-test"},
		} {
			var got []string
			for _, prefix := range []string{"dev-", "stage-"} {
				got = append(got, namespaces(t, cluster, prefix)...)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s has namespaces %v, want %v", cluster, got, want)
			}
		}
		if n := promotionEvents(t, "Promoted"); n < 1 {
			t.Error("no Promoted Event on Environment dev")
		}
		if got := testutil.ToFloat64(mgr.Metrics.Promotions.WithLabelValues(platformNamespace, "dev", "stage", metrics.ResultSuccess)); got < 1 {
			t.Errorf("%s{result=success} = %v", metrics.PromotionsName, got)
		}
		if dev.Status.Members != "2/2" || len(dev.Status.Clusters) != 2 || dev.Status.Clusters[0].Commit != m1 {
			t.Errorf("dev status members %s clusters %+v", dev.Status.Members, dev.Status.Clusters)
		}
	})

	t.Run("manual promotion waits for approval", func(t *testing.T) {
		setMode(t, v1alpha1.PromotionManual)
		stageBefore := tu.pinnedCommit(t, "stage")
		work := gitopstest.Clone(t, tu.controlPlane)
		ns := readSeed(t, "control-plane/main/templates/namespace.yaml")
		m2 := gitopstest.Push(t, work, "main", map[string]string{"templates/namespace.yaml": strings.Replace(ns, "someLabel: some-value", "someLabel: approved-value", 1)})
		gitopstest.Commit(t, tu.controlPlane, "dev", "", map[string]string{"base-repo.yaml": baseRepo(t, "dev", m2)})
		waitEnvironment(t, platformNamespace, "dev", "compliant with m2", compliantWith(m2))
		waitEnvironment(t, platformNamespace, "dev", "waiting for approval", promotionWaits(m2, "stage waits: approval of "+m2[:12], "tug promote approve stage"))
		if got := tu.pinnedCommit(t, "stage"); got != stageBefore {
			t.Fatalf("stage pins %s before approval, want %s", got, stageBefore)
		}

		// What `tug promote approve stage` writes.
		stage := &v1alpha1.Environment{}
		if err := mgmt.Get(ctx, types.NamespacedName{Namespace: platformNamespace, Name: "stage"}, stage); err != nil {
			t.Fatal(err)
		}
		before := stage.DeepCopy()
		metav1.SetMetaDataAnnotation(&stage.ObjectMeta, v1alpha1.ApprovedCommitAnnotation, m2)
		if err := mgmt.Patch(ctx, stage, client.MergeFrom(before)); err != nil {
			t.Fatal(err)
		}
		testenv.Eventually(t, "stage's BaseRepo pins m2 after approval", func() error {
			if got := tu.pinnedCommit(t, "stage"); got != m2 {
				return fmt.Errorf("stage pins %s", got)
			}
			return nil
		})
	})

	t.Run("an unreachable member keeps dev non-compliant", func(t *testing.T) {
		setMode(t, v1alpha1.PromotionAutomatic)
		stageBefore := tu.pinnedCommit(t, "stage")
		if err := env.StopCluster("drone-dev"); err != nil {
			t.Fatal(err)
		}
		work := gitopstest.Clone(t, tu.controlPlane)
		ns := readSeed(t, "control-plane/main/templates/namespace.yaml")
		m3 := gitopstest.Push(t, work, "main", map[string]string{"templates/namespace.yaml": strings.Replace(ns, "someLabel: some-value", "someLabel: third-value", 1)})
		gitopstest.Commit(t, tu.controlPlane, "dev", "", map[string]string{"base-repo.yaml": baseRepo(t, "dev", m3)})
		dev := waitEnvironment(t, platformNamespace, "dev", "unreachable drone-dev named", func(e *v1alpha1.Environment) error {
			if err := promotionWaits(m3, "stage waits", "fleet/drone-dev is unreachable")(e); err != nil {
				return err
			}
			c := condition(e, v1alpha1.ConditionCompliant)
			if c.Status != metav1.ConditionFalse || c.Reason != "ClusterUnreachable" || !strings.Contains(c.Message, "fleet/drone-dev") {
				return fmt.Errorf("Compliant %s %s: %s", c.Status, c.Reason, c.Message)
			}
			return nil
		})
		if got := tu.pinnedCommit(t, "stage"); got != stageBefore {
			t.Fatalf("stage pins %s past an unreachable dev cluster, want %s", got, stageBefore)
		}
		t.Logf("dev: %s", condition(dev, v1alpha1.ConditionCompliant).Message)
	})
}
