package main

import (
	"strings"
	"testing"
)

// Without Flux's source API in the management cluster, tug bootstrap git says
// what to install (exit code 1) and creates no ClusterProfile.
func TestBootstrapGitWithoutFlux(t *testing.T) {
	out, err := tug(t, "--kubeconfig", env.Management().KubeconfigPath, "bootstrap", "git", "--url", "https://git.example.com/platform.git")
	if err == nil || !strings.Contains(err.Error(), "install Flux's source-controller") {
		t.Fatalf("err %v, want one naming Flux's source-controller (output %q)", err, out)
	}
	if _, ok := err.(usageError); ok {
		t.Errorf("a missing API is no usage error: %v", err)
	}
	if strings.Contains(out, "ClusterProfile") {
		t.Errorf("output %q names a ClusterProfile", out)
	}
}
