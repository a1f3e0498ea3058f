package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// `tug register cluster --pull-mode` creates the SveltosCluster in pull mode
// (no kubeconfig Secret) and its agent's identity — a Role granting only
// "connect" on sveltosclusters/agent for that one cluster — and prints a
// manifest for the managed cluster whose Secret holds the hub's URL and CA,
// the agent's token and the cluster's name.
func TestRegisterPullMode(t *testing.T) {
	t.Setenv("KUBECONFIG", env.Management().KubeconfigPath)
	const ns, name = "cli-pull", "edge"
	caFile := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(caFile, []byte("-----BEGIN CERTIFICATE-----\nTEST\n-----END CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	issuedToken := playTokenController(t, ns, name)
	out, err := tugStdout(t, "register", "cluster", "--pull-mode", "-n", ns, "--cluster", name, "--labels=env=edge",
		"--hub-url=https://hub.example.com:8443", "--hub-ca-file="+caFile)
	if err != nil {
		t.Fatalf("register: %v\n%s", err, out)
	}
	t.Cleanup(func() { _, _ = tug(t, "deregister", "cluster", "-n", ns, "--cluster", name) })

	token := issuedToken()
	ctx := context.Background()
	sc := &libv1beta1.SveltosCluster{}
	if err := mgmt.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, sc); err != nil {
		t.Fatal(err)
	}
	if !sc.Spec.PullMode || sc.Labels["env"] != "edge" {
		t.Errorf("SveltosCluster: pullMode %v, labels %v", sc.Spec.PullMode, sc.Labels)
	}
	if err := mgmt.Get(ctx, types.NamespacedName{Namespace: ns, Name: name + libv1beta1.KubeconfigSecretSuffix}, &corev1.Secret{}); !apierrors.IsNotFound(err) {
		t.Errorf("kubeconfig Secret of a pull-mode cluster: want none, got %v", err)
	}
	role := &rbacv1.Role{}
	if err := mgmt.Get(ctx, types.NamespacedName{Namespace: ns, Name: name + "-agent"}, role); err != nil {
		t.Fatal(err)
	}
	want := []rbacv1.PolicyRule{{APIGroups: []string{"lib.projectsveltos.io"}, Resources: []string{"sveltosclusters/agent"}, Verbs: []string{"connect"}, ResourceNames: []string{name}}}
	if fmt.Sprint(role.Rules) != fmt.Sprint(want) {
		t.Errorf("agent Role rules %v, want only %v", role.Rules, want)
	}
	binding := &rbacv1.RoleBinding{}
	if err := mgmt.Get(ctx, types.NamespacedName{Namespace: ns, Name: name + "-agent"}, binding); err != nil {
		t.Fatal(err)
	}
	if binding.RoleRef.Name != role.Name || len(binding.Subjects) != 1 || binding.Subjects[0].Name != name+"-agent" {
		t.Errorf("agent RoleBinding %v → %v", binding.Subjects, binding.RoleRef)
	}

	// The manifest parses, and its Secret carries the connection.
	kinds := []string{}
	var secret *corev1.Secret
	decoder := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(out), 4096)
	for {
		obj := &unstructured.Unstructured{}
		if err := decoder.Decode(&obj.Object); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatalf("manifest does not parse: %v\n%s", err, out)
		}
		if obj.Object == nil {
			continue
		}
		kinds = append(kinds, obj.GetKind())
		if obj.GetKind() == "Secret" {
			raw, _ := yaml.Marshal(obj.Object)
			secret = &corev1.Secret{}
			if err := yaml.Unmarshal(raw, secret); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !slices.Equal(kinds, []string{"Namespace", "ServiceAccount", "ClusterRoleBinding", "Secret", "Deployment"}) {
		t.Fatalf("manifest kinds %v", kinds)
	}
	wantData := map[string]string{"hub-url": "https://hub.example.com:8443", "token": token, "cluster-namespace": ns, "cluster-name": name,
		"ca.crt": "-----BEGIN CERTIFICATE-----\nTEST\n-----END CERTIFICATE-----\n"}
	for k, v := range wantData {
		if secret.StringData[k] != v {
			t.Errorf("agent Secret %s = %q, want %q", k, secret.StringData[k], v)
		}
	}
	if !strings.Contains(out, "--from-secret=/etc/tugboat-agent") || !strings.Contains(out, "image: ghcr.io/tugboat-dev/tugboat-manager:") {
		t.Errorf("the Deployment does not run tug agent --from-secret with the manager's image:\n%s", out)
	}
}

// `tug deregister cluster` of a pull-mode cluster deletes the SveltosCluster
// and its agent's ServiceAccount, Role, RoleBinding and token Secret.
func TestDeregisterPullMode(t *testing.T) {
	t.Setenv("KUBECONFIG", env.Management().KubeconfigPath)
	const ns, name = "cli-pull-dereg", "edge"
	ctx := context.Background()
	if _, err := clusters.RegisterPullMode(ctx, mgmt, clusters.PullModeRegistration{Namespace: ns, Name: name}); err != nil {
		t.Fatal(err)
	}
	if out, err := tug(t, "deregister", "cluster", "-n", ns, "--cluster", name); err != nil {
		t.Fatalf("deregister: %v\n%s", err, out)
	}
	id := clusters.AgentIdentityOf(types.NamespacedName{Namespace: ns, Name: name})
	for _, o := range []struct {
		obj client.Object
		key types.NamespacedName
	}{
		{&libv1beta1.SveltosCluster{}, types.NamespacedName{Namespace: ns, Name: name}},
		{&corev1.ServiceAccount{}, id.ServiceAccount},
		{&rbacv1.Role{}, id.Role},
		{&rbacv1.RoleBinding{}, id.RoleBinding},
		{&corev1.Secret{}, id.TokenSecret},
	} {
		testenv.Eventually(t, fmt.Sprintf("%T %s deleted", o.obj, o.key), func() error {
			if err := mgmt.Get(ctx, o.key, o.obj); !apierrors.IsNotFound(err) {
				return fmt.Errorf("still there (%v)", err)
			}
			return nil
		})
	}
}

// playTokenController fills the agent's token Secret of namespace/name once it
// is created, as kube-controller-manager's token controller would (the test
// clusters run none): with a token of the agent's ServiceAccount obtained by
// a TokenRequest. The function it returns gives that token once written.
func playTokenController(t *testing.T, namespace, name string) func() string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	cs, err := kubernetes.NewForConfig(env.Management().Config)
	if err != nil {
		t.Fatal(err)
	}
	id := clusters.AgentIdentityOf(types.NamespacedName{Namespace: namespace, Name: name})
	tokens := make(chan string, 1)
	go func() {
		defer close(done)
		defer close(tokens)
		for ctx.Err() == nil {
			secret := &corev1.Secret{}
			if err := mgmt.Get(ctx, id.TokenSecret, secret); err != nil {
				time.Sleep(50 * time.Millisecond) // polling, as testenv.Eventually does
				continue
			}
			tr, err := cs.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, id.ServiceAccount.Name, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
			if err != nil {
				time.Sleep(50 * time.Millisecond)
				continue
			}
			secret.Data = map[string][]byte{corev1.ServiceAccountTokenKey: []byte(tr.Status.Token)}
			if err := mgmt.Update(ctx, secret); err != nil {
				continue
			}
			tokens <- tr.Status.Token
			return
		}
	}()
	return func() string { return <-tokens } // "" when the player gave up
}

// tugStdout runs tug in-process and returns its stdout alone (stderr goes to
// the test log).
func tugStdout(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCommand()
	var stdout, stderr bytes.Buffer
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	t.Log(stderr.String())
	return stdout.String(), err
}
