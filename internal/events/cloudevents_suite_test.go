package events_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/api"
	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/events"
	"github.com/tugboat-dev/tugboat/internal/localkube"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// The package's CloudEvents plumbing: one real NATS server (JetStream on) for
// every test, the workload cluster's sveltos-nats Secret pointing at it (core
// subjects ce.>, JetStream subjects js.> in the stream TUGBOAT_TEST), and the
// manager's HTTP endpoint with a bearer token from a Secret.
var (
	natsServer        *localkube.NATSServer
	eventsAddr        string
	eventsTokenSecret = types.NamespacedName{Namespace: libv1beta1.DefaultSystemNamespace, Name: "events-token"}
)

const (
	natsUser, natsPassword = "tugboat", "nats-secret"
	eventsToken            = "portal-token"
	testStream             = "TUGBOAT_TEST"
)

func startNATS(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "tugboat-events-nats-")
	if err != nil {
		return err
	}
	if natsServer, err = localkube.StartNATS(localkube.NATSOptions{StoreDir: dir, User: natsUser, Password: natsPassword}); err != nil {
		return err
	}
	nc, err := nats.Connect(natsServer.URL(), nats.UserInfo(natsUser, natsPassword))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: testStream, Subjects: []string{"js.>"}}); err != nil {
		return err
	}
	workload, err := client.New(env.Cluster("workload").Config, client.Options{Scheme: api.NewScheme()})
	if err != nil {
		return err
	}
	if err := clusters.EnsureNamespace(ctx, workload, libv1beta1.NATSSecretNamespace); err != nil {
		return err
	}
	auth := map[string]any{"user": map[string]string{"user": natsUser, "password": natsPassword}}
	cfg, _ := json.Marshal(map[string]any{
		"nats":      map[string]any{"configuration": map[string]any{"url": natsServer.URL(), "subjects": []string{"ce.>"}, "authorization": auth}},
		"jetstream": map[string]any{"configuration": map[string]any{"url": natsServer.URL(), "subjects": []string{"js.>"}, "authorization": auth}},
	})
	if err := workload.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: libv1beta1.NATSSecretNamespace, Name: libv1beta1.NATSSecretName},
		Data:       map[string][]byte{libv1beta1.NATSSecretKey: cfg},
	}); err != nil {
		return err
	}
	if err := clusters.EnsureNamespace(ctx, mgmt, eventsTokenSecret.Namespace); err != nil {
		return err
	}
	if err := mgmt.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: eventsTokenSecret.Namespace, Name: eventsTokenSecret.Name},
		Data:       map[string][]byte{"token": []byte(eventsToken)},
	}); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	eventsAddr = ln.Addr().String()
	return ln.Close()
}

// natsConn is a publisher's connection to the test NATS server.
func natsConn(t *testing.T) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(natsServer.URL(), nats.UserInfo(natsUser, natsPassword))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// cloudEvent is a structured-mode CloudEvent (JSON), as `nats pub` sends it.
func cloudEvent(id, source, typ, subject string, data map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"specversion": "1.0", "id": id, "source": source, "type": typ, "subject": subject,
		"datacontenttype": "application/json", "data": data})
	return b
}

// publish sends a message on core NATS.
func publish(t *testing.T, nc *nats.Conn, subject string, body []byte) {
	t.Helper()
	if err := nc.Publish(subject, body); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
}

// jsPublish stores a message in the test stream.
func jsPublish(t *testing.T, nc *nats.Conn, subject string, body []byte) {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(context.Background(), subject, body); err != nil {
		t.Fatal(err)
	}
}

