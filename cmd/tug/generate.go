package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/api"
	"github.com/tugboat-dev/tugboat/internal/clusters"
)

// defaultTokenExpiration is how long a generated token lives unless told
// otherwise: a year, since the kubeconfig is meant for registering the cluster.
const defaultTokenExpiration = 365 * 24 * 3600

func newGenerateCommand(g *globalOptions) *cobra.Command {
	var namespace, serviceAccount string
	var create bool
	var expiration int64
	kubeconfig := &cobra.Command{
		Use:   "kubeconfig [--namespace NS] [--serviceaccount NAME] [--create] [--expiration-seconds N]",
		Short: "Print a kubeconfig for a service account of the cluster --kubeconfig/--context point at",
		Long: `Against the cluster reached with --kubeconfig/--context (the cluster to register,
not the management cluster): with --create, creates the namespace, the service
account and a ClusterRoleBinding to cluster-admin; then requests a token for the
service account (TokenRequest API) and prints on stdout a kubeconfig made of the
current server and CA and that token, ready for
tug register cluster --kubeconfig-file.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if namespace == "" || serviceAccount == "" {
				return usageError{errors.New("--namespace and --serviceaccount must not be empty")}
			}
			if expiration < 0 {
				return usageError{errors.New("--expiration-seconds must be positive")}
			}
			if expiration == 0 {
				expiration = defaultTokenExpiration
			}
			cfg, err := g.restConfig()
			if err != nil {
				return err
			}
			c, err := client.New(cfg, client.Options{Scheme: api.NewScheme()})
			if err != nil {
				return fmt.Errorf("connecting to %s: %w", cfg.Host, err)
			}
			ctx := cmd.Context()
			sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: serviceAccount}}
			if create {
				if err := createAdminServiceAccount(ctx, c, sa); err != nil {
					return err
				}
			} else if err := c.Get(ctx, client.ObjectKeyFromObject(sa), sa); err != nil {
				if apierrors.IsNotFound(err) {
					return fmt.Errorf("service account %s/%s does not exist in %s: run again with --create", namespace, serviceAccount, cfg.Host)
				}
				return fmt.Errorf("reading service account %s/%s: %w", namespace, serviceAccount, err)
			}
			tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiration}}
			if err := c.SubResource("token").Create(ctx, sa, tr); err != nil {
				return fmt.Errorf("requesting a token for service account %s/%s: %w", namespace, serviceAccount, err)
			}
			contextName, err := g.currentContext()
			if err != nil {
				return err
			}
			out, err := tokenKubeconfig(cfg, contextName, namespace+"-"+serviceAccount, tr.Status.Token)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	f := kubeconfig.Flags()
	f.StringVarP(&namespace, "namespace", "n", "default", "namespace of the service account")
	f.StringVar(&serviceAccount, "serviceaccount", "tugboat", "name of the service account")
	f.BoolVar(&create, "create", false, "create the service account and bind it to cluster-admin")
	f.Int64Var(&expiration, "expiration-seconds", 0, "lifetime of the token (default a year; the API server may shorten it)")
	generate := &cobra.Command{Use: "generate", Short: "Generate configuration"}
	generate.AddCommand(kubeconfig)
	return generate
}

// createAdminServiceAccount creates (if missing) the namespace, the service
// account and a ClusterRoleBinding of it to cluster-admin.
func createAdminServiceAccount(ctx context.Context, c client.Client, sa *corev1.ServiceAccount) error {
	if err := clusters.EnsureNamespace(ctx, c, sa.Namespace); err != nil {
		return err
	}
	if err := c.Create(ctx, sa); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating service account %s/%s: %w", sa.Namespace, sa.Name, err)
	}
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "tugboat:" + sa.Namespace + ":" + sa.Name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: sa.Namespace, Name: sa.Name}},
	}
	if err := c.Create(ctx, crb); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("binding service account %s/%s to cluster-admin: %w", sa.Namespace, sa.Name, err)
	}
	return nil
}

// currentContext is the name of the kubeconfig context in use ("" when none).
func (g *globalOptions) currentContext() (string, error) {
	if g.context != "" {
		return g.context, nil
	}
	raw, err := g.rawKubeconfig()
	if err != nil {
		return "", err
	}
	return raw.CurrentContext, nil
}

// tokenKubeconfig is a self-contained kubeconfig: the server and CA of cfg and a token user.
func tokenKubeconfig(cfg *rest.Config, contextName, userName, token string) ([]byte, error) {
	if err := rest.LoadTLSFiles(cfg); err != nil {
		return nil, fmt.Errorf("reading the cluster's CA: %w", err)
	}
	if contextName == "" {
		contextName = "cluster"
	}
	out := clientcmdapi.NewConfig()
	out.Clusters[contextName] = clusters.KubeconfigCluster(cfg)
	out.AuthInfos[userName] = &clientcmdapi.AuthInfo{Token: token}
	out.Contexts[contextName] = &clientcmdapi.Context{Cluster: contextName, AuthInfo: userName}
	out.CurrentContext = contextName
	return clientcmd.Write(*out)
}
