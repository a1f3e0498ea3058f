package chaos_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// A managed cluster's kubeconfig Secret replaced by one whose token the API
// server does not accept (revoked or expired): the cluster goes Down with a
// message saying the credentials were refused, nothing is withdrawn from it,
// the other clusters follow a rollout meanwhile; the Secret rotated back to
// valid credentials, the cluster recovers on the Secret's change and gets what
// it missed.
func TestRevokedCredentials(t *testing.T) {
	const scenario = "kubeconfig token revoked, then rotated"
	ctx := context.Background()
	sc := newScene(t)
	sc.startManager("manager", managerFlags{})
	f := registerFleet(t, "creds", 4, managed...)
	const profile = "chaos-creds"
	createProfile(t, f, profile, "v1", nil)
	if got, _ := converge(t, "first rollout", time.Now(), func(ctx context.Context) (tally, error) {
		return f.check(ctx, profile, "v1", f.clusters)
	}); !got.converged() {
		t.FailNow()
	}
	victim := f.clusters[0]
	others := f.clusters[1:]
	before, err := uids(ctx, profile, victim.server)
	if err != nil {
		t.Fatal(err)
	}

	revoked, err := kubeconfigWithToken(victim.server, "revoked-token-of-"+victim.name)
	if err != nil {
		t.Fatal(err)
	}
	setKubeconfig(t, victim, revoked)
	waitFor(t, "the cluster Down with a message naming the refused credentials", s.size.converge, func() error {
		cl := &libv1beta1.SveltosCluster{}
		if err := s.mgmt.Get(ctx, client.ObjectKey{Namespace: victim.name, Name: victim.name}, cl); err != nil {
			return err
		}
		msg := ""
		if cl.Status.FailureMessage != nil {
			msg = *cl.Status.FailureMessage
		}
		if cl.Status.Ready || cl.Status.ConnectionStatus != libv1beta1.ConnectionDown || !refusedCredentials(msg) {
			return fmt.Errorf("ready %t, %s, message %q", cl.Status.Ready, cl.Status.ConnectionStatus, msg)
		}
		return nil
	})
	setPolicy(t, profile, "v2")
	waitFor(t, "the other clusters at v2", s.size.converge, func() error {
		got, err := f.check(ctx, profile, "v2", others)
		// The victim's objects stay at v1 and its summary waits: not duplicates.
		if err != nil || got.current != len(others) {
			return fmt.Errorf("%v %v", got, err)
		}
		return nil
	})

	setKubeconfig(t, victim, s.env.Cluster(victim.server).Kubeconfig)
	rotated := time.Now()
	got, took := converge(t, "after the rotation", rotated, func(ctx context.Context) (tally, error) {
		return f.check(ctx, profile, "v2", f.clusters)
	})
	after, err := uids(ctx, profile, victim.server)
	if err != nil {
		t.Fatal(err)
	}
	// Objects of the victim's namespace that were deleted (withdrawn) and deployed again.
	gone := 0
	for k, uid := range before {
		if strings.HasPrefix(k, victim.name+"/") && after[k] != uid {
			gone++
		}
	}
	if gone > 0 {
		t.Errorf("%d objects of %s were withdrawn and deployed again while its credentials were refused", gone, victim.name)
	}
	s.results.record(t, outcome{Scenario: scenario, Converged: got.converged(), Duplicates: got.duplicates, Lost: got.lost + gone,
		Converge: took.Seconds(), Note: "converge counted from the Secret's rotation"})
}

// refusedCredentials reports whether a probe's message says the API server
// refused the credentials (HTTP 401, in client-go's words or the status's).
func refusedCredentials(msg string) bool {
	msg = strings.ToLower(msg)
	return strings.Contains(msg, "unauthorized") || strings.Contains(msg, "provide credentials")
}

// kubeconfigWithToken is a kubeconfig for an API server authenticating with a
// bearer token (which these API servers do not know: refused as a revoked one would be).
func kubeconfigWithToken(server, token string) ([]byte, error) {
	c := s.env.Cluster(server)
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[server] = &clientcmdapi.Cluster{Server: c.URL, CertificateAuthorityData: c.Config.CAData}
	cfg.AuthInfos["revoked"] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts[server] = &clientcmdapi.Context{Cluster: server, AuthInfo: "revoked"}
	cfg.CurrentContext = server
	out, err := clientcmd.Write(*cfg)
	if err != nil {
		return nil, fmt.Errorf("writing a kubeconfig for %s: %w", server, err)
	}
	return out, nil
}

// setKubeconfig replaces the kubeconfig in a cluster's Secret.
func setKubeconfig(t *testing.T, c fleetCluster, kubeconfig []byte) {
	t.Helper()
	ctx := context.Background()
	secret := &corev1.Secret{}
	if err := s.mgmt.Get(ctx, client.ObjectKey{Namespace: c.name, Name: c.name + libv1beta1.KubeconfigSecretSuffix}, secret); err != nil {
		t.Fatal(err)
	}
	secret.Data[libv1beta1.KubeconfigSecretKey] = kubeconfig
	if err := s.mgmt.Update(ctx, secret); err != nil {
		t.Fatal(err)
	}
}
