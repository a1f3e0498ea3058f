package profiles_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// The tutorial's job-to-create-table.yaml, unchanged: with pg-credentials and
// pg-loadbalancer-data in the cluster's namespace, every type=app cluster gets the
// Job with the decoded credentials and the address; removing the label withdraws it.
func TestTutorialJobReachesAppClusters(t *testing.T) {
	ctx := context.Background()
	manifest := testenv.Fixture(t, "job-to-create-table.yaml")
	// What the event flow would have copied into the cluster namespace.
	if err := mgmt.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "fleet", Name: "pg-credentials"},
		Data:       map[string][]byte{"user": []byte("todo"), "password": []byte("s3cr3t!")},
	}); err != nil {
		t.Fatal(err)
	}
	if err := mgmt.Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: "fleet", Name: "pg-loadbalancer-data"},
		Data:       map[string]string{"external-ip": "127.0.0.1", "port": "5432"},
	}); err != nil {
		t.Fatal(err)
	}
	applyYAML(t, manifest)
	setLabels(t, "app-1", map[string]string{"type": "app"})
	setLabels(t, "app-2", map[string]string{"type": "app"})

	for _, cluster := range managed {
		waitSummary(t, "deploy-job", cluster, resourcesStatus(libv1beta1.FeatureStatusProvisioned))
		job := &batchv1.Job{}
		if err := managedClient(t, cluster).Get(ctx, types.NamespacedName{Namespace: "todo", Name: "todo-table"}, job); err != nil {
			t.Fatalf("%s: %v", cluster, err)
		}
		c := job.Spec.Template.Spec.Containers[0]
		if c.Env[0].Name != "PGPASSWORD" || c.Env[0].Value != "s3cr3t!" {
			t.Errorf("%s: env %v", cluster, c.Env)
		}
		args := strings.Join(c.Args, " ")
		for _, want := range []string{"--host=127.0.0.1", "--port=5432", "--username=todo", "--dbname=todo"} {
			if !strings.Contains(args, want) {
				t.Errorf("%s: args %q lack %q", cluster, args, want)
			}
		}
		if job.Labels[libv1beta1.ReasonLabel] != string(libv1beta1.FeatureResources) ||
			job.Annotations[libv1beta1.OwnerNameAnnotation] != "deploy-job" ||
			job.Annotations[libv1beta1.ReferenceNameAnnotation] != "job-to-create-table" {
			t.Errorf("%s: ownership metadata %v %v", cluster, job.Labels, job.Annotations)
		}
	}

	// The profile lists both clusters.
	testenv.Eventually(t, "matchingClusters", func() error {
		p := &configv1beta1.ClusterProfile{}
		if err := mgmt.Get(ctx, types.NamespacedName{Name: "deploy-job"}, p); err != nil {
			return err
		}
		if len(p.Status.MatchingClusterRefs) != 2 {
			return fmt.Errorf("matching %v", p.Status.MatchingClusterRefs)
		}
		return nil
	})

	// Removing the label withdraws the Job and the summary, on that cluster only.
	setLabels(t, "app-2", map[string]string{"type": ""})
	testenv.Eventually(t, "Job withdrawn from app-2", func() error {
		return notFound(managedClient(t, "app-2"), &batchv1.Job{}, types.NamespacedName{Namespace: "todo", Name: "todo-table"})
	})
	testenv.Eventually(t, "summary of app-2 gone", func() error {
		return notFound(mgmt, &configv1beta1.ClusterSummary{}, types.NamespacedName{Namespace: "fleet", Name: configv1beta1.ClusterSummaryName(configv1beta1.ClusterProfileKind, "deploy-job", "app-2")})
	})
	if err := managedClient(t, "app-1").Get(ctx, types.NamespacedName{Namespace: "todo", Name: "todo-table"}, &batchv1.Job{}); err != nil {
		t.Errorf("app-1 lost its Job: %v", err)
	}
}