// postEvent sends a CloudEvent to the manager's HTTP endpoint; it returns the status and body.
func postEvent(t *testing.T, path, token string, header http.Header, body []byte) (int, string) {
	t.Helper()
	var resp *http.Response
	// The endpoint may still be starting (a manager restart).
	testenv.Eventually(t, "the CloudEvents endpoint answers", func() error {
		req, err := http.NewRequest(http.MethodPost, "http://"+eventsAddr+path, bytes.NewReader(body))
		if err != nil {
			return err
		}
		for k, vs := range header {
			req.Header[k] = vs
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err = http.DefaultClient.Do(req)
		return err
	})
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// cloudEventTrigger creates an EventSource selecting CloudEvents with
// criteria, an instantiated ConfigMap template holding manifest (a template
// over .CloudEvent) and a oneForEvent EventTrigger with action sourcing the
// clusters labelled <name>=source; extra adjusts the trigger before it is created.
func cloudEventTrigger(t *testing.T, name string, criteria libv1beta1.MessagingMatchCriteria, action, manifest string, extra func(*libv1beta1.EventTrigger)) {
	t.Helper()
	template := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, Annotations: map[string]string{libv1beta1.InstantiateAnnotation: "ok"}},
		Data:       map[string]string{"resource.yaml": manifest},
	}
	source := &libv1beta1.EventSource{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       libv1beta1.EventSourceSpec{MessagingMatchCriteria: []libv1beta1.MessagingMatchCriteria{criteria}},
	}
	trigger := sourcedTrigger(name, name, true)
	trigger.Spec.CloudEventAction = action
	if extra != nil {
		extra(trigger)
	}
	createAll(t, template, source, trigger)
	t.Cleanup(func() {
		for _, o := range []client.Object{trigger, source, template} {
			_ = mgmt.Delete(context.Background(), o)
		}
	})
}

// sourceOn labels a fleet cluster as a source of the trigger name until the
// test ends, and waits until the trigger has processed it (its NATS
// connections are up: core NATS delivers only to subscribers).
func sourceOn(t *testing.T, name, cluster string) {
	t.Helper()
	setLabels(t, cluster, map[string]string{name: "source"})
	t.Cleanup(func() { setLabels(t, cluster, map[string]string{name: ""}) })
	testenv.Eventually(t, "trigger "+name+" processed cluster "+cluster, func() error {
		info, err := clusterInfo(name, cluster)
		if err != nil {
			return err
		}
		if info.Status != libv1beta1.FeatureStatusProvisioned {
			return fmt.Errorf("cluster %s: %s %v", cluster, info.Status, ptrString(info.FailureMessage))
		}
		return nil
	})
}

// clusterInfo is the trigger's status entry for a fleet cluster.
func clusterInfo(trigger, cluster string) (libv1beta1.ClusterInfo, error) {
	tr := &libv1beta1.EventTrigger{}
	if err := mgmt.Get(context.Background(), types.NamespacedName{Name: trigger}, tr); err != nil {
		return libv1beta1.ClusterInfo{}, err
	}
	for _, ci := range tr.Status.ClusterInfo {
		if ci.Cluster.Namespace == fleetNamespace && ci.Cluster.Name == cluster {
			return ci, nil
		}
	}
	return libv1beta1.ClusterInfo{}, fmt.Errorf("no status of cluster %s yet", cluster)
}

func ptrString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// profilesBySubject lists the trigger's generated profiles by CloudEvent subject, failing on duplicates.
func profilesBySubject(t *testing.T, trigger string) (map[string]configv1beta1.ClusterProfile, error) {
	out := map[string]configv1beta1.ClusterProfile{}
	for _, p := range generatedProfiles(t, trigger) {
		subject := p.Labels[libv1beta1.EventTriggerCloudEventSubjectLabel]
		if prev, ok := out[subject]; ok {
			return nil, fmt.Errorf("duplicate ClusterProfiles %s and %s for subject %s", prev.Name, p.Name, subject)
		}
		out[subject] = p
	}
	return out, nil
}

// hasEvent finds a Kubernetes Event with reason about the object named regarding, whose note contains text.
func hasEvent(regarding, reason, text string) error {
	list := &corev1.EventList{}
	if err := mgmt.List(context.Background(), list); err != nil {
		return err
	}
	for _, e := range list.Items {
		if e.InvolvedObject.Name == regarding && e.Reason == reason && strings.Contains(e.Message, text) {
			return nil
		}
	}
	return fmt.Errorf("no Event %s about %s mentioning %q", reason, regarding, text)
}

// awaitWorkloadConsumerDrained waits until the JetStream consumer of the
// workload cluster has nothing pending and nothing awaiting acknowledgement.
func awaitWorkloadConsumerDrained(ctx context.Context, t *testing.T, nc *nats.Conn, what string) {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, what, func() error {
		cons, err := js.Consumer(ctx, testStream, events.ConsumerName(libv1beta1.SveltosClusterID(fleetNamespace, "workload")))
		if err != nil {
			return err
		}
		info, err := cons.Info(ctx)
		if err != nil {
			return err
		}
		if info.NumPending != 0 || info.NumAckPending != 0 {
			return fmt.Errorf("%d pending, %d awaiting acknowledgement", info.NumPending, info.NumAckPending)
		}
		return nil
	})
}
