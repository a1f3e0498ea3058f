package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/pullmode"
)

// The objects `tug register cluster --pull-mode` prints for the managed
// cluster, and the keys of the agent's Secret (what `tug agent --from-secret`
// reads from where it is mounted).
const (
	agentNamespace        = "projectsveltos"
	agentName             = "tugboat-agent"
	agentSecretMountPath  = "/etc/tugboat-agent"
	agentKeyHubURL        = "hub-url"
	agentKeyToken         = "token"
	agentKeyClusterNS     = "cluster-namespace"
	agentKeyClusterName   = "cluster-name"
	defaultAgentImage     = "ghcr.io/tugboat-dev/tugboat-manager:0.1.0" // the chart's image at its appVersion
	defaultAgentTokenWait = 2 * time.Minute
)

// pullModeRegistration is what `tug register cluster --pull-mode` needs.
type pullModeRegistration struct {
	cluster          types.NamespacedName
	labels           map[string]string
	hubURL           string
	hubCAFile        string
	managerNamespace string
	image            string
	tokenWait        time.Duration
}

// registerPullMode registers the cluster in pull mode and prints to out the
// manifest to apply on the managed cluster.
func registerPullMode(ctx context.Context, c client.Client, reg pullModeRegistration, out io.Writer) error {
	var ca []byte
	var err error
	if reg.hubCAFile != "" {
		if ca, err = os.ReadFile(reg.hubCAFile); err != nil {
			return fmt.Errorf("reading --hub-ca-file: %w", err)
		}
	} else if ca, err = pullmode.ReadCA(ctx, c, reg.managerNamespace); err != nil {
		return fmt.Errorf("%w (start the manager with --pullmode-hub-address, or give --hub-ca-file)", err)
	}
	if _, err := clusters.RegisterPullMode(ctx, c, clusters.PullModeRegistration{
		Namespace: reg.cluster.Namespace, Name: reg.cluster.Name, Labels: reg.labels,
	}); err != nil {
		return err
	}
	token, err := clusters.WaitAgentToken(ctx, c, reg.cluster, reg.tokenWait)
	if err != nil {
		return err
	}
	manifest, err := agentManifest(reg, ca, token)
	if err != nil {
		return err
	}
	_, err = out.Write(manifest)
	return err
}

// agentManifest is what runs the agent in the managed cluster.
func agentManifest(reg pullModeRegistration, ca []byte, token string) ([]byte, error) {
	meta := func(name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Namespace: agentNamespace, Name: name, Labels: map[string]string{"app.kubernetes.io/name": agentName}}
	}
	ns := &corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}, ObjectMeta: metav1.ObjectMeta{Name: agentNamespace}}
	sa := &corev1.ServiceAccount{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"}, ObjectMeta: meta(agentName)}
	binding := &rbacv1.ClusterRoleBinding{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"},
		ObjectMeta: metav1.ObjectMeta{Name: agentName},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: agentNamespace, Name: agentName}}}
	secret := &corev1.Secret{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}, ObjectMeta: meta(agentName), Type: corev1.SecretTypeOpaque,
		StringData: map[string]string{
			agentKeyHubURL:      reg.hubURL,
			pullmode.CACertKey:  string(ca),
			agentKeyToken:       token,
			agentKeyClusterNS:   reg.cluster.Namespace,
			agentKeyClusterName: reg.cluster.Name,
		}}
	labels := map[string]string{"app.kubernetes.io/name": agentName}
	deployment := &appsv1.Deployment{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}, ObjectMeta: meta(agentName),
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					ServiceAccountName: agentName,
					Containers: []corev1.Container{{
						Name: "agent", Image: reg.image,
						Command:      []string{"/tug", "agent", "--from-secret=" + agentSecretMountPath},
						VolumeMounts: []corev1.VolumeMount{{Name: "agent", MountPath: agentSecretMountPath, ReadOnly: true}},
						SecurityContext: &corev1.SecurityContext{
							RunAsNonRoot: ptr.To(true), AllowPrivilegeEscalation: ptr.To(false), ReadOnlyRootFilesystem: ptr.To(true),
							Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
						},
					}},
					Volumes: []corev1.Volume{{Name: "agent", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: agentName}}}},
				},
			},
		}}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# Apply on the managed cluster %s/%s (kubectl apply -f -): its Tugboat agent dials out to %s.\n", reg.cluster.Namespace, reg.cluster.Name, reg.hubURL)
	for _, doc := range []struct {
		comment string
		obj     runtime.Object
	}{
		{"", ns},
		{"", sa},
		{"The agent carries the manager's requests to this cluster's API server with its own\n# credentials: it needs every right the profiles deployed here need, hence cluster-admin.", binding},
		{"The agent's connection: the hub's URL and CA, its token in the management cluster,\n# and the SveltosCluster it serves.", secret},
		{"", deployment},
	} {
		raw, err := yaml.Marshal(doc.obj)
		if err != nil {
			return nil, err
		}
		buf.WriteString("---\n")
		if doc.comment != "" {
			buf.WriteString("# " + doc.comment + "\n")
		}
		buf.Write(raw)
	}
	return buf.Bytes(), nil
}
