package clusterhealth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/api"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/manager/managertest"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

var (
	env  *testenv.Env
	mgmt client.Client

	// running is the manager of the tests; the restart test replaces it.
	running managertest.Stopper
)

// The managed cluster "workload" is registered in fleetNamespace with label env=health.
const (
	fleetNamespace = "fleet"
	workload       = "workload"
)

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, testenv.Options{Clusters: []string{"mgmt", workload}, InstallCRDs: true}, &env, setup))
}

func setup(ctx context.Context, env *testenv.Env) error {
	managertest.SetLogger()
	var err error
	if mgmt, err = client.New(env.Management().Config, client.Options{Scheme: api.NewScheme()}); err != nil {
		return err
	}
	if err := startManager(ctx); err != nil {
		return err
	}
	_, err = clusters.Register(ctx, mgmt, clusters.Registration{Namespace: fleetNamespace, Name: workload,
		Kubeconfig: env.Cluster(workload).Kubeconfig, Labels: map[string]string{"env": "health"}})
	return err
}

// startManager starts a Tugboat manager that runs until ctx ends or stopManager is called.
func startManager(ctx context.Context) error {
	opts := managertest.Options(env)
	opts.SkipControllerNameValidation = true
	runCtx, cancel := context.WithCancel(ctx)
	mgr, _, err := managertest.Start(runCtx, env, opts)
	if err != nil {
		cancel()
		return err
	}
	_ = mgr
	running.Set(cancel)
	return nil
}

func stopManager() {
	running.Stop()
}

func workloadClient(t *testing.T) client.Client {
	t.Helper()
	return testenv.ClusterClient(t, env, workload)
}

func create(t *testing.T, c client.Client, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := c.Create(context.Background(), o); err != nil {
			t.Fatal(err)
		}
	}
}

func namespace(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
}

// stateConfigMap is a ConfigMap labelled app=hc-test whose data.state the test scripts judge.
func stateConfigMap(ns, name, state string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app": "hc-test"}},
		Data: map[string]string{"state": state}}
}

func setState(t *testing.T, ns, name, state string) {
	t.Helper()
	c := workloadClient(t)
	cm := &corev1.ConfigMap{}
	if err := c.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, cm); err != nil {
		t.Fatal(err)
	}
	cm.Data["state"] = state
	if err := c.Update(context.Background(), cm); err != nil {
		t.Fatal(err)
	}
}

// stateScript judges each resource by its data.state: "bad" is Degraded.
const stateScript = `function evaluate()
  local statuses = {}
  for _, r in ipairs(resources) do
    local s = {resource = r, healthStatus = "Healthy", message = "state is good"}
    if r.data ~= nil and r.data.state == "bad" then
      s.healthStatus = "Degraded"
      s.message = "state is bad"
    end
    table.insert(statuses, s)
  end
  return {resources = statuses}
end`

// healthCheck is a HealthCheck over the ConfigMaps labelled app=hc-test in ns.
func healthCheck(name, ns, script string) *libv1beta1.HealthCheck {
	return &libv1beta1.HealthCheck{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: libv1beta1.HealthCheckSpec{
			ResourceSelectors: []libv1beta1.ResourceSelector{{Version: "v1", Kind: "ConfigMap", Namespace: ns,
				LabelFilters: []libv1beta1.LabelFilter{{Key: "app", Operation: libv1beta1.OperationEqual, Value: "hc-test"}}}},
			EvaluateHealth:        script,
			EvaluateIndependently: true,
		},
	}
}

// clusterHealthCheck selects the workload cluster with the given liveness checks and notifications.
func clusterHealthCheck(name string, checks []libv1beta1.LivenessCheck, notifications ...libv1beta1.Notification) *libv1beta1.ClusterHealthCheck {
	chc := &libv1beta1.ClusterHealthCheck{ObjectMeta: metav1.ObjectMeta{Name: name}}
	chc.Spec.ClusterSelector.MatchLabels = map[string]string{"env": "health"}
	chc.Spec.LivenessChecks = checks
	chc.Spec.Notifications = notifications
	if chc.Spec.Notifications == nil {
		chc.Spec.Notifications = []libv1beta1.Notification{}
	}
	return chc
}

func healthCheckLiveness(name, hc string) libv1beta1.LivenessCheck {
	return libv1beta1.LivenessCheck{Name: name, Type: libv1beta1.LivenessTypeHealthCheck,
		LivenessSourceRef: &corev1.ObjectReference{APIVersion: libv1beta1.GroupVersion.String(), Kind: libv1beta1.HealthCheckKind, Name: hc}}
}

