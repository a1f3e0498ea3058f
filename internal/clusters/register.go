package clusters

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// Registration is what `tug register cluster` records in the management cluster.
type Registration struct {
	Namespace  string
	Name       string
	Kubeconfig []byte
	// Labels are set on the SveltosCluster (labels not named here are kept).
	Labels map[string]string
	// ShardKey, when set, is the SveltosCluster's sharding.projectsveltos.io/key
	// from its creation on: only the manager of that shard ever handles it.
	ShardKey string
}

// Register creates or updates the namespace, the kubeconfig Secret and the
// SveltosCluster of a cluster. Running it again updates the Secret and labels.
func Register(ctx context.Context, c client.Client, reg Registration) (*libv1beta1.SveltosCluster, error) {
	if reg.Namespace == "" || reg.Name == "" {
		return nil, fmt.Errorf("registering a cluster needs a namespace and a name")
	}
	if len(reg.Kubeconfig) == 0 {
		return nil, fmt.Errorf("registering cluster %s/%s: empty kubeconfig", reg.Namespace, reg.Name)
	}
	if err := EnsureNamespace(ctx, c, reg.Namespace); err != nil {
		return nil, err
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: reg.Namespace, Name: reg.Name + libv1beta1.KubeconfigSecretSuffix}}
	if _, err := controllerutil.CreateOrUpdate(ctx, c, secret, func() error {
		secret.Type = corev1.SecretTypeOpaque
		secret.Data = map[string][]byte{libv1beta1.KubeconfigSecretKey: reg.Kubeconfig}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("writing kubeconfig Secret %s/%s: %w", secret.Namespace, secret.Name, err)
	}
	// A cluster registered by the CLI uses the default Secret name and key
	// (and a cluster registered again with a kubeconfig leaves pull mode).
	sc, err := writeSveltosCluster(ctx, c, reg.Namespace, reg.Name, reg.Labels, reg.ShardKey, func(spec *libv1beta1.SveltosClusterSpec) {
		spec.KubeconfigName, spec.KubeconfigKeyName = "", ""
		spec.PullMode = false
	})
	if err != nil {
		return nil, err
	}
	return sc, nil
}

// writeSveltosCluster creates or updates the SveltosCluster namespace/name,
// adding labels to its own, annotating it with shardKey (when set) and letting
// setSpec set the fields registration owns.
func writeSveltosCluster(ctx context.Context, c client.Client, namespace, name string, labels map[string]string, shardKey string,
	setSpec func(*libv1beta1.SveltosClusterSpec)) (*libv1beta1.SveltosCluster, error) {
	sc := &libv1beta1.SveltosCluster{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	// The cluster controller labels the object too: retry on a conflicting write.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		_, err := controllerutil.CreateOrUpdate(ctx, c, sc, func() error {
			if sc.Labels == nil {
				sc.Labels = map[string]string{}
			}
			for k, v := range labels {
				sc.Labels[k] = v
			}
			if shardKey != "" {
				if sc.Annotations == nil {
					sc.Annotations = map[string]string{}
				}
				sc.Annotations[libv1beta1.ShardAnnotation] = shardKey
			}
			setSpec(&sc.Spec)
			return nil
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("writing SveltosCluster %s/%s: %w", namespace, name, err)
	}
	return sc, nil
}

// Deregister deletes a cluster's SveltosCluster and its kubeconfig Secret;
// for a cluster in pull mode, its agent's ServiceAccount, Role, RoleBinding
// and token Secret instead. A cluster that is not registered is not an error.
func Deregister(ctx context.Context, c client.Client, cluster types.NamespacedName) error {
	sc := &libv1beta1.SveltosCluster{}
	secretName := cluster.Name + libv1beta1.KubeconfigSecretSuffix
	switch err := c.Get(ctx, cluster, sc); {
	case err == nil && sc.Spec.PullMode:
		if err := c.Delete(ctx, sc); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting SveltosCluster %s: %w", cluster, err)
		}
		return deregisterAgent(ctx, c, cluster)
	case err == nil:
		secretName = sc.KubeconfigSecretName()
		if err := c.Delete(ctx, sc); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting SveltosCluster %s: %w", cluster, err)
		}
	case !apierrors.IsNotFound(err):
		return fmt.Errorf("reading SveltosCluster %s: %w", cluster, err)
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: cluster.Namespace, Name: secretName}}
	if err := c.Delete(ctx, secret); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting kubeconfig Secret %s/%s: %w", cluster.Namespace, secretName, err)
	}
	return nil
}

// EnsureManagementCluster registers the management cluster as a SveltosCluster
// that the registry reaches with the manager's own credentials (no Secret). An
// existing registration, with its labels, is left as it is.
func EnsureManagementCluster(ctx context.Context, c client.Client, cluster types.NamespacedName) error {
	if err := EnsureNamespace(ctx, c, cluster.Namespace); err != nil {
		return err
	}
	sc := &libv1beta1.SveltosCluster{ObjectMeta: metav1.ObjectMeta{Namespace: cluster.Namespace, Name: cluster.Name}}
	if err := c.Create(ctx, sc); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("registering the management cluster as SveltosCluster %s: %w", cluster, err)
	}
	return nil
}

// EnsureNamespace creates a namespace if it does not exist.
func EnsureNamespace(ctx context.Context, c client.Client, name string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := c.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", name, err)
	}
	return nil
}

// SetLabels sets labels on a SveltosCluster; an empty value removes the label.
// It retries when the cluster controller wrote the object in between.
func SetLabels(ctx context.Context, c client.Client, cluster types.NamespacedName, labels map[string]string) error {
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		sc := &libv1beta1.SveltosCluster{}
		if err := c.Get(ctx, cluster, sc); err != nil {
			return err
		}
		if sc.Labels == nil {
			sc.Labels = map[string]string{}
		}
		for k, v := range labels {
			if v == "" {
				delete(sc.Labels, k)
			} else {
				sc.Labels[k] = v
			}
		}
		return c.Update(ctx, sc)
	})
	if err != nil {
		return fmt.Errorf("labelling SveltosCluster %s: %w", cluster, err)
	}
	return nil
}
