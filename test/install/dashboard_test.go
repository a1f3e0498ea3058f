package install_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
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

// checkDashboardService checks that svc sends port to the container port
// "dashboard" of the manager's pods.
func checkDashboardService(t *testing.T, svc *corev1.Service, dep *appsv1.Deployment, port int32) {
	t.Helper()
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != port || svc.Spec.Ports[0].TargetPort != intstr.FromString("dashboard") {
		t.Errorf("Service %s ports %+v, want %d → dashboard", svc.Name, svc.Spec.Ports, port)
	}
	if len(svc.Spec.Selector) == 0 || !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(dep.Spec.Template.Labels)) {
		t.Errorf("Service %s selector %v does not select the manager's pods %v", svc.Name, svc.Spec.Selector, dep.Spec.Template.Labels)
	}
}

// The release installed by the other tests serves no dashboard.
func TestChartDashboardOffByDefault(t *testing.T) {
	installChart(t)
	ctx := context.Background()
	dep := &appsv1.Deployment{}
	if err := kc.Get(ctx, types.NamespacedName{Namespace: chartNamespace, Name: chartFullname + "-manager"}, dep); err != nil {
		t.Fatal(err)
	}
	if args, port := dashboardOf(dep); args != nil || port != nil {
		t.Errorf("dashboard configured although dashboard.enabled is false: %v %+v", args, port)
	}
	err := kc.Get(ctx, types.NamespacedName{Namespace: chartNamespace, Name: chartFullname + "-dashboard"}, &corev1.Service{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("Service %s-dashboard: %v, want not found", chartFullname, err)
	}
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
	ctx := context.Background()
	dep := &appsv1.Deployment{}
	if err := kc.Get(ctx, types.NamespacedName{Namespace: dashboardNamespace, Name: dashboardFullname + "-manager"}, dep); err != nil {
		t.Fatal(err)
	}
	args, port := dashboardOf(dep)
	if want := []string{"--dashboard-bind-address=:9090", "--dashboard-token-secret=" + dashboardNamespace + "/fleet-view"}; !slices.Equal(args, want) {
		t.Errorf("manager args %v, want %v", args, want)
	}
	if port == nil || port.ContainerPort != 9090 || port.Protocol != corev1.ProtocolTCP {
		t.Errorf("container port dashboard: %+v, want 9090/TCP", port)
	}
	svc := &corev1.Service{}
	if err := kc.Get(ctx, types.NamespacedName{Namespace: dashboardNamespace, Name: dashboardFullname + "-dashboard"}, svc); err != nil {
		t.Fatal(err)
	}
	checkDashboardService(t, svc, dep, 80)
	checkAccess(t, dashboardNamespace, dashboardFullname, []access{
		{"create", "", "secrets", "", dashboardNamespace, true},
		{"get", "", "secrets", "", dashboardNamespace, true},
	})
}

func TestChartDashboardValues(t *testing.T) {
	// The defaults: port 8090, the Secret tugboat-dashboard, a Service on the same port.
	objs := renderObjects(t, map[string]any{"dashboard": map[string]any{"enabled": true}})
	dep, svc := &appsv1.Deployment{}, &corev1.Service{}
	if !decode(t, objs, "Deployment", "render-tugboat-manager", dep) || !decode(t, objs, "Service", "render-tugboat-dashboard", svc) {
		t.Fatal("the Deployment or the dashboard Service is not rendered")
	}
	args, port := dashboardOf(dep)
	if want := []string{"--dashboard-bind-address=:8090", "--dashboard-token-secret=somewhere/tugboat-dashboard"}; !slices.Equal(args, want) {
		t.Errorf("manager args %v, want %v", args, want)
	}
	if port == nil || port.ContainerPort != 8090 {
		t.Errorf("container port %+v, want 8090", port)
	}
	checkDashboardService(t, svc, dep, 8090)

	objs = renderObjects(t, map[string]any{"dashboard": map[string]any{"enabled": true, "service": map[string]any{"enabled": false}}})
	if decode(t, objs, "Service", "render-tugboat-dashboard", &corev1.Service{}) {
		t.Error("dashboard Service rendered although dashboard.service.enabled is false")
	}
	// Refused: nothing to log in with.
	if _, err := render(t, map[string]any{"dashboard": map[string]any{"enabled": true, "tokenSecret": ""}}); err == nil || !strings.Contains(err.Error(), "dashboard.tokenSecret") {
		t.Errorf("a dashboard without a token Secret: err %v", err)
	}
}
