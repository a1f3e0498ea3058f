package clusters_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
)

// tokenKubeconfig is a kubeconfig of a test cluster authenticating with token.
func tokenKubeconfig(t *testing.T, cluster, token string) []byte {
	t.Helper()
	cfg := env.Cluster(cluster).Config
	kc := clientcmdapi.NewConfig()
	kc.Clusters[cluster] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["sa"] = &clientcmdapi.AuthInfo{Token: token}
	kc.Contexts[cluster] = &clientcmdapi.Context{Cluster: cluster, AuthInfo: "sa"}
	kc.CurrentContext = cluster
	data, err := clientcmd.Write(*kc)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// allowTokenRequests lets the ServiceAccount request tokens for itself.
func allowTokenRequests(t *testing.T, cluster, namespace, name string) {
	t.Helper()
	ctx := context.Background()
	c := clientFor(t, cluster)
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name + "-token"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"serviceaccounts/token"}, ResourceNames: []string{name}, Verbs: []string{"create"}}}}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name + "-token"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: namespace, Name: name}}}
	if err := c.Create(ctx, role); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	if err := c.Create(ctx, binding); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// renewedToken reads the token of the kubeconfig under key in the cluster's Secret.
func renewedToken(t *testing.T, namespace, name, key string) (string, error) {
	t.Helper()
	secret := &corev1.Secret{}
	if err := mgmt.Get(context.Background(), types.NamespacedName{Namespace: namespace, Name: name + libv1beta1.KubeconfigSecretSuffix}, secret); err != nil {
		return "", err
	}
	raw, ok := secret.Data[key]
	if !ok {
		return "", fmt.Errorf("no key %q in the Secret", key)
	}
	kc, err := clientcmd.Load(raw)
	if err != nil {
		return "", err
	}
	return kc.AuthInfos[kc.Contexts[kc.CurrentContext].AuthInfo].Token, nil
}

// tokenLifetime reads how long a ServiceAccount token was issued for (exp - iat).
func tokenLifetime(t *testing.T, token string) time.Duration {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct{ Exp, Iat int64 }
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return time.Duration(claims.Exp-claims.Iat) * time.Second
}

// tokenRenewal renews every hour with two-hour tokens.
var tokenRenewal = &libv1beta1.TokenRequestRenewalOption{
	RenewTokenRequestInterval: metav1.Duration{Duration: time.Hour},
	TokenDuration:             metav1.Duration{Duration: 2 * time.Hour},
}

