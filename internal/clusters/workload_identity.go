package clusters

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// WorkloadIdentityCommands are the credential plugins run for
// spec.workloadIdentity, one per provider: a command name looked up in PATH or
// a path. Empty fields take DefaultWorkloadIdentityCommands'.
type WorkloadIdentityCommands struct {
	AWS   string
	GCP   string
	Azure string
}

// DefaultWorkloadIdentityCommands are the clouds' standard Kubernetes
// credential plugins.
func DefaultWorkloadIdentityCommands() WorkloadIdentityCommands {
	return WorkloadIdentityCommands{AWS: "aws", GCP: "gke-gcloud-auth-plugin", Azure: "kubelogin"}
}

// azureKubernetesServerID is the application ID of the AKS API server, the
// audience of the tokens kubelogin requests for it.
const azureKubernetesServerID = "6dae42f8-4368-4678-94ff-3960e28e3630"

// execCredentialVersion is the ExecCredential version the clouds' plugins write.
const execCredentialVersion = "client.authentication.k8s.io/v1beta1"

// workloadIdentityExec is the exec plugin that obtains a token for w: the
// provider's command with its arguments and environment.
func workloadIdentityExec(w *libv1beta1.WorkloadIdentityConfig, commands WorkloadIdentityCommands) (*clientcmdapi.ExecConfig, error) {
	defaults := DefaultWorkloadIdentityCommands()
	pick := func(cmd, def string) string {
		if cmd != "" {
			return cmd
		}
		return def
	}
	exec := &clientcmdapi.ExecConfig{APIVersion: execCredentialVersion, InteractiveMode: clientcmdapi.NeverExecInteractiveMode}
	env := func(name, value string) {
		if value != "" {
			exec.Env = append(exec.Env, clientcmdapi.ExecEnvVar{Name: name, Value: value})
		}
	}
	switch w.Provider {
	case libv1beta1.WorkloadIdentityProviderAWS:
		if w.AWS == nil {
			return nil, fmt.Errorf("spec.workloadIdentity.aws must be set for provider AWS")
		}
		exec.Command = pick(commands.AWS, defaults.AWS)
		exec.Args = []string{"eks", "get-token", "--cluster-name", w.AWS.ClusterName}
		if w.AWS.RoleARN != "" {
			exec.Args = append(exec.Args, "--role-arn", w.AWS.RoleARN)
		}
		if w.AWS.Region != "" {
			exec.Args = append(exec.Args, "--region", w.AWS.Region)
		}
		exec.Args = append(exec.Args, "--output", "json")
	case libv1beta1.WorkloadIdentityProviderGCP:
		if w.GCP == nil {
			return nil, fmt.Errorf("spec.workloadIdentity.gcp must be set for provider GCP")
		}
		exec.Command = pick(commands.GCP, defaults.GCP)
		env("CLOUDSDK_CORE_PROJECT", w.GCP.ProjectID)
		env("GKE_CLUSTER_NAME", w.GCP.ClusterName)
		env("GKE_LOCATION", w.GCP.Location)
	case libv1beta1.WorkloadIdentityProviderAzure:
		if w.Azure == nil {
			return nil, fmt.Errorf("spec.workloadIdentity.azure must be set for provider Azure")
		}
		exec.Command = pick(commands.Azure, defaults.Azure)
		exec.Args = []string{"get-token", "--login", "workloadidentity", "--server-id", azureKubernetesServerID,
			"--client-id", w.Azure.ClientID, "--tenant-id", w.Azure.TenantID}
		env("AZURE_CLIENT_ID", w.Azure.ClientID)
		env("AZURE_TENANT_ID", w.Azure.TenantID)
		env("AZURE_SUBSCRIPTION_ID", w.Azure.SubscriptionID)
		env("AZURE_RESOURCE_GROUP", w.Azure.ResourceGroup)
		env("AKS_CLUSTER_NAME", w.Azure.ClusterName)
	default:
		return nil, fmt.Errorf("spec.workloadIdentity.provider %q is not AWS, GCP or Azure", w.Provider)
	}
	return exec, nil
}

// restConfigForWorkloadIdentity is the client configuration of a cluster
// reached through workload identity: its endpoint, the CA of caSecretRef (the
// system pool without it) and the provider's credential plugin, run by
// client-go as a kubeconfig's exec user would be. The fingerprint covers the
// spec and the CA, so that a change rebuilds the connection.
func restConfigForWorkloadIdentity(ctx context.Context, reader client.Reader, sc *libv1beta1.SveltosCluster, commands WorkloadIdentityCommands) (*rest.Config, string, error) {
	w := sc.Spec.WorkloadIdentity
	id := libv1beta1.SveltosClusterID(sc.Namespace, sc.Name)
	exec, err := workloadIdentityExec(w, commands)
	if err != nil {
		return nil, "", configErrorf("SveltosCluster %s: %v", id, err)
	}
	cfg := &rest.Config{Host: w.Endpoint, ExecProvider: exec}
	if w.CASecretRef != nil {
		secret := &corev1.Secret{}
		key := types.NamespacedName{Namespace: sc.Namespace, Name: w.CASecretRef.Name}
		if err := reader.Get(ctx, key, secret); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, "", configErrorf("SveltosCluster %s: spec.workloadIdentity.caSecretRef: Secret %s not found", id, key)
			}
			return nil, "", fmt.Errorf("reading Secret %s: %w", key, err)
		}
		ca := secret.Data[corev1.ServiceAccountRootCAKey]
		if len(ca) == 0 {
			return nil, "", configErrorf("SveltosCluster %s: spec.workloadIdentity.caSecretRef: Secret %s has no key %q", id, key, corev1.ServiceAccountRootCAKey)
		}
		cfg.CAData = ca
	}
	if _, err := rest.HTTPClientFor(cfg); err != nil {
		return nil, "", configErrorf("SveltosCluster %s: spec.workloadIdentity: %v", id, err)
	}
	limitRequests(cfg)
	spec, err := json.Marshal(w)
	if err != nil {
		return nil, "", err
	}
	sum := sha256.New()
	sum.Write(spec)
	sum.Write(cfg.CAData)
	sum.Write([]byte(exec.Command))
	return cfg, hex.EncodeToString(sum.Sum(nil)), nil
}
