package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/api"
	"github.com/tugboat-dev/tugboat/internal/notify"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

var (
	env      *testenv.Env
	mgmt     client.Client
	recorder events.EventRecorder
)

// secretsNamespace holds the notification Secrets of the tests.
const secretsNamespace = "default"

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, testenv.Options{Clusters: []string{"mgmt"}}, &env, setup))
}

func setup(ctx context.Context, env *testenv.Env) error {
	var err error
	if mgmt, err = client.New(env.Management().Config, client.Options{Scheme: api.NewScheme()}); err != nil {
		return err
	}
	clientset, err := kubernetes.NewForConfig(env.Management().Config)
	if err != nil {
		return err
	}
	broadcaster := events.NewBroadcaster(&events.EventSinkImpl{Interface: clientset.EventsV1()})
	if err := broadcaster.StartRecordingToSinkWithContext(ctx); err != nil {
		return err
	}
	recorder = broadcaster.NewRecorder(api.NewScheme(), "notify-test")
	return nil
}

// newSender is a Sender reading the test cluster's Secrets.
func newSender() *notify.Sender { return notify.New(mgmt, recorder) }

// createSecret creates a notification Secret (type as Sveltos documents it).
func createSecret(t *testing.T, name string, data map[string]string) *corev1.ObjectReference {
	t.Helper()
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: secretsNamespace, Name: name},
		Type:       "addons.projectsveltos.io/cluster-profile",
		StringData: data,
	}
	if err := mgmt.Create(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mgmt.Delete(context.Background(), s) })
	return &corev1.ObjectReference{APIVersion: "v1", Kind: "Secret", Namespace: secretsNamespace, Name: name}
}

// received is one request a receiver got.
type received struct {
	Method, Path, Authorization, ContentType string
	Body                                     map[string]any
}

// receiver is a local HTTP server standing in for a service: it records each
// request and answers with answer (status 200 and body when set).
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	requests []received
	status   int
	answer   string
}

func newReceiver(t *testing.T, answer string) *receiver {
	t.Helper()
	r := &receiver{status: http.StatusOK, answer: answer}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var decoded map[string]any
		_ = json.Unmarshal(body, &decoded)
		r.mu.Lock()
		r.requests = append(r.requests, received{Method: req.Method, Path: req.URL.Path,
			Authorization: req.Header.Get("Authorization"), ContentType: req.Header.Get("Content-Type"), Body: decoded})
		status, answer := r.status, r.answer
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) got() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.requests...)
}

func (r *receiver) answerWith(status int, answer string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status, r.answer = status, answer
}
