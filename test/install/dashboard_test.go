package install_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// The web dashboard (--dashboard-* flags) in the chart: off by default; when
// enabled, its two flags (the token Secret in the release's namespace), a
// container port "dashboard" and a Service in front of it, and the right to
// create the token Secret there.

const (
	dashboardNamespace = "tugboat-dashboard"
	dashboardRelease   = "db"
	dashboardFullname  = "db-tugboat"
)

// dashboardOf is what a Deployment says about the dashboard: the manager's
// --dashboard-* arguments and its container port "dashboard".
func dashboardOf(dep *appsv1.Deployment) (args []string, port *corev1.ContainerPort) {
	c := dep.Spec.Template.Spec.Containers[0]
	for _, a := range c.Args {
		if strings.HasPrefix(a, "--dashboard-") {
			args = append(args, a)
		}
	}
	for i := range c.Ports {
		if c.Ports[i].Name == "dashboard" {
			port = &c.Ports[i]
		}
	}
	return args, port
}

// The release installed by the other tests serves no dashboard.
func TestChartDashboardOffByDefault(t *testing.T) {
	installChart(t)
	dep := managerDeployment(t, chartNamespace, chartFullname)
	if args, port := dashboardOf(dep); args != nil || port != nil {
		t.Errorf("dashboard configured although dashboard.enabled is false: %v %+v", args, port)
	}
	checkNoService(t, chartNamespace, chartFullname+"-dashboard")
}

// A release with the dashboard enabled, installed into the API server: the
// flags, the port, the Service, and the manager may create and read its token
// Secret in the release's namespace.
func TestChartDashboardInstalled(t *testing.T) {
	values := map[string]any{
		"replicas": 1, "leaderElection": map[string]any{"enabled": false},
		"dashboard": map[string]any{"enabled": true, "port": 9090, "tokenSecret": "fleet-view", "service": map[string]any{"port": 80}},
	}
	if err := helmInstall(context.Background(), dashboardRelease, dashboardNamespace, values); err != nil {
		t.Fatal(err)
	}
	dep := managerDeployment(t, dashboardNamespace, dashboardFullname)
	args, port := dashboardOf(dep)
	if want := []string{"--dashboard-bind-address=:9090", "--dashboard-token-secret=" + dashboardNamespace + "/fleet-view"}; !slices.Equal(args, want) {
		t.Errorf("manager args %v, want %v", args, want)
	}
	if port == nil || port.ContainerPort != 9090 || port.Protocol != corev1.ProtocolTCP {
		t.Errorf("container port dashboard: %+v, want 9090/TCP", port)
	}
	svc := getService(t, dashboardNamespace, dashboardFullname+"-dashboard")
	checkManagerService(t, svc, dep, 80, "dashboard")
	checkAccess(t, dashboardNamespace, dashboardFullname, []access{
		{"create", "", "secrets", "", dashboardNamespace, true},
		{"get", "", "secrets", "", dashboardNamespace, true},
	})
}

func TestChartDashboardValues(t *testing.T) {
	// The defaults: port 8090, the Secret tugboat-dashboard, a Service on the same port.
	dep, svc := renderManagerAndService(t, map[string]any{"dashboard": map[string]any{"enabled": true}}, "dashboard")
	args, port := dashboardOf(dep)
	if want := []string{"--dashboard-bind-address=:8090", "--dashboard-token-secret=somewhere/tugboat-dashboard"}; !slices.Equal(args, want) {
		t.Errorf("manager args %v, want %v", args, want)
	}
	if port == nil || port.ContainerPort != 8090 {
		t.Errorf("container port %+v, want 8090", port)
	}
	checkManagerService(t, svc, dep, 8090, "dashboard")

	objs := renderObjects(t, map[string]any{"dashboard": map[string]any{"enabled": true, "service": map[string]any{"enabled": false}}})
	if decode(t, objs, "Service", "render-tugboat-dashboard", &corev1.Service{}) {
		t.Error("dashboard Service rendered although dashboard.service.enabled is false")
	}
	// Refused: nothing to log in with.
	if _, err := render(t, map[string]any{"dashboard": map[string]any{"enabled": true, "tokenSecret": ""}}); err == nil || !strings.Contains(err.Error(), "dashboard.tokenSecret") {
		t.Errorf("a dashboard without a token Secret: err %v", err)
	}
}
