package clusters

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// A kubeconfig Secret holds whatever someone put there: reading it never panics,
// and what is refused says which Secret and key.
func FuzzKubeconfigSecret(f *testing.F) {
	valid := `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: abc}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`
	f.Add("kubeconfig", []byte(valid))
	f.Add("value", []byte(strings.Replace(valid, "https://127.0.0.1:6443", "", 1)))
	f.Add("", []byte("current-context: nowhere\n"))
	f.Add("kubeconfig", []byte("{"))
	f.Add("other", []byte(strings.Replace(valid, "token: abc", "client-certificate-data: bm90IGEgY2VydA==", 1)))
	f.Fuzz(func(t *testing.T, key string, raw []byte) {
		secret := &corev1.Secret{Data: map[string][]byte{key: raw}}
		secret.Namespace, secret.Name = "fleet", "c1-sveltos-kubeconfig"
		k, data, err := kubeconfigData(secret, "")
		if err != nil {
			return
		}
		where := "kubeconfig in Secret fleet/c1-sveltos-kubeconfig key " + k
		cfg, err := restConfigFromKubeconfig(where, data)
		if err != nil {
			if !strings.Contains(err.Error(), where) {
				t.Fatalf("error %q does not name the Secret and key", err)
			}
			return
		}
		if cfg.Host == "" {
			t.Fatal("accepted a kubeconfig without a server")
		}
	})
}
