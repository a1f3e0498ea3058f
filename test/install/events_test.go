package install_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/internal/templating"
)

// The CloudEvents HTTP endpoint (--events-* flags) in the two installs: off by
// default, and when enabled a flag per value, a container port "events", a
// Service in front of it and, for HTTPS, the TLS Secret mounted where the flags
// point.

const (
	eventsNamespace = "tugboat-events"
	eventsRelease   = "ev"
	eventsFullname  = "ev-tugboat"
)

// endpoint is what an install says about the CloudEvents endpoint.
type endpoint struct {
	args    []string // the manager's --events-* arguments
	port    *corev1.ContainerPort
	mounts  []corev1.VolumeMount
	volumes []corev1.Volume
}

func eventsEndpoint(dep *appsv1.Deployment) endpoint {
	var e endpoint
	c := dep.Spec.Template.Spec.Containers[0]
	for _, a := range c.Args {
		if strings.HasPrefix(a, "--events-") {
			e.args = append(e.args, a)
		}
	}
	for i := range c.Ports {
		if c.Ports[i].Name == "events" {
			e.port = &c.Ports[i]
		}
	}
	for _, m := range c.VolumeMounts {
		if m.Name == "events-tls" {
			e.mounts = append(e.mounts, m)
		}
	}
	for _, v := range dep.Spec.Template.Spec.Volumes {
		if v.Name == "events-tls" {
			e.volumes = append(e.volumes, v)
		}
	}
	return e
}

// decode finds the object of kind named name among objs and converts it into out.
func decode(t *testing.T, objs []*unstructured.Unstructured, kind, name string, out any) bool {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, out); err != nil {
				t.Fatalf("%s %s: %v", kind, name, err)
			}
			return true
		}
	}
	return false
}