// report waits until the HealthCheckReport of hc for the workload cluster satisfies check.
func waitReport(t *testing.T, hc string, check func(*libv1beta1.HealthCheckReport) error) *libv1beta1.HealthCheckReport {
	t.Helper()
	report := &libv1beta1.HealthCheckReport{}
	testenv.Eventually(t, "HealthCheckReport of "+hc, func() error {
		if err := mgmt.Get(context.Background(), types.NamespacedName{Namespace: fleetNamespace, Name: "sveltos--" + hc + "--" + workload}, report); err != nil {
			return err
		}
		return check(report)
	})
	return report
}

// statusesAre checks the report's statuses: name → health status.
func statusesAre(want map[string]libv1beta1.HealthStatus) func(*libv1beta1.HealthCheckReport) error {
	return func(r *libv1beta1.HealthCheckReport) error {
		got := map[string]libv1beta1.HealthStatus{}
		for _, s := range r.Spec.ResourceStatuses {
			got[s.ObjectRef.Name] = s.HealthStatus
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			return fmt.Errorf("statuses %v, want %v (failure: %v)", got, want, ptrString(r.Status.AgentFailureMessage))
		}
		return nil
	}
}

func ptrString(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// waitCondition waits until the ClusterHealthCheck's condition for the
// workload cluster and liveness check satisfies check.
func waitCondition(t *testing.T, chc, check string, status corev1.ConditionStatus, messageParts ...string) *libv1beta1.ClusterHealthCheck {
	t.Helper()
	obj := &libv1beta1.ClusterHealthCheck{}
	testenv.Eventually(t, "condition "+check+" of "+chc, func() error {
		if err := mgmt.Get(context.Background(), types.NamespacedName{Name: chc}, obj); err != nil {
			return err
		}
		for _, cc := range obj.Status.ClusterConditions {
			if cc.ClusterInfo.Cluster.Name != workload {
				continue
			}
			for _, c := range cc.Conditions {
				if c.Name != check {
					continue
				}
				if c.Status != status {
					return fmt.Errorf("status %s (%s), want %s", c.Status, c.Message, status)
				}
				for _, p := range messageParts {
					if !strings.Contains(c.Message, p) {
						return fmt.Errorf("message %q lacks %q", c.Message, p)
					}
				}
				return nil
			}
		}
		return fmt.Errorf("no condition yet: %+v", obj.Status)
	})
	return obj
}

// slackReceiver stands in for Slack's chat.postMessage and records each message.
type slackReceiver struct {
	*httptest.Server
	mu       sync.Mutex
	messages []slackMessage
}

type slackMessage struct {
	Channel     string `json:"channel"`
	Text        string `json:"text"`
	Attachments []struct {
		Color string `json:"color"`
		Title string `json:"title"`
		Text  string `json:"text"`
	} `json:"attachments"`
}

func newSlackReceiver(t *testing.T) *slackReceiver {
	t.Helper()
	r := &slackReceiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var m slackMessage
		if req.URL.Path != "/api/chat.postMessage" || req.Header.Get("Authorization") != "Bearer xoxb-test" || json.Unmarshal(body, &m) != nil ||
			len(m.Attachments) != 1 {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"ok":false,"error":"invalid_request"}`)
			return
		}
		r.mu.Lock()
		r.messages = append(r.messages, m)
		r.mu.Unlock()
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *slackReceiver) got() []slackMessage {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]slackMessage(nil), r.messages...)
}

// waitMessages waits until the receiver has n messages and returns them.
func (r *slackReceiver) waitMessages(t *testing.T, n int) []slackMessage {
	t.Helper()
	var got []slackMessage
	testenv.Eventually(t, fmt.Sprintf("%d Slack messages", n), func() error {
		got = r.got()
		if len(got) < n {
			return fmt.Errorf("%d messages", len(got))
		}
		return nil
	})
	if len(got) != n {
		t.Fatalf("%d Slack messages, want %d: %+v", len(got), n, got)
	}
	return got
}

// slackSecret creates the Secret of a Slack notification pointing at the receiver.
func slackNotification(t *testing.T, name string, r *slackReceiver) libv1beta1.Notification {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		Type:       libv1beta1.ClusterProfileSecretType,
		StringData: map[string]string{"SLACK_TOKEN": "xoxb-test", "SLACK_CHANNEL_ID": "C0HEALTH", "SLACK_URL": r.URL}}
	create(t, mgmt, s)
	return libv1beta1.Notification{Name: "slack", Type: libv1beta1.NotificationTypeSlack,
		NotificationRef: &corev1.ObjectReference{APIVersion: "v1", Kind: "Secret", Namespace: "default", Name: name}}
}

// waitNoReport waits until the HealthCheckReport of hc for the workload cluster is gone.
func waitNoReport(t *testing.T, hc string) {
	t.Helper()
	testenv.Eventually(t, "HealthCheckReport of "+hc+" deleted", func() error {
		err := mgmt.Get(context.Background(), types.NamespacedName{Namespace: fleetNamespace, Name: "sveltos--" + hc + "--" + workload},
			&libv1beta1.HealthCheckReport{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("still there (%v)", err)
	})
}