// With tokenRequestRenewalOption, the ServiceAccount token of the kubeconfig
// is renewed through a TokenRequest in the managed cluster: at once, written
// to the Secret's key re-kubeconfig (spec.kubeconfigKeyName points at it) with
// the requested lifetime, and again each time the interval has passed; the
// cluster stays reachable as the ServiceAccount. The test steps the
// controller's clock past the interval instead of waiting.
func TestTokenRequestRenewal(t *testing.T) {
	ctx := context.Background()
	const ns, name = "token-renewal", "workload"
	initial := serviceAccountToken(t, "workload", "token-renewal", "sveltos")
	allowTokenRequests(t, "workload", "token-renewal", "sveltos")
	if err := clusters.EnsureNamespace(ctx, mgmt, ns); err != nil {
		t.Fatal(err)
	}
	sc := &libv1beta1.SveltosCluster{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: libv1beta1.SveltosClusterSpec{TokenRequestRenewalOption: tokenRenewal.DeepCopy()}}
	if err := mgmt.Create(ctx, sc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = clusters.Deregister(ctx, mgmt, types.NamespacedName{Namespace: ns, Name: name}) })
	if _, err := clusters.Register(ctx, mgmt, clusters.Registration{Namespace: ns, Name: name, Kubeconfig: tokenKubeconfig(t, "workload", initial)}); err != nil {
		t.Fatal(err)
	}

	var first string
	renewed := waitFor(t, ns, name, "renewed once", func(sc *libv1beta1.SveltosCluster) error {
		if sc.Status.LastReconciledTokenRequestAt == "" || sc.Spec.KubeconfigKeyName != libv1beta1.DefaultRenewedKubeconfigKey {
			return fmt.Errorf("lastReconciledTokenRequestAt %q kubeconfigKeyName %q failure %q",
				sc.Status.LastReconciledTokenRequestAt, sc.Spec.KubeconfigKeyName, deref(sc.Status.FailureMessage))
		}
		var err error
		first, err = renewedToken(t, ns, name, libv1beta1.DefaultRenewedKubeconfigKey)
		return err
	})
	if first == initial {
		t.Fatal("the renewed kubeconfig holds the initial token")
	}
	if got := tokenLifetime(t, first); got != 2*time.Hour {
		t.Errorf("renewed token lives %s, want the tokenDuration 2h", got)
	}
	waitFor(t, ns, name, "ready with the renewed kubeconfig", isReady)
	if user, err := connectionUser(t, libv1beta1.SveltosClusterID(ns, name)); err != nil || user != "system:serviceaccount:token-renewal:sveltos" {
		t.Errorf("the connection authenticates as %q (%v)", user, err)
	}

	// Within the interval nothing is renewed; past it the token is renewed again.
	clock.Step(time.Hour + time.Minute)
	waitFor(t, ns, name, "renewed again", func(sc *libv1beta1.SveltosCluster) error {
		if sc.Status.LastReconciledTokenRequestAt == renewed.Status.LastReconciledTokenRequestAt {
			return fmt.Errorf("lastReconciledTokenRequestAt still %q", sc.Status.LastReconciledTokenRequestAt)
		}
		second, err := renewedToken(t, ns, name, libv1beta1.DefaultRenewedKubeconfigKey)
		if err != nil || second == first {
			return fmt.Errorf("token not renewed (%v)", err)
		}
		return nil
	})
}

// A renewal that cannot be made — a ServiceAccount that does not exist, or a
// kubeconfig that is not a ServiceAccount's without saName — is named in the
// status and a Warning Event; the Secret is left as it was and the cluster
// stays ready with its kubeconfig.
func TestTokenRequestRenewalFailures(t *testing.T) {
	const ns = "token-renewal-bad"
	for _, tc := range []struct {
		name, want string
		opt        libv1beta1.TokenRequestRenewalOption
	}{
		{name: "missing-sa", want: "requesting a token for ServiceAccount token-renewal-bad/missing",
			opt: libv1beta1.TokenRequestRenewalOption{RenewTokenRequestInterval: metav1.Duration{Duration: time.Hour}, SANamespace: "token-renewal-bad", SAName: "missing"}},
		{name: "not-a-sa", want: "not a ServiceAccount: set saNamespace and saName",
			opt: libv1beta1.TokenRequestRenewalOption{RenewTokenRequestInterval: metav1.Duration{Duration: time.Hour}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			registerWithSpec(t, ns, tc.name, "workload", libv1beta1.SveltosClusterSpec{TokenRequestRenewalOption: &tc.opt})
			sc := waitFor(t, ns, tc.name, "reporting the failed renewal", func(sc *libv1beta1.SveltosCluster) error {
				if !strings.Contains(deref(sc.Status.FailureMessage), tc.want) {
					return fmt.Errorf("failureMessage %q", deref(sc.Status.FailureMessage))
				}
				return nil
			})
			if !sc.Status.Ready || sc.Status.LastReconciledTokenRequestAt != "" || sc.Spec.KubeconfigKeyName != "" {
				t.Errorf("ready=%v lastReconciledTokenRequestAt %q kubeconfigKeyName %q", sc.Status.Ready, sc.Status.LastReconciledTokenRequestAt, sc.Spec.KubeconfigKeyName)
			}
			if _, err := renewedToken(t, ns, tc.name, libv1beta1.DefaultRenewedKubeconfigKey); err == nil {
				t.Error("a renewed kubeconfig was written")
			}
			waitForEvent(t, ns, tc.name, "TokenRenewalFailed", tc.want)
		})
	}
}
