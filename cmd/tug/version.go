package main

import (
	"fmt"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/kubernetes"

	"github.com/tugboat-dev/tugboat/internal/version"
)

// managerNamespace is where the manager records its version (its --namespace).
const managerNamespace = "projectsveltos"

func newVersionCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the versions of tug and of the management cluster it talks to",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "tug: %s\n", version.String())
			cfg, err := g.restConfig()
			if err != nil {
				fmt.Fprintf(out, "management cluster: not configured (%v)\n", err)
				return nil
			}
			dc, err := discovery.NewDiscoveryClientForConfig(cfg)
			if err != nil {
				return err
			}
			v, err := dc.ServerVersion()
			if err != nil {
				fmt.Fprintf(out, "management cluster: %s unreachable (%v)\n", cfg.Host, err)
				return nil
			}
			fmt.Fprintf(out, "management cluster: %s (Kubernetes %s)\n", cfg.Host, v.GitVersion)
			cs, err := kubernetes.NewForConfig(cfg)
			if err != nil {
				return err
			}
			cm, err := cs.CoreV1().ConfigMaps(managerNamespace).Get(cmd.Context(), version.ConfigMapName, metav1.GetOptions{})
			if err != nil {
				fmt.Fprintf(out, "manager: not found (%s/%s: %v)\n", managerNamespace, version.ConfigMapName, err)
				return nil
			}
			fmt.Fprintf(out, "manager: %s\n", cm.Data["version"])
			return nil
		},
	}
}
