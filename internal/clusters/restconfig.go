package clusters

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// RESTConfigFor builds the client configuration of a registered cluster from its
// SveltosCluster and kubeconfig Secret in the management cluster, exactly as the
// Registry does, for callers (such as the command line) that want a one-off
// client rather than a shared Connection (workload identity runs the default
// credential plugins). Registration problems are ConfigErrors.
func RESTConfigFor(ctx context.Context, reader client.Reader, cluster libv1beta1.ClusterID) (*rest.Config, error) {
	cfg, _, err := restConfigFromSecret(ctx, reader, cluster, DefaultWorkloadIdentityCommands())
	return cfg, err
}

// restConfigFromSecret reads the kubeconfig of a cluster and returns the client
// configuration with a fingerprint of what it was built from. A SveltosCluster
// names its Secret and key; a Cluster API Cluster's kubeconfig is in the Secret
// <name>-kubeconfig, key "value" (the Cluster itself is not read: its Secret
// is what Cluster API writes once the cluster can be reached). A
// SveltosCluster with spec.workloadIdentity has no Secret: its configuration
// runs the provider's credential plugin of commands.
func restConfigFromSecret(ctx context.Context, reader client.Reader, cluster libv1beta1.ClusterID, commands WorkloadIdentityCommands) (*rest.Config, string, error) {
	secretName, keyName := cluster.Name+libv1beta1.CAPIKubeconfigSuffix, libv1beta1.CAPIKubeconfigSecretKey
	if !cluster.IsCAPI() {
		sc := &libv1beta1.SveltosCluster{}
		if err := reader.Get(ctx, cluster.Key(), sc); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, "", configErrorf("SveltosCluster %s not found", cluster)
			}
			return nil, "", fmt.Errorf("reading SveltosCluster %s: %w", cluster, err)
		}
		if sc.Spec.WorkloadIdentity != nil {
			return restConfigForWorkloadIdentity(ctx, reader, sc, commands)
		}
		secretName, keyName = sc.KubeconfigSecretName(), sc.Spec.KubeconfigKeyName
	}
	secret := &corev1.Secret{}
	if err := reader.Get(ctx, types.NamespacedName{Namespace: cluster.Namespace, Name: secretName}, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, "", configErrorf("kubeconfig Secret %s/%s not found", cluster.Namespace, secretName)
		}
		return nil, "", fmt.Errorf("reading kubeconfig Secret %s/%s: %w", cluster.Namespace, secretName, err)
	}
	key, raw, err := kubeconfigData(secret, keyName)
	if err != nil {
		return nil, "", err
	}
	cfg, err := restConfigFromKubeconfig(fmt.Sprintf("kubeconfig in Secret %s/%s key %q", cluster.Namespace, secretName, key), raw)
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(raw)
	return cfg, hex.EncodeToString(sum[:]), nil
}

// restConfigFromKubeconfig parses a kubeconfig (its current context) into the
// connection settings Tugboat uses; where names it in errors.
func restConfigFromKubeconfig(where string, raw []byte) (*rest.Config, error) {
	cfg, err := clientcmd.RESTConfigFromKubeConfig(raw)
	if err != nil {
		return nil, configErrorf("%s is invalid: %v", where, err)
	}
	if cfg.Host == "" {
		return nil, configErrorf("%s names no server", where)
	}
	cfg.QPS, cfg.Burst = 100, 200
	return cfg, nil
}
