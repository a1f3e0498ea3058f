package install_test

import (
	"slices"
	"strings"
	"testing"
)

// pullModeHub.enabled serves the pull-mode hub: the manager's flags (the
// Service's DNS name and the given hosts in its certificate), its container
// port and a Service agents connect to.
func TestChartPullModeHubValues(t *testing.T) {
	dep, svc := renderManagerAndService(t, map[string]any{"pullModeHub": map[string]any{"enabled": true, "hosts": []any{"hub.example.com"}}}, "pullmode-hub")
	var args []string
	for _, a := range dep.Spec.Template.Spec.Containers[0].Args {
		if strings.HasPrefix(a, "--pullmode-hub-") {
			args = append(args, a)
		}
	}
	want := []string{"--pullmode-hub-address=:8444", "--pullmode-hub-host=render-tugboat-pullmode-hub.somewhere.svc", "--pullmode-hub-host=hub.example.com"}
	if !slices.Equal(args, want) {
		t.Errorf("manager args %v, want %v", args, want)
	}
	found := false
	for _, p := range dep.Spec.Template.Spec.Containers[0].Ports {
		found = found || p.Name == "pullmode-hub" && p.ContainerPort == 8444
	}
	if !found {
		t.Errorf("no container port pullmode-hub 8444 in %+v", dep.Spec.Template.Spec.Containers[0].Ports)
	}
	checkManagerService(t, svc, dep, 8444, "pullmode-hub")
}
