package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/internal/clusters"
)

func newRegisterCommand(g *globalOptions) *cobra.Command {
	var namespace, name, kubeconfigFile, fleetContext, labelList string
	var pullMode bool
	pull := pullModeRegistration{}
	cluster := &cobra.Command{
		Use:   "cluster --namespace NS --cluster NAME (--kubeconfig-file FILE | --fleet-cluster-context CTX | --pull-mode --hub-url URL) [--labels k=v,...]",
		Short: "Register a cluster: its kubeconfig Secret and its SveltosCluster",
		Long: `Registers a managed cluster in the management cluster: creates the namespace if
missing, the Secret <cluster>-sveltos-kubeconfig holding its kubeconfig and the
SveltosCluster with the given labels. Running it again updates the Secret and labels.

The kubeconfig comes from a file (--kubeconfig-file; --kubeconfig is accepted as in
sveltosctl when it is given after "cluster") or from a context of your own kubeconfig
(--fleet-cluster-context), written out self-contained with its credentials embedded.

With --pull-mode there is no kubeconfig: the SveltosCluster gets spec.pullMode, and
its agent an identity in the management cluster (ServiceAccount <cluster>-agent,
a Role allowing only "connect" on sveltosclusters/agent for this cluster, its
RoleBinding and token Secret <cluster>-agent-token). Once the token is issued,
the manifest to apply on the managed cluster is printed on stdout: the agent's
namespace, ServiceAccount and rights, a Secret with the hub's URL (--hub-url)
and CA (from the Secret tugboat-pullmode-hub of --manager-namespace, or
--hub-ca-file), the token and the cluster's name, and a Deployment running
` + "`tug agent --from-secret`" + `.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireCluster(namespace, name); err != nil {
				return err
			}
			if pullMode {
				if kubeconfigFile != "" || fleetContext != "" {
					return usageError{errors.New("--pull-mode takes no kubeconfig: the cluster is reached through its agent")}
				}
				if pull.hubURL == "" {
					return usageError{errors.New("--pull-mode needs --hub-url, where the agent reaches the manager's pull-mode hub")}
				}
				labels, err := clusters.ParseLabels(labelList)
				if err != nil {
					return usageError{fmt.Errorf("--labels: %w", err)}
				}
				c, err := g.client()
				if err != nil {
					return err
				}
				pull.cluster, pull.labels = types.NamespacedName{Namespace: namespace, Name: name}, labels
				if err := registerPullMode(cmd.Context(), c, pull, cmd.OutOrStdout()); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "cluster %s/%s registered in pull mode: apply the manifest above on it\n", namespace, name)
				return nil
			}
			if (kubeconfigFile == "") == (fleetContext == "") {
				return usageError{errors.New("give exactly one of --kubeconfig-file (or --kubeconfig) and --fleet-cluster-context")}
			}
			labels, err := clusters.ParseLabels(labelList)
			if err != nil {
				return usageError{fmt.Errorf("--labels: %w", err)}
			}
			var kubeconfig []byte
			if kubeconfigFile != "" {
				if kubeconfig, err = os.ReadFile(kubeconfigFile); err != nil {
					return fmt.Errorf("reading the cluster's kubeconfig: %w", err)
				}
			} else {
				raw, err := g.rawKubeconfig()
				if err != nil {
					return err
				}
				if kubeconfig, err = clusters.KubeconfigForContext(raw, fleetContext); err != nil {
					return err
				}
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			if _, err := clusters.Register(cmd.Context(), c, clusters.Registration{
				Namespace: namespace, Name: name, Kubeconfig: kubeconfig, Labels: labels,
			}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "cluster %s/%s registered\n", namespace, name)
			return nil
		},
	}
	f := cluster.Flags()
	addSveltosClusterFlags(cluster, &namespace, &name)
	f.StringVar(&kubeconfigFile, "kubeconfig-file", "", "kubeconfig file of the cluster to register")
	f.StringVar(&fleetContext, "fleet-cluster-context", "", "context of your kubeconfig that reaches the cluster to register")
	f.StringVar(&labelList, "labels", "", "labels of the SveltosCluster, k=v,k2=v2")
	f.BoolVar(&pullMode, "pull-mode", false, "register the cluster in pull mode: no kubeconfig, an agent in the cluster dials out to the manager (prints the agent's manifest)")
	f.StringVar(&pull.hubURL, "hub-url", "", "with --pull-mode: URL where the agent reaches the manager's pull-mode hub (https://host:port)")
	f.StringVar(&pull.hubCAFile, "hub-ca-file", "", "with --pull-mode: CA (PEM) of the hub's certificate (default: from the hub's CA Secret)")
	f.StringVar(&pull.managerNamespace, "manager-namespace", agentNamespace, "with --pull-mode: the manager's namespace, holding the hub's CA Secret")
	f.StringVar(&pull.image, "agent-image", defaultAgentImage, "with --pull-mode: image of the agent's Deployment (the manager's image, which holds tug)")
	f.DurationVar(&pull.tokenWait, "token-timeout", defaultAgentTokenWait, "with --pull-mode: how long to wait for the agent's token Secret to be filled")
	// sveltosctl's spelling: `register cluster --kubeconfig=FILE` names the cluster's kubeconfig.
	cluster.PreRunE = func(cmd *cobra.Command, _ []string) error {
		if fl := cmd.Flags().Lookup("kubeconfig"); fl != nil && fl.Changed && kubeconfigFile == "" && fleetContext == "" {
			kubeconfigFile, g.kubeconfig = g.kubeconfig, ""
		}
		return nil
	}

	register := &cobra.Command{Use: "register", Short: "Register things with the management cluster"}
	register.AddCommand(cluster)
	return register
}

func newDeregisterCommand(g *globalOptions) *cobra.Command {
	var namespace, name string
	cluster := &cobra.Command{
		Use:   "cluster --namespace NS --cluster NAME",
		Short: "Remove a cluster's SveltosCluster and kubeconfig Secret (in pull mode: its agent's ServiceAccount, Role, RoleBinding and token Secret)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.clusterClient(namespace, name)
			if err != nil {
				return err
			}
			if err := clusters.Deregister(cmd.Context(), c, types.NamespacedName{Namespace: namespace, Name: name}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "cluster %s/%s deregistered\n", namespace, name)
			return nil
		},
	}
	addSveltosClusterFlags(cluster, &namespace, &name)
	deregister := &cobra.Command{Use: "deregister", Short: "Remove things from the management cluster"}
	deregister.AddCommand(cluster)
	return deregister
}

// requireCluster checks that --namespace and --cluster, which name a
// SveltosCluster, are both given.
func requireCluster(namespace, name string) error {
	if namespace == "" || name == "" {
		return usageError{errors.New("--namespace and --cluster are required")}
	}
	return nil
}

// clusterClient checks the SveltosCluster flags, then connects to the
// management cluster.
func (g *globalOptions) clusterClient(namespace, name string) (client.Client, error) {
	if err := requireCluster(namespace, name); err != nil {
		return nil, err
	}
	return g.client()
}

// addSveltosClusterFlags adds --namespace/-n and --cluster, which name a SveltosCluster.
func addSveltosClusterFlags(cmd *cobra.Command, namespace, name *string) {
	cmd.Flags().StringVarP(namespace, "namespace", "n", "", "namespace of the SveltosCluster")
	cmd.Flags().StringVar(name, "cluster", "", "name of the SveltosCluster")
}
