package dashboard_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// A cluster's page shows, beside each profile deployed there, its inputs:
// each templateResourceRef resolved for the cluster, the profile that
// deployed that object in the management cluster and, for a generated
// profile, the EventTrigger, EventSource and source cluster it came from —
// the database-as-a-service tutorial's chain in small: a ConfigMap in the app
// cluster makes an EventTrigger generate a profile that writes a Secret into
// the management cluster (registered as mgmt/mgmt), which another profile's
// templates read for the app cluster. The Secret is found by its metadata
// alone: its data is on no page.
func TestClusterPageShowsTemplateInputs(t *testing.T) {
	f := setup(t)
	ctx := context.Background()

	mgmtCluster := &libv1beta1.SveltosCluster{}
	if err := mgmt.Get(ctx, types.NamespacedName{Namespace: "mgmt", Name: "mgmt"}, mgmtCluster); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(mgmtCluster.DeepCopy())
	if mgmtCluster.Labels == nil {
		mgmtCluster.Labels = map[string]string{}
	}
	mgmtCluster.Labels["dash-role"] = "mgmt"
	if err := mgmt.Patch(ctx, mgmtCluster, patch); err != nil {
		t.Fatal(err)
	}
	const password = "s3cret-never-on-a-page"
	create(t, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "dash-credentials-template",
			Annotations: map[string]string{"projectsveltos.io/instantiate": "ok"}},
		Type: libv1beta1.ClusterProfileSecretType,
		StringData: map[string]string{"credentials": `apiVersion: v1
kind: Secret
metadata:
  name: db-credentials
  namespace: ` + f.app.Namespace + `
stringData:
  user: "{{ .Resource.metadata.name }}"
  password: ` + password + `
`},
	})
	create(t, &libv1beta1.EventSource{ObjectMeta: metav1.ObjectMeta{Name: "dash-inputs"}, Spec: libv1beta1.EventSourceSpec{CollectResources: true,
		ResourceSelectors: []libv1beta1.ResourceSelector{{Version: "v1", Kind: "ConfigMap", Namespace: "dash-inputs"}}}})
	create(t, &libv1beta1.EventTrigger{ObjectMeta: metav1.ObjectMeta{Name: "dash-credentials"}, Spec: libv1beta1.EventTriggerSpec{
		SourceClusterSelector:      libv1beta1.Selector{LabelSelector: metav1.LabelSelector{MatchLabels: map[string]string{"env": "prod"}}},
		DestinationClusterSelector: libv1beta1.Selector{LabelSelector: metav1.LabelSelector{MatchLabels: map[string]string{"dash-role": "mgmt"}}},
		EventSourceName:            "dash-inputs",
		OneForEvent:                true,
		PolicyRefs:                 []libv1beta1.PolicyRef{{Kind: "Secret", Namespace: "default", Name: "dash-credentials-template"}},
	}})
	app, err := client.New(env.Cluster("app").Config, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "dash-inputs"}}); err != nil {
		t.Fatal(err)
	}
	if err := app.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "dash-inputs", Name: "orders-db"}}); err != nil {
		t.Fatal(err)
	}
	create(t, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "dash-consumer"},
		Data: map[string]string{"object.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: consumer\n  namespace: default\n"}})
	create(t, &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "dash-reads-credentials"}, Spec: configv1beta1.Spec{
		ClusterSelector: libv1beta1.Selector{LabelSelector: metav1.LabelSelector{MatchLabels: map[string]string{"env": "prod"}}},
		TemplateResourceRefs: []libv1beta1.TemplateResourceRef{
			{Resource: corev1.ObjectReference{APIVersion: "v1", Kind: "Secret", Name: "db-credentials"}, Identifier: "Credentials"},
			{Resource: corev1.ObjectReference{APIVersion: "v1", Kind: "ConfigMap", Name: "{{ .Cluster.metadata.name }}-settings"}, Identifier: "Settings", Optional: true},
		},
		PolicyRefs: []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "default", Name: "dash-consumer"}},
	}})

	testenv.Eventually(t, "EventTrigger dash-credentials generates a profile", func() error {
		list := &configv1beta1.ClusterProfileList{}
		if err := mgmt.List(ctx, list, client.MatchingLabels{libv1beta1.EventTriggerNameLabel: "dash-credentials"}); err != nil {
			return err
		}
		if len(list.Items) == 0 {
			trigger := &libv1beta1.EventTrigger{}
			if err := mgmt.Get(ctx, types.NamespacedName{Name: "dash-credentials"}, trigger); err != nil {
				return err
			}
			return fmt.Errorf("none yet; the trigger's status: %+v", trigger.Status)
		}
		return nil
	})
	generated := generatedBy(t, "dash-credentials")
	text := eventuallyShows(t, "/clusters/"+f.app.Namespace+"/"+f.app.Name, "ClusterProfile/dash-reads-credentials",
		"inputs (templateResourceRefs): Credentials: Secret "+f.app.Namespace+"/db-credentials — deployed by ClusterProfile/"+generated+
			", generated by EventTrigger dash-credentials from EventSource dash-inputs in cluster "+f.app.String(),
		// The name template resolved for the cluster; the optional object does not exist.
		"Settings: ConfigMap "+f.app.Namespace+"/app-settings ConfigMap "+f.app.Namespace+"/app-settings not found (optional")
	if strings.Contains(text, password) {
		t.Errorf("the page shows the Secret's data: %s", text)
	}
	// The explanation (tug explain's) names the same inputs.
	explained := eventuallyShows(t, "/explain?profile=ClusterProfile/dash-reads-credentials&cluster="+f.app.String(),
		"Inputs (templateResourceRefs, resolved for this cluster) Credentials: Secret "+f.app.Namespace+"/db-credentials — deployed by ClusterProfile/"+generated)
	if strings.Contains(explained, password) {
		t.Errorf("the explain page shows the Secret's data: %s", explained)
	}
}
