package devplatform_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// testPlatformEndpoints checks what `tug dev up` adds for CloudEvents and the
// dashboard: every cluster holds the Secret projectsveltos/sveltos-nats naming
// the platform's NATS server (JetStream), the state folder its URL and token,
// the CloudEvents endpoint's URL and token, the dashboard's URL and login
// token; the summary prints them; the dashboard refuses a request without the
// token and serves one with it.
func testPlatformEndpoints(t *testing.T, dir, summary string) {
	log.SetLogger(logr.Discard())
	state := map[string]string{}
	for _, f := range []string{"nats.url", "nats.token", "events.url", "events.token", "dashboard.url", "dashboard.token"} {
		raw, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || len(bytes.TrimSpace(raw)) == 0 {
			t.Fatalf("%s: %q, %v", f, raw, err)
		}
		state[f] = strings.TrimSpace(string(raw))
	}
	if !strings.HasPrefix(state["nats.url"], "nats://127.0.0.1:") {
		t.Errorf("nats.url %s", state["nats.url"])
	}
	for _, want := range []string{state["dashboard.url"], filepath.Join(dir, "dashboard.token"), state["nats.url"], state["events.url"] + "/events/NAMESPACE/CLUSTER"} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %s:\n%s", want, summary)
		}
	}
	for _, cluster := range []string{"mgmt", "services", "workload"} {
		cfg, err := clientcmd.BuildConfigFromFlags("", filepath.Join(dir, cluster+".kubeconfig"))
		if err != nil {
			t.Fatal(err)
		}
		c, err := client.New(cfg, client.Options{})
		if err != nil {
			t.Fatal(err)
		}
		secret := &corev1.Secret{}
		if err := c.Get(context.Background(), client.ObjectKey{Namespace: libv1beta1.NATSSecretNamespace, Name: libv1beta1.NATSSecretName}, secret); err != nil {
			t.Fatalf("cluster %s: %v", cluster, err)
		}
		var value struct {
			JetStream struct {
				Configuration struct {
					URL           string   `json:"url"`
					Subjects      []string `json:"subjects"`
					Authorization struct {
						Token string `json:"token"`
					} `json:"authorization"`
				} `json:"configuration"`
			} `json:"jetstream"`
		}
		if err := json.Unmarshal(secret.Data[libv1beta1.NATSSecretKey], &value); err != nil {
			t.Fatalf("cluster %s: sveltos-nats: %v", cluster, err)
		}
		if conf := value.JetStream.Configuration; conf.URL != state["nats.url"] || conf.Authorization.Token != state["nats.token"] || len(conf.Subjects) == 0 {
			t.Errorf("cluster %s: sveltos-nats %+v", cluster, conf)
		}
	}
	dashboardGet := func(token string) int {
		req, err := http.NewRequest(http.MethodGet, state["dashboard.url"]+"/clusters", nil)
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode
	}
	if code := dashboardGet(""); code != http.StatusUnauthorized {
		t.Errorf("the dashboard without a token: %d", code)
	}
	if code := dashboardGet(state["dashboard.token"]); code != http.StatusOK {
		t.Errorf("the dashboard with dashboard.token: %d", code)
	}
}

// testPortalAct runs `tug dev tutorial portal` twice on the platform of
// TestDevUpAndDown: a CloudEvent published on JetStream provisions the team's
// database, whose credentials come back and work; one POSTed to the HTTP
// endpoint gives it back. The second run starts from what the first left.
func testPortalAct(t *testing.T, run func(args ...string) string) {
	want := []string{
		"EventSource portal-database-requests",
		`"source":"portal.example.com"`,
		`"type":"dev.tugboat.database.requested"`,
		"ok: postgresql.cnpg.io Cluster default/db-blue in the services cluster",
		"ok: its credentials back in the management cluster",
		"ok: connecting with the delivered credentials",
		"Database blue at 127.0.0.1:",
		"dev.tugboat.database.deleted CloudEvent for team blue POSTed",
		`"action":"Delete"`,
		"ok: Cluster default/db-blue withdrawn from the services cluster",
		"ok: its credentials gone from the management cluster",
	}
	for i := range 2 {
		out := run("dev", "tutorial", "portal")
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("run %d: output lacks %q:\n%s", i+1, w, out)
			}
		}
	}
	if out := run("dev", "tutorial", "portal", "--team", "red"); !strings.Contains(out, "Database red at") {
		t.Errorf("--team red:\n%s", out)
	}
}