func renderObjects(t *testing.T, values map[string]any) []*unstructured.Unstructured {
	t.Helper()
	manifest, err := render(t, values)
	if err != nil {
		t.Fatal(err)
	}
	var objs []*unstructured.Unstructured
	if err := templating.EachObject([]byte(manifest), func(o *unstructured.Unstructured) error {
		objs = append(objs, o)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return objs
}

// The release installed by the other tests leaves the endpoint off.
func TestChartEventsEndpointOffByDefault(t *testing.T) {
	installChart(t)
	dep := managerDeployment(t, chartNamespace, chartFullname)
	if e := eventsEndpoint(dep); e.args != nil || e.port != nil || e.mounts != nil || e.volumes != nil {
		t.Errorf("endpoint configured although events.enabled is false: %+v", e)
	}
	checkNoService(t, chartNamespace, chartFullname+"-events")
}

// A release with the endpoint enabled over HTTPS with a token and client
// certificates, installed into the API server.
func TestChartEventsEndpointInstalled(t *testing.T) {
	values := map[string]any{
		"replicas": 1, "leaderElection": map[string]any{"enabled": false},
		"events": map[string]any{"enabled": true, "port": 9443, "tokenSecret": "portal-token",
			"tls": map[string]any{"secretName": "events-cert", "clientCAKey": "ca.crt"}, "service": map[string]any{"port": 443}},
	}
	if err := helmInstall(context.Background(), eventsRelease, eventsNamespace, values); err != nil {
		t.Fatal(err)
	}
	dep := managerDeployment(t, eventsNamespace, eventsFullname)
	e := eventsEndpoint(dep)
	wantArgs := []string{"--events-bind-address=:9443", "--events-token-secret=" + eventsNamespace + "/portal-token",
		"--events-tls-cert-file=/etc/tugboat/events-tls/tls.crt", "--events-tls-key-file=/etc/tugboat/events-tls/tls.key",
		"--events-client-ca-file=/etc/tugboat/events-tls/ca.crt"}
	if !slices.Equal(e.args, wantArgs) {
		t.Errorf("manager args %v, want %v", e.args, wantArgs)
	}
	if e.port == nil || e.port.ContainerPort != 9443 || e.port.Protocol != corev1.ProtocolTCP {
		t.Errorf("container port events: %+v, want 9443/TCP", e.port)
	}
	if len(e.mounts) != 1 || e.mounts[0].MountPath != "/etc/tugboat/events-tls" || !e.mounts[0].ReadOnly {
		t.Errorf("TLS mount %+v, want /etc/tugboat/events-tls read-only", e.mounts)
	}
	if len(e.volumes) != 1 || e.volumes[0].Secret == nil || e.volumes[0].Secret.SecretName != "events-cert" {
		t.Errorf("TLS volume %+v, want the Secret events-cert", e.volumes)
	}
	svc := getService(t, eventsNamespace, eventsFullname+"-events")
	checkManagerService(t, svc, dep, 443, "events")
	if svc.Spec.Ports[0].Name != "https" {
		t.Errorf("Service port named %q, want https", svc.Spec.Ports[0].Name)
	}
	// The manager reads the token Secret in its own namespace.
	checkAccess(t, eventsNamespace, eventsFullname, []access{{"get", "", "secrets", "", eventsNamespace, true}})
}

func TestChartEventsValues(t *testing.T) {
	// Plain HTTP with a token: the Service port defaults to the container port.
	dep, svc := renderManagerAndService(t, map[string]any{"events": map[string]any{"enabled": true}}, "events")
	e := eventsEndpoint(dep)
	if want := []string{"--events-bind-address=:8443", "--events-token-secret=somewhere/tugboat-events-token"}; !slices.Equal(e.args, want) {
		t.Errorf("manager args %v, want %v", e.args, want)
	}
	if e.port == nil || e.port.ContainerPort != 8443 || e.mounts != nil || e.volumes != nil {
		t.Errorf("endpoint %+v, want port 8443 and no TLS volume", e)
	}
	checkManagerService(t, svc, dep, 8443, "events")

	// Without the Service.
	objs := renderObjects(t, map[string]any{"events": map[string]any{"enabled": true, "service": map[string]any{"enabled": false}}})
	if decode(t, objs, "Service", "render-tugboat-events", &corev1.Service{}) {
		t.Error("events Service rendered although events.service.enabled is false")
	}

	// Refused: nothing to authenticate callers with, or client certificates without TLS.
	for _, c := range []struct {
		events map[string]any
		want   string
	}{
		{map[string]any{"enabled": true, "tokenSecret": ""}, "events.tokenSecret or events.tls.clientCAKey"},
		{map[string]any{"enabled": true, "tls": map[string]any{"clientCAKey": "ca.crt"}}, "events.tls.clientCAKey needs events.tls.secretName"},
	} {
		if _, err := render(t, map[string]any{"events": c.events}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("events %v: err %v, want %q", c.events, err, c.want)
		}
	}
}

// config/default leaves the endpoint off; the components config/events and
// config/events-tls turn it on, and the API server accepts the result.
func TestKustomizeEvents(t *testing.T) {
	for _, o := range buildDefault(t) {
		if o.GetName() == "tugboat-manager-events" {
			t.Errorf("config/default holds %s %s: the endpoint must be opt-in", o.GetKind(), o.GetName())
		}
		dep := &appsv1.Deployment{}
		if decode(t, []*unstructured.Unstructured{o}, "Deployment", "tugboat-manager", dep) {
			if e := eventsEndpoint(dep); e.args != nil || e.port != nil {
				t.Errorf("config/default configures the endpoint: %+v", e)
			}
		}
	}

	// An overlay in a temporary folder, naming the folders relatively (kustomize refuses absolute ones).
	dir := t.TempDir()
	rel := func(p string) string {
		a, err := filepath.Abs(p)
		if err == nil {
			a, err = filepath.Rel(dir, a)
		}
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	overlay := "resources:\n- " + rel(defaultDir) + "\ncomponents:\n- " + rel("../../config/events") + "\n- " + rel("../../config/events-tls") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(overlay), 0o644); err != nil {
		t.Fatal(err)
	}
	objs := buildKustomization(t, dir)
	dep, svc := &appsv1.Deployment{}, &corev1.Service{}
	if !decode(t, objs, "Deployment", "tugboat-manager", dep) || !decode(t, objs, "Service", "tugboat-manager-events", svc) {
		t.Fatal("the Deployment or the Service tugboat-manager-events is missing")
	}
	e := eventsEndpoint(dep)
	wantArgs := []string{"--events-bind-address=:8443", "--events-token-secret=projectsveltos/tugboat-events-token",
		"--events-tls-cert-file=/etc/tugboat/events-tls/tls.crt", "--events-tls-key-file=/etc/tugboat/events-tls/tls.key"}
	if !slices.Equal(e.args, wantArgs) {
		t.Errorf("manager args %v, want %v", e.args, wantArgs)
	}
	if e.port == nil || e.port.ContainerPort != 8443 {
		t.Errorf("container port events: %+v, want 8443", e.port)
	}
	if len(e.mounts) != 1 || len(e.volumes) != 1 || e.volumes[0].Secret == nil || e.volumes[0].Secret.SecretName != "tugboat-events-tls" {
		t.Errorf("TLS mount %+v and volume %+v, want the Secret tugboat-events-tls", e.mounts, e.volumes)
	}
	checkManagerService(t, svc, dep, 8443, "events")
	if svc.Namespace != "projectsveltos" {
		t.Errorf("Service namespace %q, want projectsveltos", svc.Namespace)
	}

	// The API server accepts both objects (server-side dry run).
	ctx := context.Background()
	for _, o := range objs {
		if o.GetKind() != "Namespace" && o.GetName() != "tugboat-manager" && o.GetName() != "tugboat-manager-events" {
			continue
		}
		if o.GetKind() != "Namespace" && o.GetKind() != "Deployment" && o.GetKind() != "Service" {
			continue
		}
		opts := []client.ApplyOption{client.FieldOwner("tugboat-install-test"), client.ForceOwnership}
		if o.GetKind() != "Namespace" {
			opts = append(opts, client.DryRunAll)
		}
		if err := kc.Apply(ctx, client.ApplyConfigurationFromUnstructured(o), opts...); err != nil {
			t.Errorf("applying %s %s: %v", o.GetKind(), o.GetName(), err)
		}
	}
}
