package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// `tug register cluster --kubeconfig=FILE` (sveltosctl's spelling) stores the
// file in the Secret and labels the SveltosCluster; the management cluster comes
// from KUBECONFIG.
func TestRegisterClusterFromFile(t *testing.T) {
	t.Setenv("KUBECONFIG", env.Management().KubeconfigPath)
	out, err := tug(t, "register", "cluster", "--namespace=cli-file", "--cluster=services",
		"--kubeconfig="+env.Cluster("services").KubeconfigPath, "--labels=type=services,env=dev")
	if err != nil {
		t.Fatalf("register: %v\n%s", err, out)
	}
	sc := &libv1beta1.SveltosCluster{}
	if err := mgmt.Get(context.Background(), types.NamespacedName{Namespace: "cli-file", Name: "services"}, sc); err != nil {
		t.Fatal(err)
	}
	if sc.Labels["type"] != "services" || sc.Labels["env"] != "dev" {
		t.Errorf("labels %v", sc.Labels)
	}
	secret := &corev1.Secret{}
	if err := mgmt.Get(context.Background(), types.NamespacedName{Namespace: "cli-file", Name: "services-sveltos-kubeconfig"}, secret); err != nil {
		t.Fatal(err)
	}
	if string(secret.Data["kubeconfig"]) != string(env.Cluster("services").Kubeconfig) {
		t.Error("Secret does not hold the given kubeconfig")
	}

	out, err = tug(t, "deregister", "cluster", "-n", "cli-file", "--cluster=services")
	if err != nil {
		t.Fatalf("deregister: %v\n%s", err, out)
	}
	if err := mgmt.Get(context.Background(), types.NamespacedName{Namespace: "cli-file", Name: "services-sveltos-kubeconfig"}, secret); err == nil {
		t.Error("Secret still exists after deregister")
	}
}

// --fleet-cluster-context reads a context of the user's kubeconfig and writes a
// self-contained kubeconfig (credentials embedded, other contexts left out).
func TestRegisterClusterFromContext(t *testing.T) {
	dir := t.TempDir()
	// A user's kubeconfig with two contexts whose certificates live in files.
	user := clientcmdapi.NewConfig()
	for _, c := range []string{"mgmt", "services"} {
		cfg, err := clientcmd.Load(env.Cluster(c).Kubeconfig)
		if err != nil {
			t.Fatal(err)
		}
		cl, ai := cfg.Clusters[c], cfg.AuthInfos[c+"-admin"]
		ca, crt, key := filepath.Join(dir, c+"-ca.crt"), filepath.Join(dir, c+".crt"), filepath.Join(dir, c+".key")
		must(t, os.WriteFile(ca, cl.CertificateAuthorityData, 0o600))
		must(t, os.WriteFile(crt, ai.ClientCertificateData, 0o600))
		must(t, os.WriteFile(key, ai.ClientKeyData, 0o600))
		user.Clusters[c] = &clientcmdapi.Cluster{Server: cl.Server, CertificateAuthority: ca}
		user.AuthInfos[c] = &clientcmdapi.AuthInfo{ClientCertificate: crt, ClientKey: key}
		user.Contexts["kind-"+c] = &clientcmdapi.Context{Cluster: c, AuthInfo: c}
	}
	user.CurrentContext = "kind-mgmt"
	path := filepath.Join(dir, "config")
	must(t, clientcmd.WriteToFile(*user, path))
	t.Setenv("KUBECONFIG", path)

	out, err := tug(t, "register", "cluster", "--namespace=cli-context", "--cluster=services",
		"--fleet-cluster-context=kind-services", "--labels=type=services")
	if err != nil {
		t.Fatalf("register: %v\n%s", err, out)
	}
	secret := &corev1.Secret{}
	if err := mgmt.Get(context.Background(), types.NamespacedName{Namespace: "cli-context", Name: "services-sveltos-kubeconfig"}, secret); err != nil {
		t.Fatal(err)
	}
	stored, err := clientcmd.Load(secret.Data["kubeconfig"])
	if err != nil {
		t.Fatal(err)
	}
	if len(stored.Contexts) != 1 || stored.CurrentContext != "kind-services" {
		t.Errorf("stored kubeconfig contexts %v current %q", keys(stored.Contexts), stored.CurrentContext)
	}
	if cl := stored.Clusters["services"]; cl == nil || len(cl.CertificateAuthorityData) == 0 || cl.CertificateAuthority != "" {
		t.Error("stored kubeconfig does not embed the cluster's CA")
	}
	// Removing the files proves the stored kubeconfig stands on its own.
	must(t, os.RemoveAll(dir))
	cfg, err := clientcmd.RESTConfigFromKubeConfig(secret.Data["kubeconfig"])
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != env.Cluster("services").URL {
		t.Errorf("stored kubeconfig points at %s", cfg.Host)
	}
}

// Mistakes get one clear line and the usage exit code.
func TestRegisterClusterErrors(t *testing.T) {
	t.Setenv("KUBECONFIG", env.Management().KubeconfigPath)
	for _, tc := range []struct {
		args  []string
		usage bool
		want  string
	}{
		{[]string{"--namespace=x", "--cluster=y"}, true, "give exactly one of"},
		{[]string{"--cluster=y", "--kubeconfig=/nonexistent"}, true, "--namespace and --cluster are required"},
		{[]string{"--namespace=x", "--cluster=y", "--kubeconfig=/nonexistent/file"}, false, "no such file"},
		{[]string{"--namespace=x", "--cluster=y", "--fleet-cluster-context=nope"}, false, `context "nope" not found`},
		{[]string{"--namespace=x", "--cluster=y", "--kubeconfig-file=" + env.Cluster("services").KubeconfigPath, "--labels=a=b,c"}, true, `label "c" is not of the form key=value`},
	} {
		_, err := tug(t, append([]string{"register", "cluster"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
			continue
		}
		var ue usageError
		if errors.As(err, &ue) != tc.usage {
			t.Errorf("%v: usage error = %v, want %v", tc.args, !tc.usage, tc.usage)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
