package clusters

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// AgentNameSuffix is appended to a pull-mode cluster's name to name its
// agent's ServiceAccount, Role and RoleBinding in the management cluster.
const AgentNameSuffix = "-agent"

// AgentTokenSecretSuffix is appended to a pull-mode cluster's name to name the
// long-lived token Secret of its agent's ServiceAccount.
const AgentTokenSecretSuffix = "-agent-token"

// PullModeRegistration is what `tug register cluster --pull-mode` records in
// the management cluster.
type PullModeRegistration struct {
	Namespace string
	Name      string
	// Labels are set on the SveltosCluster (labels not named here are kept).
	Labels map[string]string
}

// AgentIdentity names the objects that let a pull-mode cluster's agent
// connect: a ServiceAccount, a Role allowing only "connect" on
// sveltosclusters/agent for that one cluster, their RoleBinding, and the
// ServiceAccount's token Secret, all named after the cluster in its namespace.
type AgentIdentity struct {
	ServiceAccount, Role, RoleBinding, TokenSecret types.NamespacedName
}

// AgentIdentityOf names the agent objects of cluster.
func AgentIdentityOf(cluster types.NamespacedName) AgentIdentity {
	name := func(suffix string) types.NamespacedName {
		return types.NamespacedName{Namespace: cluster.Namespace, Name: cluster.Name + suffix}
	}
	return AgentIdentity{ServiceAccount: name(AgentNameSuffix), Role: name(AgentNameSuffix), RoleBinding: name(AgentNameSuffix), TokenSecret: name(AgentTokenSecretSuffix)}
}

// RegisterPullMode creates or updates the namespace, the SveltosCluster
// (spec.pullMode true, no kubeconfig) and the agent's identity
// (AgentIdentityOf). The token Secret is filled by the management cluster's
// token controller: WaitAgentToken reads it.
func RegisterPullMode(ctx context.Context, c client.Client, reg PullModeRegistration) (*libv1beta1.SveltosCluster, error) {
	if reg.Namespace == "" || reg.Name == "" {
		return nil, fmt.Errorf("registering a cluster needs a namespace and a name")
	}
	if err := EnsureNamespace(ctx, c, reg.Namespace); err != nil {
		return nil, err
	}
	sc, err := writeSveltosCluster(ctx, c, reg.Namespace, reg.Name, reg.Labels, "", func(spec *libv1beta1.SveltosClusterSpec) {
		spec.PullMode = true
		spec.KubeconfigName, spec.KubeconfigKeyName = "", ""
		spec.WorkloadIdentity, spec.TokenRequestRenewalOption = nil, nil
	})
	if err != nil {
		return nil, err
	}
	id := AgentIdentityOf(types.NamespacedName{Namespace: reg.Namespace, Name: reg.Name})
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: id.ServiceAccount.Namespace, Name: id.ServiceAccount.Name}}
	if _, err := controllerutil.CreateOrUpdate(ctx, c, sa, func() error { return nil }); err != nil {
		return nil, fmt.Errorf("writing the agent's ServiceAccount %s: %w", id.ServiceAccount, err)
	}
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: id.Role.Namespace, Name: id.Role.Name}}
	if _, err := controllerutil.CreateOrUpdate(ctx, c, role, func() error {
		role.Rules = []rbacv1.PolicyRule{{
			APIGroups: []string{libv1beta1.GroupVersion.Group}, Resources: []string{"sveltosclusters/agent"},
			Verbs: []string{"connect"}, ResourceNames: []string{reg.Name},
		}}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("writing the agent's Role %s: %w", id.Role, err)
	}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: id.RoleBinding.Namespace, Name: id.RoleBinding.Name}}
	if _, err := controllerutil.CreateOrUpdate(ctx, c, binding, func() error {
		binding.RoleRef = rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: id.Role.Name}
		binding.Subjects = []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: id.ServiceAccount.Namespace, Name: id.ServiceAccount.Name}}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("writing the agent's RoleBinding %s: %w", id.RoleBinding, err)
	}
	token := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: id.TokenSecret.Namespace, Name: id.TokenSecret.Name,
		Annotations: map[string]string{corev1.ServiceAccountNameKey: id.ServiceAccount.Name}}, Type: corev1.SecretTypeServiceAccountToken}
	if err := c.Create(ctx, token); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("writing the agent's token Secret %s: %w", id.TokenSecret, err)
	}
	return sc, nil
}

// WaitAgentToken waits until the token controller filled the agent's token
// Secret of cluster, and returns the token.
func WaitAgentToken(ctx context.Context, c client.Reader, cluster types.NamespacedName, timeout time.Duration) (string, error) {
	key := AgentIdentityOf(cluster).TokenSecret
	var token string
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		secret := &corev1.Secret{}
		if err := c.Get(ctx, key, secret); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		token = string(secret.Data[corev1.ServiceAccountTokenKey])
		return token != "", nil
	})
	if err != nil {
		return "", fmt.Errorf("waiting for the token of the agent's token Secret %s (filled by the token controller of kube-controller-manager): %w", key, err)
	}
	return token, nil
}

// deregisterAgent deletes the agent objects of a pull-mode cluster; missing
// ones are no error.
func deregisterAgent(ctx context.Context, c client.Client, cluster types.NamespacedName) error {
	id := AgentIdentityOf(cluster)
	for _, o := range []client.Object{
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: id.TokenSecret.Namespace, Name: id.TokenSecret.Name}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: id.RoleBinding.Namespace, Name: id.RoleBinding.Name}},
		&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: id.Role.Namespace, Name: id.Role.Name}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: id.ServiceAccount.Namespace, Name: id.ServiceAccount.Name}},
	} {
		if err := c.Delete(ctx, o); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting the agent's %T %s/%s: %w", o, o.GetNamespace(), o.GetName(), err)
		}
	}
	return nil
}
