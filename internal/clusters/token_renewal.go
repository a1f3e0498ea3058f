package clusters

import (
	"context"
	"fmt"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// MinTokenDuration is the shortest token a kube-apiserver issues through a
// TokenRequest; shorter tokenDurations are raised to it.
const MinTokenDuration = 10 * time.Minute

// renewToken renews the ServiceAccount token of the cluster's kubeconfig when
// spec.tokenRequestRenewalOption asks for it and renewTokenRequestInterval has
// passed since status.lastReconciledTokenRequestAt (at once when it was never
// renewed). It returns how long until the next renewal is due (0 without the
// option). The kubeconfig Secret is written only when a new token was issued.
func (r *Reconciler) renewToken(ctx context.Context, sc *libv1beta1.SveltosCluster, now time.Time) (time.Duration, error) {
	opt := sc.Spec.TokenRequestRenewalOption
	if opt == nil {
		return 0, nil
	}
	interval := opt.RenewTokenRequestInterval.Duration
	if interval <= 0 {
		return 0, fmt.Errorf("spec.tokenRequestRenewalOption.renewTokenRequestInterval must be positive, is %s", opt.RenewTokenRequestInterval.Duration)
	}
	if last, err := time.Parse(time.RFC3339, sc.Status.LastReconciledTokenRequestAt); err == nil {
		if due := last.Add(interval); now.Before(due) {
			return due.Sub(now), nil
		}
	}
	id := libv1beta1.SveltosClusterID(sc.Namespace, sc.Name)
	if r.Registry.IsManagement(id) || sc.Spec.WorkloadIdentity != nil {
		return 0, fmt.Errorf("spec.tokenRequestRenewalOption: cluster %s is not reached through a kubeconfig Secret", id)
	}
	conn, err := r.Registry.Get(ctx, id)
	if err != nil {
		return 0, err
	}
	cs, err := kubernetes.NewForConfig(conn.Config)
	if err != nil {
		return 0, fmt.Errorf("spec.tokenRequestRenewalOption: client for %s: %w", id, err)
	}
	saNamespace, saName, err := tokenServiceAccount(ctx, cs, opt)
	if err != nil {
		return 0, err
	}
	duration := opt.TokenDuration.Duration
	if duration <= 0 {
		duration = interval
	}
	duration = max(duration, MinTokenDuration)
	seconds := int64(duration / time.Second)
	tr, err := cs.CoreV1().ServiceAccounts(saNamespace).CreateToken(ctx, saName,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &seconds}}, metav1.CreateOptions{})
	if err != nil {
		return 0, fmt.Errorf("spec.tokenRequestRenewalOption: requesting a token for ServiceAccount %s/%s in %s: %w", saNamespace, saName, id, err)
	}
	key := libv1beta1.DefaultRenewedKubeconfigKey
	if opt.KubeconfigKeyName != nil && *opt.KubeconfigKeyName != "" {
		key = *opt.KubeconfigKeyName
	}
	if err := r.writeRenewedKubeconfig(ctx, sc, key, tr.Status.Token); err != nil {
		return 0, err
	}
	if sc.Spec.KubeconfigKeyName != key {
		// Point the cluster at the renewed kubeconfig (a patch of a copy: the
		// status computed so far is written by the reconcile's deferred patch).
		before := sc.DeepCopy()
		after := sc.DeepCopy()
		after.Spec.KubeconfigKeyName = key
		if err := r.Client.Patch(ctx, after, client.MergeFrom(before)); err != nil {
			return 0, fmt.Errorf("setting spec.kubeconfigKeyName of SveltosCluster %s to %q: %w", id, key, err)
		}
	}
	sc.Status.LastReconciledTokenRequestAt = now.UTC().Format(time.RFC3339)
	return interval, nil
}

// tokenServiceAccount is the ServiceAccount whose token is requested: the one
// the option names, else the identity the kubeconfig authenticates as.
func tokenServiceAccount(ctx context.Context, cs kubernetes.Interface, opt *libv1beta1.TokenRequestRenewalOption) (string, string, error) {
	if opt.SANamespace != "" && opt.SAName != "" {
		return opt.SANamespace, opt.SAName, nil
	}
	review, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		return "", "", fmt.Errorf("spec.tokenRequestRenewalOption: asking the cluster who the kubeconfig is (saNamespace and saName not set): %w", err)
	}
	user := review.Status.UserInfo.Username
	rest, ok := strings.CutPrefix(user, "system:serviceaccount:")
	ns, name, ok2 := strings.Cut(rest, ":")
	if !ok || !ok2 || ns == "" || name == "" {
		return "", "", fmt.Errorf("spec.tokenRequestRenewalOption: the kubeconfig authenticates as %q, not a ServiceAccount: set saNamespace and saName", user)
	}
	return ns, name, nil
}

// writeRenewedKubeconfig writes into the cluster's kubeconfig Secret, under
// key, the kubeconfig in use with its current user's credentials replaced by token.
func (r *Reconciler) writeRenewedKubeconfig(ctx context.Context, sc *libv1beta1.SveltosCluster, key, token string) error {
	name := types.NamespacedName{Namespace: sc.Namespace, Name: sc.KubeconfigSecretName()}
	// The cached Secret may lag behind a write: on a conflict, read it again.
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		secret := &corev1.Secret{}
		if err := r.Client.Get(ctx, name, secret); err != nil {
			return fmt.Errorf("reading kubeconfig Secret %s: %w", name, err)
		}
		usedKey, raw, err := kubeconfigData(secret, sc.Spec.KubeconfigKeyName)
		if err != nil {
			return err
		}
		renewed, err := withToken(raw, token)
		if err != nil {
			return configErrorf("kubeconfig in Secret %s key %q: %v", name, usedKey, err)
		}
		if secret.Data == nil {
			secret.Data = map[string][]byte{}
		}
		secret.Data[key] = renewed
		if err := r.Client.Update(ctx, secret); err != nil {
			if apierrors.IsConflict(err) {
				return err
			}
			return fmt.Errorf("writing the renewed kubeconfig to Secret %s key %q: %w", name, key, err)
		}
		return nil
	})
}

// withToken returns the kubeconfig with the user of its current context
// authenticating with token alone.
func withToken(raw []byte, token string) ([]byte, error) {
	cfg, err := clientcmd.Load(raw)
	if err != nil {
		return nil, err
	}
	ctxName := cfg.CurrentContext
	kctx, ok := cfg.Contexts[ctxName]
	if !ok {
		return nil, fmt.Errorf("current context %q not found", ctxName)
	}
	user := kctx.AuthInfo
	if user == "" {
		user = "sveltos-token"
		kctx.AuthInfo = user
	}
	if cfg.AuthInfos == nil {
		cfg.AuthInfos = map[string]*clientcmdapi.AuthInfo{}
	}
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{Token: token}
	return clientcmd.Write(*cfg)
}
