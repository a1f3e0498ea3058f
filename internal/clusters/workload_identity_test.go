package clusters_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// execPluginScript stands in for "aws eks get-token": it records its arguments
// beside itself and prints, as an ExecCredential, the token the test left for
// the cluster named by --cluster-name; without one it fails as a cloud would.
const execPluginScript = `#!/bin/sh
dir=$(dirname "$0")
echo "$*" >> "$dir/args"
cluster=""
while [ $# -gt 0 ]; do
  if [ "$1" = "--cluster-name" ]; then cluster="$2"; fi
  shift
done
if [ ! -f "$dir/token-$cluster" ]; then
  echo "no credentials for cluster $cluster" >&2
  exit 1
fi
printf '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"%s"}}\n' "$(cat "$dir/token-$cluster")"
`

// writeExecPlugin writes the stand-in credential plugin at path.
func writeExecPlugin(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(execPluginScript), 0o755)
}

// serviceAccountToken creates a ServiceAccount in a test cluster and returns a
// token the cluster's API server issued for it.
func serviceAccountToken(t *testing.T, cluster, namespace, name string) string {
	t.Helper()
	ctx := context.Background()
	cs := kubernetes.NewForConfigOrDie(env.Cluster(cluster).Config)
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	if _, err := cs.CoreV1().ServiceAccounts(namespace).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	seconds := int64(time.Hour / time.Second)
	tr, err := cs.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &seconds}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return tr.Status.Token
}

// connectionUser asks a cluster, through the manager's connection to it, who
// the connection authenticates as.
func connectionUser(t *testing.T, id libv1beta1.ClusterID) (string, error) {
	t.Helper()
	conn, err := mgr.Registry.Get(context.Background(), id)
	if err != nil {
		return "", err
	}
	cs, err := kubernetes.NewForConfig(conn.Config)
	if err != nil {
		return "", err
	}
	review, err := cs.AuthenticationV1().SelfSubjectReviews().Create(context.Background(), &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		return "", err
	}
	return review.Status.UserInfo.Username, nil
}

// pluginCalledWith reports whether the stand-in plugin was run with exactly args.
func pluginCalledWith(args string) error {
	data, err := os.ReadFile(filepath.Join(filepath.Dir(execPlugin), "args"))
	if err != nil {
		return err
	}
	if !slices.Contains(strings.Split(string(data), "\n"), args) {
		return fmt.Errorf("plugin never run with %q; runs:\n%s", args, data)
	}
	return nil
}

// A cluster with spec.workloadIdentity (provider AWS) and no kubeconfig Secret
// is reached at its endpoint with the token the provider's credential plugin
// prints: the plugin is run with the EKS cluster's name and region, the
// cluster becomes ready, and the API server sees the identity of the token.
func TestWorkloadIdentityRunsTheProviderPlugin(t *testing.T) {
	ctx := context.Background()
	const ns, name = "workload-identity", "eks"
	token := serviceAccountToken(t, "workload", "workload-identity", "tugboat")
	if err := os.WriteFile(filepath.Join(filepath.Dir(execPlugin), "token-eks-test"), []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	ca := workloadCASecret(t, ns)
	sc := &libv1beta1.SveltosCluster{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: libv1beta1.SveltosClusterSpec{WorkloadIdentity: &libv1beta1.WorkloadIdentityConfig{
			Provider:    libv1beta1.WorkloadIdentityProviderAWS,
			Endpoint:    env.Cluster("workload").Config.Host,
			CASecretRef: &corev1.LocalObjectReference{Name: ca.Name},
			AWS:         &libv1beta1.AWSWorkloadIdentityConfig{ClusterName: "eks-test", Region: "eu-west-1"},
		}},
	}
	if err := mgmt.Create(ctx, sc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mgmt.Delete(ctx, sc) })
	waitFor(t, ns, name, "ready", isReady)
	if err := pluginCalledWith("eks get-token --cluster-name eks-test --region eu-west-1 --output json"); err != nil {
		t.Error(err)
	}
	user, err := connectionUser(t, libv1beta1.SveltosClusterID(ns, name))
	if err != nil || user != "system:serviceaccount:workload-identity:tugboat" {
		t.Errorf("the connection authenticates as %q (%v), want the plugin's ServiceAccount", user, err)
	}
}

// A plugin that fails (no credentials for the named cluster) keeps the cluster
// from becoming ready, with the credential failure in its status; a missing CA
// Secret is a registration problem named in the status.
func TestWorkloadIdentityPluginFailure(t *testing.T) {
	ctx := context.Background()
	const ns = "workload-identity-bad"
	ca := workloadCASecret(t, ns)
	for _, tc := range []struct {
		name string
		ca   *corev1.LocalObjectReference
		want string
	}{
		{name: "no-credentials", ca: &corev1.LocalObjectReference{Name: ca.Name}, want: "getting credentials"},
		{name: "no-ca", ca: &corev1.LocalObjectReference{Name: "missing-ca"}, want: "spec.workloadIdentity.caSecretRef: Secret workload-identity-bad/missing-ca not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := &libv1beta1.SveltosCluster{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: tc.name},
				Spec: libv1beta1.SveltosClusterSpec{WorkloadIdentity: &libv1beta1.WorkloadIdentityConfig{
					Provider:    libv1beta1.WorkloadIdentityProviderAWS,
					Endpoint:    env.Cluster("workload").Config.Host,
					CASecretRef: tc.ca,
					AWS:         &libv1beta1.AWSWorkloadIdentityConfig{ClusterName: "unknown-" + tc.name},
				}},
			}
			if err := mgmt.Create(ctx, sc); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = mgmt.Delete(ctx, sc) })
			testenv.Eventually(t, tc.name+" reported", func() error {
				got := getCluster(t, ns, tc.name)
				if got.Status.Ready || !strings.Contains(deref(got.Status.FailureMessage), tc.want) {
					return fmt.Errorf("ready=%v failureMessage %q", got.Status.Ready, deref(got.Status.FailureMessage))
				}
				return nil
			})
		})
	}
}

// workloadCASecret creates namespace ns (when missing) and in it the Secret
// eks-ca holding the workload cluster's CA, what caSecretRef names.
func workloadCASecret(t *testing.T, ns string) *corev1.Secret {
	t.Helper()
	ctx := context.Background()
	if err := mgmt.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	ca := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "eks-ca"},
		Data: map[string][]byte{"ca.crt": env.Cluster("workload").Config.CAData}}
	if err := mgmt.Create(ctx, ca); err != nil {
		t.Fatal(err)
	}
	return ca
}
