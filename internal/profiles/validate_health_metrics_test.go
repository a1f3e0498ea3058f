package profiles_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// errorRateBelow5 is a metric check as users write them.
const errorRateBelow5 = `
function evaluate()
  if metrics["errorRate"] > 0.05 then
    return {healthy = false, message = "error rate " .. metrics["errorRate"] .. " above 5%"}
  end
  return {healthy = true}
end`

// servedGauge is a tiny /metrics endpoint serving one gauge whose value the
// test sets.
type servedGauge struct{ milli atomic.Int64 }

func (g *servedGauge) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	fmt.Fprintf(w, "# TYPE tugboat_test_error_ratio gauge\ntugboat_test_error_ratio %g\n", float64(g.milli.Load())/1000)
}

// startPrometheus runs Debian's prometheus (hack/setup.sh installs it) with a
// temporary configuration scraping target every second, and returns its
// address once it answers queries about the target's gauge.
func startPrometheus(t *testing.T, target string) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Skip("no prometheus on PATH (Debian package prometheus, installed by hack/setup.sh): the metricSource test cannot run here")
	}
	dir := t.TempDir()
	config := fmt.Sprintf("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n- job_name: app\n  static_configs:\n  - targets: [%q]\n", target)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting prometheus: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	base := "http://" + addr
	testenv.Eventually(t, "prometheus answering about the served gauge", func() error {
		_, err := queryValue(base, "tugboat_test_error_ratio")
		return err
	})
	return base
}

// queryValue asks Prometheus for the one value of an instant query.
func queryValue(base, query string) (float64, error) {
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var ans struct {
		Data struct {
			Result []struct {
				Value []any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil {
		return 0, err
	}
	if len(ans.Data.Result) != 1 {
		return 0, fmt.Errorf("%d samples", len(ans.Data.Result))
	}
	s, _ := ans.Data.Result[0].Value[1].(string)
	return strconv.ParseFloat(s, 64)
}

// A validateHealths check with metricSource/metricQueries against a real
// Prometheus scraping a gauge the test serves: a healthy value makes the
// feature Provisioned; a value the script calls unhealthy keeps it
// Provisioning with the script's message; serving another value flips it (the
// checks are evaluated again on an interval, one second in these tests). An
// unreachable endpoint or a query Prometheus refuses keeps the feature
// Provisioning with a message naming the profile, the check and the field, and
// an Event says the same.
func TestValidateHealthMetrics(t *testing.T) {
	ctx := context.Background()
	gauge := &servedGauge{}
	gauge.milli.Store(10) // 0.01
	app := httptest.NewServer(gauge)
	t.Cleanup(app.Close)
	prom := startPrometheus(t, strings.TrimPrefix(app.URL, "http://"))

	setLabels(t, "app-1", map[string]string{"metrics": "yes"})
	t.Cleanup(func() { setLabels(t, "app-1", map[string]string{"metrics": ""}) })
	policyConfigMap(t, "metrics-cm", `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "metrics", "namespace": "default"}, "data": {"a": "1"}}`)
	check := func(source, query string) []libv1beta1.ValidateHealth {
		return []libv1beta1.ValidateHealth{{Name: "error-rate", FeatureID: libv1beta1.FeatureResources,
			MetricSource:  &libv1beta1.MetricSource{URL: source},
			MetricQueries: []libv1beta1.MetricQuery{{Name: "errorRate", Query: query}},
			Script:        errorRateBelow5}}
	}
	p := &configv1beta1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Name: "metrics"}, Spec: configv1beta1.Spec{
		PolicyRefs:      []libv1beta1.PolicyRef{{Kind: "ConfigMap", Namespace: "default", Name: "metrics-cm"}},
		ValidateHealths: check(prom, "max(tugboat_test_error_ratio)"),
	}}
	p.Spec.ClusterSelector.MatchLabels = map[string]string{"metrics": "yes"}
	if err := mgmt.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteProfileAndPolicies(t, p, "metrics-cm") })

	waitSummary(t, "metrics", "app-1", resourcesStatus(libv1beta1.FeatureStatusProvisioned))

	// The served error ratio rises above 5%: the script's message.
	gauge.milli.Store(200)
	waitSummary(t, "metrics", "app-1", provisioningSaying("validateHealths[0] error-rate", "error rate 0.2 above 5%"))

	// And falls again: Provisioned.
	gauge.milli.Store(20)
	waitSummary(t, "metrics", "app-1", resourcesStatus(libv1beta1.FeatureStatusProvisioned))

	// Bad input: an endpoint nobody listens on, then a query that does not parse.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	nobody := "http://" + l.Addr().String()
	_ = l.Close()
	updateClusterProfile(t, "metrics", func(p *configv1beta1.ClusterProfile) {
		p.Spec.ValidateHealths = check(nobody, "max(tugboat_test_error_ratio)")
	})
	s := waitSummary(t, "metrics", "app-1", provisioningSaying("ClusterProfile metrics", "validateHealths[0] error-rate", "metricSource "+nobody, "metricQueries[0] errorRate", "connection refused"))
	waitEvent(t, s.Namespace, s.Name, "HealthCheckError", "metricSource "+nobody)

	updateClusterProfile(t, "metrics", func(p *configv1beta1.ClusterProfile) {
		p.Spec.ValidateHealths = check(prom, "max(tugboat_test_error_ratio")
	})
	waitSummary(t, "metrics", "app-1", provisioningSaying("ClusterProfile metrics", "validateHealths[0] error-rate", "metricQueries[0] errorRate", "Prometheus refused the query (bad_data)"))
}
