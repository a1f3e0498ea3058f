package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/pullmode"
)

func newAgentCommand(g *globalOptions) *cobra.Command {
	var hubURL, caFile, tokenFile, clusterNamespace, clusterName, fromSecret string
	cmd := &cobra.Command{
		Use:   "agent (--from-secret DIR | --hub-url URL --ca-file FILE --token-file FILE --cluster-namespace NS --cluster-name NAME)",
		Short: "Run the pull-mode agent of a managed cluster: dial out to the manager and carry its requests",
		Long: `Runs the agent of a SveltosCluster in pull mode, in (or beside) the managed
cluster: it connects to the manager's pull-mode hub over HTTPS with its token,
and carries the manager's Kubernetes API requests to the local API server with
its own credentials (--kubeconfig, else in-cluster). It reconnects whenever the
connection ends, and stops on SIGINT/SIGTERM.

--from-secret DIR reads everything from the agent's Secret mounted at DIR (keys
hub-url, ca.crt, token, cluster-namespace, cluster-name), as the Deployment
printed by ` + "`tug register cluster --pull-mode`" + ` does. The token file is read
again at every connection.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if fromSecret != "" {
				read := func(key string) (string, error) {
					raw, err := os.ReadFile(filepath.Join(fromSecret, key))
					if err != nil {
						return "", fmt.Errorf("--from-secret: %w", err)
					}
					return strings.TrimSpace(string(raw)), nil
				}
				var err error
				if hubURL, err = read(agentKeyHubURL); err != nil {
					return err
				}
				if clusterNamespace, err = read(agentKeyClusterNS); err != nil {
					return err
				}
				if clusterName, err = read(agentKeyClusterName); err != nil {
					return err
				}
				caFile, tokenFile = filepath.Join(fromSecret, pullmode.CACertKey), filepath.Join(fromSecret, agentKeyToken)
			}
			if hubURL == "" || tokenFile == "" || clusterNamespace == "" || clusterName == "" {
				return usageError{errors.New("give --from-secret, or --hub-url, --token-file, --cluster-namespace and --cluster-name")}
			}
			var ca []byte
			if caFile != "" {
				var err error
				if ca, err = os.ReadFile(caFile); err != nil {
					return fmt.Errorf("reading the hub's CA: %w", err)
				}
			}
			local, err := g.loader().ClientConfig()
			if err != nil {
				return fmt.Errorf("no local cluster: %w (run in-cluster or set --kubeconfig)", err)
			}
			log := zap.New(zap.WriteTo(cmd.ErrOrStderr()))
			ctrl.SetLogger(log)
			agent := &pullmode.Agent{HubURL: hubURL, CAData: ca, TokenFile: tokenFile,
				Cluster: libv1beta1.SveltosClusterID(clusterNamespace, clusterName), Local: local, Log: log.WithName("pullmode-agent")}
			return agent.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVar(&hubURL, "hub-url", "", "URL of the manager's pull-mode hub (https://host:port)")
	f.StringVar(&caFile, "ca-file", "", "CA (PEM) of the hub's certificate (default: the system's)")
	f.StringVar(&tokenFile, "token-file", "", "file holding the agent's management-cluster ServiceAccount token (read at every connection)")
	f.StringVar(&clusterNamespace, "cluster-namespace", "", "namespace of the SveltosCluster this agent serves")
	f.StringVar(&clusterName, "cluster-name", "", "name of the SveltosCluster this agent serves")
	f.StringVar(&fromSecret, "from-secret", "", "folder where the agent's Secret is mounted (replaces the other flags)")
	return cmd
}
