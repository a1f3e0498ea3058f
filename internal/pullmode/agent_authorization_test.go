package pullmode_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/pullmode"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// The hub accepts only an agent whose token is valid and allowed to connect
// as that very cluster's agent, and only for a cluster in pull mode: a bad
// token is 401, the token of cluster B's agent connecting as A is 403 naming
// the user, a cluster not in pull mode is 409, another shard's cluster 421, a
// deleted cluster 404.
func TestAgentAuthorization(t *testing.T) {
	tokenA := registerPullCluster(t, "authz", "cluster-a", true)
	tokenB := registerPullCluster(t, "authz", "cluster-b", true)
	tokenPush := registerPullCluster(t, "authz", "pushed", false)
	tokenOther := registerPullCluster(t, "authz", "other-shard", true)
	tokenGone := registerPullCluster(t, "authz", "gone", true)
	mgmt := testenv.ClusterClient(t, env, "mgmt")
	ctx := context.Background()
	testenv.Update(t, mgmt, clusterKey("authz", "other-shard"), &libv1beta1.SveltosCluster{}, func(sc *libv1beta1.SveltosCluster) {
		sc.Annotations = map[string]string{libv1beta1.ShardAnnotation: "eu"}
	})
	if err := mgmt.Delete(ctx, &libv1beta1.SveltosCluster{ObjectMeta: metav1.ObjectMeta{Namespace: "authz", Name: "gone"}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, cluster, token string
		status               int
		want                 string
	}{
		{"bad token", "cluster-a", "not-a-token", http.StatusUnauthorized, "not valid"},
		{"another cluster's agent", "cluster-a", tokenB, http.StatusForbidden, "system:serviceaccount:authz:cluster-b-agent may not connect as the agent of SveltosCluster authz/cluster-a"},
		{"not in pull mode", "pushed", tokenPush, http.StatusConflict, "not in pull mode"},
		{"another shard's cluster", "other-shard", tokenOther, http.StatusMisdirectedRequest, `belongs to shard "eu", this manager serves shard ""`},
		{"no such cluster", "gone", tokenGone, http.StatusNotFound, "SveltosCluster authz/gone not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := connectOnce(t, "authz", tc.cluster, tc.token)
			if status != tc.status || !strings.Contains(body, tc.want) {
				t.Fatalf("got %d %q, want %d mentioning %q", status, body, tc.status, tc.want)
			}
		})
	}
	// The refusal of cluster-b's agent as cluster-a shows in cluster-a's dial
	// errors (and so in its status), not the bad token's.
	_, err := hub.RESTConfig(libv1beta1.SveltosClusterID("authz", "cluster-a")).Dial(ctx, "tcp", "cluster-a")
	if err == nil || !strings.Contains(err.Error(), "was refused: 403 system:serviceaccount:authz:cluster-b-agent may not connect") {
		t.Fatalf("dialing cluster-a after the refusal: got %v", err)
	}
	// An authorized agent is switched to the session protocol.
	if status, body := connectOnce(t, "authz", "cluster-a", tokenA); status != http.StatusSwitchingProtocols {
		t.Fatalf("cluster-a's own agent: got %d %q, want 101", status, body)
	}
}

// connectOnce makes one connection request as the agent of namespace/name
// and returns the hub's status and message (closing an accepted connection).
func connectOnce(t *testing.T, namespace, name, token string) (int, string) {
	t.Helper()
	return connectOnceTo(t, hubURL(), namespace, name, token)
}

// connectOnceTo is connectOnce against the hub at url (trusting the CA of the
// hub's CA Secret).
func connectOnceTo(t *testing.T, url, namespace, name, token string) (int, string) {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(hubCA(t))
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url+pullmode.ConnectPath+namespace+"/"+name, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", pullmode.UpgradeProtocol)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusSwitchingProtocols {
		return resp.StatusCode, ""
	}
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(body))
}
