package main

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// `tug generate kubeconfig --create` against a managed cluster prints a
// kubeconfig whose token works there.
func TestGenerateKubeconfig(t *testing.T) {
	services := env.Cluster("services")
	args := []string{"generate", "kubeconfig", "--kubeconfig=" + services.KubeconfigPath,
		"--namespace=gen", "--serviceaccount=registrar"}

	// Without --create the service account must exist.
	_, err := tug(t, args...)
	if err == nil || !strings.Contains(err.Error(), "run again with --create") {
		t.Fatalf("missing service account: %v", err)
	}

	out, err := tug(t, append(args, "--create", "--expiration-seconds=3600")...)
	if err != nil {
		t.Fatalf("generate kubeconfig: %v\n%s", err, out)
	}
	cfg, err := clientcmd.Load([]byte(out))
	if err != nil {
		t.Fatalf("printed kubeconfig: %v\n%s", err, out)
	}
	ctx := cfg.Contexts[cfg.CurrentContext]
	if ctx == nil || cfg.AuthInfos[ctx.AuthInfo] == nil || cfg.AuthInfos[ctx.AuthInfo].Token == "" ||
		len(cfg.AuthInfos[ctx.AuthInfo].ClientCertificateData) != 0 {
		t.Fatalf("printed kubeconfig has no token user:\n%s", out)
	}
	rc, err := clientcmd.RESTConfigFromKubeConfig([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if rc.Host != services.URL {
		t.Errorf("server %s, want %s", rc.Host, services.URL)
	}
	c, err := client.New(rc, client.Options{})
	must(t, err)
	nss := &corev1.NamespaceList{}
	if err := c.List(context.Background(), nss); err != nil {
		t.Fatalf("listing namespaces with the generated kubeconfig: %v", err)
	}
	found := false
	for _, ns := range nss.Items {
		found = found || ns.Name == "gen"
	}
	if !found {
		t.Error("namespace gen not listed with the generated kubeconfig")
	}

	// Running it again (service account and binding exist) works too, and so
	// does asking for a token of an existing service account.
	if out, err := tug(t, append(args, "--create")...); err != nil {
		t.Errorf("second --create: %v\n%s", err, out)
	}
	if out, err := tug(t, args...); err != nil {
		t.Errorf("existing service account: %v\n%s", err, out)
	}
}
