package clusterhealth_test

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// What the controllers cannot act on is refused by the API server with a message saying why.
func TestValidationRejects(t *testing.T) {
	flapping := healthCheck("v-flapping", "x", stateScript)
	flapping.Spec.Flapping = &libv1beta1.FlappingPolicy{ConsecutiveEvaluations: 1}
	noSelectors := healthCheck("v-noselectors", "x", stateScript)
	noSelectors.Spec.ResourceSelectors = nil
	noScript := healthCheck("v-noscript", "x", "")
	noRef := clusterHealthCheck("v-noref", []libv1beta1.LivenessCheck{{Name: "hc", Type: libv1beta1.LivenessTypeHealthCheck}})
	wrongKind := clusterHealthCheck("v-wrongkind", []libv1beta1.LivenessCheck{{Name: "hc", Type: libv1beta1.LivenessTypeHealthCheck,
		LivenessSourceRef: &corev1.ObjectReference{Kind: "ConfigMap", Name: "x"}}})
	noSecret := clusterHealthCheck("v-nosecret", []libv1beta1.LivenessCheck{{Name: "addons", Type: libv1beta1.LivenessTypeAddons}},
		libv1beta1.Notification{Name: "slack", Type: libv1beta1.NotificationTypeSlack})
	unknownType := clusterHealthCheck("v-unknown", []libv1beta1.LivenessCheck{{Name: "addons", Type: libv1beta1.LivenessTypeAddons}},
		libv1beta1.Notification{Name: "pager", Type: "PagerDuty"})
	noChecks := clusterHealthCheck("v-nochecks", nil)
	for _, tc := range []struct {
		name string
		obj  client.Object
		want string
	}{
		{"flapping below 2", flapping, "consecutiveEvaluations"},
		{"no resourceSelectors", noSelectors, "resourceSelectors"},
		{"no evaluateHealth", noScript, "evaluateHealth"},
		{"HealthCheck liveness without livenessSourceRef", noRef, "a HealthCheck liveness check needs livenessSourceRef naming a HealthCheck"},
		{"HealthCheck liveness naming a ConfigMap", wrongKind, "a HealthCheck liveness check needs livenessSourceRef naming a HealthCheck"},
		{"Slack without its Secret", noSecret, "every notification but KubernetesEvent needs notificationRef naming a Secret"},
		{"unknown notification type", unknownType, "Unsupported value: \"PagerDuty\""},
		{"no liveness checks", noChecks, "livenessChecks"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := mgmt.Create(context.Background(), tc.obj)
			if err == nil {
				_ = mgmt.Delete(context.Background(), tc.obj)
				t.Fatalf("accepted, want refused with %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}
