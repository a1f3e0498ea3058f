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
	cluster := &cobra.Command{
		Use:   "cluster --namespace NS --cluster NAME (--kubeconfig-file FILE | --fleet-cluster-context CTX) [--labels k=v,...]",
		Short: "Register a cluster: its kubeconfig Secret and its SveltosCluster",
		Long: `Registers a managed cluster in the management cluster: creates the namespace if
missing, the Secret <cluster>-sveltos-kubeconfig holding its kubeconfig and the
SveltosCluster with the given labels. Running it again updates the Secret and labels.

The kubeconfig comes from a file (--kubeconfig-file; --kubeconfig is accepted as in
sveltosctl when it is given after "cluster") or from a context of your own kubeconfig
(--fleet-cluster-context), written out self-contained with its credentials embedded.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireCluster(namespace, name); err != nil {
				return err
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
		Short: "Remove a cluster's SveltosCluster and kubeconfig Secret",
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
