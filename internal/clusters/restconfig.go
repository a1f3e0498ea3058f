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
// credential plugins). Registration problems are ConfigErrors; a cluster in
// pull mode is one too, since only the manager reaches it (through its agent).
func RESTConfigFor(ctx context.Context, reader client.Reader, cluster libv1beta1.ClusterID) (*rest.Config, error) {
	cfg, _, err := restConfigFromSecret(ctx, reader, cluster, DefaultWorkloadIdentityCommands(), pullModeOutOfManager)
	return cfg, err
}

// PullModeHub reaches the clusters in pull mode (spec.pullMode) through their
// agents: internal/pullmode's Hub.
type PullModeHub interface {
	// RESTConfig is the client configuration that reaches cluster through its
	// agent (it works across the agent's reconnections).
	RESTConfig(cluster libv1beta1.ClusterID) *rest.Config
	// Subscribe has fn told when the agent of a cluster connects or disconnects.
	Subscribe(fn func(cluster libv1beta1.ClusterID, connected bool))
}

// pullModeFingerprint is the fingerprint of every pull-mode configuration:
// it depends on nothing the SveltosCluster or a Secret says.
const pullModeFingerprint = "pullmode"

// pullModeConfig builds the configuration of a pull-mode cluster.
type pullModeConfig func(cluster libv1beta1.ClusterID) (*rest.Config, string, error)

// pullModeOutOfManager is what a caller other than the manager gets for a
// pull-mode cluster: it cannot reach it.
func pullModeOutOfManager(cluster libv1beta1.ClusterID) (*rest.Config, string, error) {
	return nil, "", configErrorf("SveltosCluster %s is in pull mode: only the manager reaches it, through its agent", cluster)
}

// pullModeThrough is the configuration of a pull-mode cluster reached through
// hub, or a ConfigError when the manager has no hub.
func pullModeThrough(hub PullModeHub) pullModeConfig {
	return func(cluster libv1beta1.ClusterID) (*rest.Config, string, error) {
		if hub == nil {
			return nil, "", configErrorf("SveltosCluster %s is in pull mode, but pull mode is not enabled on this manager (--pullmode-hub-address)", cluster)
		}
		cfg := hub.RESTConfig(cluster)
		limitRequests(cfg)
		return cfg, pullModeFingerprint, nil
	}
}

// restConfigFromSecret reads the kubeconfig of a cluster and returns the client
// configuration with a fingerprint of what it was built from. A SveltosCluster
// names its Secret and key; a Cluster API Cluster's kubeconfig is in the Secret
// <name>-kubeconfig, key "value" (the Cluster itself is not read: its Secret
// is what Cluster API writes once the cluster can be reached). A
// SveltosCluster with spec.workloadIdentity has no Secret: its configuration
// runs the provider's credential plugin of commands. A SveltosCluster in pull
// mode has none either: pullMode builds its configuration.
func restConfigFromSecret(ctx context.Context, reader client.Reader, cluster libv1beta1.ClusterID, commands WorkloadIdentityCommands, pullMode pullModeConfig) (*rest.Config, string, error) {
	secretName, keyName := cluster.Name+libv1beta1.CAPIKubeconfigSuffix, libv1beta1.CAPIKubeconfigSecretKey
	if !cluster.IsCAPI() {
		sc := &libv1beta1.SveltosCluster{}
		if err := reader.Get(ctx, cluster.Key(), sc); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, "", configErrorf("SveltosCluster %s not found", cluster)
			}
			return nil, "", fmt.Errorf("reading SveltosCluster %s: %w", cluster, err)
		}
		if sc.Spec.PullMode {
			return pullMode(cluster)
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

// limitRequests sets the rate at which Tugboat may send requests to one managed
// cluster (client-go's limiter), whichever way the cluster is reached.
func limitRequests(cfg *rest.Config) {
	cfg.QPS, cfg.Burst = 100, 200
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
	limitRequests(cfg)
	return cfg, nil
}
